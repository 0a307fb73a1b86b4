//! Xero identity: OIDC discovery, the PKCE authorisation URL, code exchange, refresh, revocation,
//! the id token's checks (`id_token`) and userinfo.
//!
//! HowNow Admin is a public client ("Auth Code with PKCE" app): it has no client secret, so every
//! token request carries `client_id` in the form body and the PKCE verifier proves the caller.

mod claims;
mod id_token;

use std::borrow::Cow;
use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet, ExtraTokenFields,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

pub use claims::IdTokenClaims;
pub use id_token::CLOCK_SKEW;

use crate::http::{self, transport_error, HttpConfig};
use crate::{Secret, XpmError};

/// Xero's OpenID issuer; discovery reads `{issuer}/.well-known/openid-configuration`.
pub const DEFAULT_ISSUER: &str = "https://identity.xero.com";

/// Scopes asked for by default: sign-in claims, a refresh token, and read access to XPM clients.
pub const DEFAULT_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "practicemanager.client.read",
];

/// How to reach Xero identity as this app.
#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// The OpenID issuer (default [`DEFAULT_ISSUER`]); the sandbox passes its own loopback URL.
    pub issuer: Url,
    /// The app's client id from Xero's developer portal. Configuration, never hard-coded.
    pub client_id: String,
    /// Scopes requested at authorisation (default [`DEFAULT_SCOPES`]).
    pub scopes: Vec<String>,
    /// Overrides discovery's `authorization_endpoint`.
    pub authorization_endpoint: Option<Url>,
    /// Overrides discovery's `token_endpoint`.
    pub token_endpoint: Option<Url>,
    /// Overrides discovery's `revocation_endpoint`.
    pub revocation_endpoint: Option<Url>,
    pub http: HttpConfig,
}

impl IdentityConfig {
    /// Xero's production identity service with the default scopes.
    pub fn new(client_id: impl Into<String>) -> Self {
        IdentityConfig {
            issuer: Url::parse(DEFAULT_ISSUER).expect("constant URL"),
            client_id: client_id.into(),
            scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            authorization_endpoint: None,
            token_endpoint: None,
            revocation_endpoint: None,
            http: HttpConfig::default(),
        }
    }
}

/// The endpoints the app uses, after discovery and overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityEndpoints {
    pub authorization: Url,
    pub token: Url,
    pub revocation: Url,
    /// The issuer's public keys, which id tokens are checked against. Known from discovery only:
    /// without it a login's id token cannot be believed (see [`Identity::verify_id_token`]).
    pub jwks: Option<Url>,
    /// OIDC userinfo, asked when the id token names nobody (see [`Identity::userinfo`]).
    pub userinfo: Option<Url>,
}

/// The part of the discovery document this crate reads.
#[derive(Debug, Deserialize)]
struct DiscoveryDocument {
    /// Must be the issuer asked for: a document naming another issuer is refused (OpenID
    /// Connect Discovery, section 4.3).
    issuer: Option<String>,
    authorization_endpoint: Option<Url>,
    token_endpoint: Option<Url>,
    revocation_endpoint: Option<Url>,
    jwks_uri: Option<Url>,
    userinfo_endpoint: Option<Url>,
}

/// The `id_token` Xero returns beside the access token (OpenID Connect).
#[derive(Clone, Default, Deserialize, Serialize)]
struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl std::fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdTokenField([redacted])")
    }
}

impl ExtraTokenFields for IdTokenField {}

type XeroTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// An oauth2 client with the authorisation and token endpoints set. Revocation is done by hand
/// (see [`Identity::revoke`]).
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    XeroTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Xero identity for one app (client id): builds login URLs and exchanges, refreshes and revokes
/// tokens. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The issuer id tokens must name (`iss`).
    issuer: Url,
    client_id: String,
    scopes: Vec<String>,
    endpoints: IdentityEndpoints,
    response_timeout: Duration,
    idle_timeout: Duration,
    http: reqwest::Client,
    oauth: OAuthClient,
}

/// A login in progress: what the app must keep between opening the browser and the callback.
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    /// Open this in the browser.
    pub url: Url,
    /// The `state` sent; the callback must bring it back unchanged (see [`Self::state_matches`]).
    pub state: String,
    /// The OIDC `nonce` sent; Xero echoes it in the id token.
    pub nonce: String,
    /// The redirect URI used; the code exchange must repeat it exactly.
    pub redirect_uri: String,
    pkce_verifier: Secret,
}

