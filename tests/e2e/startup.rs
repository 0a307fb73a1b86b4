//! Startup and idle memory of the desktop app, measured on the real binary under a display: the
//! figures behind BENCHMARKS.md. Each launch starts from an empty data dir on the Demo practice
//! (what `cargo xtask run` shows), waits for the window's page to ask for its data, then lets the
//! app sit idle and reads the resident memory of the app and its WebKit processes.
//!
//! `dbus-run-session -- xvfb-run -a cargo test --release -p hownow-admin --test startup`

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const APP: &str = env!("CARGO_BIN_EXE_hownow-admin");
const LAUNCHES: usize = 5;
const IDLE: Duration = Duration::from_secs(10);

/// `ms=123` in a log line.
fn millis(line: &str) -> Option<u64> {
    let start = line.find("ms=")? + 3;
    line[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// A `Key:  123 kB` line of a /proc file, in KiB.
fn proc_kib(path: &str, key: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Memory (KiB) of `pid` and of every process below it: resident (RSS, shared libraries counted
/// in full in each process) and proportional (PSS, shared pages split between their users).
fn memory_tree(pid: u32) -> [u64; 4] {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The command name may hold spaces: the ppid is the second field after the last ')'.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let ppid: u32 = after.split(' ').nth(1).unwrap().parse().unwrap();
        parents.push((child, ppid));
    }
    let rss = |p: u32| proc_kib(&format!("/proc/{p}/status"), "VmRSS:");
    let pss = |p: u32| proc_kib(&format!("/proc/{p}/smaps_rollup"), "Pss:");
    let (mut below_rss, mut below_pss) = (0, 0);
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for &(child, parent) in &parents {
            if parent == p {
                below_rss += rss(child);
                below_pss += pss(child);
                frontier.push(child);
            }
        }
    }
    [rss(pid), below_rss, pss(pid), below_pss]
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "needs a display: run under `dbus-run-session -- xvfb-run -a`"
    );
    let (mut shown, mut ready) = (Vec::new(), Vec::new());
    let mut memory: [Vec<u64>; 4] = Default::default();
    for launch in 1..=LAUNCHES {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(APP)
            .env("HOWNOW_DATA_DIR", dir.path().join("data"))
            .env("XDG_DATA_HOME", dir.path().join("xdg-data"))
            .env("XDG_CONFIG_HOME", dir.path().join("xdg-config"))
            .env("HOWNOW_LOG", "info")
            .env_remove("HOWNOW_XERO_CLIENT_ID")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut s, mut r) = (None, None);
        while r.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("the window did not become ready within 30 s");
            if line.contains("window shown") {
                s = millis(&line);
            } else if line.contains("window ready") {
                r = millis(&line);
            }
        }
        std::thread::sleep(IDLE);
        let m = memory_tree(pid);
        unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
        let _ = child.wait();
        eprintln!(
            "launch {launch}: window shown {} ms, ready {} ms, idle RSS app {} + WebKit {} MiB, PSS app {} + WebKit {} MiB",
            s.unwrap_or(0),
            r.unwrap_or(0),
            m[0] / 1024,
            m[1] / 1024,
            m[2] / 1024,
            m[3] / 1024
        );
        shown.push(s.unwrap_or(0));
        ready.push(r.unwrap_or(0));
        for (all, one) in memory.iter_mut().zip(m) {
            all.push(one);
        }
    }
    println!("| figure (median of {LAUNCHES} launches) | value |");
    println!("|---|---|");
    println!("| window shown after launch | {} ms |", median(shown));
    println!(
        "| window ready (page loaded, first data request) | {} ms |",
        median(ready)
    );
    let [app_rss, webkit_rss, app_pss, webkit_pss] = memory.map(|v| median(v) / 1024);
    println!("| idle memory, app process: RSS / PSS | {app_rss} / {app_pss} MiB |");
    println!(
        "| idle memory, WebKit web and network processes: RSS / PSS | {webkit_rss} / {webkit_pss} MiB |"
    );
}
