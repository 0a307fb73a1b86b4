//! The engine against the sandbox's fault switches: Xero's minute and day limits, 5xx bursts,
//! truncated and malformed XML, and bodies so slow the client's idle timeout fires. A run that
//! cannot finish leaves the directory and the watermark exactly as they were and is recorded
//! with its reason; a run that can finish (after waits and retries) ends equal to the sandbox.

use std::time::Duration;

use crate::sandbox_support::{start_with, DirectoryState, Env, Options};
use hownow_sandbox::practice::ClientDetails;
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::Switches;
use hownow_sync::schedule::{plan, ScheduleInput};
use hownow_sync::{RunKind, RunOutcome, SyncError, SyncSettings};
use hownow_xpm::XpmError;

/// A synced directory and a practice that has moved on since (renames, an archive, a delete,
/// an addition), so that any sync that got through would change the directory.
async fn synced_then_edited(options: Options) -> (Env, DirectoryState) {
    let mut env = start_with(options).await;
    env.sync(RunKind::Full).await.unwrap();
    let data = env.data();
    let live: Vec<String> = data
        .clients()
        .iter()
        .filter(|c| !c.details.is_deleted() && !c.details.is_archived())
        .map(|c| c.uuid.clone())
        .collect();
    let handle = env.handle();
    for uuid in live.iter().step_by(3) {
        handle
            .edit_client(uuid, |d| d.values.name = Some(format!("{} v2", d.name())))
            .unwrap();
    }
    handle.archive_client(&live[1], true).unwrap();
    handle.delete_client(&live[2]).unwrap();
    handle
        .add_client(DEMO_PRACTICE.id, ClientDetails::named("Late Arrival Ltd"))
        .unwrap();
    let state = env.state();
    (env, state)
}

/// The run failed, was recorded with `reason`, and changed nothing.
fn assert_failed_untouched(env: &Env, before: &DirectoryState, reason: &str) {
    assert_eq!(
        &env.state(),
        before,
        "the directory and the watermark are as they were"
    );
    let run = &env.store.runs(env.connection_id, 1).unwrap()[0];
    assert_eq!(run.outcome, RunOutcome::Failed);
    let error = run.error.as_deref().unwrap_or_default();
    assert!(
        error.contains(reason),
        "recorded error {error:?} lacks {reason:?}"
    );
    assert_eq!(env.connection().status, hownow_sync::ConnectionStatus::Connected);
}

/// The fault is switched off and the next sync of the same kind catches up completely.
async fn assert_recovers(env: &mut Env, kind: RunKind) {
    env.handle().set_switches(Switches::unlimited()).unwrap();
    env.sync(kind).await.unwrap();
    env.assert_matches_sandbox();
}

#[tokio::test]
async fn a_minute_429_is_waited_out_and_the_sync_completes() {
    let (mut env, _) = synced_then_edited(Options {
        settings: SyncSettings {
            verify_per_run: 6,
            ..SyncSettings::default()
        },
        ..Options::default()
    })
    .await;
    env.handle()
        .update_switches(|s| {
            s.rate_limit_minute = Some(3);
            s.rate_limit_window_secs = 1;
        })
        .unwrap();
    let report = env.sync(RunKind::Changes).await.unwrap();
    env.assert_matches_sandbox();
    let c = &report.counts;
    let pages = c.contacts_fetched.div_ceil(500).max(1);
    let distinct_calls = 1 + pages + c.refetched;
    assert!(distinct_calls > 3, "more calls than one window allows: {c:?}");
    assert!(
        c.api_calls > distinct_calls,
        "some calls met a 429 and were tried again: {c:?}"
    );
    assert_eq!(
        env.store.runs(env.connection_id, 1).unwrap()[0].outcome,
        RunOutcome::Ok
    );
}

