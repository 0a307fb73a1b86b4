//! The gateway's problem objects, revocation removing the app's connections, and deleting one
//! tenant's connection.

use std::time::Duration;

use crate::identity_support::{auto_consent, start};
use hownow_sandbox::tenants::{DEMO_ORGANISATION, DEMO_PRACTICE, SECOND_PRACTICE};
use reqwest::StatusCode;
use serde_json::Value;

use super::{str_field, CLIENT};

#[tokio::test]
async fn gateway_answers_xero_problem_objects() {
    let server = start(auto_consent()).await;
    let tokens = server.sign_in().await;
    let access = str_field(&tokens, "access_token");

    let (status, body) = server.api(Some(access), Some(DEMO_PRACTICE.id)).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "<Response><Status>OK</Status></Response>")
    );
    // Tenant ids are GUIDs: case does not matter.
    let (status, _) = server
        .api(Some(access), Some(&DEMO_PRACTICE.id.to_uppercase()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.api(Some(access), Some(DEMO_ORGANISATION.id)).await;
    assert_eq!(status, StatusCode::OK);

    for (token, tenant) in [
        (None, Some(DEMO_PRACTICE.id)),
        (Some("not-a-token"), Some(DEMO_PRACTICE.id)),
    ] {
        let (status, body) = server.api(token, tenant).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["Title"], "Unauthorized");
        assert_eq!(problem["Status"], 401);
    }
    for tenant in [
        Some(SECOND_PRACTICE.id),
        Some("00000000-0000-0000-0000-000000000000"),
        None,
    ] {
        let (status, body) = server.api(Some(access), tenant).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{tenant:?}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (
                problem["Title"].as_str(),
                problem["Status"].as_u64(),
                problem["Detail"].as_str()
            ),
            (Some("Forbidden"), Some(403), Some("AuthenticationUnsuccessful"))
        );
    }

    server.clock.advance(Duration::from_secs(30 * 60));
    let (status, body) = server.api(Some(access), Some(DEMO_PRACTICE.id)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert!(
        str_field(&problem, "Detail").starts_with("TokenExpired: "),
        "{problem}"
    );
    let (status, _) = server.connections(access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revocation_removes_the_apps_connections() {
    let server = start(auto_consent()).await;
    let tokens = server.sign_in().await;
    let access = str_field(&tokens, "access_token");
    let refresh = str_field(&tokens, "refresh_token");
    let (_, connections) = server.connections(access).await;
    assert!(!connections.as_array().unwrap().is_empty());

    let revoke = |form: Vec<(&'static str, String)>| {
        server
            .http
            .post(format!("{}/connect/revocation", server.base))
            .form(&form)
            .send()
    };
    // Access tokens cannot be revoked at Xero.
    let response = revoke(vec![
        ("token", access.to_owned()),
        ("client_id", CLIENT.to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = revoke(vec![
        ("token", refresh.to_owned()),
        ("client_id", CLIENT.to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let (status, connections) = server.connections(access).await;
    assert_eq!((status, connections), (StatusCode::OK, serde_json::json!([])));
    let (status, _) = server.api(Some(access), Some(DEMO_PRACTICE.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = server.refresh(refresh).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_grant"))
    );
    // Revoking an unknown token is not an error.
    let response = revoke(vec![
        ("token", "unknown".to_owned()),
        ("client_id", CLIENT.to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn delete_connection_removes_one_tenant() {
    let server = start(auto_consent()).await;
    let tokens = server.sign_in().await;
    let access = str_field(&tokens, "access_token");
    let (_, connections) = server.connections(access).await;
    let practice = connections
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tenantType"] == "PRACTICEMANAGER")
        .unwrap()
        .clone();
    let url = format!("{}/connections/{}", server.base, str_field(&practice, "id"));

    let unauthenticated = server.http.delete(&url).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let deleted = server.http.delete(&url).bearer_auth(access).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let again = server.http.delete(&url).bearer_auth(access).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    let (_, connections) = server.connections(access).await;
    assert!(connections
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["tenantType"] != "PRACTICEMANAGER"));
    let (status, _) = server
        .api(Some(access), Some(str_field(&practice, "tenantId")))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
