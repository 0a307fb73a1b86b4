//! What can go wrong in the engine, typed by what the caller (CLI, desktop app, scheduler) does
//! about it. Messages are one sentence a firm administrator can act on.

use std::path::PathBuf;

use hownow_xpm::XpmError;
use time::OffsetDateTime;

use crate::clock;
use crate::secrets::SecretError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the client directory database failed: {0}")]
    Database(#[from] rusqlite::Error),

    #[error("the client directory {path} was written by a newer HowNow Admin (schema {found}; this version knows up to {known})")]
    SchemaTooNew { path: PathBuf, found: i64, known: i64 },

    #[error("the client directory {path} has schema {found} but this version needs {known}; open it once with HowNow Admin (not read-only) to upgrade it")]
    SchemaTooOld { path: PathBuf, found: i64, known: i64 },

    #[error("could not use {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Xpm(#[from] XpmError),

    #[error("there is no connection with id {0}")]
    UnknownConnection(i64),

    #[error("connection {0} is disconnected; connect again to sync it")]
    Disconnected(i64),

    #[error("connection {id} needs reauthorisation ({reason}); its scheduled syncs are paused until someone logs in to Xero again")]
    NeedsReauth { id: i64, reason: String },

    #[error("this full sync would remove {would_remove} of {live} clients, more than the {}% allowed; nothing was changed. If XPM really lost them, run the full sync again and confirm the removal", (threshold * 100.0).round())]
    MassRemoval {
        would_remove: u64,
        live: u64,
        threshold: f64,
    },

    #[error("a sync of this connection is already running ({})", describe_holder(*pid, started_at.as_deref()))]
    AlreadyRunning {
        pid: Option<u32>,
        started_at: Option<String>,
    },

    #[error("Xero's daily API limit for this practice is used up; the sync stopped and will run again after {}", clock::to_db(*retry_at))]
    DayLimit { retry_at: OffsetDateTime },

    #[error("not enough Xero API calls left today: this sync needs about {needed} and {available} remain after the {reserve} kept for scheduled syncs")]
    OverBudget {
        needed: u64,
        available: u64,
        reserve: u64,
    },

    #[error(transparent)]
    Secrets(#[from] SecretError),

    /// The thread that prepares a listing's clients could not start, or ended early (a bug);
    /// the run's transaction rolls back.
    #[error("the sync could not prepare the clients it received: {0}")]
    Preparing(String),
}

fn describe_holder(pid: Option<u32>, started_at: Option<&str>) -> String {
    match (pid, started_at) {
        (Some(pid), Some(at)) => format!("pid {pid}, started at {at}"),
        (Some(pid), None) => format!("pid {pid}"),
        (None, Some(at)) => format!("started at {at}"),
        (None, None) => "by another process".to_string(),
    }
}

impl SyncError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SyncError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = SyncError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_specific() {
        let e = SyncError::AlreadyRunning {
            pid: Some(42),
            started_at: Some("2024-05-01T02:00:00.000Z".into()),
        };
        assert_eq!(
            e.to_string(),
            "a sync of this connection is already running (pid 42, started at 2024-05-01T02:00:00.000Z)"
        );
        let e = SyncError::MassRemoval {
            would_remove: 30,
            live: 100,
            threshold: 0.2,
        };
        assert!(e
            .to_string()
            .contains("remove 30 of 100 clients, more than the 20% allowed"));
    }
}
