//! The client directory: one SQLite file in the data dir, shared by the desktop app and the CLI,
//! with a small state file beside it ([`state`]) for what changes while a sync runs.
//!
//! Opened in WAL mode (readers never block the one writer, and see the last committed state while
//! a sync's transaction is open) with a busy timeout (a second process waits for a writer instead
//! of failing) and foreign keys on. [`Store::open`] brings the schema up to date, taking the write
//! lock only when a migration is due (each migration in its own transaction, tracked by
//! `PRAGMA user_version`; the schema is documented in `SCHEMA.md`); [`Store::open_reader`] opens
//! a read-only handle that can never take the write lock.
//!
//! By job: `apply` writes what a sync run fetched (the applier, one per run); `reads` reads the
//! directory back for the window and the CLI; `records` reads it as HowNow consumes it (the CSV
//! records and the Client Code report); `runs` is the sync history, `connections` the connected
//! practices, [`state`] the state file; `checkpoint` moves a run's log into the file after it.
//!
//! ## Adding an XPM field
//!
//! A client field XPM sends is kept by the directory with these edits:
//!
//! 1. the model: the field on `hownow_xpm::Client` (`crates/xpm/src/model.rs`), an `Option`
//!    with `#[serde(default, skip_serializing_if = "Option::is_none")]` (so clients without it
//!    hash as before);
//! 2. the decoder: its XML element in `crates/xpm/src/decode/records.rs`, and the same element
//!    in the encoder (`crates/xpm/src/encode/records.rs`), from which the sandbox answers; the
//!    round-trip property test (`crates/xpm/tests/it/encode_props.rs`) holds the two together
//!    once its strategy (`decode_props`) generates the field.
//!
//! It is then in the client's long tail (`clients.data`, see `client_row`) and in its content
//! hash, and reads back with the client. When the directory should also search, sort or list by
//! it, give it a column too, with two more edits:
//!
//! 3. one migration: `ALTER TABLE clients ADD COLUMN field TEXT` (named as the field) in the next
//!    `migrations/NNNN_name.sql`, listed in `migrations.rs` and described in `SCHEMA.md`. It
//!    moves the stored values out of the tail: `UPDATE clients SET field =
//!    json_extract(data, '$.field'), data = json_remove(data, '$.field')`;
//! 4. one mapping line, `":field": c.field`, in the row of `Applier::write_client`
//!    (`apply/write.rs`). The upsert's SQL is built from that row's parameter names, so there is
//!    no column list to keep in step; a unit test fails while a column of `clients` has no line
//!    (or a line no column). Reading it back needs nothing: `client_row` reads what each column
//!    carries from the schema.

mod apply;
mod checkpoint;
mod client_row;
pub(crate) mod connections;
mod long_tail;
mod migrations;
mod reads;
mod records;
pub(crate) mod runs;
mod search;
pub mod state;
mod summaries;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::OpenFlags;

use crate::clock::{self, Clock, SystemClock};
use crate::error::{Result, SyncError};
use state::StateDb;

pub(crate) use apply::{Applied, Applier, ContactSweepOutcome, PreparedClient, Preparer, Writer};
pub use connections::{Connection, ConnectionStatus, NewConnection, PinnedXero, Quota};
pub use migrations::LATEST_SCHEMA_VERSION;
pub use reads::{ClientDetail, ClientQuery, DirectoryCounts};
pub use runs::{
    ChangeKind, RecordKind, RunCounts, RunKind, RunOutcome, RunTrigger, SyncChange, SyncRun,
    MAX_WARNINGS_PER_RUN,
};
pub use summaries::{ClientSummary, ClientSummaryPage};

