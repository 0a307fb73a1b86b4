//! The identity half of the sandbox over real loopback HTTP: discovery, authorize (auto-consent
//! and the login/consent pages), the token endpoint's PKCE and refresh rules, revocation,
//! connections, the gateway check and the bounce page.

use std::time::Duration;

use crate::identity_support::{auto_consent, hidden_input, param, redirect_query, start, Pkce, Server};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hownow_sandbox::identity::IdentityConfig;
use hownow_sandbox::tenants::{self, TenantKind, DEMO_ORGANISATION, DEMO_PRACTICE, SECOND_PRACTICE, USERS};
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

const CLIENT: &str = "hownow-admin-test";
const SCOPE: &str = "openid profile email offline_access practicemanager.client.read";

impl Server {
    fn redirect_uri(&self) -> String {
        "http://localhost:8765/callback".to_owned()
    }

    fn authorize_url(&self, pairs: &[(&str, &str)]) -> String {
        let mut url = Url::parse(&format!("{}/identity/connect/authorize", self.base)).unwrap();
        url.query_pairs_mut().extend_pairs(pairs);
        url.into()
    }

    fn standard_authorize_url(&self, client_id: &str, redirect_uri: &str, pkce: &Pkce) -> String {
        self.authorize_url(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", SCOPE),
            ("state", "state with spaces & symbols"),
            ("nonce", "nonce-123"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ])
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// Authorize with auto-consent; returns the redirect's query parameters.
    async fn authorize(&self, client_id: &str, redirect_uri: &str, pkce: &Pkce) -> Vec<(String, String)> {
        let response = self
            .get(&self.standard_authorize_url(client_id, redirect_uri, pkce))
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        redirect_query(&response, redirect_uri)
    }

    async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/connect/token", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn exchange(&self, code: &str, redirect_uri: &str, verifier: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .await
    }

    async fn refresh(&self, refresh_token: &str) -> (StatusCode, Value) {
        self.token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// A complete auto-consent login: the token response.
    async fn sign_in(&self) -> Value {
        let pkce = Pkce::new("sign-in");
        let redirect_uri = self.redirect_uri();
        let code = param(&self.authorize(CLIENT, &redirect_uri, &pkce).await, "code");
        let (status, tokens) = self.exchange(&code, &redirect_uri, &pkce.verifier).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        tokens
    }

    async fn connections(&self, access_token: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}/connections", self.base))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn api(&self, access_token: Option<&str>, tenant_id: Option<&str>) -> (StatusCode, String) {
        let mut request = self
            .http
            .get(format!("{}/practicemanager/3.1/client.api/list", self.base));
        if let Some(token) = access_token {
            request = request.bearer_auth(token);
        }
        if let Some(tenant) = tenant_id {
            request = request.header("xero-tenant-id", tenant);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

fn has_param(pairs: &[(String, String)], name: &str) -> bool {
    pairs.iter().any(|(k, _)| k == name)
}

fn jwt_claims(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token}");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert!(
        header["kid"].is_string(),
        "Xero's id tokens name their key: {header}"
    );
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap()
}

fn str_field<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string {name} in {value}"))
}

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
async fn authorize_errors_stay_on_a_page_until_the_redirect_uri_is_valid() {
    let server = start(auto_consent()).await;
    let pkce = Pkce::new("errors");
    for redirect_uri in [
        "nz.co.hownow.admin://oauth/callback",
        "http://evil.example/cb",
        "http://localhost:1/cb#x",
    ] {
        let response = server
            .get(&server.standard_authorize_url(CLIENT, redirect_uri, &pkce))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{redirect_uri}");
        assert!(response.headers().get("location").is_none(), "{redirect_uri}");
        assert!(response.text().await.unwrap().contains("redirect"));
    }
    let missing_client = server
        .get(&server.authorize_url(&[("redirect_uri", "http://localhost:1/cb")]))
        .await;
    assert_eq!(missing_client.status(), StatusCode::BAD_REQUEST);

    let redirect_uri = server.redirect_uri();
    let base = [
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", SCOPE),
        ("state", "s1"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let with = |name: &'static str, value: Option<&'static str>| -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != name).collect();
        if let Some(value) = value {
            pairs.push((name, value));
        }
        pairs
    };
    for (pairs, expected) in [
        (with("code_challenge_method", Some("plain")), "invalid_request"),
        (with("code_challenge_method", None), "invalid_request"),
        (with("code_challenge", None), "invalid_request"),
        (with("response_type", Some("token")), "unsupported_response_type"),
        (with("scope", Some("profile offline_access")), "invalid_scope"),
        (
            with("scope", Some("openid accounting.everything")),
            "invalid_scope",
        ),
    ] {
        let response = server.get(&server.authorize_url(&pairs)).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{pairs:?}");
        let answer = redirect_query(&response, &redirect_uri);
        assert_eq!(param(&answer, "error"), expected, "{pairs:?}");
        assert_eq!(param(&answer, "state"), "s1");
    }
}

