//! Xero identity against a mock: discovery, the PKCE authorisation URL, code exchange, the id
//! token's checks against the published keys, userinfo, refresh rotation, invalid_grant,
//! revocation.

use crate::client_support;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use hownow_xpm::{Identity, IdentityConfig, Secret, XpmError, DEFAULT_SCOPES};
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_ID: &str = "hownow-test-client";
const REDIRECT: &str = "http://localhost:53682/callback";

fn config(server: &MockServer) -> IdentityConfig {
    IdentityConfig {
        issuer: Url::parse(&server.uri()).unwrap(),
        http: client_support::http_config(),
        ..IdentityConfig::new(CLIENT_ID)
    }
}

async fn mount_discovery(server: &MockServer) {
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/identity/connect/authorize"),
            "token_endpoint": format!("{base}/connect/token"),
            "revocation_endpoint": format!("{base}/connect/revocation"),
            "jwks_uri": format!("{base}/.well-known/openid-configuration/jwks"),
            "userinfo_endpoint": format!("{base}/connect/userinfo"),
            "scopes_supported": ["openid", "profile"],
        })))
        .mount(server)
        .await;
}

/// A test key (PKCS#1 DER) standing in for the issuer's signing key.
const ISSUER_KEY: &[u8] = include_bytes!("../fixtures/keys/issuer-rsa.der");
const OTHER_KEY: &[u8] = include_bytes!("../fixtures/keys/other-rsa.der");

/// The moment the tests' id tokens are issued and checked at.
fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-03-01 10:00 UTC)
}

/// Publishes the public half of [`ISSUER_KEY`] as `k1`, the way Xero publishes its keys.
async fn mount_jwks(server: &MockServer) {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let pair = ring::rsa::KeyPair::from_der(ISSUER_KEY).unwrap();
    let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
            "n": b64.encode(&public.n), "e": b64.encode(&public.e),
        }]})))
        .mount(server)
        .await;
}

/// An id token for this server's issuer and [`CLIENT_ID`], signed with `key`.
fn id_token(server: &MockServer, key: &[u8], claims: serde_json::Value) -> String {
    let iat = now().unix_timestamp();
    let mut all = json!({"iss": server.uri(), "aud": CLIENT_ID, "iat": iat, "exp": iat + 300});
    for (name, value) in claims.as_object().unwrap() {
        all[name] = value.clone();
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    jsonwebtoken::encode(&header, &all, &jsonwebtoken::EncodingKey::from_rsa_der(key)).unwrap()
}

async fn mount_token_answer(server: &MockServer, id_token: &str) {
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "access-1",
            "refresh_token": "refresh-1",
            "expires_in": 1800,
            "token_type": "Bearer",
            "id_token": id_token,
            "scope": "openid profile email offline_access practicemanager.client.read"
        })))
        .expect(1)
        .mount(server)
        .await;
}

async fn identity(server: &MockServer) -> Identity {
    mount_discovery(server).await;
    Identity::discover(config(server)).await.unwrap()
}

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// The form fields of the only request the server got at `at`.
async fn form_of_single_request(server: &MockServer, at: &str) -> HashMap<String, String> {
    let requests: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == at)
        .collect();
    assert_eq!(requests.len(), 1, "one request to {at}");
    let request = &requests[0];
    assert_eq!(
        request.headers.get("content-type").unwrap().to_str().unwrap(),
        "application/x-www-form-urlencoded"
    );
    assert!(
        request.headers.get("authorization").is_none(),
        "a public client sends no Basic auth"
    );
    url::form_urlencoded::parse(&request.body).into_owned().collect()
}

#[tokio::test]
async fn discovery_reads_the_three_endpoints() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    let base = server.uri();
    let endpoints = identity.endpoints();
    assert_eq!(
        endpoints.authorization.as_str(),
        format!("{base}/identity/connect/authorize")
    );
    assert_eq!(endpoints.token.as_str(), format!("{base}/connect/token"));
    assert_eq!(
        endpoints.revocation.as_str(),
        format!("{base}/connect/revocation")
    );
    assert_eq!(
        endpoints.jwks.as_ref().unwrap().as_str(),
        format!("{base}/.well-known/openid-configuration/jwks")
    );
    assert_eq!(
        endpoints.userinfo.as_ref().unwrap().as_str(),
        format!("{base}/connect/userinfo")
    );
}

