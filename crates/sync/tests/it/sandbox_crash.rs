//! Crash safety and one-sync-per-connection across processes, against the real sandbox.
//!
//! The parent starts a sandbox; children (this test binary run again, the `child_entry` test
//! doing the work when `HOWNOW_TEST_SANDBOX_CHILD` is set) sync from it over loopback with the
//! product's own client and are killed at chosen points of a full and a changes sync:
//! * after the N-th client row (`HOWNOW_TEST_KILL_AFTER_ROWS`, the engine's abort hook);
//! * with SIGKILL while stalled at a progress event (the child's progress sink parks there), e.g.
//!   just before the commit;
//! * with SIGKILL at a fraction of a clean run's duration (wherever the run happens to be).
//!
//! Afterwards the database opens, passes `PRAGMA integrity_check`, and holds the old state or the
//! new one, never a mix (compared with the states before and after a clean run); the next sync
//! completes and matches the sandbox.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::sandbox_support::{
    assert_directory_matches, assert_same_clients, directory_state, practice_client, start_with,
    DirectoryState, Env, Options,
};
use hownow_sandbox::practice::{ClientDetails, ContactDetails, NewLink};
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::Switches;
use hownow_sync::{
    run_sync, NoProgress, Progress, RunKind, RunOutcome, RunTrigger, Store, SyncError, SyncLock, SyncRequest,
    SyncSettings,
};

const CHILD_TIMEOUT: Duration = Duration::from_secs(60);
const CLIENTS: usize = 250;

/// The child: one sync of `HOWNOW_TEST_KIND` from the sandbox at `HOWNOW_TEST_API` into
/// `HOWNOW_TEST_DB`, printing each progress event, parking at `HOWNOW_TEST_STALL_AT`
/// (`phase:done`, or `finished:0` for after the run) if given.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var("HOWNOW_TEST_SANDBOX_CHILD") else {
        return;
    };
    assert_eq!(mode, "sync");
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    let db = PathBuf::from(var("HOWNOW_TEST_DB"));
    let connection_id: i64 = var("HOWNOW_TEST_CONNECTION").parse().unwrap();
    let kind = match var("HOWNOW_TEST_KIND").as_str() {
        "full" => RunKind::Full,
        "changes" => RunKind::Changes,
        other => panic!("unknown kind {other}"),
    };
    let stall_at: Option<(String, u64)> = std::env::var("HOWNOW_TEST_STALL_AT").ok().map(|s| {
        let (phase, done) = s.split_once(':').unwrap();
        (phase.to_string(), done.parse().unwrap())
    });
    let practice = practice_client(
        &var("HOWNOW_TEST_API"),
        &var("HOWNOW_TEST_TOKEN"),
        Duration::from_secs(10),
        4,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut store = Store::open(&db).unwrap();
    let lock_dir = store.lock_dir();
    let sink = |p: &Progress| {
        let phase = serde_json::to_value(p.phase).unwrap();
        let phase = phase.as_str().unwrap();
        println!("PROGRESS {phase} {}", p.done);
        if stall_at
            .as_ref()
            .is_some_and(|(ph, done)| ph == phase && *done == p.done)
        {
            println!("STALLED");
            // Parked with the run's transaction open until the parent kills this process.
            std::thread::sleep(CHILD_TIMEOUT);
        }
    };
    let result = rt.block_on(run_sync(
        &mut store,
        &practice,
        &lock_dir,
        connection_id,
        SyncRequest::new(kind, RunTrigger::Manual),
        &sink,
    ));
    match result {
        Ok(report) => println!("FINISHED ok {}", report.counts.fetched),
        Err(e) => println!("FINISHED err {e}"),
    }
    if stall_at.is_some_and(|(phase, _)| phase == "finished") {
        println!("STALLED");
        std::thread::sleep(CHILD_TIMEOUT);
    }
}

