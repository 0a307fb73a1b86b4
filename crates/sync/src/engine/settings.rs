//! What the engine remembers outside the directory database: how to reach Xero (issuer, API
//! base, client id, redirect mode) and where credentials live. One small JSON file in the data
//! dir, `settings.json`, so `hownow sync` reaches the same Xero app that `hownow connect` used,
//! and the desktop app's Settings page edits the same values.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::EngineError;
use crate::connect::{RedirectKind, DEFAULT_DEEP_LINK_SCHEME, DEFAULT_LOOPBACK_PORTS};

/// The app identifier: the data dir's name, as the desktop app's (Tauri's `app_data_dir`).
pub const APP_IDENTIFIER: &str = "nz.co.hownow.admin";
/// Environment variables read by [`EngineSettings::apply_env`] and [`resolve_data_dir`].
pub const ENV_DATA_DIR: &str = "HOWNOW_DATA_DIR";
pub const ENV_CLIENT_ID: &str = "HOWNOW_XERO_CLIENT_ID";
pub const ENV_ISSUER: &str = "HOWNOW_XERO_ISSUER";
pub const ENV_API_BASE: &str = "HOWNOW_XERO_API_BASE";

const FILE_NAME: &str = "settings.json";

/// Where refresh tokens are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStorage {
    /// The OS keychain (default).
    #[default]
    Keychain,
    /// `--insecure-storage`: a 0600 file in the data dir, for headless servers.
    File,
    /// Memory only: tokens die with the process (tests, the demo). Never persisted as a choice.
    Memory,
}

/// How to reach Xero as this app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct XeroSettings {
    pub issuer: String,
    pub api_base: String,
    /// The Xero app's client id: configuration, never built in.
    pub client_id: Option<String>,
    pub scopes: Vec<String>,
    pub redirect: RedirectKind,
    pub loopback_ports: Vec<u16>,
    /// The https page that forwards Xero's answer to the deep link (deep-link mode).
    pub bounce_url: Option<String>,
    pub deep_link_scheme: String,
    /// Overrides of the HTTP timeouts per kind of request (XPM's defaults otherwise).
    pub timeouts: XeroTimeouts,
    /// The least time between two XPM request starts for one practice, in milliseconds, up to
    /// `MAX_REQUEST_SPACING_MS` (60,000); 0 turns the spacing off. `None` keeps the client's default of
    /// one second: Xero answers bursts with 429s, and integrators pace at about one a second.
    pub min_request_spacing_ms: Option<u64>,
}

/// The HTTP timeouts a data dir may override, in seconds; `None` keeps the default of
/// `hownow_xpm::HttpConfig` (the detailed list: 15 minutes to its first byte, 5 minutes between
/// chunks; other requests: 120 s and 60 s).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XeroTimeouts {
    pub list_first_byte_secs: Option<u64>,
    pub list_stall_secs: Option<u64>,
    pub list_retry_pause_secs: Option<u64>,
    pub request_secs: Option<u64>,
    pub request_stall_secs: Option<u64>,
}

/// The longest timeout a setting may ask for: a day (anything longer is a typo).
const MAX_TIMEOUT_SECS: u64 = 24 * 60 * 60;

/// The widest request spacing a setting may ask for: a minute. Wider would leave a changes
/// sync of a large practice (some 70 calls) running for more than an hour.
pub const MAX_REQUEST_SPACING_MS: u64 = 60_000;

impl XeroTimeouts {
    /// `base` with these overrides applied, or which one is out of range (1 s to a day).
    pub fn apply(&self, base: hownow_xpm::HttpConfig) -> Result<hownow_xpm::HttpConfig, EngineError> {
        use std::time::Duration;
        let check = |name: &str, value: Option<u64>, default: Duration| match value {
            None => Ok(default),
            Some(secs) if (1..=MAX_TIMEOUT_SECS).contains(&secs) => Ok(Duration::from_secs(secs)),
            Some(secs) => Err(EngineError::Config(format!(
                "the timeout {name} = {secs} s in settings.json must be between 1 s and {MAX_TIMEOUT_SECS} s"
            ))),
        };
        Ok(hownow_xpm::HttpConfig {
            list_response_timeout: check(
                "list_first_byte_secs",
                self.list_first_byte_secs,
                base.list_response_timeout,
            )?,
            list_idle_timeout: check("list_stall_secs", self.list_stall_secs, base.list_idle_timeout)?,
            list_timeout_retry_pause: check(
                "list_retry_pause_secs",
                self.list_retry_pause_secs,
                base.list_timeout_retry_pause,
            )?,
            response_timeout: check("request_secs", self.request_secs, base.response_timeout)?,
            idle_timeout: check("request_stall_secs", self.request_stall_secs, base.idle_timeout)?,
            ..base
        })
    }
}