#[tokio::test]
async fn overrides_win_over_discovery_and_skip_it_when_complete() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    let custom = Url::parse("http://127.0.0.1:9/custom/token").unwrap();
    let partly = Identity::discover(IdentityConfig {
        token_endpoint: Some(custom.clone()),
        ..config(&server)
    })
    .await
    .unwrap();
    assert_eq!(partly.endpoints().token, custom);
    assert_eq!(
        partly.endpoints().authorization.as_str(),
        format!("{}/identity/connect/authorize", server.uri())
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let silent = MockServer::start().await;
    let all = Identity::discover(IdentityConfig {
        authorization_endpoint: Some(Url::parse("http://127.0.0.1:9/a").unwrap()),
        token_endpoint: Some(custom.clone()),
        revocation_endpoint: Some(Url::parse("http://127.0.0.1:9/r").unwrap()),
        ..config(&silent)
    })
    .await
    .unwrap();
    assert_eq!(all.endpoints().revocation.as_str(), "http://127.0.0.1:9/r");
    assert!(
        silent.received_requests().await.unwrap().is_empty(),
        "no discovery request"
    );
}

#[tokio::test]
async fn discovery_failures_are_typed() {
    let server = MockServer::start().await;
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"issuer": "x"})))
        .mount(&server)
        .await;
    let err = Identity::discover(config(&server)).await.unwrap_err();
    assert!(
        matches!(&err, XpmError::OAuth { error, .. } if error == "invalid_discovery_document"),
        "{err}"
    );

    let broken = MockServer::start().await;
    Mock::given(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&broken)
        .await;
    let err = Identity::discover(config(&broken)).await.unwrap_err();
    assert!(matches!(err, XpmError::Http { status: 503, .. }), "{err}");
}

#[tokio::test]
async fn authorization_url_carries_pkce_state_nonce_scopes_and_redirect() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    let pending = identity.authorization_request(REDIRECT).unwrap();

    assert_eq!(pending.url.path(), "/identity/connect/authorize");
    let q = query(&pending.url);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], REDIRECT);
    assert_eq!(q["scope"], DEFAULT_SCOPES.join(" "));
    assert_eq!(
        q["scope"],
        "openid profile email offline_access practicemanager.client.read"
    );
    assert_eq!(q["state"], pending.state);
    assert_eq!(q["nonce"], pending.nonce);
    assert_eq!(q["code_challenge_method"], "S256");

    let verifier = pending.pkce_verifier().expose();
    assert!(
        (43..=128).contains(&verifier.len()),
        "verifier length {}",
        verifier.len()
    );
    let expected_challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    assert_eq!(q["code_challenge"], expected_challenge);
    assert!(
        !pending.url.as_str().contains(verifier),
        "the verifier never leaves the app"
    );
    assert!(pending.state_matches(&q["state"]));
    assert!(!pending.state_matches("forged"));

    let second = identity.authorization_request(REDIRECT).unwrap();
    assert_ne!(second.state, pending.state);
    assert_ne!(second.nonce, pending.nonce);
    assert_ne!(second.pkce_verifier(), pending.pkce_verifier());
}

#[tokio::test]
async fn an_id_token_the_issuer_did_not_sign_is_refused() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    mount_jwks(&server).await;
    let pending = identity.authorization_request(REDIRECT).unwrap();
    let forged = id_token(&server, OTHER_KEY, json!({"sub": "u", "nonce": pending.nonce}));
    mount_token_answer(&server, &forged).await;
    let tokens = identity.exchange_code(&pending, "the-code").await.unwrap();
    let err = identity
        .verify_id_token(&tokens, &pending.nonce, now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("signature does not match"), "{err}");
    assert!(
        !err.to_string().contains(&forged[..20]),
        "the token is never quoted"
    );
}

#[tokio::test]
async fn an_oversized_key_set_is_refused_without_reading_it_whole() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_string(" ".repeat(3 << 20)))
        .mount(&server)
        .await;
    let pending = identity.authorization_request(REDIRECT).unwrap();
    let token = id_token(&server, ISSUER_KEY, json!({"sub": "u", "nonce": pending.nonce}));
    mount_token_answer(&server, &token).await;
    let tokens = identity.exchange_code(&pending, "the-code").await.unwrap();
    let err = identity
        .verify_id_token(&tokens, &pending.nonce, now())
        .await
        .unwrap_err();
    assert!(matches!(err, XpmError::TooLarge { .. }), "{err}");
}

