//! Every failure a caller must be able to act on, and the rate limits: 401/403/429 (both kinds),
//! 5xx bursts and outages, timeouts, ERROR with HTTP 200, truncated/malformed/hostile bodies,
//! downloads that break off or stall, in-flight and per-window limits.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client_support::*;
use hownow_xpm::{RateLimitKind, XpmError};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const GROUPS: &str = "/practicemanager/3.1/clientgroup.api/list";
const LIST: &str = "/practicemanager/3.1/client.api/list";
const GROUPS_OK: &str = "<Response><Status>OK</Status><Groups><Group><UUID>g1</UUID><Name>Monthly</Name></Group></Groups></Response>";

fn xml(body: impl Into<String>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml")
        .set_body_string(body.into())
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

/// Reads a client stream to its end; returns the clients and the error it ended with, if any.
async fn drain(mut stream: hownow_xpm::ClientStream) -> (Vec<hownow_xpm::Client>, Option<XpmError>) {
    let mut clients = Vec::new();
    while let Some(next) = stream.next_client().await {
        match next {
            Ok(c) => clients.push(c),
            Err(e) => {
                assert!(stream.next_client().await.is_none(), "nothing after an error");
                return (clients, Some(e));
            }
        }
    }
    (clients, None)
}

#[tokio::test]
async fn unauthorized_with_a_token_that_cannot_be_renewed_is_a_refused_token_not_reauthorisation() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired at 01/02/2024 10:00:00"
        })))
        .mount(&server)
        .await;
    // A static token: the source has no other one to give.
    let err = practice(&server.uri()).groups().await.unwrap_err();
    match &err {
        XpmError::AccessTokenRefused { tokens: 1, reason } => {
            assert!(reason.starts_with("TokenExpired"), "{reason}")
        }
        other => panic!("expected AccessTokenRefused, got {other:?}"),
    }
    assert!(!err.is_transient());
    assert!(!err.to_string().contains(TOKEN));
    assert_eq!(requests(&server).await, 1, "not retried");
}

/// A token source that renews: hands out `tokens` in turn, moving on when one is rejected.
struct Renewing {
    tokens: Vec<&'static str>,
    current: Mutex<usize>,
    rejected: Mutex<Vec<String>>,
}

impl hownow_xpm::AccessTokenSource for Renewing {
    fn access_token(&self) -> futures_util::future::BoxFuture<'_, Result<hownow_xpm::Secret, XpmError>> {
        let token = self.tokens[*self.current.lock().unwrap()];
        Box::pin(async move { Ok(hownow_xpm::Secret::new(token)) })
    }

    fn token_rejected<'a>(
        &'a self,
        token: &'a hownow_xpm::Secret,
    ) -> futures_util::future::BoxFuture<'a, bool> {
        self.rejected.lock().unwrap().push(token.expose().to_string());
        let mut current = self.current.lock().unwrap();
        *current = (*current + 1).min(self.tokens.len() - 1);
        Box::pin(async { true })
    }
}

/// A client of `server` whose tokens come from a [`Renewing`] source over `tokens`.
fn renewing(server: &MockServer, tokens: &[&'static str]) -> (Arc<Renewing>, hownow_xpm::PracticeClient) {
    let source = Arc::new(Renewing {
        tokens: tokens.to_vec(),
        current: Mutex::new(0),
        rejected: Mutex::new(Vec::new()),
    });
    let practice = hownow_xpm::XeroApi::new(api_config(&server.uri()))
        .unwrap()
        .practice(TENANT, source.clone());
    (source, practice)
}

fn expired() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({
        "Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired at 01/02/2024 10:00:00"
    }))
}

