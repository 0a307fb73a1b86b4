//! The identity half of the sandbox over real loopback HTTP: discovery, authorize (auto-consent
//! and the login/consent pages), the token endpoint's PKCE and refresh rules, revocation,
//! connections, the gateway check and the bounce page.
//!
//! The tests are in the submodules by endpoint; the test server's requests (authorize, token,
//! connections, API) and the readers of their answers are here.

mod connections;
mod login;
mod redirects;
mod token_endpoint;

use crate::identity_support::{param, redirect_query, Pkce, Server};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

pub(super) const CLIENT: &str = "hownow-admin-test";
pub(super) const SCOPE: &str = "openid profile email offline_access practicemanager.client.read";

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

pub(super) fn has_param(pairs: &[(String, String)], name: &str) -> bool {
    pairs.iter().any(|(k, _)| k == name)
}

pub(super) fn jwt_claims(token: &str) -> Value {
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

pub(super) fn str_field<'a>(value: &'a Value, name: &str) -> &'a str {
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string {name} in {value}"))
}