#[tokio::test]
async fn userinfo_names_the_user_of_an_access_token() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(method("GET"))
        .and(path("/connect/userinfo"))
        .and(wiremock::matchers::header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sub": "user-1", "name": "Jo Bloggs", "email": "jo@firm.example"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let claims = identity
        .userinfo(&Secret::new("access-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims.display_name().as_deref(), Some("Jo Bloggs"));
    assert_eq!(claims.sub.as_deref(), Some("user-1"));
}

#[tokio::test]
async fn configured_scopes_are_used() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    let identity = Identity::discover(IdentityConfig {
        scopes: vec!["openid".into(), "practicemanager".into()],
        ..config(&server)
    })
    .await
    .unwrap();
    let pending = identity.authorization_request(REDIRECT).unwrap();
    assert_eq!(query(&pending.url)["scope"], "openid practicemanager");
}

#[tokio::test]
async fn code_exchange_sends_the_pkce_form_and_returns_tokens() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    mount_jwks(&server).await;
    let pending = identity.authorization_request(REDIRECT).unwrap();
    let id_token = id_token(
        &server,
        ISSUER_KEY,
        json!({
            "sub": "user-1", "given_name": "Jo", "family_name": "Bloggs",
            "email": "jo@firm.example", "nonce": pending.nonce, "xero_userid": "xu-1"
        }),
    );
    mount_token_answer(&server, &id_token).await;
    let tokens = identity.exchange_code(&pending, "the-code").await.unwrap();

    let form = form_of_single_request(&server, "/connect/token").await;
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], REDIRECT);
    assert_eq!(form["code_verifier"], pending.pkce_verifier().expose());
    assert_eq!(form["client_id"], CLIENT_ID);
    assert!(!form.contains_key("client_secret"));

    assert_eq!(tokens.access_token.expose(), "access-1");
    assert_eq!(tokens.refresh_token.as_ref().unwrap().expose(), "refresh-1");
    assert_eq!(tokens.expires_in, Some(Duration::from_secs(1800)));
    assert_eq!(tokens.scopes.len(), 5);
    let claims = identity
        .verify_id_token(&tokens, &pending.nonce, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claims.display_name().as_deref(), Some("Jo Bloggs"));
    assert_eq!(claims.email.as_deref(), Some("jo@firm.example"));
    assert_eq!(claims.xero_user_id.as_deref(), Some("xu-1"));
    // The same token for another login, or checked an hour later, is not believed.
    let other_login = identity.verify_id_token(&tokens, "n-2", now()).await;
    assert!(matches!(other_login, Err(XpmError::InvalidIdToken(ref m)) if m.contains("nonce")));
    let later = identity
        .verify_id_token(&tokens, &pending.nonce, now() + time::Duration::hours(1))
        .await;
    assert!(matches!(later, Err(XpmError::InvalidIdToken(ref m)) if m.contains("expired")));

    let debug = format!("{tokens:?}");
    for secret in ["access-1", "refresh-1", id_token.as_str()] {
        assert!(!debug.contains(secret), "Debug leaks {secret}: {debug}");
    }
}

#[tokio::test]
async fn refresh_returns_the_rotated_refresh_token() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "access-2", "refresh_token": "refresh-NEW", "expires_in": 1800, "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let tokens = identity.refresh(&Secret::new("refresh-OLD")).await.unwrap();
    assert_eq!(tokens.access_token.expose(), "access-2");
    assert_eq!(tokens.refresh_token.unwrap().expose(), "refresh-NEW");
    assert!(tokens.id_token.is_none());

    let form = form_of_single_request(&server, "/connect/token").await;
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "refresh-OLD");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert!(!form.contains_key("client_secret"));
}

#[tokio::test]
async fn refresh_without_rotation_keeps_the_old_refresh_token() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "access-3", "expires_in": 1800, "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    let tokens = identity.refresh(&Secret::new("refresh-KEEP")).await.unwrap();
    assert_eq!(tokens.refresh_token.unwrap().expose(), "refresh-KEEP");
}

