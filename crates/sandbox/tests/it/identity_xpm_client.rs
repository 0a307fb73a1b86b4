//! HowNow's own Xero client (`hownow_xpm`) against the sandbox's identity server over loopback:
//! discovery, the PKCE login, refresh rotation with grace, revocation, connections, and how
//! each refusal surfaces as a typed `XpmError`.

use std::time::Duration;

use crate::identity_support::{auto_consent, param, redirect_query, start, Server};
use hownow_sandbox::identity::{Clock as _, IdentityConfig as SandboxIdentityConfig};
use hownow_sandbox::tenants::{self, TenantKind, USERS};
use hownow_xpm::{
    ApiConfig, HttpConfig, Identity as XeroIdentity, IdentityConfig as XeroIdentityConfig,
    PendingAuthorization, RetryPolicy, Secret, TokenSet, XeroApi, XpmError,
};
use url::Url;

const CLIENT: &str = "hownow-admin-desktop";
const REDIRECT: &str = "http://localhost:53682/callback";

fn http_config() -> HttpConfig {
    HttpConfig {
        connect_timeout: Duration::from_secs(5),
        response_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        ..HttpConfig::default()
    }
}

async fn xero_identity(server: &Server, client_id: &str) -> XeroIdentity {
    XeroIdentity::discover(XeroIdentityConfig {
        issuer: Url::parse(&server.base).unwrap(),
        http: http_config(),
        ..XeroIdentityConfig::new(client_id)
    })
    .await
    .unwrap()
}

fn xero_api(server: &Server) -> XeroApi {
    XeroApi::new(ApiConfig {
        api_base: Url::parse(&server.base).unwrap(),
        http: http_config(),
        // A refusal must come back at once, not after backoff.
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        ..ApiConfig::default()
    })
    .unwrap()
}

/// Opens the login URL as a browser would (auto-consent redirects at once) and returns the
/// callback's code after checking its state.
async fn callback_code(server: &Server, pending: &PendingAuthorization) -> String {
    let response = server.http.get(pending.url.clone()).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::FOUND);
    let answer = redirect_query(&response, &pending.redirect_uri);
    assert!(pending.state_matches(&param(&answer, "state")));
    param(&answer, "code")
}

async fn log_in(server: &Server, identity: &XeroIdentity) -> (PendingAuthorization, TokenSet) {
    let pending = identity.authorization_request(REDIRECT).unwrap();
    let code = callback_code(server, &pending).await;
    let tokens = identity.exchange_code(&pending, &code).await.unwrap();
    (pending, tokens)
}

