//! "Re-sync ALL client data" (SPEC 5.1).

use std::collections::HashSet;

use time::OffsetDateTime;

use super::active::{ActiveRun, Committed};
use super::listing::{apply_listing, request_list};
use super::meter::Meter;
use super::progress::Phase;
use crate::error::{Result, SyncError};
use crate::source::{ClientListing, PracticeSource};
use crate::store::connections::clear_full_request;
use crate::store::{Applier, Store, WriteTx};

/// Streams the whole client list into the directory in one transaction: upserts by content hash
/// (an unchanged client is not written), then, only after the complete list was applied,
/// tombstones the clients XPM no longer lists, unless that would remove more than the mass-removal
/// guard allows (then nothing is kept and [`SyncError::MassRemoval`] asks for confirmation;
/// `request.force` confirms). Sets the watermark to when the list was requested, by XPM's clock.
pub(super) async fn run<S: PracticeSource>(
    store: &mut Store,
    source: &S,
    active: &mut ActiveRun<'_>,
) -> Result<Committed> {
    let (listing, watermark) = request_list(source, None, active).await?;
    let mut tx = WriteTx::begin(store.db_mut())?;
    // A full sync looks at every client: read their stored states in one go.
    active.applier.preload(tx.db())?;
    let live_before = active.applier.live_client_count(tx.db())?;
    apply_listing(listing, &mut tx, active).await?;

    let ActiveRun {
        connection,
        request,
        applier,
        meter,
        reporter,
        ..
    } = active;
    let settings = &connection.settings;
    let absent = applier.absent_clients(tx.db())?;
    // Clients the list flags as deleted leave the directory as surely as absent ones: a wrong
    // tenant or an XPM mishap can look like either, so the guard counts both.
    let flagged_deleted = applier.counts.removed;
    let would_remove = flagged_deleted + absent.len() as u64;
    let share_limit = (live_before as f64 * settings.mass_removal_share).floor() as u64;
    if !request.force
        && would_remove >= u64::from(settings.mass_removal_min.max(1))
        && would_remove > share_limit
    {
        return Err(SyncError::MassRemoval {
            would_remove,
            live: live_before,
            threshold: settings.mass_removal_share,
        });
    }
    reporter.phase(Phase::Removing, Some(absent.len() as u64));
    applier.tombstone(tx.db(), &absent)?;

    if let Some(previous) = connection.watermark {
        reporter.phase(Phase::CheckingMissed, None);
        applier.counts.missed_by_incremental =
            missed_by_incremental(source, previous - settings.overlap(), applier, meter).await;
    }

    reporter.phase(Phase::Committing, None);
    clear_full_request(tx.db(), connection.id)?;
    active.commit(tx, Some(watermark), false)
}

/// Of the clients this full sync found changed, those XPM's `modifiedsince` does not report as
/// modified since the last sync: no incremental sync (ours, HowNow's) could have brought them.
/// Costs one small list call; `None` if it fails (a statistic must not fail the sync).
async fn missed_by_incremental<S: PracticeSource>(
    source: &S,
    since: OffsetDateTime,
    applier: &mut Applier,
    meter: &mut Meter,
) -> Option<u64> {
    if applier.changed_clients.is_empty() {
        return Some(0);
    }
    let mut flagged = HashSet::new();
    let mut listing = match source.list_clients(Some(since)).await {
        Ok(listing) => listing,
        Err(e) => {
            meter.failed(&mut applier.counts);
            tracing::warn!(error = %e, "could not measure missed-by-incremental");
            return None;
        }
    };
    while let Some(item) = listing.next_client().await {
        match item {
            Ok(client) => {
                if let Some(uuid) = client.uuid {
                    flagged.insert(uuid);
                }
            }
            Err(e) => {
                meter.answered(&mut applier.counts, &listing.meta());
                tracing::warn!(error = %e, "could not measure missed-by-incremental");
                return None;
            }
        }
    }
    meter.answered(&mut applier.counts, &listing.meta());
    Some(
        applier
            .changed_clients
            .iter()
            .filter(|u| !flagged.contains(*u))
            .count() as u64,
    )
}
