//! "Changes since last sync" (SPEC 5.2), with the contact sweep (SPEC 5.4).

use time::OffsetDateTime;

use super::meter::Meter;
use super::progress::{Phase, ProgressSink, Reporter};
use super::sweep::sweep_and_refetch;
use super::{full_sync, RunGuard, SyncReport, SyncRequest};
use crate::clock;
use crate::error::Result;
use crate::lock::SyncLock;
use crate::source::{ClientListing, PracticeSource};
use crate::store::connections::{record_quota, set_watermark};
use crate::store::runs::{finish_run, RunEnd};
use crate::store::{Applied, Applier, Connection, RunKind, RunOutcome, Store, WriteTx};

/// Applies the clients XPM reports as modified since `watermark − overlap` (archived and
/// deleted flags included), then runs the contact sweep, all in one transaction; moves the
/// watermark to the list's server `Date` only when that transaction commits.
///
/// A connection that never completed a sync has no watermark: a full sync runs instead.
pub async fn changes_sync<S: PracticeSource>(
    store: &mut Store,
    source: &S,
    lock: &SyncLock,
    connection_id: i64,
    request: SyncRequest,
    progress: &dyn ProgressSink,
) -> Result<SyncReport> {
    let connection = store.connection(connection_id)?;
    let Some(previous) = connection.watermark else {
        return full_sync(store, source, lock, connection_id, request, progress).await;
    };
    let request = SyncRequest {
        kind: RunKind::Changes,
        ..request
    };
    let since = previous - connection.settings.overlap();
    let guard = RunGuard::begin(store, lock, connection_id, request, Some(since))?;
    let mut reporter = Reporter::new(progress, guard.run_id);
    let mut applier = Applier::new(connection_id, guard.run_id);
    let mut meter = Meter::default();
    let result = run(
        store,
        source,
        &connection,
        since,
        &guard,
        &mut applier,
        &mut meter,
        &mut reporter,
    )
    .await;
    match result {
        Ok((watermark, full_requested)) => {
            guard.release_status(store, None);
            tracing::info!(run = guard.run_id, counts = ?applier.counts, "changes sync committed");
            Ok(guard.report(
                RunKind::Changes,
                request,
                applier.counts,
                Some(watermark),
                full_requested,
            ))
        }
        Err(e) => {
            let _ = store.record_quota(connection_id, &meter.quota);
            Err(guard.fail(store, &applier.counts, e))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run<S: PracticeSource>(
    store: &mut Store,
    source: &S,
    connection: &Connection,
    since: OffsetDateTime,
    guard: &RunGuard,
    applier: &mut Applier,
    meter: &mut Meter,
    reporter: &mut Reporter<'_>,
) -> Result<(OffsetDateTime, bool)> {
    let started_local = clock::now();
    reporter.phase(Phase::Listing, None);
    let mut listing = match source.list_clients(Some(since)).await {
        Ok(listing) => listing,
        Err(e) => {
            meter.failed(&mut applier.counts);
            return Err(e.into());
        }
    };
    let watermark = listing.meta().date.unwrap_or(started_local);
    let mut tx = WriteTx::begin(store.db_mut())?;
    while let Some(item) = listing.next_client().await {
        let client = match item {
            Ok(client) => client,
            Err(e) => {
                meter.answered(&mut applier.counts, &listing.meta());
                return Err(e.into());
            }
        };
        let applied = applier.apply_client(tx.db(), client)?;
        reporter.step(applied != Applied::Skipped);
    }
    reporter.finish_phase();
    meter.answered(&mut applier.counts, &listing.meta());
    drop(listing);

    let sweep = sweep_and_refetch(&mut tx, source, &connection.settings, applier, meter, reporter).await?;

    reporter.phase(Phase::Committing, None);
    let db = tx.db();
    set_watermark(db, connection.id, watermark)?;
    record_quota(db, connection.id, &meter.quota)?;
    if sweep.full_requested {
        db.execute(
            "UPDATE connections SET full_requested_at = COALESCE(full_requested_at, ?2) WHERE id = ?1",
            rusqlite::params![connection.id, clock::to_db(clock::now())],
        )?;
    }
    finish_run(
        db,
        guard.run_id,
        &RunEnd {
            outcome: RunOutcome::Ok,
            counts: &applier.counts,
            watermark: Some(watermark),
            error: None,
            retry_after_at: None,
        },
    )?;
    tx.commit()?;
    Ok((watermark, sweep.full_requested))
}
