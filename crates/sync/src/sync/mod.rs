//! Sync runs (SPEC 5). Each run is recorded in `sync_runs`, applies everything it changes in ONE
//! transaction (so an error, a cancelled future or a killed process leaves the directory exactly
//! as it was) and moves the watermark in that same transaction.
//!
//! [`run_sync`] is the one way in: it takes the connection's cross-process lock, checks the day
//! budget, begins the run and records how it ended. What runs in between is one of
//!
//! * `full`: the whole list; tombstones after a complete fetch; mass-removal guard;
//!   `missed_by_incremental`;
//! * `changes`: `modifiedsince = watermark − overlap`, then the contact sweep (a connection
//!   without a watermark runs a full sync);
//! * `sweep`: only the contact sweep (kind `contacts`).
//!
//! A listing is applied by `listing::apply_listing`, its clients prepared ahead on a thread of
//! their own (`pipeline`) while the run's thread writes them in order.

mod active;
mod changes;
mod full;
mod listing;
mod meter;
mod pipeline;
mod progress;
mod sweep;

use std::path::Path;
use std::sync::Arc;

use hownow_xpm::{RateLimitKind, XpmError};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::budget;
use crate::clock::{self, Clock};
use crate::error::{Result, SyncError};
use crate::lock::SyncLock;
use crate::source::PracticeSource;
use crate::store::connections::release_syncing;
use crate::store::runs::RunEnd;
use crate::store::{ConnectionStatus, RunCounts, RunKind, RunOutcome, RunTrigger, Store};
use active::ActiveRun;

pub use progress::{NoProgress, Phase, Progress, ProgressSink};

/// How long to wait after a `day` 429 that carried no `Retry-After`.
const DAY_LIMIT_DEFAULT_WAIT: Duration = Duration::hours(1);

/// What to run and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRequest {
    pub kind: RunKind,
    pub trigger: RunTrigger,
    /// Full syncs: go past the mass-removal guard (the admin confirmed).
    pub force: bool,
}

impl SyncRequest {
    pub fn new(kind: RunKind, trigger: RunTrigger) -> Self {
        SyncRequest {
            kind,
            trigger,
            force: false,
        }
    }
}

/// The result of a committed run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncReport {
    pub run_id: i64,
    pub connection_id: i64,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    pub counts: RunCounts,
    /// The watermark the run set (full and changes runs).
    pub watermark: Option<OffsetDateTime>,
    /// The sweep found contacts it could not place, or more changed clients than it may
    /// re-fetch: a full sync was requested (the schedule runs it next).
    pub full_sync_requested: bool,
    pub started_at: OffsetDateTime,
    pub ended_at: OffsetDateTime,
}

/// Takes the connection's lock under `lock_dir` (failing at once with
/// [`SyncError::AlreadyRunning`] if another task or process holds it), checks the day budget
/// (a run it cannot pay for is recorded as failed with [`SyncError::OverBudget`]) and runs
/// `request`.
pub async fn run_sync<S: PracticeSource>(
    store: &mut Store,
    source: &S,
    lock_dir: &Path,
    connection_id: i64,
    request: SyncRequest,
    progress: &dyn ProgressSink,
) -> Result<SyncReport> {
    let lock = SyncLock::try_acquire(lock_dir, connection_id)?;
    let connection = store.connection(connection_id)?;
    let needed = budget::estimate(request.kind, &store.counts(connection_id)?, &connection.settings);
    if let Err(e) = budget::check(
        &connection.quota,
        store.now(),
        &needed,
        request.trigger,
        &connection.settings,
    ) {
        let guard = RunGuard::begin(store, &lock, connection_id, request, None)?;
        return Err(guard.fail(store, &RunCounts::default(), e));
    }
    // A changes sync lists what changed since the last completed sync, less the overlap; a
    // connection that never completed one has nothing to start from, so runs a full sync.
    let since = match (request.kind, connection.watermark) {
        (RunKind::Changes, Some(previous)) => Some(previous - connection.settings.overlap()),
        _ => None,
    };
    let kind = match (request.kind, since) {
        (RunKind::Changes, None) => RunKind::Full,
        (kind, _) => kind,
    };
    let request = SyncRequest { kind, ..request };
    let guard = RunGuard::begin(store, &lock, connection_id, request, since)?;
    let mut active = ActiveRun::new(store, guard, request, progress)?;
    let result = match (kind, since) {
        (RunKind::Changes, Some(since)) => changes::run(store, source, since, &mut active).await,
        (RunKind::Contacts, _) => sweep::run(store, source, &mut active).await,
        _ => full::run(store, source, &mut active).await,
    };
    active.end(store, result)
}

