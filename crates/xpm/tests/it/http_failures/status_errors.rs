//! 5xx bursts and outages, other 4xx, timeouts, and the ERROR envelope with 200, 4xx, 404 and
//! 500.

use std::time::{Duration, Instant};

use crate::client_support::*;
use hownow_xpm::XpmError;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{requests, xml, GROUPS, GROUPS_OK, LIST};

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