fn assert_needs_reauth<T: std::fmt::Debug>(result: Result<T, XpmError>) {
    match result {
        Err(XpmError::NeedsReauth { .. }) => {}
        other => panic!("expected NeedsReauth, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_and_pkce_login() {
    let server = start(auto_consent()).await;
    let identity = xero_identity(&server, CLIENT).await;
    let endpoints = identity.endpoints();
    assert_eq!(
        endpoints.authorization.as_str(),
        format!("{}/identity/connect/authorize", server.base)
    );
    assert_eq!(endpoints.token.as_str(), format!("{}/connect/token", server.base));
    assert_eq!(
        endpoints.revocation.as_str(),
        format!("{}/connect/revocation", server.base)
    );

    let (pending, tokens) = log_in(&server, &identity).await;
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.expires_in, Some(Duration::from_secs(30 * 60)));
    // The id token checks out against the published key, on the sandbox's own clock.
    let now = server.clock.now();
    let claims = identity
        .verify_id_token(&tokens, &pending.nonce, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims.email.as_deref(), Some(USERS[0].email));
    assert_eq!(claims.display_name().as_deref(), Some(USERS[0].name));
    assert_eq!(claims.nonce.as_deref(), Some(pending.nonce.as_str()));
    assert_eq!(claims.xero_user_id.as_deref(), Some(USERS[0].id));
    let userinfo = identity.userinfo(&tokens.access_token).await.unwrap().unwrap();
    assert_eq!(userinfo.sub, claims.sub);
}

#[tokio::test]
async fn a_token_signed_with_an_unpublished_key_is_refused() {
    let server = start(SandboxIdentityConfig {
        id_token_unpublished_key: true,
        ..auto_consent()
    })
    .await;
    let identity = xero_identity(&server, CLIENT).await;
    let (pending, tokens) = log_in(&server, &identity).await;
    match identity
        .verify_id_token(&tokens, &pending.nonce, server.clock.now())
        .await
    {
        Err(XpmError::InvalidIdToken(why)) => assert!(why.contains("signature"), "{why}"),
        other => panic!("expected a refused id token, got {other:?}"),
    }
}

#[tokio::test]
async fn without_profile_claims_in_the_id_token_userinfo_names_the_user() {
    let server = start(SandboxIdentityConfig {
        id_token_profile: false,
        ..auto_consent()
    })
    .await;
    let identity = xero_identity(&server, CLIENT).await;
    let (pending, tokens) = log_in(&server, &identity).await;
    let claims = identity
        .verify_id_token(&tokens, &pending.nonce, server.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert!(!claims.has_profile(), "{claims:?}");
    let userinfo = identity.userinfo(&tokens.access_token).await.unwrap().unwrap();
    assert_eq!(userinfo.display_name().as_deref(), Some(USERS[0].name));
}

#[tokio::test]
async fn exchange_with_another_logins_verifier_or_redirect_needs_reauth() {
    let server = start(auto_consent()).await;
    let identity = xero_identity(&server, CLIENT).await;

    let pending = identity.authorization_request(REDIRECT).unwrap();
    let code = callback_code(&server, &pending).await;
    let other_verifier = identity.authorization_request(REDIRECT).unwrap();
    assert_needs_reauth(identity.exchange_code(&other_verifier, &code).await);

    let pending = identity.authorization_request(REDIRECT).unwrap();
    let code = callback_code(&server, &pending).await;
    let other_redirect = identity
        .authorization_request("http://localhost:53683/callback")
        .unwrap();
    assert_needs_reauth(identity.exchange_code(&other_redirect, &code).await);

    // The right login's code still works once, not twice.
    let pending = identity.authorization_request(REDIRECT).unwrap();
    let code = callback_code(&server, &pending).await;
    identity.exchange_code(&pending, &code).await.unwrap();
    assert_needs_reauth(identity.exchange_code(&pending, &code).await);
}

#[tokio::test]
async fn unregistered_client_is_refused_as_invalid_client() {
    let server = start(SandboxIdentityConfig {
        client_ids: vec![CLIENT.to_owned()],
        ..auto_consent()
    })
    .await;
    let registered = xero_identity(&server, CLIENT).await;
    let pending = registered.authorization_request(REDIRECT).unwrap();
    let code = callback_code(&server, &pending).await;
    let stranger = xero_identity(&server, "not-registered").await;
    match stranger.exchange_code(&pending, &code).await {
        Err(XpmError::OAuth { error, .. }) => assert_eq!(error, "invalid_client"),
        other => panic!("expected invalid_client, got {other:?}"),
    }
}

#[tokio::test]
async fn refresh_rotates_and_the_old_token_works_once_within_grace() {
    let server = start(auto_consent()).await;
    let identity = xero_identity(&server, CLIENT).await;
    let (_, tokens) = log_in(&server, &identity).await;
    let first = tokens.refresh_token.unwrap();

    let rotated = identity.refresh(&first).await.unwrap();
    let second = rotated.refresh_token.clone().unwrap();
    assert_ne!(second, first);
    assert_ne!(rotated.access_token, tokens.access_token);

    server.clock.advance(Duration::from_secs(5 * 60));
    identity.refresh(&first).await.unwrap();
    assert_needs_reauth(identity.refresh(&first).await);

    server.clock.advance(Duration::from_secs(31 * 60));
    let third = identity.refresh(&second).await.unwrap().refresh_token.unwrap();
    server.clock.advance(Duration::from_secs(31 * 60));
    assert_needs_reauth(identity.refresh(&second).await);
    identity.refresh(&third).await.unwrap();
    assert_needs_reauth(identity.refresh(&Secret::new("never-issued")).await);
}

#[tokio::test]
async fn connections_disconnect_and_revocation() {
    let server = start(auto_consent()).await;
    let identity = xero_identity(&server, CLIENT).await;
    let api = xero_api(&server);
    let (_, tokens) = log_in(&server, &identity).await;

    let connections = api.connections(&tokens.access_token).await.unwrap().value;
    let expected = tenants::tenants_for(&USERS[0]);
    assert_eq!(connections.len(), expected.len());
    let practices = api
        .practice_manager_connections(&tokens.access_token)
        .await
        .unwrap();
    let expected_practices: Vec<&str> = expected
        .iter()
        .filter(|t| t.kind == TenantKind::PracticeManager)
        .map(|t| t.id)
        .collect();
    assert_eq!(
        practices.iter().map(|c| c.tenant_id.as_str()).collect::<Vec<_>>(),
        expected_practices
    );

    let organisation = connections.iter().find(|c| !c.is_practice_manager()).unwrap();
    api.delete_connection(&tokens.access_token, &organisation.id)
        .await
        .unwrap();
    let left = api.connections(&tokens.access_token).await.unwrap().value;
    assert!(left.iter().all(|c| c.id != organisation.id));
    assert!(api
        .delete_connection(&tokens.access_token, &organisation.id)
        .await
        .is_err());

    let refresh = tokens.refresh_token.unwrap();
    identity.revoke(&refresh).await.unwrap();
    assert!(api
        .connections(&tokens.access_token)
        .await
        .unwrap()
        .value
        .is_empty());
    assert_needs_reauth(identity.refresh(&refresh).await);
}

#[tokio::test]
async fn expired_access_token_needs_reauth_with_xeros_detail() {
    let server = start(auto_consent()).await;
    let identity = xero_identity(&server, CLIENT).await;
    let api = xero_api(&server);
    let (_, tokens) = log_in(&server, &identity).await;
    server.identity.expire_all_access_tokens();
    match api.connections(&tokens.access_token).await {
        Err(XpmError::NeedsReauth { reason }) => assert!(reason.contains("TokenExpired"), "{reason}"),
        other => panic!("expected NeedsReauth, got {other:?}"),
    }
    // A refresh brings a working token back.
    let fresh = identity
        .refresh(tokens.refresh_token.as_ref().unwrap())
        .await
        .unwrap();
    api.connections(&fresh.access_token).await.unwrap();
}

#[tokio::test]
async fn unprivileged_login_yields_no_practice_manager_connection() {
    let server = start(SandboxIdentityConfig::default()).await;
    let identity = xero_identity(&server, CLIENT).await;
    let api = xero_api(&server);
    let cleo = USERS.into_iter().find(|u| !u.can_authorise_third_party).unwrap();

    let pending = identity.authorization_request(REDIRECT).unwrap();
    let redirect = server.consent_as(pending.url.as_str(), cleo.id).await;
    let answer = redirect_query(&redirect, REDIRECT);
    assert!(pending.state_matches(&param(&answer, "state")));
    let tokens = identity
        .exchange_code(&pending, &param(&answer, "code"))
        .await
        .unwrap();

    assert!(api
        .practice_manager_connections(&tokens.access_token)
        .await
        .unwrap()
        .is_empty());
    assert!(!api
        .connections(&tokens.access_token)
        .await
        .unwrap()
        .value
        .is_empty());
}
