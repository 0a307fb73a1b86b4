//! Access tokens for the API, refreshed single-flight per connection.
//!
//! * One refresh at a time per connection: within the process by a `tokio::sync::Mutex` per
//!   connection, across processes (the app and the CLI) by a file lock
//!   `locks/tokens-<id>.lock`, re-reading the stored refresh token after taking it. Xero rotates
//!   the refresh token on every use, and using one twice can end in `invalid_grant`.
//! * The rotated refresh token is written to the [`SecretStore`] BEFORE the new access token is
//!   handed out: if storing fails, the access token is dropped and the call fails, so the app
//!   never works on with a refresh token it could lose.
//! * `invalid_grant` (a dead or revoked refresh token) is [`SyncError::NeedsReauth`]; the caller
//!   marks the connection (a run records it as it fails, the engine's idle refresh at once), which
//!   pauses its schedule; nothing is deleted. An access token refused by the API is only ever a
//!   reason to refresh: it never means reauthorisation.
//! * A refresh never opens the directory: its time goes to the state file
//!   ([`crate::store::state`]), so a refresh in the middle of a sync never waits on that sync's
//!   write transaction.
//! * Tokens appear only in memory, the secret store and requests to Xero: never in SQLite or
//!   logs ([`Secret`] redacts itself in `Debug`).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use hownow_xpm::{AccessTokenSource, Identity, Secret, TokenSet, XpmError};

use crate::clock::{self, Clock, SystemClock};
use crate::error::{Result, SyncError};
use crate::secrets::{SecretStore, StoredCredentials};
use crate::store::state;

/// Refresh this long before the access token expires (at most a quarter of its lifetime, so a
/// short-lived token is still used a while).
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);
/// Xero's access tokens live 30 minutes; used when the server does not say.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// Longest wait for another process's refresh.
const CROSS_PROCESS_WAIT: Duration = Duration::from_secs(60);

/// Xero identity's token endpoint, as far as refresh goes.
pub trait TokenEndpoint: Send + Sync {
    fn refresh(
        &self,
        refresh_token: &Secret,
    ) -> impl Future<Output = std::result::Result<TokenSet, XpmError>> + Send;
}

impl TokenEndpoint for Identity {
    async fn refresh(&self, refresh_token: &Secret) -> std::result::Result<TokenSet, XpmError> {
        Identity::refresh(self, refresh_token).await
    }
}

struct Cached {
    access_token: Secret,
    valid_until: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

pub struct TokenManager<E> {
    endpoint: E,
    secrets: Arc<dyn SecretStore>,
    db_path: PathBuf,
    lock_dir: PathBuf,
    clock: Arc<dyn Clock>,
    slots: std::sync::Mutex<HashMap<i64, Slot>>,
}

impl<E> std::fmt::Debug for TokenManager<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("db_path", &self.db_path)
            .finish_non_exhaustive()
    }
}

impl<E: TokenEndpoint> TokenManager<E> {
    /// `db_path`: the directory database (refresh times go to its state file);
    /// `lock_dir`: where the cross-process refresh locks live (shared with the sync locks).
    pub fn new(endpoint: E, secrets: Arc<dyn SecretStore>, db_path: PathBuf, lock_dir: PathBuf) -> Self {
        TokenManager {
            endpoint,
            secrets,
            db_path,
            lock_dir,
            clock: Arc::new(SystemClock),
            slots: Default::default(),
        }
    }

