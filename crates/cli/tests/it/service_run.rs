//! `hownow service run` as a process against a sandbox on loopback: it catches up at once on an
//! overdue sync, stops on SIGTERM mid-sync within 10 s with exit 0 leaving the directory as it
//! was, and its next run converges; and it leaves the schedule to the app while the app holds the
//! data dir's scheduler lock, says so once, and takes over when the app lets go.

#![cfg(unix)]

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::Sandbox;
use hownow_sync::scheduler::{SchedulerHost, SchedulerLock};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use crate::common::{command, sandbox, DEADLINE};

/// What the issue allows between SIGTERM and the exit.
const STOP_WITHIN: Duration = Duration::from_secs(10);
const RENAMED: &str = "Renamed While The Service Was Down Ltd";

/// `hownow connect --no-browser` against `sandbox`, playing the browser (auto-consent).
async fn connect(data_dir: &Path, sandbox: &Sandbox) {
    let xero = sandbox.issuer().to_string();
    let mut child = command(
        data_dir,
        &[
            "connect",
            "--no-browser",
            "--port",
            "0",
            "--issuer",
            &xero,
            "--api-base",
            &xero,
            "--client-id",
            "hownow-cli-test",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("Authorize: ") {
                return url.to_string();
            }
        }
        panic!("no Authorize: line");
    })
    .await
    .unwrap();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(&url).send().await.unwrap();
    let location = answer.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(browser.get(&location).send().await.unwrap().status(), 200);
    while tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .is_some()
    {}
    let out = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

struct Service {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    seen: Vec<Value>,
}