/// A child process and its stdout lines (read on a thread, so waits are bounded).
struct ChildSync {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl ChildSync {
    fn spawn(env: &Env, db: &Path, kind: RunKind, configure: impl FnOnce(&mut Command)) -> ChildSync {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "sandbox_crash::child_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HOWNOW_TEST_SANDBOX_CHILD", "sync")
        .env("HOWNOW_TEST_API", env.sandbox.api_base())
        .env("HOWNOW_TEST_TOKEN", &env.token)
        .env("HOWNOW_TEST_DB", db)
        .env("HOWNOW_TEST_CONNECTION", env.connection_id.to_string())
        .env("HOWNOW_TEST_KIND", kind.as_str())
        .env_remove("HOWNOW_TEST_KILL_AFTER_ROWS")
        .env_remove("HOWNOW_TEST_STALL_AT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        configure(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildSync { child, lines }
    }

    /// Waits for a line holding `prefix` and returns it from there (libtest may have printed
    /// `test sandbox_crash::child_entry ... ` before it); `None` if the child ended first.
    fn wait_for(&self, prefix: &str) -> Option<String> {
        let deadline = Instant::now() + CHILD_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find(prefix) {
                        return Some(line[at..].to_string());
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("the child never printed {prefix:?}"),
            }
        }
    }