impl Default for XeroSettings {
    fn default() -> Self {
        XeroSettings {
            issuer: hownow_xpm::identity::DEFAULT_ISSUER.into(),
            api_base: hownow_xpm::DEFAULT_API_BASE.into(),
            client_id: None,
            scopes: hownow_xpm::identity::DEFAULT_SCOPES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            redirect: RedirectKind::Loopback,
            loopback_ports: DEFAULT_LOOPBACK_PORTS.to_vec(),
            bounce_url: None,
            deep_link_scheme: DEFAULT_DEEP_LINK_SCHEME.into(),
            timeouts: XeroTimeouts::default(),
            min_request_spacing_ms: None,
        }
    }
}

impl XeroSettings {
    /// The per-practice limits of the XPM client: Xero's, with the spacing of these settings, or
    /// why the spacing is out of range.
    pub fn rate_limits(&self) -> Result<hownow_xpm::RateLimits, EngineError> {
        let base = hownow_xpm::RateLimits::default();
        let min_spacing = match self.min_request_spacing_ms {
            None => base.min_spacing,
            Some(ms) if ms <= MAX_REQUEST_SPACING_MS => std::time::Duration::from_millis(ms),
            Some(ms) => {
                return Err(EngineError::Config(format!(
                    "min_request_spacing_ms = {ms} in settings.json must be between 0 (no spacing) and {MAX_REQUEST_SPACING_MS}"
                )))
            }
        };
        Ok(hownow_xpm::RateLimits { min_spacing, ..base })
    }

    /// The bounce page to use in deep-link mode: the configured one, else the issuer's own
    /// `/bounce` when the issuer is not Xero's (the sandbox serves one there).
    pub fn effective_bounce_url(&self) -> Option<String> {
        self.bounce_url.clone().or_else(|| {
            (self.issuer.trim_end_matches('/') != hownow_xpm::identity::DEFAULT_ISSUER)
                .then(|| format!("{}/bounce", self.issuer.trim_end_matches('/')))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct EngineSettings {
    pub xero: XeroSettings,
    pub credential_storage: CredentialStorage,
}

impl EngineSettings {
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE_NAME)
    }

    /// The saved settings, or the defaults when there are none yet.
    pub fn load(data_dir: &Path) -> Result<EngineSettings, EngineError> {
        let path = Self::path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                EngineError::Config(format!(
                    "{} is not valid settings ({e}); fix or delete it",
                    path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EngineSettings::default()),
            Err(source) => Err(EngineError::Io { path, source }),
        }
    }

    /// Writes the settings atomically (a reader never sees half a file).
    pub fn save(&self, data_dir: &Path) -> Result<(), EngineError> {
        let path = Self::path(data_dir);
        let text = serde_json::to_string_pretty(self).expect("settings serialise");
        crate::private::write_private(&path, text.as_bytes()).map_err(|source| EngineError::Io {
            path: path.clone(),
            source,
        })
    }

    /// `HOWNOW_XERO_CLIENT_ID`, `HOWNOW_XERO_ISSUER` and `HOWNOW_XERO_API_BASE` override the
    /// saved values (for headless servers and CI).
    pub fn apply_env(&mut self) {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.trim().is_empty());
        if let Some(v) = var(ENV_CLIENT_ID) {
            self.xero.client_id = Some(v);
        }
        if let Some(v) = var(ENV_ISSUER) {
            self.xero.issuer = v;
        }
        if let Some(v) = var(ENV_API_BASE) {
            self.xero.api_base = v;
        }
    }
}

/// The data dir: `explicit` (`--data-dir`), else `HOWNOW_DATA_DIR`, else the OS app data dir
/// (`~/.local/share/nz.co.hownow.admin` on Linux, `~/Library/Application Support/…` on macOS,
/// `%APPDATA%\…` on Windows), which the desktop app uses too.
pub fn resolve_data_dir(explicit: Option<&Path>) -> Result<PathBuf, EngineError> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(ENV_DATA_DIR).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    default_data_dir()
}