impl Service {
    fn start(data_dir: &Path) -> Service {
        let mut child = command(data_dir, &["service", "run", "--json"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Service {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next JSON line whose `event` is `event`.
    async fn until(&mut self, event: &str, within: Duration) -> Value {
        let found = tokio::time::timeout(within, async {
            while let Some(line) = self.lines.next_line().await.unwrap() {
                let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
                self.seen.push(value.clone());
                if value["event"] == event {
                    return Some(value);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(value)) => value,
            _ => panic!("no {event} line; seen: {:#?}", self.seen),
        }
    }

    /// SIGTERM to this child only; how long it took to exit, and its exit code.
    async fn terminate(&mut self) -> (Duration, Option<i32>) {
        self.signal(libc::SIGTERM).await
    }

    /// `signal` to this child only; how long it took to exit, and its exit code.
    async fn signal(&mut self, signal: libc::c_int) -> (Duration, Option<i32>) {
        let pid = self.child.id().expect("still running") as libc::pid_t;
        let sent = Instant::now();
        // SAFETY: kill(2) on our own child's pid, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let status = tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .unwrap()
            .unwrap();
        (sent.elapsed(), status.code())
    }
}

fn db(data_dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data_dir.join("hownow.sqlite3")).unwrap()
}

/// Moves every recorded run `hours` into the past, as if the machine had been off since.
fn runs_were_hours_ago(data_dir: &Path, hours: i64) {
    let db = db(data_dir);
    let mut read = db
        .prepare("SELECT id, started_at, ended_at FROM sync_runs")
        .unwrap();
    let rows: Vec<(i64, String, Option<String>)> = read
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let back = |t: &str| {
        let t = hownow_sync::clock::from_db(t).unwrap() - time::Duration::hours(hours);
        hownow_sync::clock::to_db(t)
    };
    for (id, started, ended) in rows {
        db.execute(
            "UPDATE sync_runs SET started_at = ?2, ended_at = ?3 WHERE id = ?1",
            rusqlite::params![id, back(&started), ended.as_deref().map(back)],
        )
        .unwrap();
    }
}

fn client_name(data_dir: &Path, uuid: &str) -> String {
    db(data_dir)
        .query_row("SELECT name FROM clients WHERE uuid = ?1", [uuid], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_sync_stops_cleanly_and_the_next_run_converges() {
    let sandbox = sandbox(300).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    connect(data, &sandbox).await;
    // Off for 7 hours since the initial sync; meanwhile someone renamed a client in XPM.
    runs_were_hours_ago(data, 7);
    let snapshot = sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let client = snapshot
        .clients()
        .iter()
        .find(|c| !c.details.is_deleted() && !c.details.is_archived())
        .unwrap()
        .clone();
    let before = client_name(data, &client.uuid);
    sandbox
        .practice()
        .edit_client(&client.uuid, |d| d.values.name = Some(RENAMED.into()))
        .unwrap();
    // XPM sends the first 4 kB of the client list, then holds the rest.
    sandbox
        .practice()
        .update_switches(|s| s.hold_list_after_bytes = Some(4_000))
        .unwrap();

    let mut service = Service::start(data);
    service.until("service_started", DEADLINE).await;
    // Overdue at start: it runs at once, without waiting for a timer.
    let started = service.until("started", Duration::from_secs(10)).await;
    assert_eq!(
        started["trigger"].as_str().map(|t| t != "manual"),
        Some(true),
        "{started}"
    );
    // The run is recorded and its list is on the wire, held by XPM.
    let running = || {
        db(data)
            .query_row(
                "SELECT COUNT(*) FROM sync_runs WHERE outcome = 'running'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
    };
    let wait = Instant::now();
    while running() == 0 {
        assert!(wait.elapsed() < DEADLINE, "the run never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (took, code) = service.terminate().await;
    println!("SIGTERM mid-sync: exited {code:?} after {} ms", took.as_millis());
    assert_eq!(code, Some(0), "lines: {:#?}", service.seen);
    assert!(took < STOP_WITHIN, "{took:?}");
    // Every remaining line was written before the exit.
    service.until("stopped", Duration::from_secs(5)).await;
    service.until("service_stopped", Duration::from_secs(5)).await;

    // The directory is intact and as it was: the run was dropped whole, and recorded as such.
    let check: String = db(data)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(
        client_name(data, &client.uuid),
        before,
        "nothing of the stopped run was kept"
    );
    let (outcome, error): (String, String) = db(data)
        .query_row(
            "SELECT outcome, error FROM sync_runs ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(outcome, "interrupted");
    assert!(error.contains("nothing of it was kept"), "{error}");
    let status: String = db(data)
        .query_row("SELECT status FROM connections", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "connected");

    // Started again with XPM answering: the overdue run converges.
    sandbox
        .practice()
        .update_switches(|s| s.hold_list_after_bytes = None)
        .unwrap();
    let mut service = Service::start(data);
    let finished = service.until("finished", DEADLINE).await;
    assert!(finished["error"].is_null(), "{finished}");
    assert!(
        finished["message"].as_str().unwrap().contains("done in"),
        "{finished}"
    );
    assert!(finished["next_at"].is_string(), "{finished}");
    assert_eq!(client_name(data, &client.uuid), RENAMED);
    // Ctrl+C in a terminal: the same clean stop.
    let (took, code) = service.signal(libc::SIGINT).await;
    assert_eq!(code, Some(0));
    assert!(took < STOP_WITHIN, "{took:?}");
    println!("SIGINT while idle: exited {code:?} after {} ms", took.as_millis());
    let stopping = service.until("service_stopping", Duration::from_secs(5)).await;
    assert_eq!(stopping["signal"], "SIGINT");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_app_schedules_the_service_waits_says_so_once_and_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // The desktop app (played by this test process) schedules this data dir.
    let app = SchedulerLock::try_acquire(data, SchedulerHost::App)
        .unwrap()
        .unwrap();
    let mut service = Service::start(data);
    let waiting = service.until("service_waiting", DEADLINE).await;
    let message = waiting["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "Syncs are run by the HowNow Admin app on this machine (pid {}); this service takes over when it stops",
            std::process::id()
        )
    );
    // Said once: nothing more while the app holds on (the service polls every 2 s).
    let more = tokio::time::timeout(Duration::from_secs(5), service.lines.next_line()).await;
    assert!(more.is_err(), "{more:?}");

    // The app quits: the service takes over and `hownow status` says who schedules now.
    drop(app);
    let took_over = service.until("service_took_over", Duration::from_secs(10)).await;
    let pid = service.child.id().unwrap();
    assert_eq!(took_over["pid"], pid);
    let status = command(data, &["status"]).output().await.unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains(&format!(
            "Syncs are run by the HowNow service on this machine (pid {pid})"
        )),
        "{text}"
    );
    let status = command(data, &["status", "--json"]).output().await.unwrap();
    let doc: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(doc["scheduler"]["host"], "service");
    assert_eq!(doc["scheduler"]["pid"], pid);

    let (took, code) = service.terminate().await;
    assert_eq!(code, Some(0));
    assert!(took < STOP_WITHIN, "{took:?}");
    assert_eq!(SchedulerLock::holder(data).unwrap(), None, "let go at exit");
}
