//! The app as a host of the engine's scheduler: it runs what is due and catches up once after
//! downtime, prefers the daily full sync, leaves paused connections alone; and while the HowNow
//! service holds the data dir's scheduler lock it schedules nothing, the window says who does,
//! and a manual Refresh still runs (through the connection's own lock).

use std::time::Duration;

use hownow_sync::scheduler::{SchedulerHost, SchedulerLock};
use hownow_sync::{Clock, RunKind, RunOutcome, RunTrigger};
use serde_json::json;

use crate::harness::Harness;

#[test]
fn the_scheduler_runs_changes_when_due_and_catches_up_once_after_downtime() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    h.ok("app_info", json!({"utcOffsetMinutes": 0}));
    h.save_schedule(6, false, 2);

    // Right after the initial sync nothing is due; the loop re-plans within a minute (timers do
    // not run while the computer sleeps).
    let wait = h.scheduler_pass();
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(h.finished_runs(), 1, "nothing started");

    // The app was closed for 20 hours: three slots were missed, one catch-up run is due.
    h.time_passes(20);
    h.scheduler_pass();
    h.wait_for("the scheduled changes sync", || h.finished_runs() == 2);
    let run = h.last_run();
    assert_eq!(
        (run.kind, run.trigger, run.outcome),
        (RunKind::Changes, RunTrigger::Schedule, RunOutcome::Ok)
    );
    // The token was last refreshed "20 hours ago" too: the next pass refreshes it (the idle
    // refresh that keeps Xero's 60-day refresh token alive) and starts nothing.
    h.scheduler_pass();
    let engine = h.core.backend().engine.clone();
    let refreshed = engine
        .store()
        .unwrap()
        .connection(id)
        .unwrap()
        .token_refreshed_at
        .unwrap();
    assert!(
        h.clock.now() - refreshed < time::Duration::minutes(5),
        "the idle token refresh ran: {refreshed}"
    );
    h.scheduler_pass();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(h.finished_runs(), 2, "caught up once, not once per missed slot");
    let plan = tauri::async_runtime::block_on(h.core.plan(id)).unwrap();
    assert_eq!(plan.due_now, None);
    assert_eq!(
        plan.next_changes_at.map(|at| at - run.started_at),
        Some(time::Duration::hours(6)),
        "the next changes sync is six hours after this one"
    );
}

#[test]
fn the_scheduler_prefers_the_daily_full_sync_and_leaves_paused_connections_alone() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    h.ok("app_info", json!({"utcOffsetMinutes": 0}));
    // The daily full sync's hour passed an hour ago: a day later both a changes sync and the
    // daily full sync are due, and the full one (which brings everything) runs.
    let hour_ago = (h.clock.now().hour() + 23) % 24;
    h.save_schedule(6, true, hour_ago);
    h.time_passes(25);
    h.scheduler_pass();
    h.wait_for("the daily full sync", || h.finished_runs() == 2);
    let run = h.last_run();
    assert_eq!(
        (run.kind, run.trigger, run.outcome),
        (RunKind::Full, RunTrigger::DailyFull, RunOutcome::Ok)
    );

    // A connection waiting for reauthorisation is not synced however late it is.
    let db = rusqlite::Connection::open(h.core.backend().engine.database_path()).unwrap();
    db.execute(
        "UPDATE connections SET status = 'needs_reauth' WHERE id = ?1",
        [id],
    )
    .unwrap();
    h.time_passes(25);
    h.scheduler_pass();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(h.finished_runs(), 2, "paused: nothing ran");
    assert!(!h.core.is_running(id));
}

#[test]
fn while_the_service_schedules_the_app_schedules_nothing_says_who_does_and_refresh_still_runs() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    let data_dir = h.core.backend().engine.data_dir().to_path_buf();
    // `hownow service run` (played by this test process) holds the data dir's scheduler.
    let service = SchedulerLock::try_acquire(&data_dir, SchedulerHost::Service)
        .unwrap()
        .unwrap();
    h.time_passes(20);
    let pass = tauri::async_runtime::block_on(hownow_admin::scheduler::pass(&h.core));
    assert_eq!(pass, None, "the app leaves the schedule to the service");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        h.finished_runs(),
        1,
        "nothing scheduled here although a sync is overdue"
    );
    let status = h.ok("scheduler_status", json!({}));
    assert_eq!(status["scheduledHere"], false);
    assert_eq!(
        status["message"],
        format!(
            "Syncs are run by the HowNow service on this machine (pid {}).",
            std::process::id()
        )
    );

    // Refresh goes through the connection's lock, not the scheduler's.
    h.ok("sync_start", json!({"connectionId": id, "kind": "changes"}));
    h.wait_for("the manual sync", || h.finished_runs() == 2);
    let run = h.last_run();
    assert_eq!(
        (run.kind, run.trigger, run.outcome),
        (RunKind::Changes, RunTrigger::Manual, RunOutcome::Ok)
    );

    // The service stops: the app schedules again, and holds the lock a service would meet.
    drop(service);
    assert!(tauri::async_runtime::block_on(hownow_admin::scheduler::pass(&h.core)).is_some());
    let status = h.ok("scheduler_status", json!({}));
    assert_eq!(
        (status["scheduledHere"].clone(), status["message"].clone()),
        (json!(true), json!(null))
    );
    let holder = SchedulerLock::try_acquire(&data_dir, SchedulerHost::Service)
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (holder.host, holder.pid),
        (Some(SchedulerHost::App), Some(std::process::id()))
    );
}

#[test]
fn the_app_takes_the_schedule_over_when_the_service_stops_and_catches_up() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    h.save_schedule(6, false, 2);
    let data_dir = h.core.backend().engine.data_dir().to_path_buf();
    let service = SchedulerLock::try_acquire(&data_dir, SchedulerHost::Service)
        .unwrap()
        .unwrap();
    h.time_passes(20);
    // The app's own loop, as at start-up: it waits while the service schedules.
    let scheduling = tauri::async_runtime::spawn(hownow_admin::scheduler::run(h.core.clone()));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        h.finished_runs(),
        1,
        "nothing scheduled while the service holds the lock"
    );
    drop(service);
    let took_over = std::time::Instant::now();
    // Within its poll (5 s) it holds the lock and starts the overdue sync (which, at Xero's
    // pace of a call a second, takes longer than this test needs to wait).
    h.wait_for("the app's catch-up sync", || {
        h.core.is_running(id) || h.finished_runs() == 2
    });
    println!(
        "took over and started the catch-up in {} ms",
        took_over.elapsed().as_millis()
    );
    assert!(took_over.elapsed() < Duration::from_secs(10));
    assert_eq!(
        SchedulerLock::holder(&data_dir).unwrap().and_then(|h| h.host),
        Some(SchedulerHost::App)
    );
    scheduling.abort();
}
