//! The token endpoint: PKCE code exchange, malformed requests, refresh rotation with its grace,
//! and the runtime switches for lifetimes and killed tokens.

use std::time::Duration;

use crate::identity_support::{auto_consent, param, start, Pkce};
use hownow_sandbox::tenants::DEMO_PRACTICE;
use reqwest::StatusCode;
use serde_json::Value;

use super::{jwt_claims, str_field, CLIENT};

#[tokio::test]
async fn code_exchange_refuses_wrong_verifier_wrong_redirect_and_replay() {
    let server = start(auto_consent()).await;
    let redirect_uri = server.redirect_uri();

    let pkce = Pkce::new("wrong-verifier");
    let code = param(&server.authorize(CLIENT, &redirect_uri, &pkce).await, "code");
    let (status, body) = server
        .exchange(&code, &redirect_uri, &Pkce::new("other").verifier)
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );

    let pkce = Pkce::new("wrong-redirect");
    let code = param(&server.authorize(CLIENT, &redirect_uri, &pkce).await, "code");
    let (status, body) = server
        .exchange(&code, "http://localhost:8766/callback", &pkce.verifier)
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );

    let pkce = Pkce::new("replay");
    let code = param(&server.authorize(CLIENT, &redirect_uri, &pkce).await, "code");
    let (status, _) = server.exchange(&code, &redirect_uri, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server.exchange(&code, &redirect_uri, &pkce.verifier).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );

    // Codes die after five minutes.
    let pkce = Pkce::new("late");
    let code = param(&server.authorize(CLIENT, &redirect_uri, &pkce).await, "code");
    server.clock.advance(Duration::from_secs(5 * 60));
    let (status, body) = server.exchange(&code, &redirect_uri, &pkce.verifier).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );
}

#[tokio::test]
async fn token_endpoint_rejects_malformed_requests() {
    let server = start(auto_consent()).await;
    let (status, body) = server
        .token(&[("grant_type", "client_credentials"), ("client_id", CLIENT)])
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("unsupported_grant_type"))
    );
    let (status, body) = server
        .token(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_client"))
    );
    let (status, body) = server
        .token(&[("grant_type", "authorization_code"), ("client_id", CLIENT)])
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_request"))
    );
    let json_body = server
        .http
        .post(format!("{}/connect/token", server.base))
        .json(&serde_json::json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_body.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    // Client authentication through HTTP Basic works as well as the body.
    let tokens = server.sign_in().await;
    let response = server
        .http
        .post(format!("{}/connect/token", server.base))
        .basic_auth(CLIENT, None::<&str>)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", str_field(&tokens, "refresh_token")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_with_one_reuse_within_grace() {
    let server = start(auto_consent()).await;
    let tokens = server.sign_in().await;
    let first = str_field(&tokens, "refresh_token").to_owned();

    let (status, rotated) = server.refresh(&first).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let second = str_field(&rotated, "refresh_token").to_owned();
    assert_ne!(first, second);
    assert_ne!(rotated["access_token"], tokens["access_token"]);
    assert!(jwt_claims(str_field(&rotated, "id_token")).get("nonce").is_none());

    // Ten minutes later the old token works once more, then never again.
    server.clock.advance(Duration::from_secs(10 * 60));
    let (status, reused) = server.refresh(&first).await;
    assert_eq!(status, StatusCode::OK, "{reused}");
    let (status, body) = server.refresh(&first).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );

    // Outside the grace period a rotated token is dead, its successor alive.
    let (status, newest) = server.refresh(&second).await;
    assert_eq!(status, StatusCode::OK);
    server.clock.advance(Duration::from_secs(31 * 60));
    let (status, body) = server.refresh(&second).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );
    let (status, _) = server.refresh(str_field(&newest, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = server.refresh("never-issued").await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );
}

#[tokio::test]
async fn runtime_switches_change_lifetimes_and_kill_tokens() {
    let server = start(auto_consent()).await;
    server.identity.set_access_token_lifetime(Duration::from_secs(90));
    let tokens = server.sign_in().await;
    assert_eq!(tokens["expires_in"], 90);
    let access = str_field(&tokens, "access_token");
    let (status, _) = server.api(Some(access), Some(DEMO_PRACTICE.id)).await;
    assert_eq!(status, StatusCode::OK);

    server.identity.expire_all_access_tokens();
    let (status, body) = server.api(Some(access), Some(DEMO_PRACTICE.id)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("TokenExpired: token expired at"), "{body}");

    server.identity.revoke_all_refresh_tokens();
    let (status, body) = server.refresh(str_field(&tokens, "refresh_token")).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );
}
