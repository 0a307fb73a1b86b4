//! The connect flow (SPEC 1, 3): log in to Xero with PKCE, receive the callback, read who logged
//! in, list the Practice Manager tenants the login granted, and let the administrator choose one.
//! Saving the connection and starting the initial sync is the engine's part
//! ([`crate::engine::Engine::finish_login`]).
//!
//! Two redirect roads, both checking `state` and using PKCE:
//! * **loopback**: `http://localhost:PORT/callback`, served by a tiny listener on the first free
//!   port of a fixed list (Xero wants each redirect URI registered exactly);
//! * **deep link**: the redirect URI is an https bounce page that forwards `code` and `state` to
//!   `<scheme>://oauth/callback`; the desktop app hands that URL in with
//!   [`LoginFlow::deliver_callback`].
//!
//! One login is pending at a time: starting another replaces it (the old one's callback is then
//! refused as stale). A pending login expires after [`LoginOptions::timeout`] (10 minutes) and
//! can be cancelled. A callback whose `state` does not match is ignored and logged; the real
//! one can still arrive.

mod callback;
mod loopback;
mod tenants;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hownow_xpm::{
    Connection as XeroConnection, IdTokenClaims, Identity, PendingAuthorization, TokenSet, XeroApi, XpmError,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::time::Instant;

pub use callback::CallbackRejected;
pub(crate) use tenants::{display_name as tenant_display_name, is_id_prefix};
pub use tenants::{
    nameless_practice, TenantChoice, MIN_ID_PREFIX, PRIVILEGE_GUIDANCE, PRIVILEGE_REQUIREMENT,
    PRIVILEGE_STEPS,
};

use crate::clock::{Clock, SystemClock};
use callback::{CallbackAnswer, CallbackParams};
use loopback::LoopbackServer;

/// Xero's default: a login not completed within 10 minutes is dropped.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The loopback ports tried in order; each `http://localhost:PORT/callback` must be registered
/// with the Xero app.
pub const DEFAULT_LOOPBACK_PORTS: &[u16] = &[53682, 53683, 53684];
/// The desktop app's URL scheme (reverse DNS of the app identifier).
pub const DEFAULT_DEEP_LINK_SCHEME: &str = "nz.co.hownow.admin";

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The login granted no `PRACTICEMANAGER` tenant: the user lacks XPM's privilege.
    #[error("{}", PRIVILEGE_GUIDANCE)]
    NoPracticeManagerTenant {
        /// Who logged in, for the message ("logged in as …").
        user: Option<String>,
    },

    #[error("no Xero login is in progress; start one first")]
    NothingPending,

    #[error("the Xero login was not completed within {} minutes; start it again", .0.as_secs().div_ceil(60))]
    Expired(Duration),

    #[error("the Xero login was cancelled")]
    Cancelled,

