//! Cross-process behaviour, with child processes of this test binary: one sync per connection
//! across processes, and crash safety when a sync dies mid-run.
//!
//! The child side is the `child_entry` test, which does nothing unless `HOWNOW_TEST_CHILD` says
//! what to do.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{practice, snapshot, Fixture};
use hownow_sync::{
    run_sync, MemorySource, NoProgress, RunKind, RunOutcome, RunTrigger, Store, SyncError, SyncLock,
    SyncRequest,
};

const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// The practice in its second version: every client renamed.
fn practice_v2(n: usize) -> Vec<hownow_xpm::Client> {
    practice(n)
        .into_iter()
        .map(|mut c| {
            c.name = Some(format!("{} v2", c.name.unwrap_or_default()));
            c
        })
        .collect()
}

#[test]
fn child_entry() {
    let Ok(mode) = std::env::var("HOWNOW_TEST_CHILD") else {
        return;
    };
    let db = std::env::var("HOWNOW_TEST_DB").unwrap();
    let locks = std::path::PathBuf::from(std::env::var("HOWNOW_TEST_LOCKS").unwrap());
    let connection_id: i64 = std::env::var("HOWNOW_TEST_CONNECTION").unwrap().parse().unwrap();
    match mode.as_str() {
        "hold-lock" => {
            let _lock = SyncLock::try_acquire(&locks, connection_id).unwrap();
            println!("LOCKED");
            // Held until the parent kills this process (bounded, in case it does not).
            std::thread::sleep(CHILD_TIMEOUT);
        }
        "full" | "changes" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut store = Store::open(&db).unwrap();
            let source = MemorySource::with_clients(practice(200));
            let kind = if mode == "full" {
                for c in practice_v2(200) {
                    source.put_client(c);
                }
                RunKind::Full
            } else {
                source.advance(time::Duration::hours(6));
                for c in practice_v2(200) {
                    source.put_client(c);
                }
                RunKind::Changes
            };
            let request = SyncRequest::new(kind, RunTrigger::Manual);
            let result = rt.block_on(run_sync(
                &mut store,
                &source,
                &locks,
                connection_id,
                request,
                &NoProgress,
            ));
            println!("FINISHED {result:?}");
        }
        other => panic!("unknown child mode {other}"),
    }
}

fn child(fx: &Fixture, mode: &str, kill_after_rows: Option<u64>) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "process::child_entry",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("HOWNOW_TEST_CHILD", mode)
    .env("HOWNOW_TEST_DB", fx.db_path())
    .env("HOWNOW_TEST_LOCKS", fx.lock_dir())
    .env("HOWNOW_TEST_CONNECTION", fx.connection.id.to_string())
    .env_remove("HOWNOW_TEST_KILL_AFTER_ROWS")
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if let Some(n) = kill_after_rows {
        cmd.env("HOWNOW_TEST_KILL_AFTER_ROWS", n.to_string());
    }
    cmd.spawn().unwrap()
}

fn wait_with_timeout(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + CHILD_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("child did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn two_processes_one_runs_the_other_is_told() {
    let mut fx = Fixture::new();
    let mut holder = child(&fx, "hold-lock", None);
    // libtest prints its own header first; wait for the child's line.
    let mut out = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("LOCKED") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the child exited before taking the lock"
        );
    }

    let source = MemorySource::with_clients(practice(5));
    let err = fx.sync(&source, RunKind::Changes).await.unwrap_err();
    match &err {
        SyncError::AlreadyRunning { pid, started_at } => {
            assert_eq!(*pid, Some(holder.id()));
            assert!(started_at.is_some());
        }
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    assert!(err.to_string().starts_with(&format!(
        "a sync of this connection is already running (pid {}",
        holder.id()
    )));
    assert_eq!(source.calls(), 0, "the refused sync made no call");
    assert!(
        fx.store.runs(fx.connection.id, 10).unwrap().is_empty(),
        "and recorded no run"
    );

    // SIGKILL: the OS releases the lock; the next sync runs.
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(SyncLock::holder(&fx.lock_dir(), fx.connection.id)
        .unwrap()
        .is_none());
    fx.sync(&source, RunKind::Full).await.unwrap();
}

async fn crash_at(kind: &str, kill_after: u64) {
    let mut fx = Fixture::new();
    let id = fx.connection.id;
    let source = MemorySource::with_clients(practice(200));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let old = snapshot(&fx.store, id);
    let old_watermark = fx.connection().watermark;

    let mut killed = child(&fx, kind, Some(kill_after));
    let status = wait_with_timeout(&mut killed);
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(6),
            "{kind} sync should have aborted at row {kill_after}: {status:?}"
        );
    }
    #[cfg(not(unix))]
    assert!(
        !status.success(),
        "{kind} sync should have died at row {kill_after}"
    );

    // The file opens, is intact, and holds the old state, not a mix.
    let mut store = Store::open(fx.db_path()).unwrap();
    assert!(store.integrity_check().unwrap().is_empty());
    assert_eq!(snapshot(&store, id), old, "{kind} killed after {kill_after} rows");
    assert_eq!(store.connection(id).unwrap().watermark, old_watermark);
    assert_eq!(store.runs(id, 1).unwrap()[0].outcome, RunOutcome::Running);

    // The next sync completes and matches the source; the dead run is marked interrupted.
    let v2 = MemorySource::with_clients(practice_v2(200));
    let report = run_sync(
        &mut store,
        &v2,
        &fx.lock_dir(),
        id,
        SyncRequest::new(RunKind::Full, RunTrigger::Manual),
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(report.counts.updated, 200);
    let runs = store.runs(id, 3).unwrap();
    assert_eq!(runs[1].outcome, RunOutcome::Interrupted);
    let names: Vec<_> = snapshot(&store, id)
        .into_iter()
        .map(|(c, _)| c.name.unwrap())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(" v2")));
}

#[tokio::test]
async fn a_full_sync_killed_mid_run_leaves_the_old_directory() {
    for n in [1, 77, 200] {
        crash_at("full", n).await;
    }
}

#[tokio::test]
async fn a_changes_sync_killed_mid_run_leaves_the_old_directory_and_watermark() {
    for n in [1, 150] {
        crash_at("changes", n).await;
    }
}

#[tokio::test]
async fn a_crashed_run_does_not_stall_the_schedule() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(10));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let id = fx.connection.id;
    let mut killed = child(&fx, "changes", Some(1));
    wait_with_timeout(&mut killed);
    assert_eq!(
        fx.connection().status,
        hownow_sync::ConnectionStatus::Syncing,
        "left behind by the dead run"
    );
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(7);
    let input = hownow_sync::ScheduleInput::load(&fx.store, id, later).unwrap();
    assert_eq!(input.status, hownow_sync::ConnectionStatus::Connected);
    assert!(hownow_sync::plan(&input).due_now.is_some());
    // While a process holds the lock, the schedule starts nothing.
    let _held = SyncLock::try_acquire(&fx.lock_dir(), id).unwrap();
    let input = hownow_sync::ScheduleInput::load(&fx.store, id, later).unwrap();
    assert!(hownow_sync::plan(&input).due_now.is_none());
}