pub fn default_data_dir() -> Result<PathBuf, EngineError> {
    dirs::data_dir()
        .map(|d| d.join(APP_IDENTIFIER))
        .ok_or(EngineError::NoDataDir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_default_to_xpms_pace_and_can_be_overridden() {
        use std::time::Duration;
        let none = XeroTimeouts::default()
            .apply(hownow_xpm::HttpConfig::default())
            .unwrap();
        assert_eq!(none.list_response_timeout, Duration::from_secs(15 * 60));
        assert_eq!(none.list_idle_timeout, Duration::from_secs(5 * 60));
        let set: XeroTimeouts =
            serde_json::from_str(r#"{"list_first_byte_secs": 1800, "request_secs": 30}"#).unwrap();
        let http = set.apply(hownow_xpm::HttpConfig::default()).unwrap();
        assert_eq!(http.list_response_timeout, Duration::from_secs(1800));
        assert_eq!(http.response_timeout, Duration::from_secs(30));
        assert_eq!(
            http.list_idle_timeout,
            Duration::from_secs(5 * 60),
            "the rest kept"
        );
        let zero = XeroTimeouts {
            list_stall_secs: Some(0),
            ..XeroTimeouts::default()
        };
        let err = zero.apply(hownow_xpm::HttpConfig::default()).unwrap_err();
        assert!(err.to_string().contains("list_stall_secs"), "{err}");
    }

    #[test]
    fn request_spacing_defaults_to_a_second_and_can_be_set_or_turned_off() {
        use std::time::Duration;
        let default = XeroSettings::default().rate_limits().unwrap();
        assert_eq!(default.min_spacing, Duration::from_secs(1));
        assert_eq!(default.max_per_window, 60, "Xero's other limits kept");
        let parse = |json: &str| serde_json::from_str::<EngineSettings>(json).unwrap().xero;
        let set = parse(r#"{"xero":{"min_request_spacing_ms":250}}"#);
        assert_eq!(set.rate_limits().unwrap().min_spacing, Duration::from_millis(250));
        let off = parse(r#"{"xero":{"min_request_spacing_ms":0}}"#);
        assert_eq!(off.rate_limits().unwrap().min_spacing, Duration::ZERO);
        let at_max = parse(r#"{"xero":{"min_request_spacing_ms":60000}}"#);
        assert_eq!(at_max.rate_limits().unwrap().min_spacing, Duration::from_secs(60));
        let typo = parse(r#"{"xero":{"min_request_spacing_ms":60001}}"#);
        let err = typo.rate_limits().unwrap_err();
        assert!(err.to_string().contains("min_request_spacing_ms"), "{err}");
        assert!(
            serde_json::from_str::<EngineSettings>(r#"{"xero":{"min_request_spacing_ms":-1}}"#).is_err(),
            "a negative spacing is not valid settings"
        );
    }

    #[test]
    fn round_trips_and_defaults_missing_fields() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            EngineSettings::load(dir.path()).unwrap(),
            EngineSettings::default()
        );
        let mut s = EngineSettings::default();
        s.xero.client_id = Some("app-1".into());
        s.credential_storage = CredentialStorage::File;
        s.save(dir.path()).unwrap();
        assert_eq!(EngineSettings::load(dir.path()).unwrap(), s);
        std::fs::write(EngineSettings::path(dir.path()), r#"{"xero":{"client_id":"x"}}"#).unwrap();
        let partial = EngineSettings::load(dir.path()).unwrap();
        assert_eq!(partial.xero.client_id.as_deref(), Some("x"));
        assert_eq!(partial.xero.loopback_ports, DEFAULT_LOOPBACK_PORTS);
    }

    #[test]
    fn bounce_page_defaults_to_the_sandbox_issuer_only() {
        let mut x = XeroSettings::default();
        assert_eq!(x.effective_bounce_url(), None);
        x.issuer = "http://127.0.0.1:4000/".into();
        assert_eq!(
            x.effective_bounce_url().as_deref(),
            Some("http://127.0.0.1:4000/bounce")
        );
    }
}