    #[error("Xero did not grant access ({error}{}); nothing was connected", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Denied {
        error: String,
        description: Option<String>,
    },

    #[error(
        "none of the login ports is free ({}); close the program using them or configure other ports",
        list_ports(ports)
    )]
    NoFreePort { ports: Vec<u16> },

    #[error("the login callback listener failed: {0}")]
    Listener(#[source] std::io::Error),

    #[error("the deep-link login needs the address of the https bounce page; configure it first")]
    NoBouncePage,

    /// The id token failed its checks (signature, issuer, audience, expiry, nonce).
    #[error("{0}; nothing was connected")]
    IdTokenRefused(#[source] XpmError),

    #[error("this login can reach several practices ({}); choose one", tenants.join(", "))]
    ChooseTenant { tenants: Vec<String> },

    #[error("no practice of this login is called or has the id \"{wanted}\" (it can reach: {})", tenants.join(", "))]
    UnknownTenant { wanted: String, tenants: Vec<String> },

    #[error("several practices are called \"{wanted}\"; choose one by its tenant id")]
    AmbiguousTenant { wanted: String },

    #[error("no Xero login is waiting for a practice to be chosen")]
    NotAuthorized,

    #[error(transparent)]
    Xpm(#[from] XpmError),
}

fn list_ports(ports: &[u16]) -> String {
    if ports.is_empty() {
        return "none configured".into();
    }
    ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
}

/// How Xero sends the browser back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectMode {
    /// `http://localhost:PORT/callback` on the first free port (0: any free port).
    Loopback { ports: Vec<u16> },
    /// The https bounce page, which forwards to the app's deep link.
    DeepLink { bounce_url: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RedirectKind {
    #[default]
    Loopback,
    #[serde(alias = "deep_link")]
    Deeplink,
}

#[derive(Debug, Clone)]
pub struct LoginOptions {
    pub timeout: Duration,
    pub deep_link_scheme: String,
    /// What the id token's expiry is checked against.
    pub clock: Arc<dyn Clock>,
}

impl Default for LoginOptions {
    fn default() -> Self {
        LoginOptions {
            timeout: DEFAULT_LOGIN_TIMEOUT,
            deep_link_scheme: DEFAULT_DEEP_LINK_SCHEME.into(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// A login waiting for the browser: open `authorize_url` (or let the user copy it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginStarted {
    pub authorize_url: String,
    pub redirect_uri: String,
    pub mode: RedirectKind,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Who logged in and which practices the login can connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizedLogin {
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    pub tenants: Vec<TenantChoice>,
}

/// A completed login with the chosen tenant: what the engine saves. Holds the tokens: keep it
/// in memory only.
pub struct ChosenLogin {
    pub tokens: TokenSet,
    pub tenant: XeroConnection,
    pub user_name: Option<String>,
    pub user_email: Option<String>,
    /// Xero's id of the user (`xero_userid`, else the id token's `sub`).
    pub user_id: Option<String>,
}

impl std::fmt::Debug for ChosenLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChosenLogin")
            .field("tenant", &self.tenant.tenant_id)
            .field("user_email", &self.user_email)
            .finish_non_exhaustive()
    }
}

struct Waiting {
    id: u64,
    kind: RedirectKind,
    identity: Identity,
    pending: PendingAuthorization,
    started: LoginStarted,
    deadline: Instant,
    answer_tx: Option<oneshot::Sender<CallbackAnswer>>,
    answer_rx: Option<oneshot::Receiver<CallbackAnswer>>,
    _server: Option<LoopbackServer>,
}

struct Authorized {
    tokens: TokenSet,
    tenants: Vec<XeroConnection>,
    user_name: Option<String>,
    user_email: Option<String>,
    user_id: Option<String>,
}

#[derive(Default)]
struct Slots {
    waiting: Option<Waiting>,
    authorized: Option<Authorized>,
    next_id: u64,
}

/// The login state machine: idle → waiting for the callback → authorized (tenant to choose) →
/// idle. Shared by reference (all methods take `&self`); cheap to keep for the app's lifetime.
pub struct LoginFlow {
    options: LoginOptions,
    slots: Arc<Mutex<Slots>>,
}

impl LoginFlow {
    pub fn new(options: LoginOptions) -> Self {
        LoginFlow {
            options,
            slots: Arc::default(),
        }
    }

    pub fn options(&self) -> &LoginOptions {
        &self.options
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a login (replacing any pending one): fresh PKCE pair, `state` and `nonce`, and in
    /// loopback mode the listener. Returns the URL to open in the browser.
    pub async fn start(
        &self,
        identity: &Identity,
        mode: &RedirectMode,
    ) -> Result<LoginStarted, ConnectError> {
        self.cancel();
        let (kind, redirect_uri, bound) = match mode {
            RedirectMode::Loopback { ports } => {
                let (listeners, port) = loopback::bind(ports)?;
                (
                    RedirectKind::Loopback,
                    format!("http://localhost:{port}/callback"),
                    Some((listeners, port)),
                )
            }
            RedirectMode::DeepLink { bounce_url } if bounce_url.trim().is_empty() => {
                return Err(ConnectError::NoBouncePage)
            }
            RedirectMode::DeepLink { bounce_url } => (RedirectKind::Deeplink, bounce_url.clone(), None),
        };
        let pending = identity.authorization_request(&redirect_uri)?;
        let (answer_tx, answer_rx) = oneshot::channel();
        let started = LoginStarted {
            authorize_url: pending.url.to_string(),
            redirect_uri,
            mode: kind,
            expires_at: OffsetDateTime::now_utc() + self.options.timeout,
        };
        let mut slots = self.slots();
        slots.next_id += 1;
        let id = slots.next_id;
        let server = match bound {
            Some((listeners, port)) => {
                let shared = self.slots.clone();
                let on_callback: loopback::OnCallback =
                    Arc::new(move |params| accept(&shared, id, RedirectKind::Loopback, params));
                let server = loopback::serve(listeners, port, on_callback)?;
                tracing::info!(
                    port = server.port(),
                    "waiting for Xero's redirect on the loopback listener"
                );
                Some(server)
            }
            None => None,
        };
        slots.authorized = None;
        slots.waiting = Some(Waiting {
            id,
            kind,
            identity: identity.clone(),
            pending,
            started: started.clone(),
            deadline: Instant::now() + self.options.timeout,
            answer_tx: Some(answer_tx),
            answer_rx: Some(answer_rx),
            _server: server,
        });
        Ok(started)
    }

    /// The login waiting for its callback, if any (to show or copy its link again).
    pub fn pending(&self) -> Option<LoginStarted> {
        let slots = self.slots();
        slots
            .waiting
            .as_ref()
            .filter(|w| w.deadline > Instant::now())
            .map(|w| w.started.clone())
    }

    /// Hands in the deep link the bounce page opened (`<scheme>://oauth/callback?code=…&state=…`).
    /// A link that does not match the pending login is refused and logged; the login goes on.
    pub fn deliver_callback(&self, url: &str) -> Result<(), CallbackRejected> {
        let result = CallbackParams::from_deep_link(url, &self.options.deep_link_scheme).and_then(|params| {
            let id = self.slots().waiting.as_ref().map(|w| w.id);
            match id {
                Some(id) => accept(&self.slots, id, RedirectKind::Deeplink, params),
                None => Err(CallbackRejected::NothingPending),
            }
        });
        if let Err(e) = &result {
            tracing::warn!(reason = %e, "ignored a login deep link");
        }
        result
    }

    /// Cancels the pending login (its waiter gets [`ConnectError::Cancelled`]) and forgets an
    /// authorized login whose tenant was not chosen yet.
    pub fn cancel(&self) {
        let mut slots = self.slots();
        if slots.waiting.take().is_some() {
            tracing::info!("the pending Xero login was cancelled");
        }
        slots.authorized = None;
    }

    /// Waits for the callback of the pending login (until it expires or is cancelled), exchanges
    /// the code, reads who logged in and lists the Practice Manager tenants the login granted.
    pub async fn wait(&self, api: &XeroApi) -> Result<AuthorizedLogin, ConnectError> {
        let (id, rx, deadline) = {
            let mut slots = self.slots();
            let waiting = slots.waiting.as_mut().ok_or(ConnectError::NothingPending)?;
            let rx = waiting.answer_rx.take().ok_or(ConnectError::NothingPending)?;
            (waiting.id, rx, waiting.deadline)
        };
        let outcome = tokio::time::timeout_at(deadline, rx).await;
        // Whatever happened, this login stops waiting: take it (unless a newer one replaced it).
        let waiting = {
            let mut slots = self.slots();
            match slots.waiting.as_ref() {
                Some(w) if w.id == id => slots.waiting.take(),
                _ => None,
            }
        };
        let code = match outcome {
            Err(_elapsed) => return Err(ConnectError::Expired(self.options.timeout)),
            Ok(Err(_dropped)) => return Err(ConnectError::Cancelled),
            Ok(Ok(CallbackAnswer::Refused { error, description })) => {
                return Err(ConnectError::Denied { error, description })
            }
            Ok(Ok(CallbackAnswer::Code(code))) => code,
        };
        let waiting = waiting.ok_or(ConnectError::Cancelled)?;
        let tokens = waiting.identity.exchange_code(&waiting.pending, &code).await?;
        let now = self.options.clock.now();
        let claims = who_logged_in(&waiting.identity, &tokens, &waiting.pending.nonce, now).await?;
        let user_name = claims.as_ref().and_then(|c| c.display_name());
        let user_email = claims.as_ref().and_then(|c| c.email.clone());
        let user_id = claims
            .as_ref()
            .and_then(|c| c.xero_user_id.clone().or_else(|| c.sub.clone()));
        let tenants = api.practice_manager_connections(&tokens.access_token).await?;
        if tenants.is_empty() {
            // Leave nothing behind at Xero: the login connected only other kinds of tenant.
            if let Some(refresh) = &tokens.refresh_token {
                if let Err(e) = waiting.identity.revoke(refresh).await {
                    tracing::warn!(error = %e, "could not revoke the login that granted no practice");
                }
            }
            return Err(ConnectError::NoPracticeManagerTenant {
                user: user_email.clone().or(user_name.clone()),
            });
        }
        let login = AuthorizedLogin {
            user_name: user_name.clone(),
            user_email: user_email.clone(),
            tenants: tenants.iter().map(TenantChoice::from).collect(),
        };
        self.slots().authorized = Some(Authorized {
            tokens,
            tenants,
            user_name,
            user_email,
            user_id,
        });
        Ok(login)
    }

    /// The authorized login and its tenant: by id or name, or the only one. On a wrong or
    /// missing choice the login stays, so the caller can ask again.
    pub fn take_authorized(&self, tenant: Option<&str>) -> Result<ChosenLogin, ConnectError> {
        let mut slots = self.slots();
        let authorized = slots.authorized.as_ref().ok_or(ConnectError::NotAuthorized)?;
        let index = tenants::choose(&authorized.tenants, tenant)?;
        let mut authorized = slots.authorized.take().expect("checked above");
        Ok(ChosenLogin {
            tenant: authorized.tenants.swap_remove(index),
            tokens: authorized.tokens,
            user_name: authorized.user_name,
            user_email: authorized.user_email,
            user_id: authorized.user_id,
        })
    }
}

/// Who logged in: the id token's claims once they pass their checks, completed from the issuer's
/// userinfo when the token names nobody (some providers put the profile only there). A token
/// that fails a check refuses the login. Userinfo only adds a name: its failure, or an answer
/// about another subject, is logged and ignored.
async fn who_logged_in(
    identity: &Identity,
    tokens: &TokenSet,
    nonce: &str,
    now: OffsetDateTime,
) -> Result<Option<IdTokenClaims>, ConnectError> {
    let claims = identity
        .verify_id_token(tokens, nonce, now)
        .await
        .map_err(|e| match e {
            XpmError::InvalidIdToken(_) => ConnectError::IdTokenRefused(e),
            other => ConnectError::Xpm(other),
        })?;
    if claims.as_ref().is_some_and(IdTokenClaims::has_profile) {
        return Ok(claims);
    }
    match identity.userinfo(&tokens.access_token).await {
        Ok(Some(info)) => match &claims {
            Some(token) if token.sub.is_some() && token.sub != info.sub => {
                tracing::warn!("userinfo describes another user than the id token; not used");
                Ok(claims)
            }
            Some(token) => Ok(Some(token.clone().completed_with(info))),
            // Without an id token there is nothing to tie userinfo's answer to but the access
            // token itself, which Xero gave for this login.
            None => Ok(Some(info)),
        },
        Ok(None) => Ok(claims),
        Err(e) => {
            tracing::warn!(error = %e, "could not ask Xero's userinfo who logged in");
            Ok(claims)
        }
    }
}

/// A callback for login `id`, by road `kind`: accepted once, if its `state` matches.
fn accept(
    slots: &Mutex<Slots>,
    id: u64,
    kind: RedirectKind,
    params: CallbackParams,
) -> Result<(), CallbackRejected> {
    let mut slots = slots.lock().unwrap_or_else(|p| p.into_inner());
    let waiting = slots
        .waiting
        .as_mut()
        .filter(|w| w.id == id && w.kind == kind)
        .ok_or(CallbackRejected::NothingPending)?;
    if Instant::now() >= waiting.deadline {
        return Err(CallbackRejected::Expired);
    }
    let state = params.state.as_deref().unwrap_or_default();
    if state.is_empty() || !waiting.pending.state_matches(state) {
        return Err(CallbackRejected::StateMismatch);
    }
    let answer = params.into_answer()?;
    let tx = waiting
        .answer_tx
        .take()
        .ok_or(CallbackRejected::AlreadyAnswered)?;
    // The waiter may have given up meanwhile; then the answer is simply dropped.
    let _ = tx.send(answer);
    tracing::info!("received Xero's answer to the login");
    Ok(())
}
