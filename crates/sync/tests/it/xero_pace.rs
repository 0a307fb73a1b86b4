//! The engine at Xero's pace rather than the sandbox's: runs that outlive several 2-second access
//! tokens, reads and bookkeeping that answer while a sync is held in the middle of its list, and
//! a list whose first byte comes late. Waits are driven by the sandbox's switches (latency, holds,
//! first-byte delays), never by timing assertions; every wait is bounded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::connect_support::*;
use hownow_sandbox::identity::IdentityConfig;
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::{Sandbox, SandboxConfig, Switches};
use hownow_sync::engine::{Engine, XeroTimeouts};
use hownow_sync::{
    ConnectionStatus, NoProgress, Phase, Progress, RunKind, RunOutcome, RunTrigger, SyncRequest, SyncSettings,
};

/// Longest any single step of these tests may take before it counts as hung.
const HUNG: Duration = Duration::from_secs(60);

/// A sandbox whose rotated refresh tokens die at once (no grace): a refresh token the engine
/// failed to store would end the next refresh with `invalid_grant`.
async fn strict_sandbox(clients: usize) -> Sandbox {
    Sandbox::start(SandboxConfig {
        clients,
        identity: IdentityConfig {
            auto_consent: true,
            refresh_grace: Duration::ZERO,
            ..IdentityConfig::default()
        },
        switches: Switches::unlimited(),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

/// Logs in through the loopback redirect and connects the demo practice; the initial full sync
/// has run.
async fn connected(engine: &Engine) -> i64 {
    log_in_and_sync(engine).await.id
}

async fn bounded<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(HUNG, f)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for {HUNG:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_changes_and_sweep_runs_outlive_their_two_second_tokens() {
    let sandbox = strict_sandbox(120).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let id = connected(&engine).await;
    // Small contact pages and a small verify slice: several calls per run.
    engine
        .store()
        .unwrap()
        .update_settings(
            id,
            &SyncSettings {
                contacts_page_size: 100,
                verify_per_run: 2,
                ..SyncSettings::default()
            },
        )
        .unwrap();

    // Xero's pace: each call takes longer than an access token's useful life (2 s, renewed
    // 0.5 s early), and the list comes slowly.
    sandbox
        .identity()
        .set_access_token_lifetime(Duration::from_secs(2));
    // The login's 30-minute token dies now: the first call is refused and renews it.
    sandbox.identity().expire_all_access_tokens();
    sandbox
        .practice()
        .update_switches(|s| {
            s.latency_ms = 1_600;
            s.throttle_bytes_per_sec = Some(20_000);
        })
        .unwrap();
    let edited = sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap().clients()[3]
        .uuid
        .clone();

    for (kind, least) in [(RunKind::Full, 2), (RunKind::Changes, 3), (RunKind::Contacts, 3)] {
        sandbox
            .practice()
            .edit_client(&edited, |c| c.values.email = Some(format!("{kind}@pace.example")))
            .unwrap();
        let before = sandbox.identity().refresh_grants();
        let report = bounded(
            &format!("the {kind} run"),
            engine.sync(id, SyncRequest::new(kind, RunTrigger::Manual), &NoProgress),
        )
        .await
        .unwrap_or_else(|e| panic!("the {kind} run failed: {e}"));
        let refreshes = sandbox.identity().refresh_grants() - before;
        // Every call came after the previous token's useful life: each one refreshed.
        assert!(
            refreshes >= least && refreshes >= report.counts.api_calls.min(least),
            "{kind}: {refreshes} refreshes for {} calls",
            report.counts.api_calls
        );
        let run = &engine.history(id, 1).unwrap()[0];
        assert_eq!(run.outcome, RunOutcome::Ok, "{kind}: {run:?}");
    }
    let runs = engine.history(id, 10).unwrap();
    assert!(
        runs.iter().all(|r| r.outcome == RunOutcome::Ok),
        "no failed run: {runs:?}"
    );
    // Every rotated refresh token was stored: with no grace at the sandbox, one missed rotation
    // would have ended a later refresh with invalid_grant.
    engine.refresh_token(id).await.unwrap();
    assert_eq!(
        engine.connection(None).unwrap().status,
        ConnectionStatus::Connected
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_bookkeeping_answer_while_a_sync_is_held_in_the_middle_of_its_list() {
    let sandbox = strict_sandbox(300).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(engine(dir.path(), &sandbox, TEN_MINUTES));
    let id = connected(&engine).await;
    let committed = crate::common::live_clients(&engine, id, None).len();
    assert!(committed > 0);

    // XPM sends the start of the list, then holds the rest back.
    sandbox
        .practice()
        .update_switches(|s| s.hold_list_after_bytes = Some(16 * 1024))
        .unwrap();
    let applied = Arc::new(AtomicU64::new(0));
    let seen = applied.clone();
    let progress = move |p: &Progress| {
        if p.phase == Phase::Listing {
            seen.store(p.done, Ordering::SeqCst);
        }
    };
    let syncing = {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .sync(id, SyncRequest::new(RunKind::Full, RunTrigger::Manual), &progress)
                .await
        })
    };
    // The run's write transaction is open once it has the first client: wait for the lock.
    let db = engine.database_path().to_path_buf();
    bounded("the held sync to take the write lock", async {
        loop {
            if write_lock_is_held(&db) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    // Reads: the last committed state, at once.
    let status = bounded("status", async { engine.status().unwrap() }).await;
    assert_eq!(status.len(), 1);
    assert!(status[0].running_pid.is_some(), "the run shows as running");
    assert_eq!(status[0].counts.clients as usize, committed);
    assert_eq!(crate::common::live_clients(&engine, id, None).len(), committed);
    assert!(!crate::common::live_clients(&engine, id, Some("a")).is_empty());
    assert_eq!(engine.history(id, 5).unwrap()[0].outcome, RunOutcome::Running);
    assert_eq!(engine.connections().unwrap().len(), 1);
    // Another process's open (migration check included) and reads, on another thread.
    let path = db.clone();
    let other = std::thread::spawn(move || {
        let store = hownow_sync::Store::open(&path).unwrap();
        store.counts(id).unwrap().clients
    });
    assert_eq!(
        bounded("another handle", async { other.join().unwrap() }).await as usize,
        committed
    );
    // Bookkeeping: the schedule's plan, the administrator's settings, and a token refresh
    // (a network wait followed by its bookkeeping) all finish while the run holds the lock.
    bounded("the plan", async { engine.plan(id).unwrap() }).await;
    let mut settings = engine.connection(None).unwrap().settings;
    settings.daily_full_hour = 4;
    engine.store().unwrap().update_settings(id, &settings).unwrap();
    assert_eq!(engine.connection(None).unwrap().settings.daily_full_hour, 4);
    bounded("a token refresh", engine.refresh_token(id))
        .await
        .unwrap();
    // A directory write (as connecting or disconnecting another practice makes) waits its turn.
    let queued = {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .write(move |s| s.request_full_sync(id, Some(s.now())))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!queued.is_finished(), "the write waits for the sync");
    assert!(!syncing.is_finished(), "the sync was still held");

    // Let XPM send the rest: the run completes and its changes appear.
    sandbox
        .practice()
        .update_switches(|s| s.hold_list_after_bytes = None)
        .unwrap();
    let report = bounded("the released sync", syncing).await.unwrap().unwrap();
    assert_eq!(report.kind, RunKind::Full);
    assert!(applied.load(Ordering::SeqCst) > 0);
    bounded("the queued write", queued).await.unwrap().unwrap();
    assert!(
        engine.connection(None).unwrap().full_requested_at.is_some(),
        "written after the sync committed"
    );
    assert_eq!(engine.history(id, 1).unwrap()[0].outcome, RunOutcome::Ok);
    sandbox.shutdown().await;
}

/// Whether some connection holds the directory's write lock (a sync's open transaction).
fn write_lock_is_held(db: &std::path::Path) -> bool {
    let probe = rusqlite::Connection::open(db).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    match probe.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
        Ok(()) => false,
        Err(e) => {
            assert_eq!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy),
                "{e}"
            );
            true
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_made_while_xpm_prepares_the_list_comes_with_the_next_changes_sync() {
    let sandbox = strict_sandbox(60).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = Arc::new(engine(dir.path(), &sandbox, TEN_MINUTES));
    let id = connected(&engine).await;
    // No overlap, no verify slice: only the watermark itself can bring the edit.
    let settings = SyncSettings {
        overlap_minutes: 0,
        verify_per_run: 0,
        ..engine.connection(None).unwrap().settings
    };
    engine.store().unwrap().update_settings(id, &settings).unwrap();
    sandbox
        .practice()
        .update_switches(|s| {
            s.first_byte_delay_ms.insert("client.api/list".into(), 2_500);
        })
        .unwrap();

    let waits = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let said = waits.clone();
    let progress = move |p: &Progress| {
        if let Some(text) = p.waiting_message() {
            said.lock().unwrap().push(text);
        }
    };
    let syncing = {
        let engine = engine.clone();
        tokio::spawn(async move {
            engine
                .sync(
                    id,
                    SyncRequest::new(RunKind::Changes, RunTrigger::Manual),
                    &progress,
                )
                .await
        })
    };
    // A second into XPM's preparation of the list, staff edit a client.
    bounded("XPM's preparation to be reported", async {
        while !waits.lock().unwrap().iter().any(|w| w.ends_with(" 1 s")) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let uuid = sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap().clients()[5]
        .uuid
        .clone();
    sandbox
        .practice()
        .edit_client(&uuid, |c| {
            c.values.email = Some("edited.meanwhile@pace.example".into())
        })
        .unwrap();
    let report = bounded("the delayed changes sync", syncing)
        .await
        .unwrap()
        .unwrap();
    assert!(
        report.counts.list_wait_ms >= 2_500,
        "the wait is recorded: {:?}",
        report.counts
    );
    assert!(
        waits.lock().unwrap()[0].starts_with("Waiting for Xero Practice Manager to prepare the client list")
    );
    let email = |engine: &Engine| {
        crate::common::live_clients(engine, id, None)
            .into_iter()
            .find(|c| c.client.uuid.as_deref() == Some(uuid.as_str()))
            .unwrap()
            .client
            .email
    };
    assert_ne!(
        email(&engine).as_deref(),
        Some("edited.meanwhile@pace.example"),
        "XPM had read its records before the edit"
    );

    sandbox
        .practice()
        .update_switches(|s| s.first_byte_delay_ms.clear())
        .unwrap();
    engine
        .sync(
            id,
            SyncRequest::new(RunKind::Changes, RunTrigger::Manual),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(
        email(&engine).as_deref(),
        Some("edited.meanwhile@pace.example"),
        "the next changes sync asked from before the edit"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_that_times_out_is_tried_twice_and_both_tries_are_recorded() {
    let sandbox = strict_sandbox(30).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let id = connected(&engine).await;
    let before = crate::common::live_clients(&engine, id, None).len();
    // The data dir's own timeouts: a second for the list's first byte, a second's pause.
    let mut xero = engine.settings().xero;
    xero.timeouts = XeroTimeouts {
        list_first_byte_secs: Some(1),
        list_retry_pause_secs: Some(1),
        ..XeroTimeouts::default()
    };
    engine.set_xero_settings(xero);
    sandbox
        .practice()
        .update_switches(|s| {
            s.first_byte_delay_ms.insert("client.api/list".into(), 5_000);
        })
        .unwrap();

    let err = bounded(
        "the timed-out sync",
        engine.sync(
            id,
            SyncRequest::new(RunKind::Full, RunTrigger::Manual),
            &NoProgress,
        ),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("did not answer in time"), "{err}");
    let run = &engine.history(id, 1).unwrap()[0];
    assert_eq!(run.outcome, RunOutcome::Failed);
    assert_eq!(
        (run.counts.api_calls, run.counts.list_timeouts),
        (2, 2),
        "one retry, not four: {:?}",
        run.counts
    );
    assert!(run.counts.list_wait_ms >= 2_000, "{:?}", run.counts);
    assert_eq!(
        crate::common::live_clients(&engine, id, None).len(),
        before,
        "the directory is untouched"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_practice_whose_connection_was_removed_in_xero_needs_attention_and_pauses() {
    let sandbox = strict_sandbox(20).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let id = connected(&engine).await;
    // The practice's administrator removes the app in Xero: XPM answers 403 from now on.
    assert_eq!(sandbox.identity().remove_tenant_connections(DEMO_PRACTICE.id), 1);

    let err = engine
        .sync(
            id,
            SyncRequest::new(RunKind::Changes, RunTrigger::Schedule),
            &NoProgress,
        )
        .await
        .unwrap_err();
    let said = err.to_string();
    assert!(
        said.contains("removed in Xero") && said.contains("Authorise 3rd Party Full Access"),
        "{said}"
    );
    let connection = engine.connection(None).unwrap();
    assert_eq!(connection.status, ConnectionStatus::NeedsReauth);
    assert!(
        connection.status_reason.unwrap().contains("removed in Xero"),
        "the card says what to check"
    );
    let plan = engine.plan(id).unwrap();
    assert_eq!(plan.paused, Some(hownow_sync::schedule::Paused::NeedsReauth));
    assert_eq!(plan.due_now, None, "the schedule stops knocking");
    assert_eq!(engine.history(id, 1).unwrap()[0].outcome, RunOutcome::Failed);
    sandbox.shutdown().await;
}
