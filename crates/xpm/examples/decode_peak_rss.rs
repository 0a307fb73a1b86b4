//! Shows that decoding memory does not grow with the document: writes generated detailed client
//! lists of about 5 MB and 50 MB to temporary files, decodes each from a `BufReader<File>` in a
//! fresh child process, and prints MB/s and the child's peak resident set size (VmHWM).
//!
//! `cargo run --profile bench -p hownow-xpm --example decode_peak_rss`

#[path = "../benches/support/generate.rs"]
mod generate;
#[path = "../benches/support/writer.rs"]
mod writer;

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use hownow_xpm::decode::{Decoder, Item};

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        // Child mode: decode one file and report; run in its own process so its peak RSS is
        // its own and not the parent's (which generated the documents).
        Some("--decode") => {
            let path = PathBuf::from(args.next().expect("a path after --decode"));
            decode_and_report(&path);
        }
        _ => parent(),
    }
}

fn parent() {
    let dir = std::env::temp_dir().join(format!("hownow-decode-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!(
        "{:>8} {:>9} {:>9} {:>12} {:>14}",
        "clients", "MB", "MB/s", "peak RSS MB", "baseline RSS MB"
    );
    for clients in [1_500usize, 15_000] {
        let path = dir.join(format!("clients-{clients}.xml"));
        write_document(&path, clients);
        let exe = std::env::current_exe().expect("own path");
        let out = Command::new(exe)
            .arg("--decode")
            .arg(&path)
            .output()
            .expect("child runs");
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{}", String::from_utf8_lossy(&out.stdout));
        std::fs::remove_file(&path).ok();
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn write_document(path: &Path, clients: usize) {
    let mut out = BufWriter::new(File::create(path).expect("create temp file"));
    generate::write_client_list(clients, |chunk| out.write_all(chunk.as_bytes()).expect("write"));
    out.flush().expect("flush");
}

fn decode_and_report(path: &Path) {
    let baseline = peak_rss_kb();
    let bytes = std::fs::metadata(path).expect("file").len();
    let reader = BufReader::with_capacity(64 * 1024, File::open(path).expect("open"));
    let started = Instant::now();
    let mut decoder = Decoder::new(reader);
    let mut clients = 0usize;
    while let Some(item) = decoder.next_item().expect("decodes") {
        if let Item::Client(c) = item {
            std::hint::black_box(&c);
            clients += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{:>8} {:>9.1} {:>9.0} {:>12.1} {:>14.1}",
        clients,
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs,
        peak_rss_kb() as f64 / 1024.0,
        baseline as f64 / 1024.0
    );
}

/// The process's peak resident set size in KiB (`VmHWM` in /proc/self/status; Linux only).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
