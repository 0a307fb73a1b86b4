//! Discovery and logging in: the auto-consent PKCE flow, the login and consent pages for each
//! demo user, a user without Practice Manager, and cancelling on the consent page.

use crate::identity_support::{auto_consent, hidden_input, param, redirect_query, start, Pkce};
use hownow_sandbox::identity::IdentityConfig;
use hownow_sandbox::tenants::{self, TenantKind, DEMO_PRACTICE, USERS};
use reqwest::StatusCode;
use serde_json::Value;

use super::{has_param, jwt_claims, str_field, CLIENT, SCOPE};

#[tokio::test]
async fn discovery_document_advertises_the_endpoints() {
    let server = start(IdentityConfig::default()).await;
    let doc: Value = server
        .get(&format!("{}/.well-known/openid-configuration", server.base))
        .await
        .json()
        .await
        .unwrap();
    let base = &server.base;
    assert_eq!(doc["issuer"], *base);
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{base}/identity/connect/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{base}/connect/token"));
    assert_eq!(doc["revocation_endpoint"], format!("{base}/connect/revocation"));
    assert_eq!(doc["userinfo_endpoint"], format!("{base}/connect/userinfo"));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let scopes: Vec<&str> = doc["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for scope in SCOPE.split(' ') {
        assert!(scopes.contains(&scope), "{scope} missing from {scopes:?}");
    }
    let jwks: Value = server
        .get(str_field(&doc, "jwks_uri"))
        .await
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert!(keys[0]["n"].as_str().unwrap().len() > 300, "a 2048-bit modulus");
}