    fn wait(mut self) -> ExitStatus {
        let deadline = Instant::now() + CHILD_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the child did not finish in time");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL.
    fn kill(mut self) -> ExitStatus {
        let _ = self.child.kill();
        self.wait()
    }
}

#[cfg(unix)]
fn signal(status: &ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal(_: &ExitStatus) -> Option<i32> {
    None
}

/// Where a child is killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// The engine's hook aborts after this many client rows (SIGABRT, like a crash).
    AfterRows(u64),
    /// SIGKILL while parked at this progress event.
    Stalled(&'static str, u64),
    /// SIGKILL this share of a clean run's duration after the run started.
    AfterShare(f64),
}

/// One kind of sync, prepared once: the sandbox, the directory before the run (`seed`, kept at
/// the old state), the practice changed since, and the state a clean run ends with.
struct Scenario {
    env: Env,
    kind: RunKind,
    old: DirectoryState,
    new: DirectoryState,
    /// Client rows a clean run applies, and how long it takes from its first progress event.
    rows: u64,
    run_time: Duration,
    copies: tempfile::TempDir,
    n: usize,
}

/// A consistent copy of the seed directory (`VACUUM INTO` reads one snapshot).
fn copy_of(env: &Env, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("hownow.sqlite3");
    let db = rusqlite::Connection::open(env.db_path()).unwrap();
    db.execute("VACUUM INTO ?1", [path.to_str().unwrap()]).unwrap();
    path
}

fn state_at(db: &Path, connection_id: i64) -> DirectoryState {
    directory_state(&Store::open(db).unwrap(), connection_id)
}

async fn prepare(kind: RunKind) -> Scenario {
    let mut env = start_with(Options {
        clients: CLIENTS,
        settings: SyncSettings {
            verify_per_run: 10,
            ..SyncSettings::default()
        },
        ..Options::default()
    })
    .await;
    env.sync(RunKind::Full).await.unwrap();
    let old = env.state();

    // The practice moves on: renames, archives, deletes, additions and an unflagged contact
    // edit (which a changes sync finds through the contact sweep).
    let data = env.data();
    let live: Vec<String> = data
        .clients()
        .iter()
        .filter(|c| !c.details.is_deleted() && !c.details.is_archived())
        .map(|c| c.uuid.clone())
        .collect();
    let handle = env.handle();
    for uuid in live.iter().skip(5).step_by(3) {
        handle
            .edit_client(uuid, |d| d.values.name = Some(format!("{} v2", d.name())))
            .unwrap();
    }
    handle.archive_client(&live[0], true).unwrap();
    handle.archive_client(&live[1], true).unwrap();
    handle.delete_client(&live[2]).unwrap();
    handle.delete_client(&live[3]).unwrap();
    for name in ["Crash Test Dummies Ltd", "Phoenix Rising Trust"] {
        let added = handle
            .add_client(DEMO_PRACTICE.id, ClientDetails::named(name))
            .unwrap();
        handle
            .add_contact(
                DEMO_PRACTICE.id,
                ContactDetails::named(format!("Director of {name}")),
                Some(NewLink {
                    client: added.uuid.clone(),
                    position: Some("Director".into()),
                    primary: true,
                }),
            )
            .unwrap();
    }
    let contact = data
        .clients_of_contact(&data.client(&live[4]).unwrap().contacts[0].contact)
        .next()
        .unwrap()
        .contacts[0]
        .contact
        .clone();
    handle
        .edit_contact(&contact, |c| c.phone = Some("07 7777 7777".into()))
        .unwrap();

    // A clean run in a child: the new state, its rows and its duration.
    let copies = tempfile::tempdir().unwrap();
    let db = copy_of(&env, &copies.path().join("clean"));
    let child = ChildSync::spawn(&env, &db, kind, |_| {});
    child.wait_for("PROGRESS listing 0").unwrap();
    let started = Instant::now();
    let finished = child.wait_for("FINISHED").unwrap();
    let run_time = started.elapsed();
    assert!(child.wait().success());
    assert!(finished.starts_with("FINISHED ok"), "{finished}");
    let rows: u64 = finished.rsplit(' ').next().unwrap().parse().unwrap();
    let new = state_at(&db, env.connection_id);
    assert_ne!(new.clients, old.clients, "the clean run changed the directory");
    let store = Store::open(&db).unwrap();
    assert_directory_matches(&store, env.connection_id, &env.data());
    Scenario {
        env,
        kind,
        old,
        new,
        rows,
        run_time,
        copies,
        n: 0,
    }
}

impl Scenario {
    /// Runs a child on a fresh copy of the old directory, kills it at `kill`, and checks the
    /// survivor: intact, old or new state, and the next sync catches up with the sandbox.
    async fn crash(&mut self, kill: Kill) {
        self.n += 1;
        let db = copy_of(&self.env, &self.copies.path().join(format!("crash-{}", self.n)));
        let what = format!("{} sync killed at {kill:?}", self.kind.as_str());
        let status = match kill {
            Kill::AfterRows(n) => {
                let child = ChildSync::spawn(&self.env, &db, self.kind, |c| {
                    c.env("HOWNOW_TEST_KILL_AFTER_ROWS", n.to_string());
                });
                child.wait()
            }
            Kill::Stalled(phase, done) => {
                let child = ChildSync::spawn(&self.env, &db, self.kind, |c| {
                    c.env("HOWNOW_TEST_STALL_AT", format!("{phase}:{done}"));
                });
                assert!(child.wait_for("STALLED").is_some(), "{what}: never got there");
                child.kill()
            }
            Kill::AfterShare(share) => {
                let child = ChildSync::spawn(&self.env, &db, self.kind, |_| {});
                child.wait_for("PROGRESS listing 0").unwrap();
                std::thread::sleep(self.run_time.mul_f64(share));
                child.kill()
            }
        };
        let killed = !status.success();
        match kill {
            Kill::AfterRows(_) => assert_eq!(signal(&status), Some(6), "{what}: {status:?}"),
            Kill::Stalled(..) => assert_eq!(signal(&status), Some(9), "{what}: {status:?}"),
            // A late kill may find the run already finished.
            Kill::AfterShare(_) => assert!(!killed || signal(&status) == Some(9), "{what}: {status:?}"),
        }

        let mut store = Store::open(&db).unwrap();
        assert!(
            store.integrity_check().unwrap().is_empty(),
            "{what}: integrity check"
        );
        let id = self.env.connection_id;
        let state = directory_state(&store, id);
        let is_old = state == self.old;
        // (The clients tell the states apart; the watermark, a server time in whole seconds, may
        // not move on a fast machine.)
        let is_new =
            state.clients == self.new.clients && state.counts == self.new.counts && state.watermark.is_some();
        assert!(
            is_old || is_new,
            "{what}: the directory is neither the old nor the new state"
        );
        eprintln!(
            "{what}: {}, {} state",
            if killed { "died" } else { "had finished" },
            if is_old { "old" } else { "new" }
        );
        if let Kill::Stalled("finished", _) = kill {
            assert!(is_new, "{what}: the run had committed");
        } else if matches!(kill, Kill::AfterRows(_) | Kill::Stalled(..)) {
            assert!(is_old, "{what}: the run died before its commit");
            assert_eq!(store.runs(id, 1).unwrap()[0].outcome, RunOutcome::Running);
        }

        // The next sync completes, and matches the sandbox; a dead run is marked interrupted.
        let lock_dir = store.lock_dir();
        let report = run_sync(
            &mut store,
            &self.env.practice,
            &lock_dir,
            id,
            SyncRequest::new(self.kind, RunTrigger::Manual),
            &NoProgress,
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: the next sync failed: {e}"));
        assert_directory_matches(&store, id, &self.env.data());
        if is_old {
            // The same run as the clean one, from the same start. (After a committed run, the
            // next changes sync verifies another slice of clients, which may refresh more.)
            assert_same_clients(&directory_state(&store, id).clients, &self.new.clients, &what);
            let runs = store.runs(id, 2).unwrap();
            assert_eq!(runs[0].id, report.run_id);
            assert_eq!(runs[1].outcome, RunOutcome::Interrupted, "{what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_killed_at_any_point_leaves_the_old_or_the_new_directory() {
    let mut s = prepare(RunKind::Full).await;
    assert!(s.rows > 200, "{} rows", s.rows);
    for kill in [
        Kill::AfterRows(1),
        Kill::AfterRows(s.rows / 2),
        Kill::AfterRows(s.rows),
        Kill::Stalled("listing", 0),
        Kill::Stalled("listing", 200),
        Kill::Stalled("removing", 0),
        Kill::Stalled("checking_missed", 0),
        Kill::Stalled("committing", 0),
        Kill::Stalled("finished", 0),
        Kill::AfterShare(0.3),
        Kill::AfterShare(0.7),
        Kill::AfterShare(1.0),
    ] {
        s.crash(kill).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changes_sync_killed_at_any_point_leaves_the_old_or_the_new_directory() {
    let mut s = prepare(RunKind::Changes).await;
    // The listed clients and the re-fetched ones (the contact's clients, the verify slice).
    assert!(s.rows > 60, "{} rows", s.rows);
    for kill in [
        Kill::AfterRows(1),
        Kill::AfterRows(s.rows / 2),
        Kill::AfterRows(s.rows - 3),
        Kill::AfterRows(s.rows),
        Kill::Stalled("sweeping_contacts", 0),
        Kill::Stalled("refetching", 0),
        Kill::Stalled("committing", 0),
        Kill::Stalled("finished", 0),
        Kill::AfterShare(0.3),
        Kill::AfterShare(0.7),
        Kill::AfterShare(1.0),
    ] {
        s.crash(kill).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_syncing_one_connection_one_runs_and_the_other_is_told() {
    let mut env = start_with(Options {
        clients: 20,
        ..Options::default()
    })
    .await;
    // XPM-like slowness: the child's full list takes a second or two.
    let bytes_per_sec = 40_000;
    env.handle()
        .update_switches(|s| s.throttle_bytes_per_sec = Some(bytes_per_sec))
        .unwrap();
    let db = env.db_path();
    let child = ChildSync::spawn(&env, &db, RunKind::Full, |_| {});
    child.wait_for("PROGRESS listing 0").unwrap();

    let err = env.sync(RunKind::Full).await.unwrap_err();
    let pid = child.child.id();
    match &err {
        SyncError::AlreadyRunning {
            pid: holder,
            started_at,
        } => {
            assert_eq!(*holder, Some(pid));
            assert!(started_at.is_some());
        }
        other => panic!("expected AlreadyRunning, got {other:?}"),
    }
    assert!(
        err.to_string().starts_with(&format!(
            "a sync of this connection is already running (pid {pid}"
        )),
        "{err}"
    );
    // The refused run left no trace; the child's run is the only one, and still going.
    let runs = env.store.runs(env.connection_id, 10).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, RunOutcome::Running);

    let finished = child.wait_for("FINISHED").unwrap();
    assert!(finished.starts_with("FINISHED ok"), "{finished}");
    assert!(child.wait().success());
    assert!(SyncLock::holder(&env.lock_dir(), env.connection_id)
        .unwrap()
        .is_none());
    env.handle().set_switches(Switches::unlimited()).unwrap();
    // The child's sync is visible to this process, and the next sync runs.
    env.assert_matches_sandbox();
    let report = env.sync(RunKind::Full).await.unwrap();
    assert_eq!(report.counts.client_rows_written, 0);
}
