//! Moving a run's write-ahead log into the database file after the run, not inside it.
//!
//! By default SQLite checkpoints on the committing connection, before `COMMIT` returns, whenever
//! the log has grown past 1,000 pages: after a full sync of 15,000 clients that is ~130 ms of
//! copying and syncing that the run would wait for, though its data is already safe in the log
//! (a killed process loses nothing; the next open reads the log). So a run commits with the
//! automatic checkpoint off, and a thread with a connection of its own checkpoints just after.
//! That checkpoint is PASSIVE: it never blocks a reader or the next writer, and does what it
//! can. If the process ends first, the log stays and the next checkpoint moves it (the last
//! connection to close does one).

use std::path::{Path, PathBuf};

use rusqlite::OpenFlags;

use super::BUSY_TIMEOUT;
use crate::error::Result;

/// SQLite's default: the automatic checkpoint, back on for every other write.
const AUTOCHECKPOINT_PAGES: i64 = 1000;

/// `COMMIT`s the open transaction of `db` and checkpoints its log on another thread.
pub(super) fn commit(db: &rusqlite::Connection) -> Result<()> {
    db.pragma_update(None, "wal_autocheckpoint", 0)?;
    let committed = db.execute_batch("COMMIT");
    if let Err(e) = db.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES) {
        // Not a reason to report a committed run as failed; the next open sets it again.
        tracing::warn!(error = %e, "could not turn the automatic checkpoint back on");
    }
    committed?;
    // An in-memory or temporary database has no file to open a second connection on.
    if let Some(path) = db.path().filter(|p| !p.is_empty()) {
        in_background(PathBuf::from(path));
    }
    Ok(())
}

fn in_background(path: PathBuf) {
    let started = std::thread::Builder::new()
        .name("hownow-checkpoint".into())
        .spawn(move || {
            if let Err(e) = checkpoint(&path) {
                // The log stays a while longer: the next checkpoint moves it.
                tracing::warn!(path = %path.display(), error = %e, "could not checkpoint the directory after a sync");
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "could not start the thread that checkpoints the directory");
    }
}

fn checkpoint(path: &Path) -> rusqlite::Result<()> {
    let db = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    db.busy_timeout(BUSY_TIMEOUT)?;
    let (busy, log, moved): (i64, i64, i64) = db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    tracing::debug!(
        busy,
        log_frames = log,
        checkpointed = moved,
        "checkpointed the directory after a sync"
    );
    Ok(())
}
