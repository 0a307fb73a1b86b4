//! The engine end to end against the sandbox over loopback: HTTP, streaming XML decode, hashing
//! and SQLite, as a real sync runs. `cargo bench -p hownow-sync --bench sandbox_sync [-- CLIENTS]`.
//!
//! The sandbox runs in a child process (this binary again, `HOWNOW_BENCH_ROLE=sandbox`), so
//! this process does only what the app does, and its peak RSS is the engine's. Prints:
//! (a) initial full sync of CLIENTS clients unthrottled: clients/s and peak RSS;
//! (c) unchanged full re-sync: client rows written;
//! (d) no-change changes sync: API calls and wall time (default settings, and without the
//!     verify slice);
//! (e) the engine alone: the same clients from memory (no HTTP, no XML);
//! (b) the same initial full sync against the sandbox throttled to 2 MB/s, over the time to
//!     merely download the same list at the same throttle (uncompressed, as before gzip);
//! (f) reads while a full sync streams a throttled (gzip) list into the same directory: p50 and
//!     p99 latency of the status and of a 200-row client search, in this process (the engine's
//!     read pool) and from another process (this binary again, `HOWNOW_BENCH_ROLE=reader`);
//!     `HOWNOW_BENCH_ONLY_F=1` runs only this part;
//! (g) (d) at Xero's pace: the production client (starts 1 s apart), the sandbox's budgets on (60
//!     a minute, 5,000 a day, 2 a second); wall time and 429s (must be 0). `HOWNOW_BENCH_ONLY_G=1`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hownow_sandbox::tenants::{DEMO_PRACTICE, USERS};
use hownow_sandbox::{Sandbox, SandboxConfig, Switches};
use hownow_sync::engine::{CredentialStorage, Engine, EngineOptions};
use hownow_sync::{
    run_sync, MemorySource, NewConnection, NoProgress, Phase, Progress, RunKind, RunTrigger, Store,
    SyncReport, SyncRequest, SyncSettings,
};
use hownow_xpm::{ApiConfig, PracticeClient, RateLimits, StaticToken, XeroApi};

const THROTTLE: u64 = 2_000_000;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds this thread has used (user + system), from /proc (10 ms resolution): the
/// engine runs on the thread that blocks on it, so this is its cost without the decoder's.
fn thread_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The database file and its write-ahead log.
fn directory_mb(store: &Store) -> f64 {
    let size = |p: std::path::PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    let db = store.path().to_path_buf();
    let wal = db.with_extension("sqlite3-wal");
    (size(db) + size(wal)) as f64 / 1e6
}

/// The child: a sandbox of `HOWNOW_BENCH_CLIENTS` clients, Xero's limits off, until stdin closes.
fn sandbox_child() {
    let clients: usize = std::env::var("HOWNOW_BENCH_CLIENTS").unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig {
            clients,
            switches: Switches::unlimited(),
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox starts");
        let token = sandbox.issue_test_token(&USERS[0]).await.unwrap().access_token;
        println!("READY {} {token}", sandbox.api_base());
        // The parent closing our stdin (or dying) ends the sandbox.
        let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
    });
}

struct Bench {
    api: String,
    token: String,
    practice: PracticeClient,
    http: reqwest::Client,
    dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

impl Bench {
    fn store(&self, name: &str, settings: SyncSettings) -> (Store, i64) {
        let mut store = Store::open(self.dir.path().join(name).join("hownow.sqlite3")).unwrap();
        let id = store
            .create_connection(&NewConnection {
                xero_connection_id: "bench".into(),
                tenant_id: DEMO_PRACTICE.id.into(),
                tenant_name: DEMO_PRACTICE.name.into(),
                settings,
                ..Default::default()
            })
            .unwrap()
            .id;
        (store, id)
    }

    fn sync(&self, store: &mut Store, id: i64, kind: RunKind) -> (SyncReport, Duration) {
        self.sync_through(&self.practice, store, id, kind)
    }

