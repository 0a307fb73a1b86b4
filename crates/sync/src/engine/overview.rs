//! A connection's status as the CLI's `status` and the desktop app's connection card show it.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;

use super::Result;
use crate::budget::{self, Estimate};
use crate::lock::SyncLock;
use crate::schedule::{plan, Plan, ScheduleInput};
use crate::store::{Connection, DirectoryCounts, RunKind, RunOutcome, Store, SyncRun};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionOverview {
    pub connection: Connection,
    pub counts: DirectoryCounts,
    /// The latest run, whatever its outcome.
    pub last_run: Option<SyncRun>,
    /// The latest successful run.
    pub last_success: Option<SyncRun>,
    /// What the schedule runs next, and when (computed now, not persisted).
    pub plan: Plan,
    /// Some process is syncing this connection: its pid and start time, as it wrote them.
    pub running_pid: Option<u32>,
    pub running_since: Option<String>,
    /// Day calls Xero said are left, if it said so within the last day.
    pub day_calls_left: Option<u64>,
    /// What "Re-sync ALL client data" would cost now.
    pub full_sync_estimate: Estimate,
}

impl ConnectionOverview {
    pub(crate) fn load(
        store: &Store,
        lock_dir: &Path,
        connection: Connection,
        now: OffsetDateTime,
    ) -> Result<ConnectionOverview> {
        let id = connection.id;
        let counts = store.counts(id)?;
        let holder = SyncLock::holder(lock_dir, id)?;
        let input = ScheduleInput::load(store, id, now)?;
        Ok(ConnectionOverview {
            last_run: store.last_run(id, None, None)?,
            last_success: store.last_run(id, None, Some(RunOutcome::Ok))?,
            plan: plan(&input),
            running_pid: holder.as_ref().and_then(|h| h.pid),
            running_since: holder.and_then(|h| h.started_at),
            day_calls_left: budget::day_remaining(&connection.quota, now),
            full_sync_estimate: budget::estimate(RunKind::Full, &counts, &connection.settings),
            counts,
            connection,
        })
    }
}