#[tokio::test]
async fn a_day_429_stops_the_run_records_it_and_holds_the_schedule_until_the_reset() {
    let (mut env, before) = synced_then_edited(Options::default()).await;
    // A new day limit starts a new count: one call is allowed, so the changes list gets
    // through and the contact sweep meets the day limit.
    env.handle()
        .update_switches(|s| s.rate_limit_day = Some(1))
        .unwrap();
    let started = time::OffsetDateTime::now_utc();
    let err = env.sync(RunKind::Changes).await.unwrap_err();
    let SyncError::DayLimit { retry_at } = err else {
        panic!("expected DayLimit, got {err:?}");
    };
    // The sandbox's day started with the first call: its reset is nearly a day away.
    assert!(retry_at > started + time::Duration::hours(23), "{retry_at}");
    assert!(retry_at < started + time::Duration::hours(25), "{retry_at}");
    assert_failed_untouched(&env, &before, "daily API limit");
    let run = &env.store.runs(env.connection_id, 1).unwrap()[0];
    assert_eq!(run.retry_after_at, Some(retry_at));
    assert_eq!(run.counts.api_calls, 2, "the list and the refused contacts page");

    // The schedule runs nothing before Xero's reset, though a changes sync falls due in 6 h.
    let id = env.connection_id;
    let in_seven_hours = started + time::Duration::hours(7);
    let p = plan(&ScheduleInput::load(&env.store, id, in_seven_hours).unwrap());
    assert!(p.due_now.is_none(), "{p:?}");
    assert!(p.next_changes_at.unwrap() >= retry_at, "{p:?}");
    assert!(p.next_full_at.unwrap() >= retry_at, "{p:?}");
    let after_reset = retry_at + time::Duration::minutes(1);
    let p = plan(&ScheduleInput::load(&env.store, id, after_reset).unwrap());
    assert!(p.due_now.is_some(), "due again after the reset: {p:?}");

    // What Xero said is left is remembered, so a manual run is refused before any call.
    assert_eq!(env.connection().quota.day_remaining, Some(0));
    let err = env.sync(RunKind::Changes).await.unwrap_err();
    assert!(matches!(err, SyncError::OverBudget { .. }), "{err:?}");
    env.handle().reset_rate_limits();
}

#[tokio::test]
async fn a_burst_of_5xx_is_retried_and_the_sync_completes() {
    let (mut env, _) = synced_then_edited(Options::default()).await;
    // Three failures in a row: the list succeeds on its fourth and last try.
    env.handle().update_switches(|s| s.fail_next = 3).unwrap();
    let report = env.sync(RunKind::Full).await.unwrap();
    assert_eq!(report.counts.api_calls, 2 + 3, "two calls, three retries");
    env.assert_matches_sandbox();

    // Every fourth call fails, all through a changes sync with its sweep and re-fetches.
    let data = env.data();
    let uuid = data.clients()[0].uuid.clone();
    env.handle()
        .edit_client(&uuid, |d| {
            d.values.email = Some("after.the.storm@example.com".into())
        })
        .unwrap();
    env.handle()
        .update_switches(|s| {
            s.fail_every = 4;
            s.fail_status = 502;
        })
        .unwrap();
    let report = env.sync(RunKind::Changes).await.unwrap();
    assert!(report.counts.api_calls > 1 + report.counts.refetched + 1);
    env.assert_matches_sandbox();
}

#[tokio::test]
async fn a_5xx_outage_fails_the_run_and_keeps_the_directory() {
    let (mut env, before) = synced_then_edited(Options {
        max_attempts: 3,
        ..Options::default()
    })
    .await;
    env.handle().update_switches(|s| s.fail_next = 100).unwrap();
    let err = env.sync(RunKind::Full).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Xpm(XpmError::Http { status: 503, .. })),
        "{err:?}"
    );
    assert_failed_untouched(&env, &before, "503");
    assert_recovers(&mut env, RunKind::Full).await;
}

