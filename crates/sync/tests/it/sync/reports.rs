//! What a run reports: the code report, the records in the HowNow map, progress by phase; and
//! that a sync's future is Send.

use crate::common::{practice, Fixture};
use hownow_sync::{ClientQuery, MemorySource, RunKind, RunTrigger, SyncError, SyncRequest};
use time::Duration;

#[tokio::test]
async fn code_report_lists_code_and_name_changes_and_missing_codes() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(12));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    source.edit_client("client-00001", |c| c.client_code = Some("NEW001".into()));
    source.edit_client("client-00002", |c| c.name = Some("Bloggs Family Trust".into()));
    source.edit_client("client-00003", |c| c.client_code = None);
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    let codes = fx.store.code_report(report.run_id).unwrap();
    assert_eq!(codes.code_changed.len(), 2);
    let c1 = codes
        .code_changed
        .iter()
        .find(|c| c.uuid == "client-00001")
        .unwrap();
    assert_eq!(
        (c1.old.as_deref(), c1.new.as_deref()),
        (Some("C00001"), Some("NEW001"))
    );
    assert_eq!(codes.name_changed.len(), 1);
    assert_eq!(codes.name_changed[0].new.as_deref(), Some("Bloggs Family Trust"));
    assert_eq!(
        codes
            .missing_code
            .iter()
            .map(|m| m.uuid.as_str())
            .collect::<Vec<_>>(),
        ["client-00003"]
    );
    assert_eq!(
        codes.missing_code_total, 2,
        "client 3 and client 9 (no code in the practice)"
    );
}

#[tokio::test]
async fn records_follow_the_hownow_map() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(8));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let mut records = Vec::new();
    fx.store
        .for_each_record(fx.connection.id, &ClientQuery::default(), |r| {
            records.push(r);
            Ok::<_, SyncError>(())
        })
        .unwrap();
    assert_eq!(records.len(), 8);
    let r3 = records.iter().find(|r| r.uuid == "client-00003").unwrap();
    // Client 3: postal address (PO Box, 2150); primary contact "Given30 Family 30".
    assert_eq!(r3.address.post_code.as_deref(), Some("2150"));
    assert_eq!(
        (r3.given_name.as_str(), r3.family_name.as_str()),
        ("Given30", "Family 30")
    );
    let r0 = records.iter().find(|r| r.uuid == "client-00000").unwrap();
    // Client 0: no contacts: the client's own email.
    assert_eq!(r0.email.as_deref(), Some("client0@example.com"));
}

#[test]
fn sync_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let mut fx = Fixture::new();
    let source = MemorySource::new();
    let lock_dir = fx.lock_dir();
    let fut = hownow_sync::run_sync(
        &mut fx.store,
        &source,
        &lock_dir,
        1,
        SyncRequest::new(RunKind::Full, RunTrigger::Manual),
        &hownow_sync::NoProgress,
    );
    assert_send(&fut);
}

#[tokio::test]
async fn progress_events_follow_the_phases() {
    use hownow_sync::{Phase, Progress};
    use std::sync::Mutex;
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(450));
    let events: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let sink = |p: &Progress| events.lock().unwrap().push(*p);
    let lock_dir = fx.lock_dir();
    let request = SyncRequest::new(RunKind::Full, RunTrigger::Initial);
    hownow_sync::run_sync(
        &mut fx.store,
        &source,
        &lock_dir,
        fx.connection.id,
        request,
        &sink,
    )
    .await
    .unwrap();
    let events = events.into_inner().unwrap();
    let listing: Vec<u64> = events
        .iter()
        .filter(|e| e.phase == Phase::Listing)
        .map(|e| e.done)
        .collect();
    assert_eq!(listing, [0, 200, 400, 450]);
    let phases: Vec<Phase> = events
        .iter()
        .map(|e| e.phase)
        .filter(|p| *p != Phase::Listing)
        .collect();
    assert_eq!(phases, [Phase::Preparing, Phase::Removing, Phase::Committing]);
}
