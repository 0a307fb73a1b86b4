//! "Changes since last sync" (SPEC 5.2), with the contact sweep (SPEC 5.4).

use time::OffsetDateTime;

use super::active::{ActiveRun, Committed};
use super::listing::{apply_listing, request_list};
use super::progress::ProgressSink;
use super::sweep::sweep_and_commit;
use super::{full_sync, SyncReport, SyncRequest};
use crate::error::Result;
use crate::lock::SyncLock;
use crate::source::PracticeSource;
use crate::store::{RunKind, Store, WriteTx};

/// Applies the clients XPM reports as modified since `watermark − overlap` (archived and
/// deleted flags included), then runs the contact sweep, all in one transaction; moves the
/// watermark to when the list was requested (by XPM's clock) only when that transaction commits.
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
    let mut active = ActiveRun::begin(store, lock, connection_id, request, Some(since), progress)?;
    let result = run(store, source, since, &mut active).await;
    active.end(store, result)
}

async fn run<S: PracticeSource>(
    store: &mut Store,
    source: &S,
    since: OffsetDateTime,
    active: &mut ActiveRun<'_>,
) -> Result<Committed> {
    let (listing, watermark) = request_list(source, Some(since), active).await?;
    let mut tx = WriteTx::begin(store.db_mut())?;
    apply_listing(listing, &mut tx, active).await?;
    sweep_and_commit(tx, source, active, Some(watermark)).await
}
