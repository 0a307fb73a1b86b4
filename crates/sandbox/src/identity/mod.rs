//! Xero's identity service and connections API, offline: OIDC discovery, authorize with a login
//! and consent page, the token endpoint (authorization code with PKCE S256, refresh with
//! rotation and grace), revocation, `GET/DELETE /connections`, the bounce page that hands a code
//! to the desktop app's deep link, and the gateway check every API call passes.
//!
//! # Contract with the rest of the sandbox
//!
//! ```ignore
//! let identity = Identity::new(IdentityConfig::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! // The base URL is only known after binding: set it before serving. (If it is never set,
//! // each request's Host header stands in for it.)
//! identity.set_public_base(&format!("http://{}", listener.local_addr()?));
//! let app = identity.router().merge(practice_routes);
//! // In every XPM handler:
//! identity.check_api_access(authorization_header, xero_tenant_id_header)?;
//! ```
//!
//! One listener serves everything: the issuer and the API base are both the public base URL.
//!
//! | route | what |
//! |---|---|
//! | `GET /.well-known/openid-configuration` | discovery document |
//! | `GET /.well-known/openid-configuration/jwks` | the RS256 key id tokens are signed with, as a JWK |
//! | `GET /identity/connect/authorize` | validates, then the login page (or, with `auto_consent`, a redirect at once) |
//! | `POST /identity/connect/authorize/login` | form `login`, `user`: the consent page for that user |
//! | `POST /identity/connect/authorize/consent` | form `login`, `user`, `decision=allow\|deny`: redirect with `code` or `error=access_denied` |
//! | `POST /connect/token` | `authorization_code` (PKCE S256) and `refresh_token` grants |
//! | `POST /connect/revocation` | `token=<refresh token>`: ends this app's authorisation for the user |
//! | `GET /connect/userinfo` | the token's user, as OIDC claims |
//! | `GET /connections` | this app's tenants for the token's user (`?authEventId=` filters) |
//! | `DELETE /connections/{id}` | 204, or 404 for a connection this token cannot see |
//! | `GET /bounce` | forwards `code`/`state` (or `error`) to `<deep_link_scheme>://oauth/callback` |
//!
//! Rules, Xero's where Xero has one:
//! * Redirect URIs: https, or http to `localhost`/`127.0.0.1`; no custom schemes or fragments;
//!   exact string match against `redirect_uris` when any are registered. The sandbox's own
//!   `<public base>/bounce` is always accepted. Until client id and redirect URI are valid,
//!   errors are shown on a page; after that they go back to the redirect URI (RFC 6749 §4.1.2.1).
//! * Authorize needs `response_type=code`, scopes from [`SCOPES_SUPPORTED`] including `openid`,
//!   and an S256 `code_challenge` (`plain` is refused). `state` is echoed, `nonce` goes into the
//!   id token. `offline_access` is what earns a refresh token.
//! * Consent connects the app to every tenant the user can grant ([`crate::tenants::tenants_for`]);
//!   the user without the privilege grants no `PRACTICEMANAGER` tenant (the consent page says
//!   so, as Xero's does, and still lets them continue).
//! * Codes are single use (any redemption attempt consumes one), expire after 5 minutes and are
//!   bound to client id, redirect URI, code challenge, nonce and user.
//! * Refresh rotates the token every time. The replaced token may be presented once more within
//!   `refresh_grace` of its rotation and yields a fresh pair; after that, or outside the grace,
//!   or for any unknown, revoked or other client's token: `400 {"error":"invalid_grant"}`.
//! * Access tokens are opaque; their lifetime can be changed at run time (new tokens only).

mod clock;
mod endpoints;
mod gateway;
mod jwt;
mod oauth_error;
mod pages;
mod params;
mod pkce;
mod redirect;
mod store;

use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::http::{header, HeaderMap};
use time::OffsetDateTime;

