//! Decoding throughput on a generated detailed client list of 15,000 clients (about 50 MB), the
//! size a large practice's `client.api/list?detailed=true` reaches.
//!
//! `cargo bench -p hownow-xpm --bench decode`. Peak memory is measured by the
//! `decode_peak_rss` example (see BENCHMARKS.md).

#[path = "support/generate.rs"]
mod generate;
#[path = "support/writer.rs"]
mod writer;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hownow_xpm::decode::{Decoder, Item};

const CLIENTS: usize = 15_000;

/// Decodes every record and counts the clients, so nothing can be optimised away.
fn decode_count(doc: &[u8]) -> usize {
    let mut decoder = Decoder::new(doc);
    let mut clients = 0;
    while let Some(item) = decoder.next_item().expect("generated document decodes") {
        if let Item::Client(c) = item {
            black_box(&c);
            clients += 1;
        }
    }
    clients
}

fn decode_detailed_list(c: &mut Criterion) {
    let doc = generate::client_list(CLIENTS);
    assert_eq!(decode_count(doc.as_bytes()), CLIENTS);
    eprintln!("document: {CLIENTS} clients, {:.1} MB", doc.len() as f64 / 1e6);

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(doc.len() as u64));
    // A 50 MB document takes a fraction of a second; ten samples keep the run near a minute on
    // a shared two-core machine while still giving a stable mean.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("detailed_client_list_15000", |b| {
        b.iter(|| decode_count(black_box(doc.as_bytes())))
    });
    group.finish();
}

criterion_group!(benches, decode_detailed_list);
criterion_main!(benches);
