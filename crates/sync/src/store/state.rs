//! The connection's bookkeeping that changes while a sync may be running, kept in a second small
//! SQLite file beside the directory (`<name>-state.sqlite3`).
//!
//! A sync holds the directory's write lock for the whole of its transaction, which at XPM's pace
//! lasts minutes. What must be written meanwhile (a token refresh's time, the schedule's next-due
//! times, the administrator's sync settings and name for the practice) goes here instead: SQLite locks per file, and
//! every write to this file is one short autocommit statement, so nothing here ever waits on a
//! sync, in this process or another. A value here overrides the directory's older column of the
//! same name (the directory's columns are what data dirs from before this file hold).

use std::path::{Path, PathBuf};

use rusqlite::{params, OpenFlags, OptionalExtension};
use time::OffsetDateTime;

use super::connections::Connection;
use crate::clock;
use crate::error::Result;
use crate::settings::SyncSettings;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS connection_state (
    connection_id         INTEGER PRIMARY KEY,
    settings              TEXT,
    token_refreshed_at    TEXT,
    next_changes_due_at   TEXT,
    next_full_due_at      TEXT,
    next_token_refresh_at TEXT,
    updated_at            TEXT NOT NULL,
    local_name            TEXT
);";

/// Columns added after the first state files were written: (name, declaration). A new file has
/// them from [`SCHEMA`]; an older one gets them when a writer opens it.
const ADDED_COLUMNS: &[(&str, &str)] = &[
    // The administrator's name for the practice (the card's Rename).
    ("local_name", "TEXT"),
];

/// The state file that goes with the directory at `db_path`.
pub fn state_path(db_path: &Path) -> PathBuf {
    let stem = db_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "hownow".into());
    db_path.with_file_name(format!("{stem}-state.sqlite3"))
}

/// One handle on the state file.
pub(crate) struct StateDb {
    db: rusqlite::Connection,
}

impl StateDb {
    /// Opens (creating if needed) the state file for writing.
    pub(crate) fn open(path: &Path) -> Result<StateDb> {
        crate::private::ensure_private_file(path).map_err(|e| crate::error::SyncError::io(path, e))?;
        let db = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Writes here are single statements of microseconds: a short wait covers any of them.
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        super::use_wal(&db)?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        db.execute_batch(SCHEMA)?;
        add_missing_columns(&db)?;
        Ok(StateDb { db })
    }

    /// Opens the state file read-only; `None` when it does not exist yet.
    pub(crate) fn open_reader(path: &Path) -> Result<Option<StateDb>> {
        if !path.exists() {
            return Ok(None);
        }
        let db = rusqlite::Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        db.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Some(StateDb { db }))
    }

    /// Lays this file's values over a connection read from the directory.
    pub(crate) fn overlay(&self, connection: &mut Connection) -> Result<()> {
        // By name, and tolerant of a missing column: a reader may open a state file that no
        // writer of this version has opened (and widened) yet.
        let row = self
            .db
            .query_row(
                "SELECT * FROM connection_state WHERE connection_id = ?1",
                [connection.id],
                |r| {
                    let text = |name: &str| r.get::<_, Option<String>>(name).ok().flatten();
                    Ok(StateRow {
                        settings: text("settings"),
                        token_refreshed_at: text("token_refreshed_at"),
                        next_changes_due_at: text("next_changes_due_at"),
                        next_full_due_at: text("next_full_due_at"),
                        next_token_refresh_at: text("next_token_refresh_at"),
                        local_name: text("local_name"),
                    })
                },
            )
            .optional();
        let row = match row {
            Ok(row) => row,
            // A state file written by no one yet (a reader opened before the writer made it).
            Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("no such table") => None,
            Err(e) => return Err(e.into()),
        };
        let Some(row) = row else {
            return Ok(());
        };
        if let Some(settings) = row.settings {
            // Unknown or broken settings fall back to defaults rather than lock the admin out.
            connection.settings = serde_json::from_str(&settings).unwrap_or_default();
        }
        let ts = |s: Option<String>| s.as_deref().and_then(clock::from_db);
        connection.token_refreshed_at = connection.token_refreshed_at.max(ts(row.token_refreshed_at));
        if let Some(t) = ts(row.next_changes_due_at) {
            connection.next_changes_due_at = Some(t);
        }
        if let Some(t) = ts(row.next_full_due_at) {
            connection.next_full_due_at = Some(t);
        }
        if let Some(t) = ts(row.next_token_refresh_at) {
            connection.next_token_refresh_at = Some(t);
        }
        if let Some(name) = row.local_name {
            connection.renamed_from = Some(std::mem::replace(&mut connection.tenant_name, name));
        }
        Ok(())
    }

    /// Sets (or with `None` clears) the administrator's name for a practice.
    pub(crate) fn set_local_name(&self, id: i64, name: Option<&str>, now: OffsetDateTime) -> Result<()> {
        self.upsert(id, "local_name", name.map(str::to_string), now)
    }

    fn upsert(&self, id: i64, column: &str, value: Option<String>, now: OffsetDateTime) -> Result<()> {
        self.db.execute(
            &format!(
                "INSERT INTO connection_state (connection_id, {column}, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (connection_id) DO UPDATE SET {column} = excluded.{column}, \
                 updated_at = excluded.updated_at"
            ),
            params![id, value, clock::to_db(now)],
        )?;
        Ok(())
    }

    pub(crate) fn set_settings(&self, id: i64, settings: &SyncSettings, now: OffsetDateTime) -> Result<()> {
        let json = serde_json::to_string(settings).expect("settings serialise");
        self.upsert(id, "settings", Some(json), now)
    }

    pub(crate) fn record_token_refresh(&self, id: i64, at: OffsetDateTime) -> Result<()> {
        self.upsert(id, "token_refreshed_at", Some(clock::to_db(at)), at)
    }

    pub(crate) fn save_next_due(
        &self,
        id: i64,
        changes: Option<OffsetDateTime>,
        full: Option<OffsetDateTime>,
        token_refresh: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let ts = |t: Option<OffsetDateTime>| t.map(clock::to_db);
        self.db.execute(
            "INSERT INTO connection_state (connection_id, next_changes_due_at, next_full_due_at, \
             next_token_refresh_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (connection_id) DO UPDATE SET next_changes_due_at = excluded.next_changes_due_at, \
             next_full_due_at = excluded.next_full_due_at, \
             next_token_refresh_at = excluded.next_token_refresh_at, updated_at = excluded.updated_at",
            params![id, ts(changes), ts(full), ts(token_refresh), clock::to_db(now)],
        )?;
        Ok(())
    }

    /// Forgets a connection's state (it was deleted, or its id is being reused).
    pub(crate) fn forget(&self, id: i64) -> Result<()> {
        self.db
            .execute("DELETE FROM connection_state WHERE connection_id = ?1", [id])?;
        Ok(())
    }
}

