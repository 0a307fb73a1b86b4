//! What every run kind shares from its start to its end, so that full, changes and contact-sweep
//! runs differ only in what they fetch and apply: the recorded run ([`RunGuard`]), the connection
//! as it was when the run began, the counts being applied, the API calls metered, and progress.

use std::sync::Arc;

use time::OffsetDateTime;

use super::meter::Meter;
use super::progress::{ProgressSink, Reporter};
use super::{RunGuard, SyncReport, SyncRequest};
use crate::clock::{self, Clock};
use crate::error::Result;
use crate::store::connections::{record_quota, request_full_sync, set_watermark};
use crate::store::runs::{finish_run, record_warnings, RunEnd};
use crate::store::{Applier, Connection, RunOutcome, Store, WriteTx};

pub(crate) struct ActiveRun<'p> {
    pub guard: RunGuard,
    pub request: SyncRequest,
    /// The connection as it was when the run began (settings, previous watermark).
    pub connection: Connection,
    pub applier: Applier,
    pub meter: Meter,
    pub reporter: Reporter<'p>,
    pub clock: Arc<dyn Clock>,
}

/// What a run found out beyond its counts, once its transaction committed.
pub(crate) struct Committed {
    pub watermark: Option<OffsetDateTime>,
    /// The contact sweep asked for a full sync.
    pub full_requested: bool,
}

impl<'p> ActiveRun<'p> {
    /// The run `guard` began (recorded as started, the connection marked syncing), with what
    /// it needs to fetch and apply.
    pub(crate) fn new(
        store: &mut Store,
        guard: RunGuard,
        request: SyncRequest,
        progress: &'p dyn ProgressSink,
    ) -> Result<ActiveRun<'p>> {
        let connection_id = guard.connection_id;
        let connection = match store.connection(connection_id) {
            Ok(connection) => connection,
            Err(e) => return Err(guard.fail(store, &Default::default(), e)),
        };
        let clock = store.clock();
        Ok(ActiveRun {
            reporter: Reporter::new(progress, guard.run_id),
            applier: Applier::new(connection_id, guard.run_id, store.now()),
            meter: Meter::new(clock.clone()),
            clock,
            guard,
            request,
            connection,
        })
    }

    /// Finishes a successful run inside its data transaction, so everything commits (or rolls
    /// back) together: the search text of clients whose contacts changed, the new watermark if
    /// any, the request for a full sync if the contact
    /// sweep made one, the observed quota, the run's row; then commits.
    pub(crate) fn commit(
        &self,
        tx: WriteTx<'_>,
        watermark: Option<OffsetDateTime>,
        full_requested: bool,
    ) -> Result<Committed> {
        let db = tx.db();
        let now = clock::now_stored(self.clock.as_ref());
        if let Some(watermark) = watermark {
            set_watermark(db, self.connection.id, watermark, now)?;
        }
        if full_requested {
            request_full_sync(db, self.connection.id, now)?;
        }
        self.applier.refresh_search(db)?;
        record_quota(db, self.connection.id, &self.meter.quota)?;
        record_warnings(db, self.guard.run_id, &self.applier.warnings)?;
        finish_run(
            db,
            self.guard.run_id,
            &RunEnd {
                outcome: RunOutcome::Ok,
                counts: &self.applier.counts,
                watermark,
                error: None,
                retry_after_at: None,
                ended_at: now,
            },
        )?;
        tx.commit()?;
        Ok(Committed {
            watermark,
            full_requested,
        })
    }

    /// Ends the run: a committed one is reported; a failed one (whose data transaction already
    /// rolled back) is recorded with its outcome, keeping the quota XPM reported meanwhile.
    pub(crate) fn end(self, store: &mut Store, result: Result<Committed>) -> Result<SyncReport> {
        let kind = self.request.kind;
        match result {
            Ok(committed) => {
                self.guard.release_status(store, None);
                tracing::info!(run = self.guard.run_id, %kind, counts = ?self.applier.counts, "sync committed");
                Ok(self.guard.report(
                    kind,
                    self.request,
                    self.applier.counts,
                    committed.watermark,
                    committed.full_requested,
                ))
            }
            Err(e) => {
                let _ = store.record_quota(self.connection.id, &self.meter.quota);
                Err(self.guard.fail(store, &self.applier.counts, e))
            }
        }
    }
}