impl PendingAuthorization {
    /// Whether the callback's `state` is the one this login sent (a forged or stale callback is
    /// not). Compared in constant time.
    pub fn state_matches(&self, returned_state: &str) -> bool {
        let (a, b) = (self.state.as_bytes(), returned_state.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The PKCE code verifier (43 characters, base64url of 32 random bytes).
    pub fn pkce_verifier(&self) -> &Secret {
        &self.pkce_verifier
    }
}

/// Tokens from a code exchange or a refresh. `Debug` redacts every token.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// Bearer token for the API; valid for `expires_in` (30 minutes at Xero).
    pub access_token: Secret,
    /// The refresh token to store. Xero rotates it on every refresh: after [`Identity::refresh`]
    /// this is the NEW token (or the old one if a server chose not to rotate), and it must be stored
    /// before the new access token is used. `None` only if `offline_access` was not granted.
    pub refresh_token: Option<Secret>,
    /// Lifetime of `access_token` from the moment of the response.
    pub expires_in: Option<Duration>,
    /// The OpenID id token, present after a code exchange with the `openid` scope.
    pub id_token: Option<Secret>,
    /// Scopes granted, when the server listed them.
    pub scopes: Vec<String>,
}

impl Identity {
    /// Reads the issuer's discovery document (unless all three endpoints are overridden) and
    /// applies the overrides.
    pub async fn discover(config: IdentityConfig) -> Result<Self, XpmError> {
        let endpoints = match (
            &config.authorization_endpoint,
            &config.token_endpoint,
            &config.revocation_endpoint,
        ) {
            (Some(a), Some(t), Some(r)) => IdentityEndpoints {
                authorization: a.clone(),
                token: t.clone(),
                revocation: r.clone(),
                jwks: None,
                userinfo: None,
            },
            _ => {
                let http = config.http.build_client()?;
                let document = fetch_discovery(&http, &config).await?;
                let missing = |name: &str| XpmError::OAuth {
                    error: "invalid_discovery_document".to_string(),
                    description: Some(format!("the discovery document has no {name}")),
                };
                IdentityEndpoints {
                    authorization: config
                        .authorization_endpoint
                        .clone()
                        .or(document.authorization_endpoint)
                        .ok_or_else(|| missing("authorization_endpoint"))?,
                    token: config
                        .token_endpoint
                        .clone()
                        .or(document.token_endpoint)
                        .ok_or_else(|| missing("token_endpoint"))?,
                    revocation: config
                        .revocation_endpoint
                        .clone()
                        .or(document.revocation_endpoint)
                        .ok_or_else(|| missing("revocation_endpoint"))?,
                    jwks: document.jwks_uri,
                    userinfo: document.userinfo_endpoint,
                }
            }
        };
        Self::with_endpoints(config, endpoints)
    }

    /// Uses the given endpoints without any discovery request.
    pub fn with_endpoints(config: IdentityConfig, endpoints: IdentityEndpoints) -> Result<Self, XpmError> {
        if config.client_id.trim().is_empty() {
            return Err(XpmError::Config("the Xero client id is empty".to_string()));
        }
        let http = config.http.build_client()?;
        let oauth = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(endpoints.authorization.clone()))
            .set_token_uri(TokenUrl::from_url(endpoints.token.clone()));
        Ok(Identity {
            issuer: config.issuer,
            client_id: config.client_id,
            scopes: config.scopes,
            endpoints,
            response_timeout: config.http.response_timeout,
            idle_timeout: config.http.idle_timeout,
            http,
            oauth,
        })
    }

    pub fn endpoints(&self) -> &IdentityEndpoints {
        &self.endpoints
    }