#[tokio::test]
async fn registered_client_ids_and_redirect_uris_are_enforced() {
    let server = start(IdentityConfig {
        client_ids: vec![CLIENT.to_owned()],
        redirect_uris: vec!["http://localhost:8765/callback".to_owned()],
        ..auto_consent()
    })
    .await;
    let pkce = Pkce::new("registered");
    let unknown_client = server
        .get(&server.standard_authorize_url("someone-else", &server.redirect_uri(), &pkce))
        .await;
    assert_eq!(unknown_client.status(), StatusCode::BAD_REQUEST);
    assert!(unknown_client.headers().get("location").is_none());
    let unregistered_uri = server
        .get(&server.standard_authorize_url(CLIENT, "http://localhost:9999/callback", &pkce))
        .await;
    assert_eq!(unregistered_uri.status(), StatusCode::BAD_REQUEST);
    assert!(unregistered_uri.headers().get("location").is_none());
    // The sandbox's own bounce page stays usable.
    let bounce = format!("{}/bounce", server.base);
    let answer = server.authorize(CLIENT, &bounce, &pkce).await;
    let code = param(&answer, "code");

    let (status, body) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "someone-else"),
            ("code", &code),
            ("redirect_uri", &bounce),
            ("code_verifier", &pkce.verifier),
        ])
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_client"))
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

#[tokio::test]
async fn bounce_page_forwards_code_and_state_to_the_deep_link() {
    let server = start(IdentityConfig {
        deep_link_scheme: "nz.co.hownow.admin".to_owned(),
        ..auto_consent()
    })
    .await;
    let pkce = Pkce::new("bounce");
    let bounce = format!("{}/bounce", server.base);
    let answer = server.authorize(CLIENT, &bounce, &pkce).await;
    let code = param(&answer, "code");

    let mut url = Url::parse(&bounce).unwrap();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", "a&b=c <d>");
    let page = server.get(url.as_str()).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let expected = format!("nz.co.hownow.admin://oauth/callback?code={code}&state=a%26b%3Dc+%3Cd%3E");
    let in_attribute = expected.replace('&', "&amp;");
    assert!(
        html.contains(&format!("content=\"0;url={in_attribute}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"{in_attribute}\"")), "{html}");
    assert!(
        html.contains(&format!("window.location.replace(\"{expected}\")")),
        "{html}"
    );
    // What the deep link carries decodes back to Xero's values.
    let forwarded = Url::parse(&expected).unwrap();
    let pairs: Vec<(String, String)> = forwarded
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(param(&pairs, "state"), "a&b=c <d>");
    // And the code it forwarded is exchangeable with the bounce page as redirect URI.
    let (status, _) = server.exchange(&code, &bounce, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK);

    let empty = server.get(&bounce).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    // Errors are forwarded too, so the app can tell the user they cancelled.
    let denied = server
        .get(&format!("{bounce}?error=access_denied&state=s"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        denied.contains("nz.co.hownow.admin://oauth/callback?state=s&amp;error=access_denied"),
        "{denied}"
    );
}
