//! Asking XPM for the client list, at XPM's pace: the detailed list of a large practice can take
//! minutes before its first byte. While it is prepared the run says so (a `Preparing` progress
//! event every second with the time waited), the wait is recorded with the run, and the
//! watermark is the time the request was sent by XPM's clock, so edits made while XPM built the
//! list fall inside the next `modifiedsince` window.
//!
//! Then applying it: full and changes syncs stream their list into the directory the same way
//! ([`apply_listing`]) and differ only in what they do before and after.

use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};

use hownow_xpm::{Client, DataWarning, XpmError};
use time::OffsetDateTime;

use super::active::ActiveRun;
use super::pipeline::Pipeline;
use super::progress::Phase;
use crate::clock;
use crate::error::Result;
use crate::source::{ClientListing, PracticeSource};
use crate::store::{Applied, PreparedClient, Preparer, WriteTx, Writer};

/// How often the wait for the list's first client is reported.
const WAIT_REPORT_EVERY: Duration = Duration::from_secs(1);

/// `client.api/list?detailed=true[&modifiedsince=since]`, once its first client (or its end)
/// arrived, and the watermark a run that commits this list may set.
pub(crate) async fn request_list<S: PracticeSource>(
    source: &S,
    since: Option<OffsetDateTime>,
    active: &mut ActiveRun<'_>,
) -> Result<(S::Listing, OffsetDateTime)> {
    let sent_local = clock::now_stored(active.clock.as_ref());
    let started = Instant::now();
    active.reporter.phase(Phase::Preparing, None);
    let list = source.list_clients_counted(since);
    tokio::pin!(list);
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + WAIT_REPORT_EVERY, WAIT_REPORT_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (result, attempts) = loop {
        tokio::select! {
            result = &mut list => break result,
            _ = ticks.tick() => active.reporter.waiting(started.elapsed()),
        }
    };
    let waited = started.elapsed();
    let counts = &mut active.applier.counts;
    counts.list_wait_ms += u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
    if waited >= WAIT_REPORT_EVERY {
        tracing::info!(waited_secs = waited.as_secs(), "XPM prepared the client list");
    }
    counts.list_timeouts += u64::from(attempts.timeouts);
    let listing = match result {
        Ok(listing) => listing,
        Err(e) => {
            // Every try cost a call (the successful list's tries are counted when it is read).
            counts.api_calls += u64::from(attempts.attempts.max(1));
            return Err(e.into());
        }
    };
    let watermark = watermark(listing.meta().date, waited, sent_local);
    active.reporter.phase(Phase::Listing, None);
    Ok((listing, watermark))
}

/// Applies every client of `listing` in the run's transaction, as it streams: counted, its
/// unreadable values noted with the run, one progress step each. Clients are prepared ahead on
/// another thread ([`Pipeline`]) and written here in the list's order. The list's call is
/// metered once it has ended, or when it fails: then the clients received before the failure are
/// applied (so the run's counts say what arrived), the error is returned and the caller's
/// transaction, never committed, rolls back. A cancelled run stops at the next client (the future
/// is dropped, and the pipeline with it).
pub(crate) async fn apply_listing<L: ClientListing>(
    mut listing: L,
    tx: &mut WriteTx<'_>,
    active: &mut ActiveRun<'_>,
) -> Result<()> {
    let mut pipeline = Pipeline::start(Preparer::new(tx.db())?)?;
    let (mut listed_all, mut failure) = (false, None);
    loop {
        // Write what is prepared, hand in more while there is room, and wait only when neither
        // can go on. What is ready is written with one writer, which is dropped before the
        // next wait (it borrows the connection).
        {
            let mut writer = Writer::new(tx.db());
            while let Some((prepared, warnings)) = pipeline.try_next()? {
                apply(&mut writer, active, prepared, warnings)?;
            }
        }
        if !listed_all && pipeline.has_room() {
            match next_or_flush(&mut listing, &mut pipeline).await? {
                Some(Ok(client)) => {
                    pipeline.push(client, listing.take_warnings())?;
                    continue;
                }
                Some(Err(e)) => failure = Some(e),
                None => {}
            }
            listed_all = true;
        }
        // The list has ended (or failed), or the pipeline is full: wait for the next client.
        match pipeline.next().await? {
            Some((prepared, warnings)) => apply(&mut Writer::new(tx.db()), active, prepared, warnings)?,
            None => break,
        }
    }
    let ActiveRun {
        applier,
        meter,
        reporter,
        ..
    } = active;
    if let Some(e) = failure {
        meter.answered(&mut applier.counts, &listing.meta());
        return Err(e.into());
    }
    // The last client's warnings come after it.
    applier.note_warnings(listing.take_warnings());
    reporter.finish_phase();
    meter.answered(&mut applier.counts, &listing.meta());
    Ok(())
}

/// The listing's next client. If it has not arrived yet, the clients received so far go to be
/// prepared while the list keeps the run waiting; they are written when the next client arrives
/// or the list ends. A run's writes show only when it commits, so that wait delays nothing
/// anyone sees.
async fn next_or_flush<L: ClientListing>(
    listing: &mut L,
    pipeline: &mut Pipeline,
) -> Result<Option<Result<Client, XpmError>>> {
    let next = listing.next_client();
    tokio::pin!(next);
    // Polled once here, then awaited to the end: the same future, so nothing is lost.
    if let Poll::Ready(item) = std::future::poll_fn(|cx| Poll::Ready(next.as_mut().poll(cx))).await {
        return Ok(item);
    }
    pipeline.flush()?;
    Ok(next.await)
}

/// Writes one prepared client of a listing: counted, its unreadable values noted, one step.
fn apply(
    writer: &mut Writer<'_>,
    active: &mut ActiveRun<'_>,
    prepared: PreparedClient,
    warnings: Vec<DataWarning>,
) -> Result<()> {
    let applied = active.applier.apply_prepared(writer, prepared)?;
    active.applier.note_warnings(warnings);
    active.reporter.step(applied != Applied::Skipped);
    Ok(())
}

/// When the list request was sent, by XPM's clock: the response's `Date` less the time the
/// request took, or the local send time if that is earlier (or XPM sent no `Date`). Earlier is
/// the safe side: the next changes sync asks for a little more, never for too little.
pub(crate) fn watermark(
    server_date: Option<OffsetDateTime>,
    waited: Duration,
    sent_local: OffsetDateTime,
) -> OffsetDateTime {
    // Whole milliseconds, the directory's precision (a list that came at once keeps the Date).
    let waited = time::Duration::milliseconds(i64::try_from(waited.as_millis()).unwrap_or(i64::MAX));
    let at = match server_date {
        Some(date) => (date - waited).min(sent_local),
        None => sent_local,
    };
    // The directory stores milliseconds: round down, so the stored value is what was reported.
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_watermark_is_when_the_request_was_sent_by_xpms_clock() {
        let local = datetime!(2024-05-01 10:00:00 UTC);
        // XPM's clock runs 30 s behind ours; it took 150 s to answer.
        let date = datetime!(2024-05-01 10:02:00 UTC);
        assert_eq!(
            watermark(Some(date), Duration::from_secs(150), local),
            datetime!(2024-05-01 09:59:30 UTC)
        );
        // XPM's clock ahead of ours: our send time is earlier, and taken.
        let ahead = datetime!(2024-05-01 10:10:00 UTC);
        assert_eq!(watermark(Some(ahead), Duration::from_secs(5), local), local);
        assert_eq!(watermark(None, Duration::from_secs(5), local), local);
    }
}