pub use clock::{Clock, ManualClock, SystemClock};
pub use gateway::GatewayRejection;

use crate::tenants::{DemoUser, USERS};
use oauth_error::OAuthError;
use store::{AccessRefusal, State};

/// The scopes the sandbox knows; any other scope is `invalid_scope`, as at Xero.
pub const SCOPES_SUPPORTED: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "practicemanager",
    "practicemanager.read",
    "practicemanager.client",
    "practicemanager.client.read",
    "practicemanager.job",
    "practicemanager.job.read",
    "practicemanager.time",
    "practicemanager.time.read",
    "accounting.contacts",
    "accounting.contacts.read",
    "accounting.settings",
    "accounting.settings.read",
    "accounting.transactions",
    "accounting.transactions.read",
];

/// How the identity server behaves, like a Xero app registration plus the sandbox's switches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConfig {
    /// Registered client ids; empty accepts any client id.
    pub client_ids: Vec<String>,
    /// Registered redirect URIs (exact match); empty accepts any `http://localhost:PORT/…`,
    /// `http://127.0.0.1:PORT/…` or https URI. The sandbox's bounce page is accepted either way.
    pub redirect_uris: Vec<String>,
    /// Authorize redirects at once, as the first user with the privilege ([`USERS`]`[0]`).
    pub auto_consent: bool,
    /// Lifetime of new access tokens (Xero: 30 minutes).
    pub access_token_lifetime: Duration,
    /// How long a rotated refresh token stays usable (once) (Xero: 30 minutes).
    pub refresh_grace: Duration,
    /// The desktop app's URL scheme: the bounce page forwards to `<scheme>://oauth/callback`.
    pub deep_link_scheme: String,
    /// Profile and email claims go into the id token, as at Xero. Off, they are only given by
    /// userinfo, as some OpenID providers do.
    pub id_token_profile: bool,
    /// Signs id tokens with a key the key set does not publish: what a forged token looks like.
    pub id_token_unpublished_key: bool,
    /// `GET /connections` gives `"tenantName": null` for Practice Manager tenants, as the example
    /// in Xero's documentation does.
    pub nameless_practices: bool,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            client_ids: Vec::new(),
            redirect_uris: Vec::new(),
            auto_consent: false,
            access_token_lifetime: Duration::from_secs(30 * 60),
            refresh_grace: Duration::from_secs(30 * 60),
            deep_link_scheme: "nz.co.hownow.admin".to_owned(),
            id_token_profile: true,
            id_token_unpublished_key: false,
            nameless_practices: false,
        }
    }
}

/// The identity server. Cheap to clone: clones share one state.
#[derive(Clone)]
pub struct Identity {
    inner: Arc<Inner>,
}

struct Inner {
    config: IdentityConfig,
    clock: Arc<dyn Clock>,
    /// Signs id tokens (RS256).
    signer: jwt::Signer,
    /// Whose key the JWKS lists: `signer`'s, unless the config asks for forged tokens.
    published_jwk: serde_json::Value,
    access_token_lifetime: Mutex<Duration>,
    /// Refresh grants answered with new tokens, for tests of runs that outlive their tokens.
    refreshes: std::sync::atomic::AtomicU64,
    public_base: RwLock<Option<String>>,
    state: Mutex<State>,
}