#[tokio::test]
async fn invalid_grant_means_reauthorise_and_never_quotes_the_token() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(path("/connect/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let err = identity
        .refresh(&Secret::new("refresh-DEAD-123"))
        .await
        .unwrap_err();
    assert!(matches!(err, XpmError::NeedsReauth { .. }), "{err:?}");
    assert!(!err.to_string().contains("refresh-DEAD-123"));
    assert!(!format!("{err:?}").contains("refresh-DEAD-123"));

    let pending = identity.authorization_request(REDIRECT).unwrap();
    let err = identity.exchange_code(&pending, "used-code").await.unwrap_err();
    assert!(matches!(err, XpmError::NeedsReauth { .. }), "{err:?}");
}

#[tokio::test]
async fn other_oauth_errors_are_typed() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_client", "error_description": "unknown client"})),
        )
        .mount(&server)
        .await;
    let err = identity.refresh(&Secret::new("r")).await.unwrap_err();
    match err {
        XpmError::OAuth { error, description } => {
            assert_eq!(error, "invalid_client");
            assert_eq!(description.as_deref(), Some("unknown client"));
        }
        other => panic!("expected OAuth, got {other:?}"),
    }
}

#[tokio::test]
async fn a_token_response_that_is_not_json_is_an_error_without_the_body() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/json")
                .set_body_string(r#"{"access_token": "leaky-token", "token_type": 5}"#),
        )
        .mount(&server)
        .await;
    let err = identity.refresh(&Secret::new("r")).await.unwrap_err();
    assert!(matches!(err, XpmError::OAuth { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("leaky-token"));
}

#[tokio::test]
async fn a_silent_token_endpoint_times_out() {
    let server = MockServer::start().await;
    mount_discovery(&server).await;
    let mut config = config(&server);
    config.http.response_timeout = Duration::from_millis(200);
    let identity = Identity::discover(config).await.unwrap();
    Mock::given(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let err = identity.refresh(&Secret::new("r")).await.unwrap_err();
    assert!(matches!(err, XpmError::Timeout(_)), "{err:?}");
}

#[tokio::test]
async fn revocation_posts_the_refresh_token() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(method("POST"))
        .and(path("/connect/revocation"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    identity.revoke(&Secret::new("refresh-9")).await.unwrap();
    let form = form_of_single_request(&server, "/connect/revocation").await;
    assert_eq!(form["token"], "refresh-9");
    assert_eq!(form["token_type_hint"], "refresh_token");
    assert_eq!(form["client_id"], CLIENT_ID);
}

#[tokio::test]
async fn revocation_errors_are_typed() {
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(path("/connect/revocation"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "unsupported_token_type"})))
        .mount(&server)
        .await;
    let err = identity.revoke(&Secret::new("refresh-9")).await.unwrap_err();
    assert!(
        matches!(&err, XpmError::OAuth { error, .. } if error == "unsupported_token_type"),
        "{err:?}"
    );
}

#[tokio::test]
async fn oversized_answers_are_refused_not_read() {
    // A discovery document of 2 MB: no real one is more than a few kilobytes.
    let server = MockServer::start().await;
    let padding = "x".repeat(2 * 1024 * 1024);
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "issuer": server.uri(), "padding": padding })),
        )
        .mount(&server)
        .await;
    let err = Identity::discover(config(&server)).await.unwrap_err();
    assert!(matches!(err, XpmError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("discovery"), "{err}");

    // A token endpoint answering 2 MB to a refresh.
    let server = MockServer::start().await;
    let identity = identity(&server).await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "a",
            "token_type": "Bearer",
            "expires_in": 1800,
            "padding": "x".repeat(2 * 1024 * 1024),
        })))
        .mount(&server)
        .await;
    let err = identity.refresh(&Secret::new("r")).await.unwrap_err();
    assert!(matches!(err, XpmError::TooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("token request"), "{err}");
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": "https://identity.evil.example",
            "authorization_endpoint": format!("{}/authorize", server.uri()),
            "token_endpoint": format!("{}/token", server.uri()),
            "revocation_endpoint": format!("{}/revoke", server.uri()),
        })))
        .mount(&server)
        .await;
    let err = Identity::discover(config(&server)).await.unwrap_err();
    assert!(err.to_string().contains("identity.evil.example"), "{err}");
}