/// One row of `connection_state`, every column optional.
struct StateRow {
    settings: Option<String>,
    token_refreshed_at: Option<String>,
    next_changes_due_at: Option<String>,
    next_full_due_at: Option<String>,
    next_token_refresh_at: Option<String>,
    local_name: Option<String>,
}

fn add_missing_columns(db: &rusqlite::Connection) -> Result<()> {
    let mut have = Vec::new();
    let mut info = db.prepare("PRAGMA table_info(connection_state)")?;
    let mut rows = info.query([])?;
    while let Some(row) = rows.next()? {
        have.push(row.get::<_, String>(1)?);
    }
    for (name, declaration) in ADDED_COLUMNS {
        if have.iter().any(|h| h == name) {
            continue;
        }
        match db.execute_batch(&format!(
            "ALTER TABLE connection_state ADD COLUMN {name} {declaration}"
        )) {
            // Another process opening the same old file added it first.
            Err(rusqlite::Error::SqliteFailure(_, Some(m))) if m.contains("duplicate column name") => {}
            other => other?,
        }
    }
    Ok(())
}

/// Records a token refresh's time without opening the directory: the token manager calls this
/// in the middle of a sync, whose transaction holds the directory's write lock.
pub fn record_token_refresh(db_path: &Path, connection_id: i64, at: OffsetDateTime) -> Result<()> {
    StateDb::open(&state_path(db_path))?.record_token_refresh(connection_id, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state file from before `local_name`: writers opening it at once (the app and the CLI)
    /// each find the column there afterwards, and none fails on another's `ALTER TABLE`.
    #[test]
    fn an_older_state_file_gains_its_new_columns_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hownow-state.sqlite3");
        {
            let old = rusqlite::Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE connection_state (connection_id INTEGER PRIMARY KEY, settings TEXT, \
                 token_refreshed_at TEXT, next_changes_due_at TEXT, next_full_due_at TEXT, \
                 next_token_refresh_at TEXT, updated_at TEXT NOT NULL); \
                 INSERT INTO connection_state (connection_id, updated_at) VALUES (7, 'then');",
            )
            .unwrap();
        }
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || StateDb::open(&path).map(|_| ()))
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
        let state = StateDb::open(&path).unwrap();
        state
            .set_local_name(7, Some("Harbour"), OffsetDateTime::UNIX_EPOCH)
            .unwrap();
        let name: Option<String> = state
            .db
            .query_row(
                "SELECT local_name FROM connection_state WHERE connection_id = 7",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(name.as_deref(), Some("Harbour"));
    }
}
