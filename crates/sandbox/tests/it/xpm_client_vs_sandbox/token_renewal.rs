//! Expired and refused access tokens: refused until the source has a fresh one, renewed, and
//! the bound on renewals.

use std::sync::{Arc, Mutex};

use crate::common::start_with;
use hownow_sandbox::tenants::{DEMO_PRACTICE, USERS};
use hownow_xpm::{Secret, XeroApi, XpmError};

use super::{api_config, drain, list_all, snapshot};

#[tokio::test]
async fn an_expired_access_token_is_refused_until_the_source_has_a_fresh_one() {
    let env = start_with(|c| c.clients = 30).await;
    let current = Arc::new(Mutex::new(env.token.clone()));
    // A closure source cannot renew: Xero's refusal stands, but it is not "log in again".
    let source = {
        let current = Arc::clone(&current);
        move || {
            let token = current.lock().unwrap().clone();
            async move { Ok::<_, XpmError>(Secret::new(token)) }
        }
    };
    let practice = XeroApi::new(api_config(&env))
        .unwrap()
        .practice(DEMO_PRACTICE.id, Arc::new(source));
    practice.groups().await.unwrap();

    env.sandbox.practice().expire_all_access_tokens();
    for result in [
        practice.list_clients(None).await.map(drop),
        practice.groups().await.map(drop),
    ] {
        match result {
            Err(XpmError::AccessTokenRefused { tokens: 1, reason }) => {
                assert!(reason.starts_with("TokenExpired"), "{reason}")
            }
            other => panic!("expected AccessTokenRefused, got {other:?}"),
        }
    }

    // The client asks its source before each request, so a refreshed token just works.
    *current.lock().unwrap() = env.token_for(&USERS[0]).await;
    assert_eq!(
        list_all(&practice, None).await.len(),
        snapshot(&env).clients().len()
    );
}

/// A token source that hands out `tokens` in turn, moving on each time Xero refuses one.
struct Renewing {
    tokens: Vec<String>,
    current: Mutex<usize>,
    rejected: Mutex<Vec<String>>,
}

impl Renewing {
    fn new(tokens: Vec<String>) -> Arc<Self> {
        Arc::new(Renewing {
            tokens,
            current: Mutex::new(0),
            rejected: Mutex::new(Vec::new()),
        })
    }
}

impl hownow_xpm::AccessTokenSource for Renewing {
    fn access_token(&self) -> futures_util::future::BoxFuture<'_, Result<Secret, XpmError>> {
        let token = self.tokens[*self.current.lock().unwrap()].clone();
        Box::pin(async move { Ok(Secret::new(token)) })
    }

    fn token_rejected<'a>(&'a self, token: &'a Secret) -> futures_util::future::BoxFuture<'a, bool> {
        self.rejected.lock().unwrap().push(token.expose().to_string());
        let mut current = self.current.lock().unwrap();
        *current = (*current + 1).min(self.tokens.len() - 1);
        Box::pin(async { true })
    }
}

#[tokio::test]
async fn a_refused_access_token_is_renewed_and_the_request_goes_through() {
    let env = start_with(|c| c.clients = 30).await;
    // The token dies before its time (what a very short lifetime or skewed clocks do, without
    // waiting for it); the source's next one is fresh.
    env.sandbox.practice().expire_all_access_tokens();
    let fresh = env.token_for(&USERS[0]).await;
    let source = Renewing::new(vec![env.token.clone(), fresh]);
    let practice = XeroApi::new(api_config(&env))
        .unwrap()
        .practice(DEMO_PRACTICE.id, source.clone());
    let mut stream = practice.list_clients(None).await.unwrap();
    assert_eq!(stream.meta().attempts, 1, "a renewal is not a retry");
    let (clients, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), snapshot(&env).clients().len());
    assert_eq!(*source.rejected.lock().unwrap(), [env.token.as_str()]);
}

#[tokio::test]
async fn fresh_tokens_refused_again_and_again_end_in_a_refused_token_error_not_reauth() {
    let env = start_with(|c| c.clients = 10).await;
    let never_issued = (0..10).map(|i| format!("never-issued-{i}")).collect();
    let source = Renewing::new(never_issued);
    let practice = XeroApi::new(api_config(&env))
        .unwrap()
        .practice(DEMO_PRACTICE.id, source.clone());
    let err = practice.groups().await.unwrap_err();
    match &err {
        XpmError::AccessTokenRefused { tokens, .. } => {
            assert_eq!(*tokens, hownow_xpm::MAX_TOKEN_RENEWALS + 1)
        }
        other => panic!("expected AccessTokenRefused, got {other:?}"),
    }
    assert!(!err.is_transient());
    assert_eq!(
        source.rejected.lock().unwrap().len() as u32,
        hownow_xpm::MAX_TOKEN_RENEWALS + 1
    );
}