#[tokio::test]
async fn an_access_token_refused_as_expired_is_renewed_and_the_request_sent_again() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .and(header("authorization", "Bearer early-dead"))
        .respond_with(expired())
        .mount(&server)
        .await;
    Mock::given(path(GROUPS))
        .and(header("authorization", "Bearer fresh"))
        .respond_with(xml(GROUPS_OK))
        .mount(&server)
        .await;
    let (source, practice) = renewing(&server, &["early-dead", "fresh"]);
    let groups = practice.groups().await.unwrap();
    assert_eq!(groups.value.len(), 1);
    assert_eq!(*source.rejected.lock().unwrap(), ["early-dead"]);
    assert_eq!(requests(&server).await, 2);

    // Fresh tokens refused again and again: renewed up to the bound, then a refused-token error
    // (never "log in again": the refresh itself worked).
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(expired())
        .mount(&server)
        .await;
    let (source, practice) = renewing(&server, &["early-dead", "dead-1", "dead-2", "dead-3", "unused"]);
    let err = practice.groups().await.unwrap_err();
    match &err {
        XpmError::AccessTokenRefused { tokens, reason } => {
            assert_eq!(*tokens, hownow_xpm::MAX_TOKEN_RENEWALS + 1);
            assert!(reason.starts_with("TokenExpired"), "{reason}");
        }
        other => panic!("expected AccessTokenRefused, got {other:?}"),
    }
    assert!(err.to_string().contains("refused 4 access tokens"), "{err}");
    assert_eq!(requests(&server).await, 4, "three renewals, not a loop");
    assert_eq!(
        *source.rejected.lock().unwrap(),
        ["early-dead", "dead-1", "dead-2", "dead-3"]
    );
}

#[tokio::test]
async fn any_401_on_an_api_call_renews_the_token_not_only_token_expired() {
    let server = MockServer::start().await;
    Mock::given(path(LIST))
        .and(header("authorization", "Bearer unknown-to-xero"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "Title": "Unauthorized", "Status": 401, "Detail": "AuthenticationUnsuccessful"
        })))
        .mount(&server)
        .await;
    Mock::given(path(LIST))
        .and(header("authorization", "Bearer fresh"))
        .respond_with(xml(clients_response(&[("u1", "One")])))
        .mount(&server)
        .await;
    let (source, practice) = renewing(&server, &["unknown-to-xero", "fresh"]);
    let stream = practice.list_clients(None).await.unwrap();
    assert_eq!(stream.meta().attempts, 1, "a renewal is not a retry");
    let (clients, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), 1);
    assert_eq!(*source.rejected.lock().unwrap(), ["unknown-to-xero"]);
}

#[tokio::test]
async fn forbidden_is_its_own_error() {
    let server = MockServer::start().await;
    Mock::given(path(LIST))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "Title": "Forbidden", "Status": 403, "Detail": "AuthenticationUnsuccessful"
        })))
        .mount(&server)
        .await;
    let err = practice(&server.uri()).list_clients(None).await.unwrap_err();
    assert!(
        matches!(&err, XpmError::Forbidden { detail } if detail == "AuthenticationUnsuccessful"),
        "{err:?}"
    );
    assert_eq!(requests(&server).await, 1, "not retried");
}

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

#[tokio::test]
async fn a_burst_of_server_errors_is_retried_until_success() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(GROUPS))
        .respond_with(xml(GROUPS_OK))
        .mount(&server)
        .await;
    let groups = practice(&server.uri()).groups().await.unwrap();
    assert_eq!(groups.value.len(), 1);
    assert_eq!(groups.meta.attempts, 3);
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn server_errors_forever_give_up_after_the_configured_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .mount(&server)
        .await;
    let mut config = api_config(&server.uri());
    config.retry = fast_retry(4);
    let err = practice_with(config).list_clients(None).await.unwrap_err();
    assert!(
        matches!(&err, XpmError::Http { status: 500, body } if body == "boom"),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(requests(&server).await, 4);
}

