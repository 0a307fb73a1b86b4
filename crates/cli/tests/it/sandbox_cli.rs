//! `hownow sandbox` as a user runs it: it prints where it listens, serves, applies its flags,
//! and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Kills the child on the way out, whatever happens in the test.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A plain HTTP/1.1 GET on loopback; returns the status line and the body.
fn get(base: &str, path: &str) -> (String, String) {
    let authority = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    let status = head.lines().next().unwrap_or_default().to_string();
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    (status, if chunked { dechunk(body) } else { body.to_string() })
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

#[test]
fn prints_its_urls_serves_with_its_flags_and_stops_on_sigterm() {
    let child = Command::new(env!("CARGO_BIN_EXE_hownow"))
        .args([
            "sandbox",
            "--clients=40",
            "--seed=3",
            "--auto-consent",
            "--rate-limit-minute=0",
            "--ignore-page",
            "--no-defect",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("hownow starts");
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();

    // Read the announced URLs on a thread, so a silent child cannot hang the test.
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut announced = Vec::new();
    while !announced.iter().any(|l: &String| l.starts_with("Admin: ")) {
        let left = deadline.saturating_duration_since(Instant::now());
        announced.push(
            lines_rx
                .recv_timeout(left)
                .expect("the sandbox announces its URLs"),
        );
    }
    let url = |prefix: &str| {
        announced
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} line in {announced:?}"))
            .to_string()
    };
    let (issuer, api, admin) = (url("Issuer: "), url("API: "), url("Admin: "));
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    assert_eq!(api, issuer);
    assert_eq!(admin, format!("{issuer}/admin"));

    let (status, discovery) = get(&issuer, "/.well-known/openid-configuration");
    assert!(status.contains("200"), "{status}");
    let discovery: serde_json::Value = serde_json::from_str(&discovery).expect("discovery JSON");
    assert_eq!(discovery["issuer"], issuer.as_str());

    let (status, state) = get(&issuer, "/admin/state");
    assert!(status.contains("200"), "{status}");
    let state: serde_json::Value = serde_json::from_str(&state).expect("state JSON");
    assert_eq!(state["tenants"][0]["counts"]["clients"], 40);
    let switches = &state["switches"];
    assert_eq!(switches["rate_limit_minute"], serde_json::Value::Null);
    assert_eq!(switches["rate_limit_day"], 5000);
    assert_eq!(switches["ignore_page"], true);
    assert_eq!(switches["defect"], false);

    // SIGTERM, by this child's PID only.
    let pid = running.0.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = running.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the sandbox did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

#[test]
fn refuses_a_non_loopback_address_unless_allowed_and_one_it_cannot_bind() {
    let output = Command::new(env!("CARGO_BIN_EXE_hownow"))
        .args(["sandbox", "--listen=192.0.2.1:1", "--clients=1"])
        .output()
        .expect("hownow runs");
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("loopback only") && stderr.contains("--allow-remote"),
        "{stderr}"
    );

    // Allowed, the address (a documentation range, on no interface here) cannot be bound.
    let output = Command::new(env!("CARGO_BIN_EXE_hownow"))
        .args(["sandbox", "--listen=192.0.2.1:1", "--allow-remote", "--clients=1"])
        .output()
        .expect("hownow runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("starting the sandbox on 192.0.2.1:1"), "{stderr}");
}
