//! 429s of both kinds, the in-flight cap, pacing to the window, and one limiter per tenant.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client_support::*;
use hownow_xpm::{RateLimitKind, XpmError};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::{requests, xml, GROUPS, GROUPS_OK, LIST};

#[tokio::test]
async fn minute_rate_limit_waits_retry_after_and_completes() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-problem", "minute")
                .insert_header("retry-after", "1")
                .insert_header("x-minlimit-remaining", "0"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(GROUPS))
        .respond_with(xml(GROUPS_OK))
        .mount(&server)
        .await;

    let started = Instant::now();
    let groups = practice(&server.uri()).groups().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "waited Retry-After");
    assert_eq!(groups.value.len(), 1);
    assert_eq!(groups.meta.attempts, 2);
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn minute_rate_limit_longer_than_the_cap_is_returned() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-problem", "minute")
                .insert_header("retry-after", "45"),
        )
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = practice(&server.uri()).groups().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(err, XpmError::RateLimited { kind: RateLimitKind::Minute, retry_after: Some(d) } if d == Duration::from_secs(45)),
        "{err:?}"
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn day_rate_limit_returns_at_once() {
    let server = MockServer::start().await;
    Mock::given(path(LIST))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-problem", "day")
                .insert_header("retry-after", "50000")
                .insert_header("x-daylimit-remaining", "0"),
        )
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = practice(&server.uri()).list_clients(None).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no waiting on a day limit"
    );
    assert!(
        matches!(err, XpmError::RateLimited { kind: RateLimitKind::Day, retry_after: Some(d) } if d == Duration::from_secs(50000)),
        "{err:?}"
    );
    assert_eq!(requests(&server).await, 1);
}

/// Records when each request arrived and answers after a fixed delay, so overlap can be
/// computed afterwards: a request is in flight from its arrival until arrival + delay.
struct RecordingResponder {
    arrivals: Arc<Mutex<Vec<Instant>>>,
    delay: Duration,
}

impl Respond for RecordingResponder {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        self.arrivals.lock().unwrap().push(Instant::now());
        xml(GROUPS_OK).set_delay(self.delay)
    }
}

#[tokio::test]
async fn no_more_than_the_configured_requests_are_in_flight() {
    let server = MockServer::start().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let delay = Duration::from_millis(300);
    Mock::given(path(GROUPS))
        .respond_with(RecordingResponder {
            arrivals: arrivals.clone(),
            delay,
        })
        .mount(&server)
        .await;
    let mut config = api_config(&server.uri());
    config.rate_limits.max_in_flight = 3;
    let client = practice_with(config);

    let calls: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.groups().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 10);
    // A slot is only freed once a response has fully arrived, i.e. at least `delay` after its
    // request arrived; so the requests arriving within any `delay` span are the ones in flight.
    let peak = arrivals
        .iter()
        .map(|&start| {
            arrivals
                .iter()
                .filter(|&&t| t >= start && t < start + delay)
                .count()
        })
        .max()
        .unwrap();
    assert_eq!(peak, 3, "arrivals: {arrivals:?}");
}

#[tokio::test]
async fn requests_are_paced_to_the_window() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(xml(GROUPS_OK))
        .mount(&server)
        .await;
    let mut config = api_config(&server.uri());
    config.rate_limits.max_per_window = 2;
    config.rate_limits.window = Duration::from_millis(300);
    let client = practice_with(config);
    let started = Instant::now();
    for _ in 0..5 {
        client.groups().await.unwrap();
    }
    // Starts at 0, 0, 300, 300, 600 ms at the earliest.
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await, 5);
}

#[tokio::test]
async fn no_calls_left_this_minute_holds_the_next_request_back() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(xml(GROUPS_OK).insert_header("x-minlimit-remaining", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(GROUPS))
        .respond_with(xml(GROUPS_OK))
        .mount(&server)
        .await;
    let mut config = api_config(&server.uri());
    config.rate_limits.window = Duration::from_millis(400);
    let client = practice_with(config);
    let started = Instant::now();
    let first = client.groups().await.unwrap();
    assert_eq!(first.meta.min_limit_remaining, Some(0));
    client.groups().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn clients_of_the_same_tenant_share_one_limiter() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(xml(GROUPS_OK))
        .mount(&server)
        .await;
    let mut config = api_config(&server.uri());
    config.rate_limits.max_per_window = 1;
    config.rate_limits.window = Duration::from_secs(1);
    let api = hownow_xpm::XeroApi::new(config).unwrap();
    let token: Arc<dyn hownow_xpm::AccessTokenSource> = Arc::new(hownow_xpm::StaticToken::new(TOKEN));
    let a = api.practice(TENANT, token.clone());
    let b = api.practice(TENANT, token.clone());
    let other = api.practice("another-tenant", token);
    let started = Instant::now();
    a.groups().await.unwrap();
    other.groups().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "another tenant is not held back"
    );
    b.groups().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "same tenant waits for the window"
    );
}