#[tokio::test]
async fn a_truncated_list_fails_the_run_and_keeps_the_directory() {
    let (mut env, before) = synced_then_edited(Options::default()).await;
    // Cut the full list about half way: after the first client, so no retry can hide it. The
    // sandbox cuts what goes on the wire (gzip-compressed, as XPM sends it when asked).
    let total = env.store.runs(env.connection_id, 1).unwrap()[0]
        .counts
        .bytes_on_wire;
    env.handle()
        .update_switches(|s| s.truncate_after_bytes = Some(total / 2))
        .unwrap();
    let err = env.sync(RunKind::Full).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Xpm(XpmError::Decode(_) | XpmError::Transport(_))),
        "{err:?}"
    );
    assert_failed_untouched(&env, &before, "");
    let run = &env.store.runs(env.connection_id, 1).unwrap()[0];
    assert!(
        run.counts.bytes_on_wire > 0 && run.counts.bytes_on_wire <= total / 2 + 1,
        "{:?}",
        run.counts
    );

    // The (shorter) changes list cut short: the same.
    env.handle()
        .update_switches(|s| s.truncate_after_bytes = Some(600))
        .unwrap();
    let err = env.sync(RunKind::Changes).await.unwrap_err();
    assert!(matches!(err, SyncError::Xpm(_)), "{err:?}");
    assert_failed_untouched(&env, &before, "");
    assert_recovers(&mut env, RunKind::Changes).await;
}

#[tokio::test]
async fn malformed_xml_fails_the_run_and_keeps_the_directory() {
    let (mut env, before) = synced_then_edited(Options::default()).await;
    env.handle().update_switches(|s| s.malformed_xml = true).unwrap();
    let err = env.sync(RunKind::Full).await.unwrap_err();
    assert!(matches!(err, SyncError::Xpm(XpmError::Decode(_))), "{err:?}");
    assert_failed_untouched(&env, &before, "");
    let err = env.sync(RunKind::Changes).await.unwrap_err();
    assert!(matches!(err, SyncError::Xpm(_)), "{err:?}");
    assert_failed_untouched(&env, &before, "");
    assert_recovers(&mut env, RunKind::Full).await;
}

#[tokio::test]
async fn a_stalled_body_times_out_and_the_run_fails_cleanly() {
    let (mut env, before) = synced_then_edited(Options {
        idle_timeout: Duration::from_millis(300),
        max_attempts: 2,
        ..Options::default()
    })
    .await;
    // Two bytes a second: a byte every half second, longer than the client's idle timeout.
    env.handle()
        .update_switches(|s| s.throttle_bytes_per_sec = Some(2))
        .unwrap();
    let err = env.sync(RunKind::Full).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Xpm(XpmError::Timeout(_) | XpmError::Transport(_))),
        "{err:?}"
    );
    assert_failed_untouched(&env, &before, "");
    assert_recovers(&mut env, RunKind::Full).await;
}

#[tokio::test]
async fn a_low_day_budget_skips_the_verify_slice_without_asking_for_a_full_sync() {
    let (mut env, _) = synced_then_edited(Options::default()).await;
    // Fewer calls left today than the reserve kept for scheduled runs.
    let reserve = SyncSettings::default().budget_reserve;
    env.handle()
        .update_switches(|s| s.rate_limit_day = Some(reserve / 2))
        .unwrap();
    let report = env
        .sync_with(
            hownow_sync::SyncRequest::new(RunKind::Changes, hownow_sync::RunTrigger::Schedule),
            &hownow_sync::NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(
        report.counts.refetched, 0,
        "no single-client calls: {:?}",
        report.counts
    );
    assert_eq!(report.counts.api_calls, 2, "the list and one contacts page");
    assert!(
        !report.full_sync_requested,
        "nothing needed re-fetching, so nothing calls for a (costly) full sync"
    );
    assert!(env.connection().full_requested_at.is_none());
    env.assert_matches_sandbox();
}
