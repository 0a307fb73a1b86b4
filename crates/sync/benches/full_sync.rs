//! Engine throughput over the in-memory source (no HTTP, no XML): what the directory itself
//! costs. `cargo bench -p hownow-sync --bench full_sync [-- CLIENTS]`.
//!
//! Prints: initial full sync (clients/s), unchanged re-sync (client rows written, time),
//! no-change changes sync (API calls, time), peak RSS. The RSS includes the in-memory practice
//! the source holds, which a real run streams instead.

use std::time::Instant;

use hownow_sync::{
    run_sync, MemorySource, NewConnection, NoProgress, RunKind, RunTrigger, Store, SyncRequest,
};
use hownow_xpm::{Client, Contact, Note, Reference};

fn practice(n: usize) -> Vec<Client> {
    (0..n)
        .map(|i| Client {
            uuid: Some(format!("{i:08}-0000-4000-8000-000000000000")),
            name: Some(format!("Client {i} Pty Ltd")),
            email: Some(format!("client{i}@example.com")),
            phone: Some(format!("02 9{i:07}")),
            address: Some(format!("{i} Main Street\nSuite {i}")),
            city: Some("Sydney".into()),
            region: Some("NSW".into()),
            post_code: Some("2000".into()),
            client_code: Some(format!("C{i:06}")),
            business_structure: Some("Company".into()),
            account_manager: Some(Reference {
                uuid: Some("staff".into()),
                name: Some("Alex Partner".into()),
            }),
            contacts: (0..2)
                .map(|k| Contact {
                    uuid: Some(format!("{i:08}-{k:04}-4000-8000-000000000001")),
                    name: Some(format!("Given{i} Family{k}")),
                    email: Some(format!("p{i}.{k}@example.com")),
                    mobile: Some(format!("04{i:08}")),
                    is_primary: Some(k == 0),
                    position: Some("Director".into()),
                    ..Default::default()
                })
                .collect(),
            notes: vec![Note {
                title: Some("Onboarding".into()),
                text: Some("x".repeat(400)),
                ..Default::default()
            }],
            groups: vec![Reference {
                uuid: Some(format!("group-{}", i % 20)),
                name: Some(format!("Group {}", i % 20)),
            }],
            ..Default::default()
        })
        .collect()
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(15_000);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("hownow.sqlite3")).unwrap();
    let connection = store
        .create_connection(&NewConnection {
            xero_connection_id: "x".into(),
            tenant_id: "t".into(),
            tenant_name: "Bench".into(),
            ..Default::default()
        })
        .unwrap();
    let source = MemorySource::with_clients(practice(n));
    let locks = dir.path().join("locks");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut run = |kind| {
        let started = Instant::now();
        let report = rt
            .block_on(run_sync(
                &mut store,
                &source,
                &locks,
                connection.id,
                SyncRequest::new(kind, RunTrigger::Manual),
                &NoProgress,
            ))
            .unwrap();
        (report, started.elapsed())
    };
    let (full, t) = run(RunKind::Full);
    println!(
        "initial full sync: {n} clients in {:.2} s = {:.0} clients/s ({} rows written)",
        t.as_secs_f64(),
        n as f64 / t.as_secs_f64(),
        full.counts.client_rows_written
    );
    let (again, t) = run(RunKind::Full);
    println!(
        "unchanged full re-sync: {} client rows written, {:.2} s = {:.0} clients/s",
        again.counts.client_rows_written,
        t.as_secs_f64(),
        n as f64 / t.as_secs_f64()
    );
    source.advance(time::Duration::hours(6));
    let (changes, t) = run(RunKind::Changes);
    println!(
        "no-change changes sync: {} API calls (1 list + {} contact pages + {} verified), {:.2} s",
        changes.counts.api_calls,
        changes.counts.api_calls - 1 - changes.counts.refetched,
        changes.counts.refetched,
        t.as_secs_f64()
    );
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS: {mb:.0} MB (includes the in-memory practice)");
    }
}
