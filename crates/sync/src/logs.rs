//! Log files for support: each host (the desktop app, the `hownow` service, other `hownow`
//! commands) appends to its own file in `<data dir>/logs/`, so two processes never rotate the
//! same file under each other. A file is capped in size: past [`LogConfig::max_bytes`] it is
//! renamed `NAME.log.1` (older ones shift to `.2`, …) and a new one is started, so a machine
//! that syncs for years keeps at most `max_bytes × (keep + 1)` per host.
//!
//! tracing-appender's own rolling appender rotates by time only, so the size cap is this small
//! writer; tracing-appender's non-blocking writer sits in front of it, so a slow disk never
//! holds up a sync. Files are 0600 in the 0700 data dir: logs name practices and people.
//!
//! What is logged never includes tokens or login codes (the engine logs events and counts, not
//! requests' bodies or headers); `hownow-cli`'s tests read the logs of a whole journey at debug
//! level and look for every token the sandbox handed out.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use tracing_appender::non_blocking::{NonBlocking, WorkerGuard};

/// The folder in the data dir that holds the log files.
pub const LOG_DIR: &str = "logs";

/// One host's log file and its cap.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The file's stem: `app`, `service` or `cli` (the file is `<stem>.log`).
    pub name: String,
    /// A file is rotated before it would grow past this many bytes.
    pub max_bytes: u64,
    /// How many rotated files are kept besides the current one.
    pub keep: usize,
}

impl LogConfig {
    /// 4 MiB per file and two rotated ones: at most 12 MiB per host. At info level a sync
    /// logs about 450 bytes (measured against the sandbox), so the default schedule fills a file
    /// in years; the cap is for debug levels and failures that repeat every minute.
    pub fn new(name: &str) -> Self {
        LogConfig {
            name: name.to_string(),
            max_bytes: 4 * 1024 * 1024,
            keep: 2,
        }
    }
}

pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(LOG_DIR)
}

/// A size-capped, rotating, private (0600) log file.
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    file: Option<File>,
    written: u64,
}

impl RotatingFile {
    /// Opens (creating if needed) `<dir>/<name>.log` for appending; `dir` is made 0700.
    pub fn open(dir: &Path, config: &LogConfig) -> io::Result<RotatingFile> {
        crate::private::private_dir(dir)?;
        let mut file = RotatingFile {
            path: dir.join(format!("{}.log", config.name)),
            // Below a line's length the cap would rotate on every line.
            max_bytes: config.max_bytes.max(1024),
            keep: config.keep,
            file: None,
            written: 0,
        };
        file.reopen()?;
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn reopen(&mut self) -> io::Result<()> {
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // A link planted where the log goes is refused, not followed.
            options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        }
        let file = options.open(&self.path)?;
        // An older file made with a looser mode is tightened.
        crate::private::private_file(&self.path)?;
        self.written = file.metadata()?.len();
        self.file = Some(file);
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        if self.keep == 0 {
            std::fs::remove_file(&self.path).or_else(ignore_missing)?;
        } else {
            std::fs::remove_file(self.rotated(self.keep)).or_else(ignore_missing)?;
            for n in (1..self.keep).rev() {
                std::fs::rename(self.rotated(n), self.rotated(n + 1)).or_else(ignore_missing)?;
            }
            std::fs::rename(&self.path, self.rotated(1)).or_else(ignore_missing)?;
        }
        self.reopen()
    }
}

fn ignore_missing(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

impl Write for RotatingFile {
    /// Takes the whole buffer or nothing: the non-blocking writer hands over one formatted event
    /// per call, so rotation falls between lines.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        if self.file.is_none() {
            self.reopen()?;
        }
        let file = self.file.as_mut().expect("opened above");
        file.write_all(buf)?;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// The host's log file behind tracing-appender's non-blocking writer. Keep the guard for the
/// life of the process: dropping it flushes what is queued.
pub fn file_writer(data_dir: &Path, config: &LogConfig) -> io::Result<(NonBlocking, WorkerGuard, PathBuf)> {
    let file = RotatingFile::open(&log_dir(data_dir), config)?;
    let path = file.path().to_path_buf();
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        // Past this many queued lines, new ones are dropped rather than the sync waiting on
        // the disk.
        .buffered_lines_limit(16_384)
        .lossy(true)
        .finish(file);
    Ok((writer, guard, path))
}

/// The log files in `data_dir`, newest first within each host (`app.log`, `app.log.1`, …),
/// hosts by name.
pub fn log_files(data_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let dir = log_dir(data_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<(String, usize, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let (stem, generation) = match name.rsplit_once(".log") {
            Some((stem, "")) => (stem.to_string(), 0),
            Some((stem, rest)) => match rest.strip_prefix('.').and_then(|n| n.parse().ok()) {
                Some(n) => (stem.to_string(), n),
                None => continue,
            },
            None => continue,
        };
        files.push((stem, generation, entry.path()));
    }
    files.sort();
    Ok(files.into_iter().map(|(_, _, path)| path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max_bytes: u64, keep: usize) -> LogConfig {
        LogConfig {
            name: "service".into(),
            max_bytes,
            keep,
        }
    }

    #[test]
    fn rotates_at_the_cap_and_keeps_a_bounded_number_of_files() {
        let data = tempfile::tempdir().unwrap();
        let dir = log_dir(data.path());
        let mut log = RotatingFile::open(&dir, &config(1024, 2)).unwrap();
        let line = [b'x'; 99].iter().copied().chain([b'\n']).collect::<Vec<u8>>();
        // 100 lines of 100 bytes: ten files' worth through a 1 KiB cap.
        for _ in 0..100 {
            log.write_all(&line).unwrap();
        }
        log.flush().unwrap();
        let files = log_files(data.path()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["service.log", "service.log.1", "service.log.2"]);
        for path in &files {
            let len = std::fs::metadata(path).unwrap().len();
            assert!(len <= 1024, "{} is {len} bytes", path.display());
            assert_eq!(len % 100, 0, "rotation falls between lines");
        }
        // Full rotated files: ten lines each.
        assert_eq!(std::fs::metadata(&files[1]).unwrap().len(), 1000);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for path in &files {
                let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", path.display());
            }
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
    }

    #[test]
    fn reopening_appends_and_counts_what_is_there() {
        let data = tempfile::tempdir().unwrap();
        let dir = log_dir(data.path());
        {
            let mut log = RotatingFile::open(&dir, &config(1024, 1)).unwrap();
            log.write_all(&[b'a'; 900]).unwrap();
        }
        let mut log = RotatingFile::open(&dir, &config(1024, 1)).unwrap();
        log.write_all(&[b'b'; 200]).unwrap();
        // 900 + 200 is past the cap: the old content moved to .1, the new line starts the file.
        assert_eq!(std::fs::read(dir.join("service.log")).unwrap(), vec![b'b'; 200]);
        assert_eq!(std::fs::read(dir.join("service.log.1")).unwrap(), vec![b'a'; 900]);
    }

    #[test]
    fn the_non_blocking_writer_delivers_and_flushes_on_drop() {
        let data = tempfile::tempdir().unwrap();
        let (mut writer, guard, path) = file_writer(data.path(), &LogConfig::new("app")).unwrap();
        writer.write_all(b"first line\n").unwrap();
        drop(guard);
        assert_eq!(std::fs::read_to_string(path).unwrap(), "first line\n");
    }
}
