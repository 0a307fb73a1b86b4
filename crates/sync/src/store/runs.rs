//! Sync history: `sync_runs` (one row per run, with its counts) and `sync_changes` (what each run
//! changed, field by field).

use hownow_xpm::DataWarning;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use time::OffsetDateTime;

use super::Store;
use crate::clock;
use crate::error::Result;

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }
        impl $name {
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
            pub fn parse(s: &str) -> Option<Self> { match s { $($text => Some($name::$variant),)+ _ => None } }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

text_enum!(
    /// What a run fetched: the whole list, the changes since the watermark (with the contact
    /// sweep), or only the contact sweep.
    RunKind { Full = "full", Changes = "changes", Contacts = "contacts" }
);
text_enum!(
    /// Why a run started.
    RunTrigger { Initial = "initial", Schedule = "schedule", Manual = "manual", DailyFull = "daily_full" }
);
text_enum!(
    RunOutcome {
        Running = "running",
        Ok = "ok",
        Failed = "failed",
        /// The process died during the run (found `running` by the next run of the connection).
        Interrupted = "interrupted",
        /// A full sync stopped at the mass-removal guard.
        NeedsConfirmation = "needs_confirmation",
    }
);
text_enum!(RecordKind { Client = "client", Contact = "contact" });
text_enum!(ChangeKind { Added = "added", Updated = "updated", Removed = "removed", Restored = "restored" });

/// The figures of one run. `fetched = added + updated + unchanged` for client records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    /// API calls, retries included.
    pub api_calls: u64,
    /// Body bytes decoded (after gzip).
    pub bytes: u64,
    /// Body bytes received on the wire (gzip-compressed when XPM compressed them).
    pub bytes_on_wire: u64,
    /// How long XPM took to start sending the client list (all attempts), in milliseconds.
    pub list_wait_ms: u64,
    /// Client-list requests that timed out waiting for XPM (each one also counts as a call).
    pub list_timeouts: u64,
    /// Client records received (list and single-client calls).
    pub fetched: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Clients that became archived in this run.
    pub archived: u64,
    /// Clients that left the directory in this run (deleted in XPM, or absent from a full list).
    pub removed: u64,
    /// Full syncs only: clients whose content had changed although XPM's `modifiedsince` filter
    /// does not report them, i.e. changes an incremental sync could not have brought. `None`
    /// when not measured (first sync, or the check failed).
    pub missed_by_incremental: Option<u64>,
    /// Contacts read by the contact sweep.
    pub contacts_fetched: u64,
    /// Known contacts whose content changed (or that were deleted) although no client list
    /// reported it: what the sweep caught.
    pub contacts_changed: u64,
    /// Contacts the sweep had never seen (their clients are fetched by a full sync).
    pub contacts_unknown: u64,
    /// Clients fetched one by one (`client.api/get`).
    pub refetched: u64,
    /// Rows of `clients` inserted or updated (0 for an unchanged re-sync).
    pub client_rows_written: u64,
    /// Values XPM sent that could not be read (left absent); the first
    /// [`MAX_WARNINGS_PER_RUN`] are kept with the run.
    pub data_warnings: u64,
}

/// Data warnings kept per run: enough to find the pattern in XPM, bounded whatever XPM sends.
pub const MAX_WARNINGS_PER_RUN: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncRun {
    pub id: i64,
    pub connection_id: i64,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub outcome: RunOutcome,
    /// The `modifiedsince` a changes run asked for.
    pub modified_since: Option<OffsetDateTime>,
    /// The watermark the run set when it committed.
    pub watermark: Option<OffsetDateTime>,
    pub counts: RunCounts,
    pub error: Option<String>,
    /// After a `day` 429: when Xero allows calls again.
    pub retry_after_at: Option<OffsetDateTime>,
}

/// One field of one record changed by a run (`field` is `None` for added/removed records).
/// Tokens are never recorded: only client and contact fields reach this table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncChange {
    pub run_id: i64,
    pub record_kind: RecordKind,
    pub uuid: String,
    pub change: ChangeKind,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

const RUN_COLUMNS: &str = "id, connection_id, kind, trigger, started_at, ended_at, outcome, modified_since, \
     watermark, api_calls, bytes, fetched, added, updated, unchanged, archived, removed, \
     missed_by_incremental, contacts_fetched, contacts_changed, contacts_unknown, refetched, \
     client_rows_written, error, retry_after_at, bytes_on_wire, list_wait_ms, list_timeouts, data_warnings";