impl Identity {
    pub fn new(config: IdentityConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// With a clock the caller controls (tests step over expiries with [`ManualClock`]).
    pub fn with_clock(config: IdentityConfig, clock: Arc<dyn Clock>) -> Self {
        let published = jwt::Signer::published();
        let published_jwk = published.jwk();
        let signer = if config.id_token_unpublished_key {
            jwt::Signer::unpublished()
        } else {
            published
        };
        let state = State::new(config.refresh_grace);
        Identity {
            inner: Arc::new(Inner {
                access_token_lifetime: Mutex::new(config.access_token_lifetime),
                refreshes: Default::default(),
                config,
                clock,
                signer,
                published_jwk,
                public_base: RwLock::new(None),
                state: Mutex::new(state),
            }),
        }
    }

    /// The server's own base URL (e.g. `http://127.0.0.1:4100`), known once the listener is
    /// bound: issuer, endpoint URLs in discovery and the bounce page address derive from it.
    /// Until it is set, each request's `Host` header stands in.
    pub fn set_public_base(&self, base: &str) {
        let base = base.trim_end_matches('/').to_owned();
        *self.inner.public_base.write().unwrap_or_else(|p| p.into_inner()) = Some(base);
    }

    pub fn config(&self) -> &IdentityConfig {
        &self.inner.config
    }

    /// All identity and connection routes, ready to merge into the sandbox's router.
    pub fn router(&self) -> axum::Router {
        endpoints::router(self.clone())
    }

    /// The gateway check every API call passes, like Xero's: a known, unexpired bearer token
    /// (401 otherwise, `TokenExpired: …` when it expired) and a `xero-tenant-id` that this
    /// token's user connected this app to (403 `AuthenticationUnsuccessful` otherwise).
    pub fn check_api_access(
        &self,
        authorization: Option<&str>,
        tenant_id: Option<&str>,
    ) -> Result<(), GatewayRejection> {
        let token = gateway::bearer_token(authorization).ok_or_else(GatewayRejection::unauthorized)?;
        let now = self.now();
        let state = self.state();
        let grant = state.access(token, now).map_err(rejection)?;
        let tenant_id = tenant_id
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(GatewayRejection::forbidden)?;
        if state.is_connected(&grant.client_id, grant.user.id, tenant_id) {
            Ok(())
        } else {
            Err(GatewayRejection::forbidden())
        }
    }

    /// Lifetime of access tokens issued from now on.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        *self
            .inner
            .access_token_lifetime
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = lifetime;
    }

    pub fn access_token_lifetime(&self) -> Duration {
        *self
            .inner
            .access_token_lifetime
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// How many refresh grants were answered with new tokens so far.
    pub fn refresh_grants(&self) -> u64 {
        self.inner.refreshes.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn count_refresh(&self) {
        self.inner
            .refreshes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every access token issued so far fails with `TokenExpired` from now on.
    pub fn expire_all_access_tokens(&self) {
        let now = self.now();
        self.state().expire_all_access_tokens(now);
    }

    /// Removes every app's connection to `tenant_id`, as the practice's administrator does in
    /// Xero: its API calls then answer 403. How many connections went.
    pub fn remove_tenant_connections(&self, tenant_id: &str) -> usize {
        self.state().remove_tenant_connections(tenant_id)
    }

    /// Every refresh token issued so far answers `invalid_grant` from now on.
    pub fn revoke_all_refresh_tokens(&self) {
        self.state().revoke_all_refresh_tokens();
    }

    /// The public key of the id tokens' signer, as the key set lists it.
    fn published_jwk(&self) -> serde_json::Value {
        self.inner.published_jwk.clone()
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (every transition is a
        // handful of inserts), so carrying on is safe.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The configured public base, else `http://<Host>` of the request at hand.
    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(base) = self
            .inner
            .public_base
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return base.clone();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("http://{host}")
    }

    fn bounce_page_url(&self, headers: &HeaderMap) -> String {
        format!("{}/bounce", self.base_url(headers))
    }

    /// The user `auto_consent` logs in as: the first one with the privilege.
    fn auto_consent_user() -> DemoUser {
        USERS
            .into_iter()
            .find(|u| u.can_authorise_third_party)
            .expect("a demo user has the privilege")
    }
}

fn rejection(refusal: AccessRefusal) -> GatewayRejection {
    match refusal {
        AccessRefusal::Unknown => GatewayRejection::unauthorized(),
        AccessRefusal::Expired(at) => GatewayRejection::token_expired(at),
    }
}
