//! One scheduler per data dir: whichever host (the desktop app or `hownow service run`) holds
//! `locks/scheduler.lock` schedules; the other one says who does and leaves the schedule alone.
//!
//! The same advisory lock as a connection's sync lock ([`crate::lock`]): the operating system
//! drops it when the holder exits however it exits, so a crashed host never blocks the next one.
//! The holder writes which host it is, its pid and start time, for the other host's message.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use fs4::TryLockError;
use serde::Serialize;

use crate::error::{Result, SyncError};

const FILE: &str = "scheduler.lock";

/// Which program hosts the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerHost {
    /// `hownow service run` (by hand, or as a systemd unit, LaunchAgent or logon task).
    Service,
    /// The HowNow Admin desktop app.
    App,
}

impl SchedulerHost {
    fn as_str(self) -> &'static str {
        match self {
            SchedulerHost::Service => "service",
            SchedulerHost::App => "app",
        }
    }
}

/// Who holds the scheduler lock, as it wrote itself into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchedulerHolder {
    pub host: Option<SchedulerHost>,
    pub pid: Option<u32>,
    pub started_at: Option<String>,
}

impl SchedulerHolder {
    /// "Syncs are run by the HowNow service on this machine (pid 1234)".
    pub fn describe(&self) -> String {
        let who = match self.host {
            Some(SchedulerHost::Service) => "the HowNow service",
            Some(SchedulerHost::App) => "the HowNow Admin app",
            None => "another HowNow program",
        };
        match self.pid {
            Some(pid) => format!("Syncs are run by {who} on this machine (pid {pid})"),
            None => format!("Syncs are run by {who} on this machine"),
        }
    }
}

/// Held while this process schedules the data dir's syncs; dropping it lets another host take
/// over.
#[derive(Debug)]
pub struct SchedulerLock {
    _file: File,
    path: PathBuf,
    host: SchedulerHost,
}

fn lock_path(data_dir: &Path) -> PathBuf {
    data_dir.join("locks").join(FILE)
}

fn read_holder(path: &Path) -> SchedulerHolder {
    let mut text = String::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_string(&mut text));
    let mut holder = SchedulerHolder {
        host: None,
        pid: None,
        started_at: None,
    };
    for line in text.lines() {
        if let Some(host) = line.strip_prefix("host=") {
            holder.host = match host.trim() {
                "service" => Some(SchedulerHost::Service),
                "app" => Some(SchedulerHost::App),
                _ => None,
            };
        } else if let Some(pid) = line.strip_prefix("pid=") {
            holder.pid = pid.trim().parse().ok();
        } else if let Some(at) = line.strip_prefix("started_at=") {
            holder.started_at = Some(at.trim().to_string());
        }
    }
    holder
}

impl SchedulerLock {
    /// Takes the data dir's scheduler lock for `host`, or says who holds it.
    pub fn try_acquire(
        data_dir: &Path,
        host: SchedulerHost,
    ) -> Result<Result<SchedulerLock, SchedulerHolder>> {
        let path = lock_path(data_dir);
        let mut file = crate::lock::open(&path)?;
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(Err(read_holder(&path))),
            Err(TryLockError::Error(e)) => return Err(SyncError::io(&path, e)),
        }
        crate::lock::stamp_holder(&mut file, &path, &format!("host={}\n", host.as_str()))?;
        Ok(Ok(SchedulerLock {
            _file: file,
            path,
            host,
        }))
    }

    /// Who schedules this data dir's syncs now, if anyone.
    pub fn holder(data_dir: &Path) -> Result<Option<SchedulerHolder>> {
        let path = lock_path(data_dir);
        Ok(crate::lock::is_held(&path)?.then(|| read_holder(&path)))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn host(&self) -> SchedulerHost {
        self.host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_host_is_told_who_schedules_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(SchedulerLock::holder(dir.path()).unwrap(), None);
        let service = SchedulerLock::try_acquire(dir.path(), SchedulerHost::Service)
            .unwrap()
            .unwrap();
        let holder = SchedulerLock::try_acquire(dir.path(), SchedulerHost::App)
            .unwrap()
            .unwrap_err();
        assert_eq!(holder.host, Some(SchedulerHost::Service));
        assert_eq!(holder.pid, Some(std::process::id()));
        assert_eq!(
            holder.describe(),
            format!(
                "Syncs are run by the HowNow service on this machine (pid {})",
                std::process::id()
            )
        );
        assert_eq!(SchedulerLock::holder(dir.path()).unwrap(), Some(holder));
        // A connection's sync lock is another file: a manual sync is not blocked by it.
        let _sync = crate::lock::SyncLock::try_acquire(&dir.path().join("locks"), 1).unwrap();
        drop(service);
        assert_eq!(SchedulerLock::holder(dir.path()).unwrap(), None);
        let app = SchedulerLock::try_acquire(dir.path(), SchedulerHost::App)
            .unwrap()
            .unwrap();
        assert_eq!(
            SchedulerLock::holder(dir.path()).unwrap().and_then(|h| h.host),
            Some(SchedulerHost::App)
        );
        drop(app);
    }
}
