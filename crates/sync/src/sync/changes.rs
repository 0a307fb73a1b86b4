//! "Changes since last sync" (SPEC 5.2), with the contact sweep (SPEC 5.4).

use time::OffsetDateTime;

use super::active::{ActiveRun, Committed};
use super::listing::{apply_listing, request_list};
use super::sweep::sweep_and_commit;
use crate::error::Result;
use crate::source::PracticeSource;
use crate::store::{Store, WriteTx};

/// Applies the clients XPM reports as modified since `since` (the watermark less the overlap;
/// archived and deleted flags included), then runs the contact sweep, all in one transaction;
/// moves the watermark to when the list was requested (by XPM's clock) only when that
/// transaction commits.
pub(super) async fn run<S: PracticeSource>(
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
