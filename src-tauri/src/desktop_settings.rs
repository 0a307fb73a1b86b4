//! The desktop app's own preferences, kept beside the engine's settings in the data dir. The
//! login mode lives here rather than in the engine's settings because the CLI, sharing the data
//! dir, cannot receive deep links: the desktop's choice must not become its default.

use std::path::{Path, PathBuf};

use hownow_sync::connect::RedirectKind;
use serde::{Deserialize, Serialize};

const FILE_NAME: &str = "desktop.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DesktopSettings {
    /// `None`: deep link when a bounce page is available, else loopback.
    pub login_mode: Option<RedirectKind>,
    /// "Start HowNow Admin when I log in", as the administrator chose it. `None`: on once a real
    /// practice is connected, off before (and for the demo).
    pub start_at_login: Option<bool>,
}

impl DesktopSettings {
    fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(FILE_NAME)
    }

    /// The saved preferences; defaults when there are none or the file is unreadable (they are
    /// preferences, not data: a damaged file must not stop the app).
    pub fn load(data_dir: &Path) -> DesktopSettings {
        match std::fs::read_to_string(Self::path(data_dir)) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "ignoring unreadable desktop settings");
                DesktopSettings::default()
            }),
            Err(_) => DesktopSettings::default(),
        }
    }

    pub fn save(&self, data_dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(data_dir)?;
        let path = Self::path(data_dir);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, path)
    }

    /// Whether the app should start at login, given whether a real practice is connected.
    pub fn effective_start_at_login(&self, real_connection: bool) -> bool {
        self.start_at_login.unwrap_or(real_connection)
    }

    /// The mode to log in with, given whether a bounce page is configured or implied.
    pub fn effective_login_mode(&self, bounce_page_available: bool) -> RedirectKind {
        self.login_mode.unwrap_or(if bounce_page_available {
            RedirectKind::Deeplink
        } else {
            RedirectKind::Loopback
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(DesktopSettings::load(dir.path()), DesktopSettings::default());
        let s = DesktopSettings {
            login_mode: Some(RedirectKind::Loopback),
            start_at_login: Some(false),
        };
        s.save(dir.path()).unwrap();
        assert_eq!(DesktopSettings::load(dir.path()), s);
        std::fs::write(dir.path().join(FILE_NAME), "{not json").unwrap();
        assert_eq!(DesktopSettings::load(dir.path()), DesktopSettings::default());
    }

    #[test]
    fn automatic_mode_prefers_the_deep_link_when_it_can_work() {
        let auto = DesktopSettings::default();
        assert_eq!(auto.effective_login_mode(true), RedirectKind::Deeplink);
        assert_eq!(auto.effective_login_mode(false), RedirectKind::Loopback);
        let chosen = DesktopSettings {
            login_mode: Some(RedirectKind::Loopback),
            ..DesktopSettings::default()
        };
        assert_eq!(chosen.effective_login_mode(true), RedirectKind::Loopback);
    }

    #[test]
    fn start_at_login_follows_the_first_real_connection_until_chosen() {
        let auto = DesktopSettings::default();
        assert!(!auto.effective_start_at_login(false));
        assert!(auto.effective_start_at_login(true));
        let off = DesktopSettings {
            start_at_login: Some(false),
            ..DesktopSettings::default()
        };
        assert!(!off.effective_start_at_login(true));
    }
}
