//! The identity server's memory: logins in progress, authorization codes, tokens and
//! connections. Every rule about codes and tokens lives here as a plain state transition with
//! the time passed in, so the rules are tested without HTTP and without sleeping.

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use time::OffsetDateTime;

use super::oauth_error::OAuthError;
use super::pkce;
use crate::tenants::{self, DemoUser, Tenant};

/// Xero's authorization codes live five minutes.
pub const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// How long a login page stays usable between "log in as" and the consent answer.
pub const LOGIN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// A refresh token dies after 60 days unused.
pub const REFRESH_IDLE_LIFETIME: Duration = Duration::from_secs(60 * 24 * 60 * 60);
/// Expired access tokens are remembered this long so late callers get `TokenExpired`, not a
/// generic refusal.
const EXPIRED_ACCESS_REMEMBERED: Duration = Duration::from_secs(24 * 60 * 60);
/// Reloading the authorize page creates a login each time; this bounds their memory.
const MAX_LOGINS_IN_PROGRESS: usize = 1024;

/// An authorize request that passed every check; what a login, then a code, is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
}

/// What one consent granted: shared by the access and refresh tokens it produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub client_id: String,
    pub user: DemoUser,
    pub scopes: Vec<String>,
    /// Xero's `authEventId`: one per consent, carried by its connections.
    pub auth_event_id: String,
}

impl Grant {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Tokens minted by a code exchange or a refresh.
#[derive(Debug, Clone)]
pub struct Issued {
    pub grant: Grant,
    pub access_token: String,
    pub access_lifetime: Duration,
    /// Only when the grant includes `offline_access`.
    pub refresh_token: Option<String>,
    /// The authorize request's nonce, for the id token of a code exchange (never of a refresh).
    pub nonce: Option<String>,
}

/// A tenant this app may call on behalf of this user (`GET /connections`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub id: String,
    pub auth_event_id: String,
    pub tenant: Tenant,
    pub client_id: String,
    pub user_id: &'static str,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
}

/// Why a bearer token does not open the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessRefusal {
    Unknown,
    Expired(OffsetDateTime),
}

struct LoginInProgress {
    request: AuthorizeRequest,
    expires_at: OffsetDateTime,
}

struct IssuedCode {
    request: AuthorizeRequest,
    user: DemoUser,
    auth_event_id: String,
    expires_at: OffsetDateTime,
}

struct AccessRecord {
    grant: Grant,
    expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshStatus {
    Active,
    /// Replaced by a newer token at `at`; usable once more within the grace period.
    Rotated {
        at: OffsetDateTime,
        grace_spent: bool,
    },
    Revoked,
}

struct RefreshRecord {
    grant: Grant,
    expires_at: OffsetDateTime,
    status: RefreshStatus,
}

/// All of the identity server's state; the caller holds it behind one mutex.
pub struct State {
    refresh_grace: Duration,
    logins: HashMap<String, LoginInProgress>,
    codes: HashMap<String, IssuedCode>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    connections: Vec<Connection>,
}

impl State {
    pub fn new(refresh_grace: Duration) -> Self {
        State {
            refresh_grace,
            logins: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            connections: Vec::new(),
        }
    }

    /// Remembers a validated authorize request while the user picks who to log in as; returns
    /// the unguessable id the login and consent forms carry (it doubles as their CSRF token).
    pub fn start_login(&mut self, request: AuthorizeRequest, now: OffsetDateTime) -> String {
        self.sweep(now);
        if self.logins.len() >= MAX_LOGINS_IN_PROGRESS {
            let oldest = self
                .logins
                .iter()
                .min_by_key(|(_, login)| login.expires_at)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.logins.remove(&oldest);
            }
        }
        let id = random_token();
        self.logins.insert(
            id.clone(),
            LoginInProgress {
                request,
                expires_at: now + LOGIN_LIFETIME,
            },
        );
        id
    }

    pub fn login(&self, id: &str, now: OffsetDateTime) -> Option<&AuthorizeRequest> {
        self.logins
            .get(id)
            .filter(|login| now < login.expires_at)
            .map(|login| &login.request)
    }

    /// Ends a login (consent given or refused); `None` if it is unknown, used or expired.
    pub fn finish_login(&mut self, id: &str, now: OffsetDateTime) -> Option<AuthorizeRequest> {
        let login = self.logins.remove(id)?;
        (now < login.expires_at).then_some(login.request)
    }

