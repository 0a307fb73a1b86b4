//! Guards and failures: failed runs that move nothing, mass removal that stops and asks, the day
//! limit, and the reserve kept from manual runs.

use crate::common::{practice, snapshot, Fixture};
use hownow_sync::{MemorySource, RunKind, RunOutcome, RunTrigger, SyncError, SyncRequest};
use time::Duration;

#[tokio::test]
async fn a_failed_changes_sync_moves_neither_the_watermark_nor_the_directory() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(30));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let watermark = fx.connection().watermark;
    let before = snapshot(&fx.store, fx.connection.id);

    source.advance(Duration::hours(6));
    for i in 0..5 {
        source.edit_client(&format!("client-{i:05}"), |c| {
            c.name = Some(format!("Edited {i}"))
        });
    }
    source.fail_next_list_after(3);
    let err = fx.sync(&source, RunKind::Changes).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Xpm(hownow_xpm::XpmError::Transport(_))),
        "{err:?}"
    );

    assert_eq!(fx.connection().watermark, watermark);
    assert_eq!(snapshot(&fx.store, fx.connection.id), before);
    let run = fx.store.runs(fx.connection.id, 1).unwrap().remove(0);
    assert_eq!(run.outcome, RunOutcome::Failed);
    assert!(run.error.unwrap().contains("could not reach Xero"));
    assert!(
        fx.store.changes(run.id).unwrap().is_empty(),
        "a failed run leaves no change log"
    );
    assert_eq!(fx.connection().status, hownow_sync::ConnectionStatus::Connected);

    // The next run picks the edits up.
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(report.counts.updated, 5);
}

#[tokio::test]
async fn a_failed_first_full_sync_leaves_an_empty_directory() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(50));
    source.fail_next_list_after(49);
    fx.sync(&source, RunKind::Full).await.unwrap_err();
    assert_eq!(fx.store.counts(fx.connection.id).unwrap(), Default::default());
    assert_eq!(fx.connection().watermark, None);
}

#[tokio::test]
async fn mass_removal_stops_and_asks_then_force_confirms() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(30));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let live = fx.store.counts(fx.connection.id).unwrap().clients;
    for i in 0..10 {
        source.remove_client(&format!("client-{i:05}"));
    }
    let before = snapshot(&fx.store, fx.connection.id);
    let err = fx.sync(&source, RunKind::Full).await.unwrap_err();
    match &err {
        SyncError::MassRemoval {
            would_remove,
            live: l,
            ..
        } => assert_eq!((*would_remove, *l), (10, live)),
        other => panic!("expected the mass-removal guard, got {other:?}"),
    }
    assert!(err.to_string().contains("run the full sync again and confirm"));
    assert_eq!(
        snapshot(&fx.store, fx.connection.id),
        before,
        "nothing kept, not even updates"
    );
    let run = fx.store.runs(fx.connection.id, 1).unwrap().remove(0);
    assert_eq!(run.outcome, RunOutcome::NeedsConfirmation);

    let report = fx
        .sync_with(
            &source,
            SyncRequest {
                kind: RunKind::Full,
                trigger: RunTrigger::Manual,
                force: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(report.counts.removed, 10);
    assert_eq!(fx.store.counts(fx.connection.id).unwrap().clients, live - 10);
    let gone = fx
        .store
        .client(fx.connection.id, "client-00001")
        .unwrap()
        .unwrap();
    assert!(gone.removed_at.is_some(), "tombstoned, not deleted");

    // A few removals pass the guard without asking.
    source.remove_client("client-00020");
    let report = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(report.counts.removed, 1);
    // And a client that comes back is restored.
    source.put_client(practice(30).swap_remove(20));
    let report = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(report.counts.added, 1);
    assert!(fx
        .store
        .client(fx.connection.id, "client-00020")
        .unwrap()
        .unwrap()
        .removed_at
        .is_none());
}

#[tokio::test]
async fn a_day_limit_stops_the_run_records_it_and_reschedules_after_the_reset() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(10));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    source.set_day_limit_remaining(0);
    let before = snapshot(&fx.store, fx.connection.id);
    let err = fx
        .sync_with(&source, SyncRequest::new(RunKind::Changes, RunTrigger::Schedule))
        .await
        .unwrap_err();
    let retry_at = match err {
        SyncError::DayLimit { retry_at } => retry_at,
        other => panic!("expected DayLimit, got {other:?}"),
    };
    assert_eq!(snapshot(&fx.store, fx.connection.id), before);
    let run = fx.store.runs(fx.connection.id, 1).unwrap().remove(0);
    assert_eq!(run.outcome, RunOutcome::Failed);
    assert_eq!(run.retry_after_at, Some(retry_at));
    assert!(run.error.unwrap().contains("daily API limit"));

    let now = time::OffsetDateTime::now_utc();
    let plan =
        hownow_sync::plan(&hownow_sync::ScheduleInput::load(&fx.store, fx.connection.id, now).unwrap());
    assert!(plan.due_now.is_none());
    assert!(plan.next_changes_at.unwrap() >= retry_at);
}

#[tokio::test]
async fn manual_runs_may_not_spend_the_reserve() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(10));
    source.set_day_limit_remaining(252);
    fx.sync(&source, RunKind::Full).await.unwrap(); // 251 left, reserve 250
    let err = fx.sync(&source, RunKind::Changes).await.unwrap_err();
    assert!(
        matches!(err, SyncError::OverBudget { reserve: 250, .. }),
        "{err:?}"
    );
    assert_eq!(
        fx.store.runs(fx.connection.id, 1).unwrap()[0].outcome,
        RunOutcome::Failed
    );
    // A scheduled full sync (2 calls) may use the reserve.
    fx.sync_with(&source, SyncRequest::new(RunKind::Full, RunTrigger::DailyFull))
        .await
        .unwrap();
}