    /// Starts a login: a fresh `state`, `nonce` and PKCE S256 pair, and the authorisation URL that
    /// carries them with the configured scopes and `redirect_uri`.
    pub fn authorization_request(&self, redirect_uri: &str) -> Result<PendingAuthorization, XpmError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| XpmError::Config(format!("invalid redirect URI `{redirect_uri}`: {e}")))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = CsrfToken::new_random().secret().clone();
        let (url, state) = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scopes.iter().map(|s| Scope::new(s.clone())))
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(redirect))
            .add_extra_param("nonce", nonce.clone())
            .url();
        Ok(PendingAuthorization {
            url,
            state: state.secret().clone(),
            nonce,
            redirect_uri: redirect_uri.to_string(),
            pkce_verifier: Secret::new(verifier.secret().clone()),
        })
    }

    /// Exchanges the callback's `code` for tokens, proving the login with the PKCE verifier.
    /// Check `state` first ([`PendingAuthorization::state_matches`]).
    pub async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: &str,
    ) -> Result<TokenSet, XpmError> {
        let redirect = RedirectUrl::new(pending.redirect_uri.clone())
            .map_err(|e| XpmError::Config(format!("invalid redirect URI: {e}")))?;
        let (http, idle) = (self.http.clone(), self.idle_timeout);
        let client = move |request| capped_exchange(http.clone(), idle, request);
        let request = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.expose().to_string()))
            .set_redirect_uri(Cow::Owned(redirect))
            .request_async(&client);
        let response = self.with_timeout("the token request", request).await?;
        Ok(token_set(response, None))
    }

    /// Trades a refresh token for a new access token and the ROTATED refresh token. Store
    /// `refresh_token` of the result before using its access token. `invalid_grant` (token dead,
    /// revoked or already used elsewhere) is [`XpmError::NeedsReauth`].
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, XpmError> {
        let token = RefreshToken::new(refresh_token.expose().to_string());
        let (http, idle) = (self.http.clone(), self.idle_timeout);
        let client = move |request| capped_exchange(http.clone(), idle, request);
        let request = self.oauth.exchange_refresh_token(&token).request_async(&client);
        let response = self.with_timeout("the token refresh", request).await?;
        Ok(token_set(response, Some(refresh_token)))
    }

    /// Checks the id token of a code exchange (`id_token`: the issuer's signature, `iss`,
    /// `aud`, `exp` on `now`, and `nonce`, which must be the login's) and returns who it names.
    /// `None` when the exchange brought no id token (no `openid` scope).
    pub async fn verify_id_token(
        &self,
        tokens: &TokenSet,
        nonce: &str,
        now: OffsetDateTime,
    ) -> Result<Option<IdTokenClaims>, XpmError> {
        let Some(token) = &tokens.id_token else {
            return Ok(None);
        };
        let Some(jwks) = &self.endpoints.jwks else {
            return Err(XpmError::InvalidIdToken(
                "the issuer publishes no key set (jwks_uri) to check it against".to_string(),
            ));
        };
        let request = self
            .http
            .get(jwks.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        let response = http::send(request, self.response_timeout, "the key set request").await?;
        let response = http::check_status(response, self.idle_timeout).await?;
        let body = http::read_small_body(response, self.idle_timeout, "the key set request").await?;
        let keys = id_token::parse_key_set(&body)?;
        let expected = id_token::Expected {
            issuer: self.issuer.as_str(),
            client_id: &self.client_id,
            nonce,
            now,
        };
        id_token::verify(token.expose(), &keys, expected).map(Some)
    }

    /// Asks the issuer's userinfo endpoint who `access_token` belongs to: for providers that put
    /// the profile only there, not in the id token. `None` when the issuer has no such endpoint.
    pub async fn userinfo(&self, access_token: &Secret) -> Result<Option<IdTokenClaims>, XpmError> {
        let Some(url) = &self.endpoints.userinfo else {
            return Ok(None);
        };
        let request = self
            .http
            .get(url.clone())
            .bearer_auth(access_token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        let response = http::send(request, self.response_timeout, "the userinfo request").await?;
        let response = http::check_status(response, self.idle_timeout).await?;
        let body = http::read_small_body(response, self.idle_timeout, "the userinfo request").await?;
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|_| XpmError::OAuth {
            error: "invalid_userinfo".to_string(),
            description: Some("the userinfo answer is not JSON".to_string()),
        })?;
        let object = value.as_object().ok_or_else(|| XpmError::OAuth {
            error: "invalid_userinfo".to_string(),
            description: Some("the userinfo answer is not a JSON object".to_string()),
        })?;
        Ok(Some(IdTokenClaims::from_object(object)))
    }

    /// Revokes a refresh token (`POST token=<refresh token>`). Xero then also removes all of this
    /// app's connections for the user.
    ///
    /// Sent by hand rather than through `oauth2`, which refuses non-https revocation endpoints and
    /// so could not talk to the loopback sandbox.
    pub async fn revoke(&self, refresh_token: &Secret) -> Result<(), XpmError> {
        let request = self.http.post(self.endpoints.revocation.clone()).form(&[
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
            ("client_id", self.client_id.as_str()),
        ]);
        let response = http::send(request, self.response_timeout, "the revocation request").await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // What it says is only a better error message: a body too large or too slow says nothing.
        let body = http::read_small_body(response, self.idle_timeout, "the revocation request")
            .await
            .unwrap_or_default();
        if let Ok(error) = serde_json::from_slice::<OAuthErrorBody>(&body) {
            return Err(XpmError::OAuth {
                error: error.error,
                description: error.error_description,
            });
        }
        Err(XpmError::Http {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&body[..body.len().min(300)])
                .trim()
                .to_string(),
        })
    }

    async fn with_timeout<F>(&self, what: &str, request: F) -> Result<XeroTokenResponse, XpmError>
    where
        F: std::future::Future<
            Output = Result<XeroTokenResponse, RequestTokenError<XpmError, BasicErrorResponse>>,
        >,
    {
        match tokio::time::timeout(self.response_timeout, request).await {
            Ok(result) => result.map_err(token_error),
            Err(_) => Err(XpmError::Timeout(format!(
                "no response to {what} within {} s",
                self.response_timeout.as_secs_f32()
            ))),
        }
    }
}