    fn sync_through(
        &self,
        practice: &PracticeClient,
        store: &mut Store,
        id: i64,
        kind: RunKind,
    ) -> (SyncReport, Duration) {
        let lock_dir = store.lock_dir();
        let cpu = thread_cpu_secs();
        let started = Instant::now();
        // When each phase began, to show where the time goes.
        let phases = std::sync::Mutex::new(Vec::<(Phase, Duration)>::new());
        let sink = |p: &Progress| {
            let mut phases = phases.lock().unwrap();
            if phases.last().is_none_or(|(phase, _)| *phase != p.phase) {
                phases.push((p.phase, started.elapsed()));
            }
        };
        let report = self
            .rt
            .block_on(run_sync(
                store,
                practice,
                &lock_dir,
                id,
                SyncRequest::new(kind, RunTrigger::Manual),
                &sink,
            ))
            .unwrap();
        let elapsed = started.elapsed();
        let phases = phases.into_inner().unwrap();
        let spans: Vec<String> = phases
            .iter()
            .enumerate()
            .map(|(i, (phase, at))| {
                let end = phases.get(i + 1).map_or(elapsed, |(_, next)| *next);
                format!("{phase:?} {:.2} s", (end - *at).as_secs_f64())
            })
            .collect();
        println!(
            "    engine thread CPU {:.2} s; phases: {}",
            thread_cpu_secs() - cpu,
            spans.join(", ")
        );
        (report, elapsed)
    }

    /// The 429s the sandbox has answered the demo practice so far.
    fn rate_limited_calls(&self) -> u64 {
        self.rt.block_on(async {
            let state: serde_json::Value = self
                .http
                .get(format!("{}/admin/state", self.api))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            state["tenants"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["id"] == DEMO_PRACTICE.id)
                .and_then(|t| t["rate_limited_calls"].as_u64())
                .expect("the sandbox reports its 429s")
        })
    }

    fn throttle(&self, bytes_per_sec: Option<u64>) {
        self.switches(serde_json::json!({ "throttle_bytes_per_sec": bytes_per_sec, "gzip": false }));
    }

    fn switches(&self, body: serde_json::Value) {
        self.rt.block_on(async {
            let answer = self
                .http
                .post(format!("{}/admin/switches", self.api))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success(), "{}", answer.status());
        });
    }

    /// Reads the detailed list and throws it away: the time the bytes alone take.
    fn download_only(&self) -> (u64, Duration) {
        self.rt.block_on(async {
            let started = Instant::now();
            let mut answer = self
                .http
                .get(format!(
                    "{}/practicemanager/3.1/client.api/list?detailed=true",
                    self.api
                ))
                .bearer_auth(&self.token)
                .header("xero-tenant-id", DEMO_PRACTICE.id)
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success());
            let mut bytes = 0u64;
            while let Some(chunk) = answer.chunk().await.unwrap() {
                bytes += chunk.len() as u64;
            }
            (bytes, started.elapsed())
        })
    }
}

/// Latencies of repeated reads, until `stop` says so (at most `MAX_READS` each).
#[derive(Default)]
struct Latencies {
    status: Vec<Duration>,
    search: Vec<Duration>,
}

const MAX_READS: usize = 100_000;

