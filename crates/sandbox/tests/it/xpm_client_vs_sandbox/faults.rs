//! The fault switches: 5xx bursts and outages, truncated and malformed bodies, truncated gzip, a
//! throttled body.

use std::time::{Duration, Instant};

use crate::common::uuids;
use hownow_sandbox::Switches;
use hownow_xpm::XpmError;

use super::{active, assert_matches_record, drain, record_uuids, snapshot, start, MAX_ATTEMPTS};

fn expect_decode_error(error: Option<XpmError>, what: &str) -> hownow_xpm::DecodeError {
    match error {
        Some(XpmError::Decode(e)) => e,
        other => panic!("{what}: expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_burst_of_5xx_is_retried_away() {
    let (env, practice) = start(
        30,
        Switches {
            fail_next: 2,
            ..Switches::unlimited()
        },
    )
    .await;
    let handle = env.sandbox.practice();
    let data = snapshot(&env);

    let mut stream = practice.list_clients(None).await.unwrap();
    assert_eq!(stream.meta().attempts, 3);
    let (clients, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(uuids(&clients), record_uuids(data.clients()));

    handle.update_switches(|s| s.fail_next = 3).unwrap();
    let groups = practice.groups().await.unwrap();
    assert_eq!(groups.meta.attempts, 4);
    assert_eq!(groups.value.len(), data.groups().len());
    handle.update_switches(|s| s.fail_next = 1).unwrap();
    let walked = practice.all_paged_clients(10).await.unwrap().value;
    assert_eq!(walked.len(), data.clients().iter().filter(|c| active(c)).count());
}

#[tokio::test]
async fn endless_5xx_gives_up_after_the_last_attempt() {
    let (env, practice) = start(
        30,
        Switches {
            fail_every: 1,
            fail_status: 500,
            ..Switches::unlimited()
        },
    )
    .await;
    let handle = env.sandbox.practice();
    let started = Instant::now();
    match practice.list_clients(None).await {
        Err(e @ XpmError::Http { status: 500, .. }) => assert!(e.is_transient()),
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    assert!(matches!(
        practice.client(&snapshot(&env).clients()[0].uuid).await,
        Err(XpmError::Http { status: 500, .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Exactly MAX_ATTEMPTS tries: with that many failures queued the call fails, and the next
    // call finds none left over.
    handle
        .update_switches(|s| {
            s.fail_every = 0;
            s.fail_status = 503;
            s.fail_next = MAX_ATTEMPTS;
        })
        .unwrap();
    assert!(matches!(
        practice.groups().await,
        Err(XpmError::Http { status: 503, .. })
    ));
    assert_eq!(practice.groups().await.unwrap().meta.attempts, 1);
}

#[tokio::test]
async fn a_truncated_body_is_an_error_never_a_shorter_list() {
    // Uncompressed, so the cut falls at a known place of the document itself.
    let (env, practice) = start(
        40,
        Switches {
            gzip: false,
            ..Switches::unlimited()
        },
    )
    .await;
    let handle = env.sandbox.practice();
    let mut stream = practice.list_clients(None).await.unwrap();
    let (full, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    let size = stream.meta().bytes_received;

    let cut = size / 2;
    handle
        .update_switches(|s| s.truncate_after_bytes = Some(cut))
        .unwrap();
    let mut stream = practice
        .list_clients(None)
        .await
        .expect("the first clients arrive");
    let (partial, error) = drain(&mut stream).await;
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "{} of {}",
        partial.len(),
        full.len()
    );
    // What did arrive is right; the error says the rest did not.
    assert_eq!(partial[..], full[..partial.len()]);
    let decode = expect_decode_error(error, "list cut in half");
    assert!(decode.position <= cut, "{decode}");
    assert!(stream.meta().bytes_received <= cut);

    // Cut inside the first client: the list does not even start.
    handle
        .update_switches(|s| s.truncate_after_bytes = Some(200))
        .unwrap();
    match practice.list_clients(None).await {
        Err(XpmError::Decode(e)) => assert!(e.position <= 200, "{e}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(matches!(practice.groups().await, Err(XpmError::Decode(_))));
    assert!(matches!(
        practice.all_paged_clients(50).await,
        Err(XpmError::Decode(_))
    ));
}

#[tokio::test]
async fn malformed_xml_is_a_decode_error_with_its_position() {
    let (env, practice) = start(30, Switches::unlimited()).await;
    let data = snapshot(&env);
    env.sandbox
        .practice()
        .update_switches(|s| s.malformed_xml = true)
        .unwrap();

    let mut stream = practice
        .list_clients(None)
        .await
        .expect("the first record is whole");
    let (clients, error) = drain(&mut stream).await;
    assert!(clients.len() <= 1, "{}", clients.len());
    if let Some(first) = clients.first() {
        assert_matches_record(&data, first, &data.clients()[0]);
    }
    let decode = expect_decode_error(error, "malformed list");
    assert!(
        decode.position > 0 && decode.position <= stream.meta().bytes_received,
        "{decode}"
    );
    assert!(!decode.message.is_empty());

    for (what, result) in [
        ("groups", practice.groups().await.map(drop)),
        ("contacts", practice.all_contacts(50).await.map(drop)),
        ("client", practice.client(&data.clients()[0].uuid).await.map(drop)),
    ] {
        let decode = expect_decode_error(result.err(), what);
        assert!(decode.position > 0, "{what}: {decode}");
    }
}

#[tokio::test]
async fn a_truncated_gzip_body_is_an_error_never_a_shorter_list() {
    let (env, practice) = start(200, Switches::unlimited()).await;
    let mut stream = practice.list_clients(None).await.unwrap();
    let (full, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    let wire = stream.meta().bytes_on_wire;
    assert!(wire < stream.meta().bytes_received, "{:?}", stream.meta());

    // The cut is in the compressed bytes, as a connection dropped by the network would be.
    let cut = wire / 2;
    env.sandbox
        .practice()
        .update_switches(|s| s.truncate_after_bytes = Some(cut))
        .unwrap();
    let mut stream = practice
        .list_clients(None)
        .await
        .expect("the first clients arrive");
    let (partial, error) = drain(&mut stream).await;
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "{} of {}",
        partial.len(),
        full.len()
    );
    assert_eq!(partial[..], full[..partial.len()]);
    expect_decode_error(error, "gzip list cut in half");
    assert!(stream.meta().bytes_on_wire <= cut, "{:?}", stream.meta());
}

#[tokio::test]
async fn a_throttled_body_still_decodes_completely() {
    let (env, practice) = start(30, Switches::unlimited()).await;
    let mut stream = practice.list_clients(None).await.unwrap();
    let (unthrottled, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    let size = stream.meta().bytes_received;
    // The throttle paces the bytes on the wire (compressed).
    let wire = stream.meta().bytes_on_wire;

    // Half a second's worth of body at this rate, sent in tenth-of-a-second slices.
    env.sandbox
        .practice()
        .update_switches(|s| s.throttle_bytes_per_sec = Some(wire * 2))
        .unwrap();
    let started = Instant::now();
    let mut stream = practice.list_clients(None).await.unwrap();
    let (throttled, error) = drain(&mut stream).await;
    let took = started.elapsed();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(throttled, unthrottled);
    assert_eq!(stream.meta().bytes_received, size);
    assert_eq!(stream.meta().bytes_on_wire, wire);
    // The throttle really was in force: the last slice cannot leave before 0.4 s.
    assert!(took >= Duration::from_millis(350), "{took:?}");
}
