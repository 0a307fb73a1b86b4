//! What every practice test needs: a running sandbox, a logged-in user's token and small
//! helpers for XPM and admin calls over real loopback HTTP.

#![allow(dead_code)] // each test module uses its own subset

use std::time::Duration;

use hownow_sandbox::tenants::{DemoUser, DEMO_PRACTICE, USERS};
use hownow_sandbox::{Sandbox, SandboxConfig, Switches};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Env {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    /// An access token of the first demo user (demo practice + organisation).
    pub token: String,
}

/// A small practice without rate limits.
pub async fn start() -> Env {
    start_with(|_| {}).await
}

pub async fn start_with(configure: impl FnOnce(&mut SandboxConfig)) -> Env {
    let mut config = SandboxConfig {
        clients: 120,
        seed: 7,
        switches: Switches::unlimited(),
        ..SandboxConfig::default()
    };
    configure(&mut config);
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    let token = sandbox
        .issue_test_token(&USERS[0])
        .await
        .expect("test login")
        .access_token;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    Env { sandbox, http, token }
}

impl Env {
    pub fn xpm_url(&self, path: &str) -> String {
        format!("{}/practicemanager/3.1/{path}", self.sandbox.api_base())
    }

    /// An XPM call with the test token, for the demo practice.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_with(path, &self.token, DEMO_PRACTICE.id).await
    }

    pub async fn get_with(&self, path: &str, token: &str, tenant: &str) -> reqwest::Response {
        self.http
            .get(self.xpm_url(path))
            .bearer_auth(token)
            .header("xero-tenant-id", tenant)
            .header("accept", "application/xml")
            .send()
            .await
            .expect("request")
    }

    /// The body of a successful XPM call.
    pub async fn xml(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.expect("body")
    }

    /// A successful XPM call decoded by the product's own decoder.
    pub async fn decoded(&self, path: &str) -> hownow_xpm::decode::Decoded {
        decode(&self.xml(path).await)
    }

    pub async fn token_for(&self, user: &DemoUser) -> String {
        self.sandbox
            .issue_test_token(user)
            .await
            .expect("test login")
            .access_token
    }

    /// An admin API call: status and JSON body.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.sandbox.admin_base()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin request");
        let status = response.status();
        let text = response.text().await.expect("admin body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        };
        (status, value)
    }

    pub async fn admin_ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.admin(method, path, body).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }
}

pub fn decode(xml: &str) -> hownow_xpm::decode::Decoded {
    hownow_xpm::decode::decode_all(xml.as_bytes()).unwrap_or_else(|e| panic!("decode: {e}\n{}", head(xml)))
}

pub fn head(text: &str) -> &str {
    let mut end = text.len().min(2000);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Now minus a margin, in XPM's `modifiedsince` form (UTC).
pub fn since_a_moment_ago() -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::seconds(2);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub fn uuids(clients: &[hownow_xpm::Client]) -> Vec<String> {
    clients
        .iter()
        .map(|c| c.uuid.clone().unwrap_or_default())
        .collect()
}
