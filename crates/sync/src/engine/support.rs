//! The support bundle: one zip a firm can send to support, written the same way by
//! `hownow support-bundle` and the window's "Save diagnostics…".
//!
//! It holds what explains a problem and nothing that grants access: the recent log files, the
//! saved settings (rebuilt from their typed form, so nothing unknown rides along; they hold no
//! secret), the directory's schema version, the last 50 sync runs, the connections' names and
//! states, and the versions and platform. Tokens live in the keychain or `credentials.json`,
//! which the bundle never reads.

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use zip::write::SimpleFileOptions;

use super::settings::EngineSettings;
use super::{Engine, EngineError, Result};
use crate::logs;
use crate::store::{SyncRun, LATEST_SCHEMA_VERSION};
use crate::RunView;

/// How many sync runs the bundle carries (all connections, newest first).
pub const BUNDLE_RUNS: u32 = 50;
/// Of each log file, the bundle keeps this many of its newest bytes.
pub const BUNDLE_LOG_BYTES: u64 = 4 * 1024 * 1024;
/// Log generations per host: the current file and the last rotated one.
const BUNDLE_LOG_GENERATIONS: usize = 2;

/// Who writes the bundle: the host's name and version, and files of its own (the desktop app's
/// preferences) as `(name in the zip, content)`.
#[derive(Debug, Clone, Default)]
pub struct BundleHost {
    pub name: String,
    pub version: String,
    pub extra: Vec<(String, Vec<u8>)>,
    /// The data dir whose `logs/` to include when it is not the engine's (the desktop's Demo
    /// practice runs in a throwaway data dir; the app logs in the real one).
    pub logs_in: Option<PathBuf>,
}

/// What [`Engine::write_support_bundle`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub entries: Vec<String>,
}

#[derive(Serialize)]
struct About<'a> {
    created_at: String,
    host: &'a str,
    host_version: &'a str,
    engine_version: &'static str,
    os: &'static str,
    os_family: &'static str,
    arch: &'static str,
    os_release: Option<String>,
    data_dir: String,
    credential_storage: super::CredentialStorage,
    schema_version: i64,
    latest_schema_version: i64,
    connections: Vec<ConnectionSummary>,
}

#[derive(Serialize)]
struct ConnectionSummary {
    id: i64,
    tenant_name: String,
    tenant_id: String,
    status: &'static str,
    status_reason: Option<String>,
    issuer: Option<String>,
    api_base: Option<String>,
    watermark: Option<String>,
    next_changes_due_at: Option<String>,
    next_full_due_at: Option<String>,
    day_calls_left: Option<u32>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn opt(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(rfc3339)
}

impl Engine {
    /// The bundle's file name by the engine's clock: `hownow-support-YYYYMMDD-HHMMSS.zip` (UTC).
    pub fn support_bundle_name(&self) -> String {
        let t = self.clock.now();
        format!(
            "hownow-support-{:04}{:02}{:02}-{:02}{:02}{:02}.zip",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    /// Writes the support bundle to `out` (replacing it atomically; 0600: logs name practices
    /// and people).
    pub fn write_support_bundle(&self, out: &Path, host: &BundleHost) -> Result<BundleReport> {
        let now = self.clock.now();
        let reader = self.reader()?;
        let connections = reader.connections()?;
        let mut runs: Vec<SyncRun> = Vec::new();
        for c in &connections {
            runs.extend(reader.runs(c.id, BUNDLE_RUNS)?);
        }
        runs.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.id.cmp(&a.id)));
        runs.truncate(BUNDLE_RUNS as usize);
        let about = About {
            created_at: rfc3339(now),
            host: &host.name,
            host_version: &host.version,
            engine_version: env!("CARGO_PKG_VERSION"),
            os: std::env::consts::OS,
            os_family: std::env::consts::FAMILY,
            arch: std::env::consts::ARCH,
            os_release: os_release(),
            data_dir: self.data_dir.display().to_string(),
            credential_storage: self.storage,
            schema_version: reader.schema_version()?,
            latest_schema_version: LATEST_SCHEMA_VERSION,
            connections: connections
                .iter()
                .map(|c| ConnectionSummary {
                    id: c.id,
                    tenant_name: c.tenant_name.clone(),
                    tenant_id: c.tenant_id.clone(),
                    status: c.status.as_str(),
                    status_reason: c.status_reason.clone(),
                    issuer: c.xero.as_ref().map(|x| x.issuer.clone()),
                    api_base: c.xero.as_ref().map(|x| x.api_base.clone()),
                    watermark: opt(c.watermark),
                    next_changes_due_at: opt(c.next_changes_due_at),
                    next_full_due_at: opt(c.next_full_due_at),
                    day_calls_left: c.quota.day_remaining,
                })
                .collect(),
        };
        drop(reader);
        let run_views: Vec<RunView> = runs.iter().map(RunView::from).collect();
        let settings = match EngineSettings::load(&self.data_dir) {
            Ok(settings) => serde_json::to_vec_pretty(&settings),
            Err(e) => serde_json::to_vec_pretty(&serde_json::json!({ "unreadable": e.to_string() })),
        }
        .expect("settings serialise");

        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("README.txt".into(), readme(host).into_bytes()),
            (
                "about.json".into(),
                serde_json::to_vec_pretty(&about).expect("about serialises"),
            ),
            ("settings.json".into(), settings),
            (
                "runs.json".into(),
                serde_json::to_vec_pretty(&run_views).expect("runs serialise"),
            ),
        ];
        files.extend(host.extra.iter().cloned());
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| EngineError::Io { path, source }
        };
        let logs_in = host.logs_in.as_deref().unwrap_or(&self.data_dir);
        let log_dir = logs::log_dir(logs_in);
        for path in logs::log_files(logs_in).map_err(io(&log_dir))? {
            if generation(&path) >= BUNDLE_LOG_GENERATIONS {
                continue;
            }
            let tail = read_tail(&path, BUNDLE_LOG_BYTES).map_err(io(&path))?;
            let name = path.file_name().expect("a file").to_string_lossy();
            files.push((format!("logs/{name}"), tail));
        }
        write_zip(out, now, &files).map_err(io(out))
    }
}