impl Latencies {
    fn measure(engine: &Engine, id: i64, stop: impl Fn() -> bool) -> Latencies {
        let mut l = Latencies::default();
        while !stop() && l.status.len() < MAX_READS {
            let t = Instant::now();
            let status = engine.status().unwrap();
            l.status.push(t.elapsed());
            assert_eq!(status.len(), 1);
            let t = Instant::now();
            let page = engine.client_page(id, Some("a"), 0, 200).unwrap();
            let (total, page) = (page.total, page.clients);
            l.search.push(t.elapsed());
            assert!(
                total >= page.len() as u64 && page.len() == 200,
                "{total} {}",
                page.len()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        l
    }

    fn line(&self, what: &str) -> String {
        let pct = |v: &[Duration], p: f64| {
            let mut v = v.to_vec();
            v.sort_unstable();
            let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len().max(1)) - 1;
            v.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
        };
        format!(
            "{what}: status p50 {:.1} ms, p99 {:.1} ms; 200-row search p50 {:.1} ms, p99 {:.1} ms ({} reads each)",
            pct(&self.status, 0.5),
            pct(&self.status, 0.99),
            pct(&self.search, 0.5),
            pct(&self.search, 0.99),
            self.status.len()
        )
    }
}

/// The other process of (f): reads the data dir `HOWNOW_BENCH_DIR` until `stop` appears in it,
/// then prints its latencies.
fn reader_child() {
    let dir = std::path::PathBuf::from(std::env::var("HOWNOW_BENCH_DIR").unwrap());
    let engine = reader_engine(&dir);
    let id = engine.connections().unwrap()[0].id;
    println!("READY");
    let deadline = Instant::now() + Duration::from_secs(600);
    let latencies = Latencies::measure(&engine, id, || {
        dir.join("stop").exists() || Instant::now() > deadline
    });
    println!("{}", latencies.line("another process"));
}

fn reader_engine(dir: &std::path::Path) -> Engine {
    Engine::open(EngineOptions {
        storage: Some(CredentialStorage::Memory),
        use_env: false,
        ..EngineOptions::new(dir)
    })
    .unwrap()
}

fn main() {
    match std::env::var("HOWNOW_BENCH_ROLE").as_deref() {
        Ok("sandbox") => return sandbox_child(),
        Ok("reader") => return reader_child(),
        _ => {}
    }
    // `cargo bench` passes `--bench`; a number is the practice size.
    let clients: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(15_000);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env("HOWNOW_BENCH_ROLE", "sandbox")
        .env("HOWNOW_BENCH_CLIENTS", clients.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let mut words = ready.split_whitespace().skip(1);
    let (api, token) = (
        words.next().unwrap().to_string(),
        words.next().unwrap().to_string(),
    );

    // Production client settings, but no pacing of our own: the sandbox's limits are off, and
    // the wall times are the engine's, not Xero's 60-a-minute ((g) measures that).
    let config = ApiConfig {
        api_base: url::Url::parse(&api).unwrap(),
        rate_limits: RateLimits {
            max_per_window: 100_000,
            min_spacing: Duration::ZERO,
            ..RateLimits::default()
        },
        ..ApiConfig::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let practice = {
        let _guard = rt.enter();
        XeroApi::new(config)
            .unwrap()
            .practice(DEMO_PRACTICE.id, Arc::new(StaticToken::new(token.clone())))
    };
    // On the same disk as the build, not a RAM disk.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let bench = Bench {
        api,
        token,
        practice,
        http: reqwest::Client::new(),
        dir,
        rt,
    };

    println!("sandbox_sync: {clients} clients, sandbox in pid {}", child.id());
    if std::env::var_os("HOWNOW_BENCH_ONLY_G").is_some() {
        changes_at_xeros_pace(&bench);
        drop(child.stdin.take());
        let _ = child.wait();
        return;
    }
    if std::env::var_os("HOWNOW_BENCH_ONLY_F").is_some() {
        reads_during_a_sync(&bench);
        drop(child.stdin.take());
        let _ = child.wait();
        return;
    }
    let only_e = std::env::var_os("HOWNOW_BENCH_ONLY_E").is_some();
    let (mut store, id) = bench.store("a", SyncSettings::default());
    if !only_e {
        let (full, t) = bench.sync(&mut store, id, RunKind::Full);
        println!(
        "(a) initial full sync: {} clients, {:.1} MB in {:.2} s = {:.0} clients/s ({:.1} MB/s); {} client rows written; peak RSS {:.0} MB",
        full.counts.fetched,
        full.counts.bytes as f64 / 1e6,
        t.as_secs_f64(),
        full.counts.fetched as f64 / t.as_secs_f64(),
        full.counts.bytes as f64 / 1e6 / t.as_secs_f64(),
        full.counts.client_rows_written,
        peak_rss_mb()
    );

        println!("    directory after (a): {:.1} MB", directory_mb(&store));
        if std::env::var_os("HOWNOW_BENCH_ONLY_A").is_some() {
            // For profiling the initial full sync alone.
            drop(child.stdin.take());
            let _ = child.wait();
            return;
        }

        let (again, t) = bench.sync(&mut store, id, RunKind::Full);
        println!(
        "(c) unchanged full re-sync: {} client rows written ({} unchanged, {} API calls) in {:.2} s = {:.0} clients/s",
        again.counts.client_rows_written,
        again.counts.unchanged,
        again.counts.api_calls,
        t.as_secs_f64(),
        again.counts.fetched as f64 / t.as_secs_f64()
    );

        let (changes, t) = bench.sync(&mut store, id, RunKind::Changes);
        let pages = changes.counts.api_calls - 1 - changes.counts.refetched;
        println!(
        "(d) no-change changes sync, default settings: {} API calls (1 list + {pages} contact pages of {} contacts + {} verify re-fetches), {} client rows written, {:.2} s",
        changes.counts.api_calls,
        changes.counts.contacts_fetched,
        changes.counts.refetched,
        changes.counts.client_rows_written,
        t.as_secs_f64()
    );
        store
            .update_settings(
                id,
                &SyncSettings {
                    verify_per_run: 0,
                    ..SyncSettings::default()
                },
            )
            .unwrap();
        let (changes, t) = bench.sync(&mut store, id, RunKind::Changes);
        println!(
        "(d) no-change changes sync, verify slice off: {} API calls (1 list + {} contact pages), {} client rows written, {:.2} s",
        changes.counts.api_calls,
        changes.counts.api_calls - 1,
        changes.counts.client_rows_written,
        t.as_secs_f64()
    );
    }
    drop(store);

    // The engine alone: the same clients, decoded once beforehand, from memory.
    let clients = bench.rt.block_on(async {
        let mut listing = bench.practice.list_clients(None).await.unwrap();
        let mut clients = Vec::new();
        while let Some(client) = listing.next_client().await {
            clients.push(client.unwrap());
        }
        clients
    });
    let source = MemorySource::with_clients(clients);
    let (mut store, id) = bench.store("e", SyncSettings::default());
    let lock_dir = store.lock_dir();
    let cpu = thread_cpu_secs();
    let started = Instant::now();
    let engine = bench
        .rt
        .block_on(run_sync(
            &mut store,
            &source,
            &lock_dir,
            id,
            SyncRequest::new(RunKind::Full, RunTrigger::Manual),
            &NoProgress,
        ))
        .unwrap();
    let t = started.elapsed();
    println!("    engine thread CPU: {:.2} s", thread_cpu_secs() - cpu);
    println!(
        "(e) engine alone (same clients from memory, no HTTP or XML): {} clients in {:.2} s = {:.0} clients/s",
        engine.counts.fetched,
        t.as_secs_f64(),
        engine.counts.fetched as f64 / t.as_secs_f64()
    );
    drop((store, source));
    if std::env::var_os("HOWNOW_BENCH_SKIP_B").is_some() {
        drop(child.stdin.take());
        let _ = child.wait();
        return;
    }

    bench.throttle(Some(THROTTLE));
    let (bytes, download) = bench.download_only();
    let (mut store, id) = bench.store("b", SyncSettings::default());
    let (throttled, sync) = bench.sync(&mut store, id, RunKind::Full);
    bench.throttle(None);
    assert_eq!(throttled.counts.bytes, bytes, "the same response");
    println!(
        "(b) at {:.0} MB/s: download only {:.2} s ({:.1} MB), initial full sync {:.2} s: ratio {:.3}",
        THROTTLE as f64 / 1e6,
        download.as_secs_f64(),
        bytes as f64 / 1e6,
        sync.as_secs_f64(),
        sync.as_secs_f64() / download.as_secs_f64()
    );
    println!(
        "peak RSS of this process over all runs: {:.0} MB (after (a) it was the sync's; (e) held the decoded practice)",
        peak_rss_mb()
    );
    drop(store);
    reads_during_a_sync(&bench);
    changes_at_xeros_pace(&bench);

    drop(child.stdin.take());
    let _ = child.wait();
}

/// (f): a directory of the whole practice, then a throttled full re-sync of it with readers in
/// this process and in another one; both stop when the sync ends.
fn reads_during_a_sync(bench: &Bench) {
    let (mut store, id) = bench.store("f", SyncSettings::default());
    bench.sync(&mut store, id, RunKind::Full);
    drop(store);
    let dir = bench.dir.path().join("f");
    let engine = reader_engine(&dir);
    let mut other = Command::new(std::env::current_exe().unwrap())
        .env("HOWNOW_BENCH_ROLE", "reader")
        .env("HOWNOW_BENCH_DIR", &dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(other.stdout.take().unwrap());
    let mut ready = String::new();
    out.read_line(&mut ready).unwrap();
    assert_eq!(ready.trim(), "READY");

    bench.switches(serde_json::json!({ "throttle_bytes_per_sec": FLIST_THROTTLE, "gzip": true }));
    let done = std::sync::atomic::AtomicBool::new(false);
    let (report, elapsed, here) = std::thread::scope(|s| {
        let reads =
            s.spawn(|| Latencies::measure(&engine, id, || done.load(std::sync::atomic::Ordering::SeqCst)));
        let mut store = Store::open(dir.join("hownow.sqlite3")).unwrap();
        let lock_dir = store.lock_dir();
        let started = Instant::now();
        let report = bench
            .rt
            .block_on(run_sync(
                &mut store,
                &bench.practice,
                &lock_dir,
                id,
                SyncRequest::new(RunKind::Full, RunTrigger::Manual),
                &NoProgress,
            ))
            .unwrap();
        let elapsed = started.elapsed();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        (report, elapsed, reads.join().unwrap())
    });
    std::fs::write(dir.join("stop"), b"").unwrap();
    let mut theirs = String::new();
    out.read_line(&mut theirs).unwrap();
    let _ = other.wait();
    bench.switches(serde_json::json!({ "throttle_bytes_per_sec": null }));
    println!(
        "(f) reads during a full sync of {} clients streaming at {:.1} MB/s on the wire (gzip: {:.1} MB on the wire, {:.1} MB decoded) for {:.1} s:",
        report.counts.fetched,
        FLIST_THROTTLE as f64 / 1e6,
        report.counts.bytes_on_wire as f64 / 1e6,
        report.counts.bytes as f64 / 1e6,
        elapsed.as_secs_f64()
    );
    println!("    {}", here.line("this process"));
    println!("    {}", theirs.trim());
}

/// The wire speed of (f)'s list: slow enough that the sync's transaction stays open a while.
const FLIST_THROTTLE: u64 = 500_000;

/// (g): a directory of the whole practice (synced without pacing, the sandbox's limits off), then
/// a no-change changes sync through the production client with Xero's budgets on.
fn changes_at_xeros_pace(bench: &Bench) {
    let (mut store, id) = bench.store("g", SyncSettings::default());
    bench.sync(&mut store, id, RunKind::Full);
    let paced = {
        let _guard = bench.rt.enter();
        XeroApi::new(ApiConfig {
            api_base: url::Url::parse(&bench.api).unwrap(),
            ..ApiConfig::default()
        })
        .unwrap()
        .practice(DEMO_PRACTICE.id, Arc::new(StaticToken::new(bench.token.clone())))
    };
    // Changing the limits starts the sandbox's budgets afresh: the full sync above counts for
    // nothing.
    bench.switches(serde_json::json!({
        "rate_limit_minute": 60,
        "rate_limit_day": 5000,
        "rate_limit_window_secs": 60,
        "rate_limit_burst": 2,
    }));
    let before = bench.rate_limited_calls();
    let (changes, t) = bench.sync_through(&paced, &mut store, id, RunKind::Changes);
    let refused = bench.rate_limited_calls() - before;
    bench.switches(serde_json::json!({
        "rate_limit_minute": null,
        "rate_limit_day": null,
        "rate_limit_burst": null,
    }));
    println!(
        "(g) no-change changes sync at Xero's pace (starts {:.0} s apart; sandbox: 60 a minute, 5,000 a day, 2 a second): {} API calls ({} verify re-fetches), {} client rows written, {:.1} s; 429s answered: {refused}",
        RateLimits::default().min_spacing.as_secs_f64(),
        changes.counts.api_calls,
        changes.counts.refetched,
        changes.counts.client_rows_written,
        t.as_secs_f64()
    );
    assert_eq!(refused, 0, "the paced sync met 429s");
}