/// How long a second writer waits for the first before SQLite reports "database is locked".
/// A sync holds the write lock for its whole run, so short operations of another process
/// (saving settings) may wait this long.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The directory database. `Send` but not `Sync`: give each task its own `Store` (opening one
/// is cheap) or wrap it in a mutex.
pub struct Store {
    db: rusqlite::Connection,
    /// The state file's handle (`None` for a reader opened before any writer created it).
    state: Option<StateDb>,
    path: PathBuf,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the directory at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with_clock(path, Arc::new(SystemClock))
    }

    /// [`Store::open`] with the time read from `clock`.
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| SyncError::io(dir, e))?;
        }
        // 0600 before SQLite opens it: its WAL and shared-memory files take the same mode.
        crate::private::ensure_private_file(&path).map_err(|e| SyncError::io(&path, e))?;
        for companion in ["-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{companion}", path.display()));
            crate::private::private_file(&file).map_err(|e| SyncError::io(&file, e))?;
        }
        let db = rusqlite::Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.busy_timeout(BUSY_TIMEOUT)?;
        // Only takes effect on a new file. A client row is ~4 KB (its JSON ~2.5 KB): 16 KB pages
        // hold four without overflow pages, and a full sync writes its ~80 MB in half as many
        // WAL frames as with 8 KB pages (commit ~25% faster; 4 KB pages would need overflow pages).
        db.pragma_update(None, "page_size", 16384)?;
        // WAL: the CLI can read while the app syncs. synchronous=NORMAL: a commit survives a
        // killed process (the crash the engine must survive); only a power cut may lose the last
        // commit, never corrupt the file.
        use_wal(&db)?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        db.pragma_update(None, "foreign_keys", "ON")?;
        // A full sync writes a WAL as large as the database; without a limit SQLite keeps the
        // file at that size for reuse, doubling the data dir. Truncate it back after checkpoints.
        db.pragma_update(None, "journal_size_limit", 8 * 1024 * 1024)?;
        // 32 MB page cache: a full sync of 15,000 clients touches every index page.
        db.pragma_update(None, "cache_size", -32_768)?;
        db.set_prepared_statement_cache_capacity(64);
        let mut db = db;
        migrations::migrate(&mut db, &path)?;
        let state = Some(StateDb::open(&state::state_path(&path))?);
        Ok(Store {
            db,
            state,
            path,
            clock,
        })
    }

    /// A read-only handle on an existing directory: it never takes the write lock, so it never
    /// waits on a running sync, and sees the last committed state. The schema must be current
    /// (the writer's [`Store::open`] migrates).
    pub fn open_reader(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let db = rusqlite::Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.busy_timeout(BUSY_TIMEOUT)?;
        db.pragma_update(None, "cache_size", -8_192)?;
        db.set_prepared_statement_cache_capacity(64);
        let version: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version < LATEST_SCHEMA_VERSION {
            return Err(SyncError::SchemaTooOld {
                path,
                found: version,
                known: LATEST_SCHEMA_VERSION,
            });
        }
        if version > LATEST_SCHEMA_VERSION {
            return Err(SyncError::SchemaTooNew {
                path,
                found: version,
                known: LATEST_SCHEMA_VERSION,
            });
        }
        let state = StateDb::open_reader(&state::state_path(&path))?;
        Ok(Store {
            db,
            state,
            path,
            clock,
        })
    }

    /// How long a write waits for another writer before SQLite reports "database is locked".
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<()> {
        Ok(self.db.busy_timeout(timeout)?)
    }

    /// The clock this handle stamps times with.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The current time, as stored (millisecond precision).
    pub fn now(&self) -> time::OffsetDateTime {
        clock::now_stored(self.clock.as_ref())
    }

    pub(crate) fn state(&self) -> Result<&StateDb> {
        self.state.as_ref().ok_or_else(|| {
            SyncError::io(
                state::state_path(&self.path),
                std::io::Error::new(std::io::ErrorKind::NotFound, "the state file was not created yet"),
            )
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `locks/` beside the database file: where the engine keeps the per-connection sync and
    /// token locks (the convention every process sharing the data dir follows).
    pub fn lock_dir(&self) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join("locks")
    }

    /// The schema version of the open file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.db.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check`: `Ok(())` or the problems SQLite found.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.db.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows.into_iter().filter(|r| r != "ok").collect())
    }

    /// Rows changed by this handle since it was opened (inserts, updates and deletes, as SQLite
    /// counts them). Tests use it to prove an unchanged sync writes nothing.
    pub fn total_changes(&self) -> u64 {
        self.db.total_changes()
    }

    pub(crate) fn db(&self) -> &rusqlite::Connection {
        &self.db
    }

    pub(crate) fn db_mut(&mut self) -> &mut rusqlite::Connection {
        &mut self.db
    }
}

/// A write transaction that can stay open across `.await`s (rusqlite's `Transaction` borrows the
/// connection shared, which makes a future holding it `!Send`). Rolled back when dropped
/// uncommitted, so an error, a panic or a cancelled future leaves the directory as it was.
pub(crate) struct WriteTx<'a> {
    db: &'a mut rusqlite::Connection,
    open: bool,
}

impl<'a> WriteTx<'a> {
    /// `BEGIN IMMEDIATE`: takes the write lock now rather than at the first write, so a run never
    /// fails half-way because another process wrote in between.
    pub(crate) fn begin(db: &'a mut rusqlite::Connection) -> Result<Self> {
        db.execute_batch("BEGIN IMMEDIATE")?;
        Ok(WriteTx { db, open: true })
    }

    pub(crate) fn db(&self) -> &rusqlite::Connection {
        self.db
    }

    /// Commits, and checkpoints the log on another thread ([`checkpoint`]).
    pub(crate) fn commit(mut self) -> Result<()> {
        checkpoint::commit(self.db)?;
        self.open = false;
        Ok(())
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if self.open {
            if let Err(e) = self.db.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "could not roll back a failed sync");
            }
        }
    }
}

/// Puts a file in WAL mode. Switching a new file needs it to itself for a moment, and SQLite
/// may answer "busy" at once rather than through the busy timeout when another process (or
/// thread) is opening it too (the app and the CLI starting together): retried, briefly.
pub(crate) fn use_wal(db: &rusqlite::Connection) -> Result<()> {
    const ATTEMPTS: u32 = 100;
    for attempt in 1..=ATTEMPTS {
        match db.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && attempt < ATTEMPTS =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
    unreachable!("the last attempt returns")
}