    /// Stamps refresh times with `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn slot(&self, connection_id: i64) -> Slot {
        self.slots
            .lock()
            .expect("not poisoned")
            .entry(connection_id)
            .or_default()
            .clone()
    }

    /// Saves the tokens of a completed login: the refresh token to the secret store, the access
    /// token in memory.
    pub async fn store_login(
        &self,
        connection_id: i64,
        tokens: &TokenSet,
        client_id: Option<&str>,
    ) -> Result<()> {
        let slot = self.slot(connection_id);
        let mut cached = slot.lock().await;
        let refresh_token = tokens
            .refresh_token
            .clone()
            .ok_or_else(|| SyncError::NeedsReauth {
                id: connection_id,
                reason: "Xero returned no refresh token (was offline_access granted?)".into(),
            })?;
        self.secrets.set(
            connection_id,
            &StoredCredentials {
                refresh_token,
                client_id: client_id.map(str::to_string),
                scopes: tokens.scopes.clone(),
            },
        )?;
        *cached = Some(Cached {
            access_token: tokens.access_token.clone(),
            valid_until: Instant::now() + lifetime(tokens),
        });
        Ok(())
    }

    /// A valid access token, refreshing it if needed (one refresh at a time per connection).
    pub async fn access_token(&self, connection_id: i64) -> Result<Secret> {
        let slot = self.slot(connection_id);
        let mut cached = slot.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.valid_until > Instant::now()) {
            return Ok(c.access_token.clone());
        }
        let fresh = self.refresh_locked(connection_id).await?;
        let token = fresh.access_token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Refreshes now, whatever the cached token's age (the idle refresh that keeps the refresh
    /// token from expiring after 60 days unused).
    pub async fn refresh_now(&self, connection_id: i64) -> Result<()> {
        let slot = self.slot(connection_id);
        let mut cached = slot.lock().await;
        *cached = Some(self.refresh_locked(connection_id).await?);
        Ok(())
    }

    /// Drops the cached access token (after the API said 401 to it).
    pub async fn forget(&self, connection_id: i64) {
        *self.slot(connection_id).lock().await = None;
    }

    /// Drops the cached access token if it is still `token`: requests that were refused together
    /// cause one refresh, not one each.
    pub async fn forget_if(&self, connection_id: i64, token: &Secret) {
        let slot = self.slot(connection_id);
        let mut cached = slot.lock().await;
        if cached.as_ref().is_some_and(|c| &c.access_token == token) {
            *cached = None;
        }
    }

    /// An [`AccessTokenSource`] for `hownow_xpm::XeroApi::practice`.
    pub fn source_for(self: &Arc<Self>, connection_id: i64) -> Arc<dyn AccessTokenSource>
    where
        E: 'static,
    {
        Arc::new(ConnectionTokens {
            manager: self.clone(),
            connection_id,
        })
    }

    /// Called with the connection's slot locked.
    async fn refresh_locked(&self, connection_id: i64) -> Result<Cached> {
        let _cross_process = self.cross_process_lock(connection_id).await?;
        // Read after taking the lock: another process may have rotated the token meanwhile.
        let Some(stored) = self.secrets.get(connection_id)? else {
            return Err(self.needs_reauth(connection_id, "no stored credentials for this connection".into()));
        };
        let tokens = match self.endpoint.refresh(&stored.refresh_token).await {
            Ok(tokens) => tokens,
            Err(XpmError::NeedsReauth { reason }) => return Err(self.needs_reauth(connection_id, reason)),
            Err(e) => return Err(e.into()),
        };
        // Store the rotated refresh token first; only then may the access token be used.
        let rotated = StoredCredentials {
            refresh_token: tokens.refresh_token.clone().unwrap_or(stored.refresh_token),
            client_id: stored.client_id,
            scopes: if tokens.scopes.is_empty() {
                stored.scopes
            } else {
                tokens.scopes.clone()
            },
        };
        self.secrets.set(connection_id, &rotated)?;
        let now = clock::now_stored(self.clock.as_ref());
        if let Err(e) = state::record_token_refresh(&self.db_path, connection_id, now) {
            tracing::warn!(error = %e, "could not record the token refresh time");
        }
        tracing::info!(connection = connection_id, "access token refreshed");
        Ok(Cached {
            access_token: tokens.access_token.clone(),
            valid_until: Instant::now() + lifetime(&tokens),
        })
    }

    fn needs_reauth(&self, connection_id: i64, reason: String) -> SyncError {
        tracing::warn!(connection = connection_id, %reason, "the refresh token was refused; reauthorisation needed");
        SyncError::NeedsReauth {
            id: connection_id,
            reason,
        }
    }

    async fn cross_process_lock(&self, connection_id: i64) -> Result<std::fs::File> {
        let path = self.lock_dir.join(format!("tokens-{connection_id}.lock"));
        crate::private::private_dir(&self.lock_dir).map_err(|e| SyncError::io(&self.lock_dir, e))?;
        crate::private::ensure_private_file(&path).map_err(|e| SyncError::io(&path, e))?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| SyncError::io(&path, e))?;
        let deadline = Instant::now() + CROSS_PROCESS_WAIT;
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => return Ok(file),
                Err(fs4::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(fs4::TryLockError::WouldBlock) => {
                    return Err(SyncError::io(
                        &path,
                        std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "another process is refreshing the token",
                        ),
                    ))
                }
                Err(fs4::TryLockError::Error(e)) => return Err(SyncError::io(&path, e)),
            }
        }
    }
}

fn lifetime(tokens: &TokenSet) -> Duration {
    let lifetime = tokens.expires_in.unwrap_or(DEFAULT_LIFETIME);
    lifetime.saturating_sub(EXPIRY_MARGIN.min(lifetime / 4))
}

struct ConnectionTokens<E> {
    manager: Arc<TokenManager<E>>,
    connection_id: i64,
}

impl<E: TokenEndpoint + 'static> AccessTokenSource for ConnectionTokens<E> {
    fn access_token(&self) -> BoxFuture<'_, std::result::Result<Secret, XpmError>> {
        Box::pin(async move {
            self.manager
                .access_token(self.connection_id)
                .await
                .map_err(|e| match e {
                    SyncError::NeedsReauth { reason, .. } => XpmError::NeedsReauth { reason },
                    SyncError::Xpm(e) => e,
                    other => XpmError::Config(other.to_string()),
                })
        })
    }

    fn token_rejected<'a>(&'a self, token: &'a Secret) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            self.manager.forget_if(self.connection_id, token).await;
            true
        })
    }
}