fn ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    Ok(row
        .get::<_, Option<String>>(idx)?
        .as_deref()
        .and_then(clock::from_db))
}

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<SyncRun> {
    let n = |i: usize| -> rusqlite::Result<u64> { Ok(row.get::<_, i64>(i)?.max(0) as u64) };
    Ok(SyncRun {
        id: row.get(0)?,
        connection_id: row.get(1)?,
        kind: RunKind::parse(&row.get::<_, String>(2)?).unwrap_or(RunKind::Changes),
        trigger: RunTrigger::parse(&row.get::<_, String>(3)?).unwrap_or(RunTrigger::Manual),
        started_at: ts(row, 4)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        ended_at: ts(row, 5)?,
        outcome: RunOutcome::parse(&row.get::<_, String>(6)?).unwrap_or(RunOutcome::Failed),
        modified_since: ts(row, 7)?,
        watermark: ts(row, 8)?,
        counts: RunCounts {
            api_calls: n(9)?,
            bytes: n(10)?,
            fetched: n(11)?,
            added: n(12)?,
            updated: n(13)?,
            unchanged: n(14)?,
            archived: n(15)?,
            removed: n(16)?,
            missed_by_incremental: row.get::<_, Option<i64>>(17)?.map(|v| v.max(0) as u64),
            contacts_fetched: n(18)?,
            contacts_changed: n(19)?,
            contacts_unknown: n(20)?,
            refetched: n(21)?,
            client_rows_written: n(22)?,
            bytes_on_wire: n(25)?,
            list_wait_ms: n(26)?,
            list_timeouts: n(27)?,
            data_warnings: n(28)?,
        },
        error: row.get(23)?,
        retry_after_at: ts(row, 24)?,
    })
}

/// How a run ends, written in the same transaction as its data (or alone when it failed).
pub(crate) struct RunEnd<'a> {
    pub outcome: RunOutcome,
    pub counts: &'a RunCounts,
    pub watermark: Option<OffsetDateTime>,
    pub error: Option<&'a str>,
    pub retry_after_at: Option<OffsetDateTime>,
    pub ended_at: OffsetDateTime,
}

pub(crate) fn finish_run(db: &rusqlite::Connection, run_id: i64, end: &RunEnd<'_>) -> Result<()> {
    let c = end.counts;
    let i = |v: u64| v.min(i64::MAX as u64) as i64;
    db.execute(
        "UPDATE sync_runs SET ended_at = ?2, outcome = ?3, watermark = ?4, api_calls = ?5, bytes = ?6, \
         fetched = ?7, added = ?8, updated = ?9, unchanged = ?10, archived = ?11, removed = ?12, \
         missed_by_incremental = ?13, contacts_fetched = ?14, contacts_changed = ?15, \
         contacts_unknown = ?16, refetched = ?17, client_rows_written = ?18, error = ?19, \
         retry_after_at = ?20, bytes_on_wire = ?21, list_wait_ms = ?22, list_timeouts = ?23, \
         data_warnings = ?24 WHERE id = ?1",
        params![
            run_id,
            clock::to_db(end.ended_at),
            end.outcome.as_str(),
            end.watermark.map(clock::to_db),
            i(c.api_calls),
            i(c.bytes),
            i(c.fetched),
            i(c.added),
            i(c.updated),
            i(c.unchanged),
            i(c.archived),
            i(c.removed),
            c.missed_by_incremental.map(i),
            i(c.contacts_fetched),
            i(c.contacts_changed),
            i(c.contacts_unknown),
            i(c.refetched),
            i(c.client_rows_written),
            end.error,
            end.retry_after_at.map(clock::to_db),
            i(c.bytes_on_wire),
            i(c.list_wait_ms),
            i(c.list_timeouts),
            i(c.data_warnings),
        ],
    )?;
    Ok(())
}

/// Keeps a committed run's data warnings (in its transaction).
pub(crate) fn record_warnings(
    db: &rusqlite::Connection,
    run_id: i64,
    warnings: &[DataWarning],
) -> Result<()> {
    let mut stmt = db.prepare_cached(
        "INSERT INTO sync_warnings (run_id, client_uuid, field, raw_value, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for w in warnings.iter().take(MAX_WARNINGS_PER_RUN) {
        stmt.execute(params![run_id, w.client_uuid, w.field, w.raw_value, w.reason])?;
    }
    Ok(())
}

