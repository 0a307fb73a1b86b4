//! A login for tests and the demo: the connection wizard's OAuth dance (authorize, login,
//! consent, code exchange with PKCE), driven in process through the identity server's real
//! endpoints, so the tokens it yields are exactly those an app would hold.

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::distributions::Alphanumeric;
use rand::Rng as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower::ServiceExt as _;
use url::Url;

use crate::identity::Identity;
use crate::tenants::DemoUser;

/// Used when the sandbox has no registered client id / redirect URI.
const TEST_CLIENT_ID: &str = "hownow-sandbox-test";
const TEST_REDIRECT_URI: &str = "http://localhost:53682/callback";
const SCOPES: &str = "openid profile email offline_access practicemanager.client.read";

/// What the token endpoint answered.
#[derive(Debug, Clone, Deserialize)]
pub struct TestTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub expires_in: u64,
    /// The client id the tokens were issued to (refresh needs it).
    #[serde(skip)]
    pub client_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TestLoginError {
    #[error("{step} answered {status}: {body}")]
    Refused {
        step: &'static str,
        status: StatusCode,
        body: String,
    },
    #[error("{step}: {problem}")]
    Unexpected { step: &'static str, problem: String },
    #[error("auto-consent logs in as {auto}, not {wanted}")]
    AutoConsentUser {
        auto: &'static str,
        wanted: &'static str,
    },
}

pub(crate) async fn log_in(
    identity: &Identity,
    addr: SocketAddr,
    user: &DemoUser,
) -> Result<TestTokens, TestLoginError> {
    let config = identity.config();
    let client_id = config
        .client_ids
        .first()
        .map_or(TEST_CLIENT_ID, String::as_str)
        .to_string();
    let redirect_uri = config
        .redirect_uris
        .first()
        .map_or(TEST_REDIRECT_URI, String::as_str)
        .to_string();
    let verifier: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let query = form(&[
        ("response_type", "code"),
        ("client_id", &client_id),
        ("redirect_uri", &redirect_uri),
        ("scope", SCOPES),
        ("state", "sandbox-test"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let call = Caller { identity, addr };
    let authorize = call
        .send(Method::GET, &format!("/identity/connect/authorize?{query}"), None)
        .await;
    let code = if authorize.status().is_redirection() {
        let auto = crate::tenants::USERS
            .into_iter()
            .find(|u| u.can_authorise_third_party)
            .map_or("?", |u| u.id);
        if auto != user.id {
            return Err(TestLoginError::AutoConsentUser {
                auto,
                wanted: user.id,
            });
        }
        code_from(authorize, "authorize")?
    } else {
        let page = expect_ok(authorize, "authorize").await?;
        let login = hidden_login_id(&page).ok_or_else(|| TestLoginError::Unexpected {
            step: "authorize",
            problem: "the login page has no login id".into(),
        })?;
        let chosen = form(&[("login", &login), ("user", user.id)]);
        let consent_page = call
            .send(Method::POST, "/identity/connect/authorize/login", Some(chosen))
            .await;
        expect_ok(consent_page, "login").await?;
        let decision = form(&[("login", &login), ("user", user.id), ("decision", "allow")]);
        let consent = call
            .send(
                Method::POST,
                "/identity/connect/authorize/consent",
                Some(decision),
            )
            .await;
        code_from(consent, "consent")?
    };
    let exchange = form(&[
        ("grant_type", "authorization_code"),
        ("client_id", &client_id),
        ("code", &code),
        ("redirect_uri", &redirect_uri),
        ("code_verifier", &verifier),
    ]);
    let answer = call.send(Method::POST, "/connect/token", Some(exchange)).await;
    let body = expect_ok(answer, "token").await?;
    let mut tokens: TestTokens = serde_json::from_str(&body).map_err(|e| TestLoginError::Unexpected {
        step: "token",
        problem: e.to_string(),
    })?;
    tokens.client_id = client_id;
    Ok(tokens)
}

struct Caller<'a> {
    identity: &'a Identity,
    addr: SocketAddr,
}

impl Caller<'_> {
    async fn send(&self, method: Method, path_and_query: &str, form_body: Option<String>) -> Response {
        let mut request = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(header::HOST, self.addr.to_string());
        if form_body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request
            .body(form_body.map_or_else(Body::empty, Body::from))
            .expect("a well-formed request");
        match self.identity.router().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn expect_ok(response: Response, step: &'static str) -> Result<String, TestLoginError> {
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| TestLoginError::Unexpected {
            step,
            problem: e.to_string(),
        })?;
    let body = String::from_utf8_lossy(&body).into_owned();
    if status == StatusCode::OK {
        Ok(body)
    } else {
        Err(TestLoginError::Refused { step, status, body })
    }
}

fn code_from(response: Response, step: &'static str) -> Result<String, TestLoginError> {
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| TestLoginError::Refused {
            step,
            status: response.status(),
            body: "no redirect".into(),
        })?;
    let url = Url::parse(location).map_err(|e| TestLoginError::Unexpected {
        step,
        problem: format!("redirect {location}: {e}"),
    })?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    param("code").ok_or_else(|| TestLoginError::Unexpected {
        step,
        problem: format!(
            "redirected without a code: {}",
            param("error_description")
                .or_else(|| param("error"))
                .unwrap_or_default()
        ),
    })
}

/// The login page carries the pending login in `<input type="hidden" name="login" value="…">`.
fn hidden_login_id(page: &str) -> Option<String> {
    let start = page.find("name=\"login\" value=\"")? + "name=\"login\" value=\"".len();
    let end = page[start..].find('"')?;
    Some(page[start..start + end].to_string())
}
