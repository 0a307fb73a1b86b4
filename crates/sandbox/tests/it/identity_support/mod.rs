//! A loopback identity server for the identity tests, with a manual clock and a stand-in API
//! route that runs the gateway check as the practice half does.

#![allow(dead_code)] // each test module uses a different part

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hownow_sandbox::identity::{Identity, IdentityConfig, ManualClock};
use sha2::{Digest, Sha256};
use url::Url;

pub const API_PATH: &str = "/practicemanager/3.1/client.api/list";

pub struct Server {
    pub base: String,
    pub identity: Identity,
    pub clock: Arc<ManualClock>,
    /// Follows no redirects, so tests see where authorize sends the browser.
    pub http: reqwest::Client,
}

/// Serves the identity router on 127.0.0.1:0 until the test's runtime ends.
pub async fn start(config: IdentityConfig) -> Server {
    let clock = Arc::new(ManualClock::starting_now());
    let identity = Identity::with_clock(config, clock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    identity.set_public_base(&base);
    let gatekeeper = identity.clone();
    let api = axum::Router::new().route(
        API_PATH,
        get(move |headers: HeaderMap| async move {
            let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
            match gatekeeper.check_api_access(header("authorization"), header("xero-tenant-id")) {
                Ok(()) => "<Response><Status>OK</Status></Response>".into_response(),
                Err(rejection) => rejection.into_response(),
            }
        }),
    );
    let app = identity.router().merge(api);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Server {
        base,
        identity,
        clock,
        http,
    }
}

pub fn auto_consent() -> IdentityConfig {
    IdentityConfig {
        auto_consent: true,
        ..IdentityConfig::default()
    }
}

/// A verifier/challenge pair as a client makes them.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new(seed: &str) -> Self {
        let verifier = format!("{seed}-{}", "v".repeat(50));
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce { verifier, challenge }
    }
}

/// The query of a redirect, which must go to `redirect_uri`.
pub fn redirect_query(response: &reqwest::Response, redirect_uri: &str) -> Vec<(String, String)> {
    let location = response.headers()["location"].to_str().unwrap();
    let url = Url::parse(location).unwrap();
    let target = Url::parse(redirect_uri).unwrap();
    assert_eq!(
        (url.scheme(), url.host_str(), url.port(), url.path()),
        (target.scheme(), target.host_str(), target.port(), target.path())
    );
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn param(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name} in {pairs:?}"))
}

/// The value of the first `name="…" value="…"` input of a page.
pub fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} input in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

impl Server {
    /// Logs `user_id` in through the login and consent pages of an authorize URL the test
    /// already made; returns the final redirect.
    pub async fn consent_as(&self, authorize_url: &str, user_id: &str) -> reqwest::Response {
        let page = self.http.get(authorize_url).send().await.unwrap();
        assert_eq!(page.status(), reqwest::StatusCode::OK);
        let login = hidden_input(&page.text().await.unwrap(), "login");
        let form = [
            ("login", login.as_str()),
            ("user", user_id),
            ("decision", "allow"),
        ];
        self.http
            .post(format!("{}/identity/connect/authorize/consent", self.base))
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}