#[tokio::test]
async fn auto_consent_pkce_flow_yields_tokens_id_token_and_connections() {
    let server = start(auto_consent()).await;
    let pkce = Pkce::new("auto");
    let redirect_uri = server.redirect_uri();
    let answer = server.authorize(CLIENT, &redirect_uri, &pkce).await;
    assert_eq!(param(&answer, "state"), "state with spaces & symbols");
    let (status, tokens) = server
        .exchange(&param(&answer, "code"), &redirect_uri, &pkce.verifier)
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 1800);
    assert!(str_field(&tokens, "refresh_token").len() >= 32);
    assert_eq!(tokens["scope"], SCOPE);

    let claims = jwt_claims(str_field(&tokens, "id_token"));
    let ava = &USERS[0];
    assert_eq!(claims["iss"], server.base.as_str());
    assert_eq!(claims["aud"], CLIENT);
    assert_eq!(claims["sub"], ava.id);
    assert_eq!(claims["name"], ava.name);
    assert_eq!(claims["given_name"], "Ava");
    assert_eq!(claims["family_name"], "Partner");
    assert_eq!(claims["email"], ava.email);
    assert_eq!(claims["nonce"], "nonce-123");
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());

    let (status, connections) = server.connections(str_field(&tokens, "access_token")).await;
    assert_eq!(status, StatusCode::OK);
    let connections = connections.as_array().unwrap();
    let expected = tenants::tenants_for(ava);
    assert_eq!(connections.len(), expected.len());
    for (connection, tenant) in connections.iter().zip(&expected) {
        assert_eq!(connection["tenantId"], tenant.id);
        assert_eq!(connection["tenantType"], tenant.kind.as_xero_str());
        assert_eq!(connection["tenantName"], tenant.name);
        assert_eq!(connection["authEventId"], claims["authentication_event_id"]);
        for field in ["id", "createdDateUtc", "updatedDateUtc"] {
            assert!(!str_field(connection, field).is_empty());
        }
        // Xero's timestamps carry no zone.
        assert!(!str_field(connection, "createdDateUtc").ends_with('Z'));
    }

    let userinfo: Value = server
        .http
        .get(format!("{}/connect/userinfo", server.base))
        .bearer_auth(str_field(&tokens, "access_token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["email"], ava.email);
}

#[tokio::test]
async fn consent_pages_log_in_each_demo_user() {
    let server = start(IdentityConfig::default()).await;
    let redirect_uri = server.redirect_uri();
    for user in USERS {
        let pkce = Pkce::new(user.id);
        let page = server
            .get(&server.standard_authorize_url(CLIENT, &redirect_uri, &pkce))
            .await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["x-frame-options"], "DENY");
        let html = page.text().await.unwrap();
        for candidate in USERS {
            assert!(
                html.contains(&format!("value=\"{}\"", candidate.id)),
                "{} not offered",
                candidate.id
            );
        }
        assert!(html.contains("no \u{201c}Authorise 3rd Party Full Access\u{201d} privilege"));
        let login = hidden_input(&html, "login");

        let consent = server
            .http
            .post(format!("{}/identity/connect/authorize/login", server.base))
            .form(&[("login", login.as_str()), ("user", user.id)])
            .send()
            .await
            .unwrap();
        assert_eq!(consent.status(), StatusCode::OK);
        let html = consent.text().await.unwrap();
        let granted = tenants::tenants_for(&user);
        for tenant in &granted {
            assert!(
                html.contains(&format!("data-tenant-id=\"{}\"", tenant.id)),
                "{} not listed",
                tenant.name
            );
        }
        // Names are escaped, never raw markup.
        assert!(html.contains("Harbour &amp; Co"));
        let has_practice = granted.iter().any(|t| t.kind == TenantKind::PracticeManager);
        assert_eq!(html.contains("no-practice-manager"), !has_practice, "{}", user.id);

        let redirect = server
            .http
            .post(format!("{}/identity/connect/authorize/consent", server.base))
            .form(&[
                ("login", login.as_str()),
                ("user", user.id),
                ("decision", "allow"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
        let answer = redirect_query(&redirect, &redirect_uri);
        assert_eq!(param(&answer, "state"), "state with spaces & symbols");
        let (status, tokens) = server
            .exchange(&param(&answer, "code"), &redirect_uri, &pkce.verifier)
            .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        assert_eq!(jwt_claims(str_field(&tokens, "id_token"))["email"], user.email);

        let (_, connections) = server.connections(str_field(&tokens, "access_token")).await;
        let mut tenant_ids: Vec<&str> = connections
            .as_array()
            .unwrap()
            .iter()
            .map(|c| str_field(c, "tenantId"))
            .collect();
        let mut expected: Vec<&str> = granted.iter().map(|t| t.id).collect();
        tenant_ids.sort_unstable();
        expected.sort_unstable();
        assert_eq!(tenant_ids, expected, "{}", user.id);

        // The login was used up.
        let again = server
            .http
            .post(format!("{}/identity/connect/authorize/consent", server.base))
            .form(&[
                ("login", login.as_str()),
                ("user", user.id),
                ("decision", "allow"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn unprivileged_user_gets_no_practice_manager_tenant() {
    let server = start(IdentityConfig::default()).await;
    let cleo = USERS.into_iter().find(|u| !u.can_authorise_third_party).unwrap();
    let redirect_uri = server.redirect_uri();
    let pkce = Pkce::new("cleo");
    let html = server
        .get(&server.standard_authorize_url(CLIENT, &redirect_uri, &pkce))
        .await
        .text()
        .await
        .unwrap();
    let login = hidden_input(&html, "login");
    let consent = |decision: &'static str| {
        let form = [
            ("login", login.clone()),
            ("user", cleo.id.to_owned()),
            ("decision", decision.to_owned()),
        ];
        server
            .http
            .post(format!("{}/identity/connect/authorize/consent", server.base))
            .form(&form)
            .send()
    };
    let answer = redirect_query(&consent("allow").await.unwrap(), &redirect_uri);
    let (_, tokens) = server
        .exchange(&param(&answer, "code"), &redirect_uri, &pkce.verifier)
        .await;
    let (_, connections) = server.connections(str_field(&tokens, "access_token")).await;
    let connections = connections.as_array().unwrap();
    assert!(!connections.is_empty(), "the organisation is still connected");
    assert!(
        connections.iter().all(|c| c["tenantType"] != "PRACTICEMANAGER"),
        "{connections:?}"
    );
    let (status, _) = server
        .api(tokens["access_token"].as_str(), Some(DEMO_PRACTICE.id))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn cancel_on_the_consent_page_redirects_access_denied() {
    let server = start(IdentityConfig::default()).await;
    let redirect_uri = server.redirect_uri();
    let html = server
        .get(&server.standard_authorize_url(CLIENT, &redirect_uri, &Pkce::new("deny")))
        .await
        .text()
        .await
        .unwrap();
    let login = hidden_input(&html, "login");
    let redirect = server
        .http
        .post(format!("{}/identity/connect/authorize/consent", server.base))
        .form(&[
            ("login", login.as_str()),
            ("user", USERS[0].id),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    let answer = redirect_query(&redirect, &redirect_uri);
    assert_eq!(param(&answer, "error"), "access_denied");
    assert_eq!(param(&answer, "state"), "state with spaces & symbols");
    assert!(!has_param(&answer, "code"));
}