/// The token endpoint's exchange for `oauth2`, through our client, reading at most
/// [`http::MAX_SMALL_BODY`] of the answer (oauth2's own reqwest glue reads it whole).
async fn capped_exchange(
    client: reqwest::Client,
    idle: Duration,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, XpmError> {
    let (parts, body) = request.into_parts();
    let url = Url::parse(&parts.uri.to_string())
        .map_err(|e| XpmError::Config(format!("invalid token endpoint: {e}")))?;
    let response = client
        .request(parts.method, url)
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| transport_error(&e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = http::read_small_body(response, idle, "the token request").await?;
    let mut answer = oauth2::HttpResponse::new(body);
    *answer.status_mut() = status;
    *answer.headers_mut() = headers;
    Ok(answer)
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    error_description: Option<String>,
}

async fn fetch_discovery(
    http: &reqwest::Client,
    config: &IdentityConfig,
) -> Result<DiscoveryDocument, XpmError> {
    let url = http::join_path(&config.issuer, &[".well-known", "openid-configuration"])?;
    let request = http.get(url).header(reqwest::header::ACCEPT, "application/json");
    let response = http::send(
        request,
        config.http.response_timeout,
        "the OpenID discovery request",
    )
    .await?;
    let response = http::check_status(response, config.http.idle_timeout).await?;
    let body =
        http::read_small_body(response, config.http.idle_timeout, "the OpenID discovery request").await?;
    let document: DiscoveryDocument = serde_json::from_slice(&body).map_err(|e| XpmError::OAuth {
        error: "invalid_discovery_document".to_string(),
        description: Some(format!("not an OpenID discovery document: {e}")),
    })?;
    let wanted = config.issuer.as_str().trim_end_matches('/');
    match document.issuer.as_deref().map(|i| i.trim_end_matches('/')) {
        Some(issuer) if issuer == wanted => Ok(document),
        found => Err(XpmError::OAuth {
            error: "invalid_discovery_document".to_string(),
            description: Some(format!(
                "the discovery document names the issuer {}, not the configured {wanted}",
                found.map_or("(none)".to_string(), |f| format!("`{f}`"))
            )),
        }),
    }
}

fn token_set(response: XeroTokenResponse, previous_refresh: Option<&Secret>) -> TokenSet {
    TokenSet {
        access_token: Secret::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone()))
            .or_else(|| previous_refresh.cloned()),
        expires_in: response.expires_in(),
        id_token: response.extra_fields().id_token.clone().map(Secret::new),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// Maps oauth2's failure to ours. Bodies are never quoted: a token response may hold tokens.
fn token_error(error: RequestTokenError<XpmError, BasicErrorResponse>) -> XpmError {
    match error {
        RequestTokenError::ServerResponse(response) => match response.error() {
            BasicErrorResponseType::InvalidGrant => XpmError::NeedsReauth {
                reason: match response.error_description() {
                    Some(d) => format!("invalid_grant: {d}"),
                    None => "invalid_grant: the refresh token or code is no longer valid".to_string(),
                },
            },
            other => XpmError::OAuth {
                error: other.to_string(),
                description: response.error_description().cloned(),
            },
        },
        RequestTokenError::Request(e) => e,
        RequestTokenError::Parse(e, _body) => XpmError::OAuth {
            error: "invalid_response".to_string(),
            description: Some(format!("unexpected token response (at `{}`)", e.path())),
        },
        RequestTokenError::Other(message) => XpmError::OAuth {
            error: "invalid_response".to_string(),
            description: Some(message),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_comparison() {
        let pending = PendingAuthorization {
            url: Url::parse("http://127.0.0.1/").unwrap(),
            state: "abc".into(),
            nonce: "n".into(),
            redirect_uri: "http://localhost:1/cb".into(),
            pkce_verifier: Secret::new("v"),
        };
        assert!(pending.state_matches("abc"));
        assert!(!pending.state_matches("abd"));
        assert!(!pending.state_matches("ab"));
        assert!(!format!("{pending:?}").contains("\"v\""));
    }
}