#[tokio::test]
async fn connections_retry_server_errors_too() {
    let server = MockServer::start().await;
    Mock::given(path("/connections"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/connections"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let api = hownow_xpm::XeroApi::new(api_config(&server.uri())).unwrap();
    let fetched = api.connections(&hownow_xpm::Secret::new(TOKEN)).await.unwrap();
    assert!(fetched.value.is_empty());
    assert_eq!(fetched.meta.attempts, 2);
}

#[tokio::test]
async fn other_client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(ResponseTemplate::new(400).set_body_string("bad request"))
        .mount(&server)
        .await;
    let err = practice(&server.uri()).groups().await.unwrap_err();
    assert!(matches!(err, XpmError::Http { status: 400, .. }), "{err:?}");
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_server_that_does_not_answer_times_out() {
    let server = MockServer::start().await;
    Mock::given(path(GROUPS))
        .respond_with(xml(GROUPS_OK).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let mut config = api_config(&server.uri());
    config.http.response_timeout = Duration::from_millis(200);
    config.retry = fast_retry(2);
    let started = Instant::now();
    let err = practice_with(config).groups().await.unwrap_err();
    assert!(matches!(err, XpmError::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(requests(&server).await, 2, "a timeout is retried");
}

#[tokio::test]
async fn error_status_with_http_200_is_an_api_error() {
    let server = MockServer::start().await;
    Mock::given(path(LIST))
        .respond_with(xml(error_response("Invalid client identifier")))
        .mount(&server)
        .await;
    let err = practice(&server.uri()).list_clients(None).await.unwrap_err();
    assert!(
        matches!(&err, XpmError::Api { description } if description == "Invalid client identifier"),
        "{err:?}"
    );
    assert_eq!(requests(&server).await, 1, "an API error is final");
}

#[tokio::test]
async fn error_envelope_with_a_4xx_status_is_an_api_error() {
    let server = MockServer::start().await;
    Mock::given(path("/practicemanager/3.1/client.api/get/nope"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "text/xml")
                .set_body_string(error_response("Bad request")),
        )
        .mount(&server)
        .await;
    let err = practice(&server.uri()).client("nope").await.unwrap_err();
    assert!(
        matches!(&err, XpmError::Api { description } if description == "Bad request"),
        "{err:?}"
    );
    assert!(!err.is_not_found() && !err.is_transient());
}

#[tokio::test]
async fn a_404_is_not_found_whatever_its_body_and_keeps_the_envelope_description() {
    let server = MockServer::start().await;
    Mock::given(path("/practicemanager/3.1/client.api/get/nope"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("content-type", "text/xml")
                .set_body_string(error_response("Client not found")),
        )
        .mount(&server)
        .await;
    let err = practice(&server.uri()).client("nope").await.unwrap_err();
    assert!(
        matches!(&err, XpmError::Http { status: 404, body } if body == "Client not found"),
        "{err:?}"
    );
    assert!(err.is_not_found());
    assert_eq!(requests(&server).await, 1, "a 404 is final");
}

#[tokio::test]
async fn a_500_with_the_error_envelope_is_transient_and_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/practicemanager/3.1/client.api/get/c1"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("content-type", "text/xml")
                .set_body_string(error_response("An error has occurred")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/practicemanager/3.1/client.api/get/c1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/xml")
                .set_body_string(
                    "<Response><Status>OK</Status><Client><UUID>c1</UUID><Name>A</Name></Client></Response>",
                ),
        )
        .mount(&server)
        .await;
    let fetched = practice(&server.uri()).client("c1").await.unwrap();
    assert_eq!(fetched.value.uuid.as_deref(), Some("c1"));
    assert_eq!(requests(&server).await, 2, "retried once");

    let e = XpmError::Http {
        status: 500,
        body: "An error has occurred".into(),
    };
    assert!(e.is_transient() && !e.is_not_found());
    let invalid = XpmError::Api {
        description: "Invalid client identifier".into(),
    };
    assert!(invalid.is_not_found() && !invalid.is_transient());
}

#[tokio::test]
async fn a_truncated_document_is_a_decode_error_never_a_short_list() {
    let server = MockServer::start().await;
    let full = many_clients_response(50);
    let cut = full[..full.len() * 2 / 3].to_string();
    Mock::given(path(LIST))
        .respond_with(xml(cut))
        .mount(&server)
        .await;
    let stream = practice(&server.uri()).list_clients(None).await.unwrap();
    let (clients, error) = drain(stream).await;
    assert!(!clients.is_empty() && clients.len() < 50);
    assert!(matches!(error, Some(XpmError::Decode(_))), "{error:?}");
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_document_cut_before_the_first_client_fails_the_call() {
    let server = MockServer::start().await;
    Mock::given(path(LIST))
        .respond_with(xml("<Response><Status>OK</Status><Clients><Client><UUID>a</UU"))
        .mount(&server)
        .await;
    let err = practice(&server.uri()).list_clients(None).await.unwrap_err();
    assert!(matches!(err, XpmError::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn malformed_and_non_xml_bodies_are_decode_errors() {
    for body in [
        "<Response><Status>OK</Status><Groups><Group><UUID>g1</UUID></Grop></Groups></Response>",
        r#"{"Groups": []}"#,
        "<html><body>Service Unavailable</body></html>",
        "",
    ] {
        let server = MockServer::start().await;
        Mock::given(path(GROUPS))
            .respond_with(xml(body))
            .mount(&server)
            .await;
        let err = practice(&server.uri()).groups().await.unwrap_err();
        match err {
            XpmError::Decode(e) => assert!(!e.message.is_empty()),
            other => panic!("{body:?}: expected a decode error, got {other:?}"),
        }
        assert_eq!(requests(&server).await, 1, "{body:?}: a decode error is final");
    }
}

#[tokio::test]
async fn entity_declarations_are_refused() {
    let server = MockServer::start().await;
    let hostile = r#"<?xml version="1.0"?><!DOCTYPE Response [<!ENTITY boom "kaboom">]><Response><Status>OK</Status><Clients><Client><UUID>a</UUID><Name>&boom;</Name></Client></Clients></Response>"#;
    Mock::given(path(LIST))
        .respond_with(xml(hostile))
        .mount(&server)
        .await;
    let err = practice(&server.uri()).list_clients(None).await.unwrap_err();
    assert!(matches!(err, XpmError::Decode(_)), "{err:?}");
}

fn split_clients(n: usize, keep_clients: usize) -> (String, String) {
    let full = many_clients_response(n);
    let marker = format!("<Client><UUID>uuid-{keep_clients}</UUID>");
    let at = full.find(&marker).unwrap();
    (full[..at].to_string(), full[at..].to_string())
}

#[tokio::test]
async fn a_download_broken_off_after_clients_were_handed_out_ends_the_stream_with_an_error() {
    let (head, _rest) = split_clients(20, 5);
    let (base, count) = raw_server(vec![RawResponse::xml(
        Some(head.len() + 10_000),
        vec![&head],
        Duration::ZERO,
    )])
    .await;
    let stream = practice(&base).list_clients(None).await.unwrap();
    let (clients, error) = drain(stream).await;
    assert_eq!(clients.len(), 5);
    assert!(matches!(error, Some(XpmError::Transport(_))), "{error:?}");
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "no retry once clients were handed out"
    );
}

#[tokio::test]
async fn a_connection_closed_mid_document_without_a_length_is_a_decode_error() {
    let (head, _rest) = split_clients(20, 5);
    let (base, _) = raw_server(vec![RawResponse::xml(None, vec![&head], Duration::ZERO)]).await;
    let stream = practice(&base).list_clients(None).await.unwrap();
    let (clients, error) = drain(stream).await;
    assert_eq!(clients.len(), 5);
    assert!(matches!(error, Some(XpmError::Decode(_))), "{error:?}");
}

#[tokio::test]
async fn a_download_broken_off_before_anything_was_handed_out_is_retried() {
    let full = many_clients_response(3);
    let broken = RawResponse::xml(Some(full.len()), vec![&full[..30]], Duration::ZERO);
    let good = RawResponse::xml(Some(full.len()), vec![&full], Duration::ZERO);
    let (base, count) = raw_server(vec![broken, good]).await;
    let stream = practice(&base).list_clients(None).await.unwrap();
    assert_eq!(stream.meta().attempts, 2);
    let (clients, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), 3);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_download_that_keeps_breaking_gives_up_with_a_transport_error() {
    let (base, count) = raw_server(vec![RawResponse::xml(
        Some(5_000),
        vec!["<Response><Status>OK</Status><Groups>"],
        Duration::ZERO,
    )])
    .await;
    let err = practice(&base).groups().await.unwrap_err();
    assert!(matches!(err, XpmError::Transport(_)), "{err:?}");
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "max_attempts tries"
    );
}

#[tokio::test]
async fn a_stalled_body_times_out() {
    let (head, rest) = split_clients(10, 4);
    let total = head.len() + rest.len();
    let (base, _) = raw_server(vec![RawResponse::xml(
        Some(total),
        vec![&head, &rest],
        Duration::from_secs(4),
    )])
    .await;
    let mut config = api_config(&base);
    config.http.list_idle_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let stream = practice_with(config).list_clients(None).await.unwrap();
    let (clients, error) = drain(stream).await;
    assert_eq!(clients.len(), 4);
    assert!(matches!(error, Some(XpmError::Timeout(_))), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
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

#[tokio::test]
async fn a_list_without_a_first_byte_is_retried_once_and_both_tries_are_counted() {
    let full = many_clients_response(3);
    let good = RawResponse::xml(Some(full.len()), vec![&full], Duration::ZERO);
    let (base, count) = raw_server(vec![RawResponse::silent(), good]).await;
    let mut config = api_config(&base);
    config.http.list_response_timeout = Duration::from_millis(300);
    let (stream, attempts) = practice_with(config).list_clients_counted(None).await;
    let stream = stream.unwrap();
    assert_eq!(
        attempts,
        hownow_xpm::Attempts {
            attempts: 2,
            timeouts: 1
        }
    );
    assert_eq!((stream.meta().attempts, stream.meta().timeouts), (2, 1));
    let (clients, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), 3);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_list_that_times_out_twice_is_not_tried_a_third_time() {
    let (base, count) = raw_server(vec![RawResponse::silent()]).await;
    let mut config = api_config(&base);
    config.http.list_response_timeout = Duration::from_millis(200);
    config.retry = fast_retry(4);
    let (result, attempts) = practice_with(config).list_clients_counted(None).await;
    assert!(matches!(result, Err(XpmError::Timeout(_))), "{result:?}");
    assert_eq!(
        attempts,
        hownow_xpm::Attempts {
            attempts: 2,
            timeouts: 2
        }
    );
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_list_that_stalls_before_its_first_client_is_retried_once() {
    let full = many_clients_response(3);
    // Headers and the envelope's start, then nothing for far longer than the stall timeout.
    let stalled = RawResponse::xml(
        Some(full.len()),
        vec![&full[..40], &full[40..]],
        Duration::from_secs(600),
    );
    let good = RawResponse::xml(Some(full.len()), vec![&full], Duration::ZERO);
    let (base, count) = raw_server(vec![stalled, good]).await;
    let mut config = api_config(&base);
    config.http.list_idle_timeout = Duration::from_millis(300);
    let stream = practice_with(config).list_clients(None).await.unwrap();
    assert_eq!((stream.meta().attempts, stream.meta().timeouts), (2, 1));
    let (clients, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), 3);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn other_failures_of_the_list_keep_the_retry_policy() {
    let full = many_clients_response(2);
    let broken = RawResponse::xml(Some(full.len()), vec![&full[..30]], Duration::ZERO);
    let good = RawResponse::xml(Some(full.len()), vec![&full], Duration::ZERO);
    let (base, count) = raw_server(vec![broken.clone(), broken, good]).await;
    let (stream, attempts) = practice(&base).list_clients_counted(None).await;
    assert_eq!(
        attempts,
        hownow_xpm::Attempts {
            attempts: 3,
            timeouts: 0
        }
    );
    assert_eq!(drain(stream.unwrap()).await.0.len(), 2);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn small_requests_keep_their_own_short_timeouts() {
    let (base, count) = raw_server(vec![RawResponse::silent()]).await;
    let mut config = api_config(&base);
    // Were the list's timeouts used, this would wait ten minutes.
    config.http.list_response_timeout = Duration::from_secs(600);
    config.http.response_timeout = Duration::from_millis(200);
    config.retry = fast_retry(2);
    let err = practice_with(config).client("uuid-1").await.unwrap_err();
    assert!(matches!(err, XpmError::Timeout(_)), "{err:?}");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_small_request_that_timed_out_then_worked_counts_the_timeout() {
    let groups = GROUPS_OK.to_string();
    let good = RawResponse::xml(Some(groups.len()), vec![&groups], Duration::ZERO);
    let (base, _) = raw_server(vec![RawResponse::silent(), good]).await;
    let mut config = api_config(&base);
    config.http.response_timeout = Duration::from_millis(200);
    let groups = practice_with(config).groups().await.unwrap();
    assert_eq!((groups.meta.attempts, groups.meta.timeouts), (2, 1));
    assert_eq!(groups.value.len(), 1);
}