/// `app.log` is generation 0, `app.log.1` is 1, …
fn generation(path: &Path) -> usize {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    name.rsplit_once(".log.")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// The last `max` bytes of a file, from the start of a line: when the cut falls inside a line,
/// the rest of that line is left out too.
fn read_tail(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len <= max {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        return Ok(bytes);
    }
    // One byte more, before the window: whether the window starts a line.
    file.seek(SeekFrom::Start(len - max - 1))?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    let skip = if bytes.first() == Some(&b'\n') {
        1
    } else {
        bytes
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| i + 1)
    };
    bytes.drain(..skip);
    Ok(bytes)
}

fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
}

fn readme(host: &BundleHost) -> String {
    format!(
        "HowNow Admin support bundle, written by {} {}.\n\n\
         about.json     versions, platform, schema version, the connections and their state\n\
         settings.json  how this computer reaches Xero (no tokens: they are never in this bundle)\n\
         runs.json      the last {BUNDLE_RUNS} sync runs, newest first, shaped as `hownow history --json`\n\
         logs/          the newest log files (at most {} MiB of each)\n",
        host.name,
        host.version,
        BUNDLE_LOG_BYTES / (1024 * 1024)
    )
}

fn write_zip(out: &Path, now: OffsetDateTime, files: &[(String, Vec<u8>)]) -> std::io::Result<BundleReport> {
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // A temporary file beside the target (0600, random name), renamed over it when complete.
    let tmp = tempfile::Builder::new()
        .prefix(".hownow-support-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let utc = now.to_offset(time::UtcOffset::UTC);
    let stamp = zip::DateTime::from_date_and_time(
        utc.year().clamp(1980, 2107) as u16,
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
    )
    .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o600);
    let mut zip = zip::ZipWriter::new(tmp.as_file());
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(bytes)?;
    }
    zip.finish().map_err(std::io::Error::other)?;
    tmp.as_file().sync_all()?;
    tmp.persist(out).map_err(|e| e.error)?;
    crate::private::private_file(out)?;
    Ok(BundleReport {
        path: out.to_path_buf(),
        bytes: std::fs::metadata(out)?.len(),
        entries: files.iter().map(|(name, _)| name.clone()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_log_starts_at_a_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "first line\nsecond line\nthird\n").unwrap();
        assert_eq!(
            read_tail(&path, 1000).unwrap(),
            b"first line\nsecond line\nthird\n"
        );
        assert_eq!(read_tail(&path, 15).unwrap(), b"third\n");
        // A cut right after a line break keeps the whole next line.
        assert_eq!(read_tail(&path, 6).unwrap(), b"third\n");
        assert_eq!(read_tail(&path, 18).unwrap(), b"second line\nthird\n");
        assert_eq!(generation(Path::new("logs/app.log")), 0);
        assert_eq!(generation(Path::new("logs/app.log.2")), 2);
    }
}