impl Store {
    /// Records the start of a run (committed at once, so a killed run stays visible). The caller
    /// holds the connection's sync lock, so any other `running` row of this connection belongs
    /// to a process that died: it is marked `interrupted`.
    pub(crate) fn begin_run(
        &mut self,
        connection_id: i64,
        kind: RunKind,
        trigger: RunTrigger,
        modified_since: Option<OffsetDateTime>,
    ) -> Result<i64> {
        let now = clock::to_db(self.now());
        let tx = self
            .db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE sync_runs SET outcome = 'interrupted', ended_at = ?2, \
             error = 'the process running this sync stopped before it finished; nothing of it was kept' \
             WHERE connection_id = ?1 AND outcome = 'running'",
            params![connection_id, now],
        )?;
        tx.execute(
            "INSERT INTO sync_runs (connection_id, kind, trigger, started_at, outcome, pid, modified_since) \
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
            params![
                connection_id,
                kind.as_str(),
                trigger.as_str(),
                now,
                std::process::id(),
                modified_since.map(clock::to_db)
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    /// Marks the connection's unfinished run `interrupted` with `why`, and the connection no
    /// longer syncing: for a run whose future was dropped (its transaction rolled back), by a
    /// caller that holds the connection's sync lock.
    pub(crate) fn interrupt_runs(&mut self, connection_id: i64, why: &str) -> Result<()> {
        let now = clock::to_db(self.now());
        self.db.execute(
            "UPDATE sync_runs SET outcome = 'interrupted', ended_at = ?2, error = ?3 \
             WHERE connection_id = ?1 AND outcome = 'running'",
            params![connection_id, now, why],
        )?;
        super::connections::release_syncing(&self.db, connection_id)
    }

    pub(crate) fn finish_run(&mut self, run_id: i64, end: &RunEnd<'_>) -> Result<()> {
        finish_run(&self.db, run_id, end)
    }

    /// The most recent runs of a connection, newest first.
    pub fn runs(&self, connection_id: i64, limit: u32) -> Result<Vec<SyncRun>> {
        let mut stmt = self.db.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE connection_id = ?1 ORDER BY id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![connection_id, limit], run_from_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    pub fn run(&self, run_id: i64) -> Result<Option<SyncRun>> {
        Ok(self
            .db
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = ?1"),
                [run_id],
                run_from_row,
            )
            .optional()?)
    }

    /// The latest run of `kind` (any kind when `None`) that ended with `outcome`.
    pub fn last_run(
        &self,
        connection_id: i64,
        kind: Option<RunKind>,
        outcome: Option<RunOutcome>,
    ) -> Result<Option<SyncRun>> {
        Ok(self
            .db
            .query_row(
                &format!(
                    "SELECT {RUN_COLUMNS} FROM sync_runs WHERE connection_id = ?1 \
                     AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR outcome = ?3) ORDER BY id DESC LIMIT 1"
                ),
                params![
                    connection_id,
                    kind.map(|k| k.as_str()),
                    outcome.map(|o| o.as_str())
                ],
                run_from_row,
            )
            .optional()?)
    }

    /// Failed runs since the last successful one (for back-off).
    pub fn failures_since_success(&self, connection_id: i64) -> Result<u32> {
        let n: i64 = self.db.query_row(
            "SELECT COUNT(*) FROM sync_runs WHERE connection_id = ?1 AND outcome = 'failed' \
             AND id > COALESCE((SELECT MAX(id) FROM sync_runs WHERE connection_id = ?1 AND outcome = 'ok'), 0)",
            [connection_id],
            |r| r.get(0),
        )?;
        Ok(n as u32)
    }

    /// The values XPM sent in a run that could not be read, in the order received (at most
    /// [`MAX_WARNINGS_PER_RUN`]; the run's `data_warnings` counts them all).
    pub fn warnings(&self, run_id: i64) -> Result<Vec<DataWarning>> {
        let mut stmt = self.db.prepare_cached(
            "SELECT client_uuid, field, raw_value, reason FROM sync_warnings WHERE run_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([run_id], |r| {
            Ok(DataWarning {
                client_uuid: r.get(0)?,
                field: r.get(1)?,
                raw_value: r.get(2)?,
                reason: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Everything a run changed, in the order it happened.
    pub fn changes(&self, run_id: i64) -> Result<Vec<SyncChange>> {
        let mut stmt = self.db.prepare_cached(
            "SELECT run_id, record_kind, uuid, change, field, old_value, new_value FROM sync_changes \
             WHERE run_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([run_id], |r| {
            Ok(SyncChange {
                run_id: r.get(0)?,
                record_kind: RecordKind::parse(&r.get::<_, String>(1)?).unwrap_or(RecordKind::Client),
                uuid: r.get(2)?,
                change: ChangeKind::parse(&r.get::<_, String>(3)?).unwrap_or(ChangeKind::Updated),
                field: r.get(4)?,
                old_value: r.get(5)?,
                new_value: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
