//! The same seed serves the same practice, byte for byte; another seed serves another one.

use crate::common::start_with;

async fn detailed_list(seed: u64) -> String {
    let env = start_with(|c| {
        c.seed = seed;
        c.clients = 400;
    })
    .await;
    let xml = env.xml("client.api/list?detailed=true").await;
    env.sandbox.shutdown().await;
    xml
}

#[tokio::test]
async fn same_seed_same_bytes_other_seed_other_practice() {
    let first = detailed_list(1234).await;
    let again = detailed_list(1234).await;
    let other = detailed_list(1235).await;
    assert!(first.len() > 100_000, "{} bytes", first.len());
    assert!(first == again, "two runs with one seed differ");
    assert_ne!(first, other);
}
