//! Xero's rate limits: a minute 429 waited out or, when too long, returned at once; the day
//! limit stops the client at once.

use std::time::{Duration, Instant};

use hownow_sandbox::Switches;
use hownow_xpm::{RateLimitKind, XpmError};

use super::{active, assert_matches_record, drain, snapshot, start};

#[tokio::test]
async fn the_client_waits_out_a_minute_429_and_completes() {
    // Two calls per two-second "minute", so the wait Xero asks for is short.
    let (env, practice) = start(
        30,
        Switches {
            rate_limit_minute: Some(2),
            rate_limit_window_secs: 2,
            rate_limit_day: None,
            ..Switches::default()
        },
    )
    .await;
    let data = snapshot(&env);
    let started = Instant::now();
    let mut attempts = Vec::new();

    let mut stream = practice.list_clients(None).await.unwrap();
    attempts.push(stream.meta().attempts);
    let (clients, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), data.clients().len());
    let groups = practice.groups().await.unwrap();
    attempts.push(groups.meta.attempts);
    assert_eq!(groups.value.len(), data.groups().len());
    let record = &data.clients()[0];
    let one = practice.client(&record.uuid).await.unwrap();
    attempts.push(one.meta.attempts);
    assert_matches_record(&data, &one.value, record);
    let paged = practice.paged_clients(500, None).await.unwrap();
    attempts.push(paged.meta.attempts);
    assert_eq!(
        paged.value.items.len(),
        data.clients().iter().filter(|c| active(c)).count()
    );

    assert!(
        attempts.iter().any(|&a| a > 1),
        "four calls at two per window must meet a 429: {attempts:?}"
    );
    // Retry-After is at least a second, and the client honoured it.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_minute_429_longer_than_the_client_will_wait_is_returned_at_once() {
    // Xero's real 60-second window: its Retry-After exceeds the client's 5-second cap.
    let (_env, practice) = start(
        30,
        Switches {
            rate_limit_minute: Some(1),
            rate_limit_day: None,
            ..Switches::default()
        },
    )
    .await;
    practice.groups().await.unwrap();
    let started = Instant::now();
    match practice.groups().await {
        Err(XpmError::RateLimited {
            kind: RateLimitKind::Minute,
            retry_after: Some(wait),
        }) => assert!(wait > Duration::from_secs(5), "{wait:?}"),
        other => panic!("expected a minute rate limit, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_day_limit_stops_the_client_at_once() {
    let (env, practice) = start(
        30,
        Switches {
            rate_limit_minute: None,
            rate_limit_day: Some(2),
            ..Switches::default()
        },
    )
    .await;
    let groups = practice.groups().await.unwrap();
    assert_eq!(groups.meta.day_limit_remaining, Some(1));
    let mut stream = practice.list_clients(None).await.unwrap();
    assert_eq!(stream.meta().day_limit_remaining, Some(0));
    assert_eq!(drain(&mut stream).await.0.len(), snapshot(&env).clients().len());

    let started = Instant::now();
    let error = practice.list_clients(None).await.err();
    match &error {
        Some(XpmError::RateLimited {
            kind: RateLimitKind::Day,
            retry_after: Some(wait),
        }) => assert!(*wait > Duration::from_secs(3_600), "{wait:?}"),
        other => panic!("expected the day limit, got {other:?}"),
    }
    assert!(!error.unwrap().is_transient());
    assert!(matches!(
        practice.all_contacts(100).await,
        Err(XpmError::RateLimited {
            kind: RateLimitKind::Day,
            ..
        })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