    /// The user allowed access: connects the app to every tenant the user can grant and
    /// returns a single-use authorization code bound to the request and the user.
    pub fn consent(&mut self, request: AuthorizeRequest, user: &DemoUser, now: OffsetDateTime) -> String {
        self.sweep(now);
        let auth_event_id = uuid::Uuid::new_v4().to_string();
        for tenant in tenants::tenants_for(user) {
            self.connect(&request.client_id, user.id, tenant, &auth_event_id, now);
        }
        let code = random_token();
        self.codes.insert(
            code.clone(),
            IssuedCode {
                request,
                user: user.clone(),
                auth_event_id,
                expires_at: now + CODE_LIFETIME,
            },
        );
        code
    }

    /// Re-authorising an already connected tenant keeps the connection id, as Xero does, and
    /// stamps it with the new auth event.
    fn connect(
        &mut self,
        client_id: &str,
        user_id: &'static str,
        tenant: Tenant,
        auth_event_id: &str,
        now: OffsetDateTime,
    ) {
        let existing = self
            .connections
            .iter_mut()
            .find(|c| c.client_id == client_id && c.user_id == user_id && c.tenant.id == tenant.id);
        match existing {
            Some(connection) => {
                connection.auth_event_id = auth_event_id.to_owned();
                connection.updated = now;
            }
            None => self.connections.push(Connection {
                id: uuid::Uuid::new_v4().to_string(),
                auth_event_id: auth_event_id.to_owned(),
                tenant,
                client_id: client_id.to_owned(),
                user_id,
                created: now,
                updated: now,
            }),
        }
    }

