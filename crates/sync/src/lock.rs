//! One sync per connection at a time, across every process that shares the data dir (the
//! desktop app, the CLI, a cron job).
//!
//! An advisory lock (`flock` on Unix, `LockFileEx` on Windows) on `locks/connection-<id>.lock`.
//! The operating system releases it when the holder exits, however it exits (a SIGKILL
//! included), so a crashed sync never blocks the next one. The holder writes its pid and start
//! time into the file so the second asker can be told who is running.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs4::TryLockError;

use crate::clock;
use crate::error::{Result, SyncError};

/// Held while a sync of one connection runs; dropping it releases the lock.
#[derive(Debug)]
pub struct SyncLock {
    _file: File,
    path: PathBuf,
    connection_id: i64,
}

/// Who holds a connection's lock, as it wrote itself into the lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    pub pid: Option<u32>,
    pub started_at: Option<String>,
}

/// Whether another handle holds the lock file at `path` (a file nobody made is not held).
pub(crate) fn is_held(path: &Path) -> Result<bool> {
    if !path.exists() {
        return Ok(false);
    }
    let file = open(path)?;
    match fs4::FileExt::try_lock_shared(&file) {
        Ok(()) => {
            let _ = fs4::FileExt::unlock(&file);
            Ok(false)
        }
        Err(TryLockError::WouldBlock) => Ok(true),
        Err(TryLockError::Error(e)) => Err(SyncError::io(path, e)),
    }
}

/// Writes who holds a lock into its file (`{extra}pid=…\nstarted_at=…\n`), replacing what an
/// earlier holder wrote, so a process that finds it taken can say by whom.
pub(crate) fn stamp_holder(file: &mut File, path: &Path, extra: &str) -> Result<()> {
    let stamp = format!(
        "{extra}pid={}\nstarted_at={}\n",
        std::process::id(),
        clock::to_db(clock::now_stored(&clock::SystemClock))
    );
    file.set_len(0)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(stamp.as_bytes()))
        .and_then(|_| file.flush())
        .map_err(|e| SyncError::io(path, e))
}

fn lock_path(lock_dir: &Path, connection_id: i64) -> PathBuf {
    lock_dir.join(format!("connection-{connection_id}.lock"))
}

/// Opens (creating, 0600, in a 0700 folder) a lock file without truncating it: it names the
/// current holder until the next holder replaces the text.
pub(crate) fn open(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        crate::private::private_dir(dir).map_err(|e| SyncError::io(dir, e))?;
    }
    crate::private::ensure_private_file(path).map_err(|e| SyncError::io(path, e))?;
    // Never truncate on open: the file names the current holder until it is replaced.
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| SyncError::io(path, e))
}

fn read_holder(path: &Path) -> LockHolder {
    let mut text = String::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_string(&mut text));
    let mut holder = LockHolder {
        pid: None,
        started_at: None,
    };
    for line in text.lines() {
        if let Some(pid) = line.strip_prefix("pid=") {
            holder.pid = pid.trim().parse().ok();
        } else if let Some(at) = line.strip_prefix("started_at=") {
            holder.started_at = Some(at.trim().to_string());
        }
    }
    holder
}

impl SyncLock {
    /// Takes the lock of `connection_id` or fails at once with [`SyncError::AlreadyRunning`].
    pub fn try_acquire(lock_dir: &Path, connection_id: i64) -> Result<SyncLock> {
        let path = lock_path(lock_dir, connection_id);
        let mut file = open(&path)?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&path);
                return Err(SyncError::AlreadyRunning {
                    pid: holder.pid,
                    started_at: holder.started_at,
                });
            }
            Err(TryLockError::Error(e)) => return Err(SyncError::io(&path, e)),
        }
        stamp_holder(&mut file, &path, "")?;
        Ok(SyncLock {
            _file: file,
            path,
            connection_id,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn connection_id(&self) -> i64 {
        self.connection_id
    }

    /// Whether a sync of `connection_id` is running somewhere, and who runs it.
    pub fn holder(lock_dir: &Path, connection_id: i64) -> Result<Option<LockHolder>> {
        let path = lock_path(lock_dir, connection_id);
        Ok(is_held(&path)?.then(|| read_holder(&path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_asker_is_told_who_runs() {
        let dir = tempfile::tempdir().unwrap();
        let first = SyncLock::try_acquire(dir.path(), 7).unwrap();
        let err = SyncLock::try_acquire(dir.path(), 7).unwrap_err();
        match err {
            SyncError::AlreadyRunning { pid, started_at } => {
                assert_eq!(pid, Some(std::process::id()));
                assert!(started_at.is_some());
            }
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        assert!(SyncLock::holder(dir.path(), 7).unwrap().is_some());
        // Another connection is independent.
        let _other = SyncLock::try_acquire(dir.path(), 8).unwrap();
        drop(first);
        assert_eq!(SyncLock::holder(dir.path(), 7).unwrap(), None);
        let _again = SyncLock::try_acquire(dir.path(), 7).unwrap();
    }
}
