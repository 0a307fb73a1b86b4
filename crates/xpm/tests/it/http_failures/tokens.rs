//! 401 and 403: a token that cannot be renewed, renewal of a refused token and its bound, and
//! a forbidden tenant.

use std::sync::{Arc, Mutex};

use crate::client_support::*;
use hownow_xpm::XpmError;
use serde_json::json;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{drain, requests, xml, GROUPS, GROUPS_OK, LIST};

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