    /// `grant_type=authorization_code`. The code is consumed by any attempt, failed or not,
    /// like IdentityServer (behind Xero's identity service): a second attempt is a replay.
    pub fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: &str,
        code_verifier: &str,
        now: OffsetDateTime,
        access_lifetime: Duration,
    ) -> Result<Issued, OAuthError> {
        let issued = self.codes.remove(code).ok_or_else(|| {
            OAuthError::invalid_grant("unknown, expired or already used authorization code")
        })?;
        if now >= issued.expires_at {
            return Err(OAuthError::invalid_grant("authorization code expired"));
        }
        if issued.request.client_id != client_id {
            return Err(OAuthError::invalid_grant(
                "authorization code was issued to another client",
            ));
        }
        if issued.request.redirect_uri != redirect_uri {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the one used to authorize",
            ));
        }
        if !pkce::verify(code_verifier, &issued.request.code_challenge) {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        let grant = Grant {
            client_id: issued.request.client_id,
            user: issued.user,
            scopes: issued.request.scopes,
            auth_event_id: issued.auth_event_id,
        };
        Ok(self.issue(grant, issued.request.nonce, now, access_lifetime))
    }

    /// `grant_type=refresh_token` with rotation. An active token is replaced; the replaced
    /// token may be presented ONCE more within the grace period and then yields another fresh
    /// pair (the app lost the answer, or a second process refreshed). The pair issued by the
    /// first rotation stays valid. Anything else is `invalid_grant`.
    pub fn refresh(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        now: OffsetDateTime,
        access_lifetime: Duration,
    ) -> Result<Issued, OAuthError> {
        let grace = self.refresh_grace;
        let record = self
            .refresh
            .get_mut(refresh_token)
            .ok_or_else(|| OAuthError::invalid_grant("unknown or revoked refresh token"))?;
        if record.grant.client_id != client_id {
            return Err(OAuthError::invalid_grant(
                "refresh token was issued to another client",
            ));
        }
        if now >= record.expires_at {
            return Err(OAuthError::invalid_grant(
                "refresh token expired (unused for 60 days)",
            ));
        }
        record.status = match record.status {
            RefreshStatus::Active => RefreshStatus::Rotated {
                at: now,
                grace_spent: false,
            },
            RefreshStatus::Rotated {
                at,
                grace_spent: false,
            } if now < at + grace => RefreshStatus::Rotated {
                at,
                grace_spent: true,
            },
            RefreshStatus::Rotated { .. } => {
                return Err(OAuthError::invalid_grant("refresh token was already used"))
            }
            RefreshStatus::Revoked => return Err(OAuthError::invalid_grant("refresh token was revoked")),
        };
        let grant = record.grant.clone();
        Ok(self.issue(grant, None, now, access_lifetime))
    }

    fn issue(
        &mut self,
        grant: Grant,
        nonce: Option<String>,
        now: OffsetDateTime,
        access_lifetime: Duration,
    ) -> Issued {
        self.sweep(now);
        let access_token = random_token();
        self.access.insert(
            access_token.clone(),
            AccessRecord {
                grant: grant.clone(),
                expires_at: now + access_lifetime,
            },
        );
        let refresh_token = grant.has_scope("offline_access").then(|| {
            let token = random_token();
            self.refresh.insert(
                token.clone(),
                RefreshRecord {
                    grant: grant.clone(),
                    expires_at: now + REFRESH_IDLE_LIFETIME,
                    status: RefreshStatus::Active,
                },
            );
            token
        });
        Issued {
            grant,
            access_token,
            access_lifetime,
            refresh_token,
            nonce,
        }
    }

    /// `POST /connect/revocation` with a refresh token: ends this app's authorisation for the
    /// user, i.e. revokes all of the app's refresh tokens for the user and removes all of the
    /// app's connections for the user, as Xero does. Access tokens stay valid until they expire
    /// (they are self-contained at Xero) but reach no tenant any more. Unknown tokens are not an
    /// error (RFC 7009 §2.2).
    pub fn revoke(&mut self, token: &str, client_id: &str) -> Result<(), OAuthError> {
        if let Some(record) = self.refresh.get(token) {
            if record.grant.client_id != client_id {
                return Err(OAuthError::invalid_request(
                    "the token was issued to another client",
                ));
            }
            let user_id = record.grant.user.id;
            for record in self.refresh.values_mut() {
                if record.grant.client_id == client_id && record.grant.user.id == user_id {
                    record.status = RefreshStatus::Revoked;
                }
            }
            self.connections
                .retain(|c| !(c.client_id == client_id && c.user_id == user_id));
            return Ok(());
        }
        if self.access.contains_key(token) {
            return Err(OAuthError::unsupported_token_type(
                "only refresh tokens can be revoked",
            ));
        }
        Ok(())
    }

    /// The grant behind a bearer token, if it is known and unexpired.
    pub fn access(&self, access_token: &str, now: OffsetDateTime) -> Result<&Grant, AccessRefusal> {
        let record = self.access.get(access_token).ok_or(AccessRefusal::Unknown)?;
        if now >= record.expires_at {
            return Err(AccessRefusal::Expired(record.expires_at));
        }
        Ok(&record.grant)
    }

    /// This app's connections for this user, oldest first.
    pub fn connections(&self, client_id: &str, user_id: &str) -> Vec<Connection> {
        self.connections
            .iter()
            .filter(|c| c.client_id == client_id && c.user_id == user_id)
            .cloned()
            .collect()
    }

    /// Whether this app may call `tenant_id` for this user (tenant ids compare like GUIDs).
    pub fn is_connected(&self, client_id: &str, user_id: &str, tenant_id: &str) -> bool {
        self.connections.iter().any(|c| {
            c.client_id == client_id && c.user_id == user_id && c.tenant.id.eq_ignore_ascii_case(tenant_id)
        })
    }

    /// `DELETE /connections/{id}`: `false` when no such connection belongs to this app and user.
    pub fn disconnect(&mut self, client_id: &str, user_id: &str, connection_id: &str) -> bool {
        let before = self.connections.len();
        self.connections
            .retain(|c| !(c.id == connection_id && c.client_id == client_id && c.user_id == user_id));
        self.connections.len() != before
    }

    /// Removes every app's connection to `tenant_id`, as the practice's administrator does in
    /// Xero ("Disconnect" under connected apps); how many went.
    pub fn remove_tenant_connections(&mut self, tenant_id: &str) -> usize {
        let before = self.connections.len();
        self.connections
            .retain(|c| !c.tenant.id.eq_ignore_ascii_case(tenant_id));
        before - self.connections.len()
    }

    pub fn expire_all_access_tokens(&mut self, now: OffsetDateTime) {
        for record in self.access.values_mut() {
            record.expires_at = record.expires_at.min(now);
        }
    }

    pub fn revoke_all_refresh_tokens(&mut self) {
        for record in self.refresh.values_mut() {
            record.status = RefreshStatus::Revoked;
        }
    }

    /// Forgets what can no longer succeed, so memory stays bounded on a long-running sandbox.
    fn sweep(&mut self, now: OffsetDateTime) {
        let grace = self.refresh_grace;
        self.logins.retain(|_, login| now < login.expires_at);
        self.codes.retain(|_, code| now < code.expires_at);
        self.access
            .retain(|_, record| now < record.expires_at + EXPIRED_ACCESS_REMEMBERED);
        self.refresh.retain(|_, record| {
            now < record.expires_at
                && match record.status {
                    RefreshStatus::Active => true,
                    RefreshStatus::Rotated { at, grace_spent } => !grace_spent && now < at + grace,
                    RefreshStatus::Revoked => false,
                }
        });
    }
}

/// 256 random bits, base64url: unguessable codes and opaque tokens.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