/// What a 403 from XPM means for the firm, and what to check: Xero lets a token through but not to
/// this practice when the app's connection was removed in Xero, or the user who authorised it lost
/// the privilege.
pub fn access_withdrawn(detail: &str) -> String {
    format!(
        "Xero refused access to this practice ({detail}): the connection may have been removed in Xero, \
         or the user who authorised it may no longer have the \"Authorise 3rd Party Full Access\" \
         privilege (Business → Settings → Staff); check that, then reauthorise"
    )
}

/// The bookkeeping every run shares: the history row, the connection status, and turning
/// failures into a recorded, typed outcome.
pub(crate) struct RunGuard {
    pub connection_id: i64,
    pub run_id: i64,
    pub started_at: OffsetDateTime,
    clock: Arc<dyn Clock>,
}

impl RunGuard {
    pub(crate) fn begin(
        store: &mut Store,
        lock: &SyncLock,
        connection_id: i64,
        request: SyncRequest,
        modified_since: Option<OffsetDateTime>,
    ) -> Result<RunGuard> {
        assert_eq!(
            lock.connection_id(),
            connection_id,
            "the lock must be this connection's"
        );
        let connection = store.connection(connection_id)?;
        match connection.status {
            ConnectionStatus::Disconnected => return Err(SyncError::Disconnected(connection_id)),
            ConnectionStatus::NeedsReauth => {
                return Err(SyncError::NeedsReauth {
                    id: connection_id,
                    reason: connection
                        .status_reason
                        .unwrap_or_else(|| "the refresh token is no longer valid".into()),
                })
            }
            ConnectionStatus::Connected | ConnectionStatus::Syncing => {}
        }
        let run_id = store.begin_run(connection_id, request.kind, request.trigger, modified_since)?;
        store.set_status(connection_id, ConnectionStatus::Syncing, None)?;
        Ok(RunGuard {
            connection_id,
            run_id,
            started_at: store.now(),
            clock: store.clock(),
        })
    }

    /// Records a failed run (its data transaction was already rolled back) and maps the error.
    pub(crate) fn fail(&self, store: &mut Store, counts: &RunCounts, error: SyncError) -> SyncError {
        let (outcome, error, retry_after_at) = match error {
            SyncError::Xpm(XpmError::RateLimited {
                kind: RateLimitKind::Day,
                retry_after,
            }) => {
                let wait = retry_after
                    .and_then(|d| Duration::try_from(d).ok())
                    .unwrap_or(DAY_LIMIT_DEFAULT_WAIT);
                let retry_at = store.now() + wait;
                (
                    RunOutcome::Failed,
                    SyncError::DayLimit { retry_at },
                    Some(retry_at),
                )
            }
            e @ SyncError::MassRemoval { .. } => (RunOutcome::NeedsConfirmation, e, None),
            e => (RunOutcome::Failed, e, None),
        };
        let message = error.to_string();
        let end = RunEnd {
            outcome,
            counts,
            watermark: None,
            error: Some(&message),
            retry_after_at,
            ended_at: store.now(),
        };
        if let Err(e) = store.finish_run(self.run_id, &end) {
            tracing::error!(error = %e, run = self.run_id, "could not record the failed run");
        }
        let status = match &error {
            SyncError::Xpm(XpmError::NeedsReauth { reason }) => {
                Some((ConnectionStatus::NeedsReauth, reason.clone()))
            }
            // The schedule must not keep knocking: someone has to look at Xero first.
            SyncError::Xpm(XpmError::Forbidden { detail }) => {
                Some((ConnectionStatus::NeedsReauth, access_withdrawn(detail)))
            }
            _ => None,
        };
        self.release_status(store, status);
        tracing::warn!(run = self.run_id, error = %message, "sync failed");
        error
    }

    /// Back to `connected` unless something (a dead token) set another status meanwhile.
    pub(crate) fn release_status(&self, store: &mut Store, status: Option<(ConnectionStatus, String)>) {
        let result = match status {
            Some((status, reason)) => store.set_status(self.connection_id, status, Some(&reason)),
            None => release_syncing(store.db(), self.connection_id),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "could not update the connection status");
        }
    }

    pub(crate) fn report(
        &self,
        kind: RunKind,
        request: SyncRequest,
        counts: RunCounts,
        watermark: Option<OffsetDateTime>,
        full_sync_requested: bool,
    ) -> SyncReport {
        SyncReport {
            run_id: self.run_id,
            connection_id: self.connection_id,
            kind,
            trigger: request.trigger,
            counts,
            watermark,
            full_sync_requested,
            started_at: self.started_at,
            ended_at: clock::now_stored(self.clock.as_ref()),
        }
    }
}
