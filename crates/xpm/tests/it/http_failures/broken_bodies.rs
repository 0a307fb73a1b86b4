//! Truncated, malformed and hostile documents, and downloads that break off or stall.

use std::time::{Duration, Instant};

use crate::client_support::*;
use hownow_xpm::XpmError;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

use super::{drain, requests, xml, GROUPS, LIST};

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
