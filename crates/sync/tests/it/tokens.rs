//! Token refresh: single-flight, rotation stored before use, needs_reauth on a dead token, and
//! no token anywhere in the database or the logs.

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{practice, Fixture};
use hownow_sync::secrets::{MemoryStore, SecretError, SecretStore, StoredCredentials};
use hownow_sync::tokens::{TokenEndpoint, TokenManager};
use hownow_sync::{ConnectionStatus, MemorySource, RunKind, SyncError};
use hownow_xpm::{Secret, TokenSet, XpmError};

/// Xero's token endpoint in miniature: one valid refresh token at a time, rotated on use.
struct FakeIdentity {
    current: Mutex<String>,
    calls: AtomicU32,
    delay: Duration,
}

impl FakeIdentity {
    fn new(valid: &str) -> Self {
        FakeIdentity {
            current: Mutex::new(valid.into()),
            calls: AtomicU32::new(0),
            delay: Duration::from_millis(20),
        }
    }
}

impl TokenEndpoint for FakeIdentity {
    async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, XpmError> {
        tokio::time::sleep(self.delay).await;
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let mut current = self.current.lock().unwrap();
        if refresh_token.expose() != current.as_str() {
            return Err(XpmError::NeedsReauth {
                reason: "invalid_grant".into(),
            });
        }
        *current = format!("refresh-token-SECRET-{n}");
        Ok(TokenSet {
            access_token: Secret::new(format!("access-token-SECRET-{n}")),
            refresh_token: Some(Secret::new(current.clone())),
            expires_in: Some(Duration::from_secs(1800)),
            id_token: None,
            scopes: vec!["openid".into()],
        })
    }
}

fn creds(token: &str) -> StoredCredentials {
    StoredCredentials {
        refresh_token: Secret::new(token),
        client_id: Some("app".into()),
        scopes: vec![],
    }
}

fn manager(
    fx: &Fixture,
    identity: FakeIdentity,
    secrets: Arc<dyn SecretStore>,
) -> Arc<TokenManager<FakeIdentity>> {
    Arc::new(TokenManager::new(identity, secrets, fx.db_path(), fx.lock_dir()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_refresh() {
    let fx = Fixture::new();
    let secrets = Arc::new(MemoryStore::new());
    secrets
        .set(fx.connection.id, &creds("refresh-token-SECRET-0"))
        .unwrap();
    let tokens = manager(&fx, FakeIdentity::new("refresh-token-SECRET-0"), secrets.clone());
    let id = fx.connection.id;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let tokens = tokens.clone();
            tokio::spawn(async move { tokens.access_token(id).await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().expose(), "access-token-SECRET-1");
    }
    // Rotated token stored; the cached access token serves later calls without a refresh.
    assert_eq!(
        secrets.get(id).unwrap().unwrap().refresh_token.expose(),
        "refresh-token-SECRET-1"
    );
    tokens.access_token(id).await.unwrap();
    tokens.refresh_now(id).await.unwrap();
    assert_eq!(
        secrets.get(id).unwrap().unwrap().refresh_token.expose(),
        "refresh-token-SECRET-2"
    );
    assert!(fx.connection().token_refreshed_at.is_some());
}

/// A store that cannot save: the new access token must not be handed out.
struct ReadOnly(MemoryStore);

impl SecretStore for ReadOnly {
    fn get(&self, id: i64) -> Result<Option<StoredCredentials>, SecretError> {
        self.0.get(id)
    }
    fn set(&self, _: i64, _: &StoredCredentials) -> Result<(), SecretError> {
        Err(SecretError::Keychain("locked".into()))
    }
    fn delete(&self, id: i64) -> Result<(), SecretError> {
        self.0.delete(id)
    }
    fn describe(&self) -> String {
        "read-only".into()
    }
}

#[tokio::test]
async fn the_access_token_is_not_used_unless_the_rotated_refresh_token_was_stored() {
    let fx = Fixture::new();
    let inner = MemoryStore::new();
    inner
        .set(fx.connection.id, &creds("refresh-token-SECRET-0"))
        .unwrap();
    let tokens = manager(
        &fx,
        FakeIdentity::new("refresh-token-SECRET-0"),
        Arc::new(ReadOnly(inner)),
    );
    let err = tokens.access_token(fx.connection.id).await.unwrap_err();
    assert!(matches!(err, SyncError::Secrets(_)), "{err:?}");
}

#[tokio::test]
async fn a_dead_refresh_token_means_needs_reauth_and_nothing_is_deleted() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(10));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let secrets = Arc::new(MemoryStore::new());
    secrets
        .set(fx.connection.id, &creds("refresh-token-SECRET-dead"))
        .unwrap();
    let tokens = manager(&fx, FakeIdentity::new("refresh-token-SECRET-0"), secrets.clone());

    let err = tokens.access_token(fx.connection.id).await.unwrap_err();
    let SyncError::NeedsReauth { reason, .. } = err else {
        panic!("expected NeedsReauth, got {err:?}");
    };
    assert_eq!(reason, "invalid_grant");
    // The manager only reports it: it never opens the directory, which a running sync may hold
    // for minutes. The caller marks the connection (a failing run, or the engine), as here.
    assert_eq!(fx.connection().status, ConnectionStatus::Connected);
    fx.store
        .set_status(fx.connection.id, ConnectionStatus::NeedsReauth, Some(&reason))
        .unwrap();
    assert!(
        secrets.get(fx.connection.id).unwrap().is_some(),
        "credentials kept"
    );
    assert_eq!(
        fx.store.counts(fx.connection.id).unwrap().clients,
        10,
        "directory kept"
    );
    // The schedule pauses, and syncs are refused until someone logs in again.
    let plan = hownow_sync::plan(
        &hownow_sync::ScheduleInput::load(&fx.store, fx.connection.id, time::OffsetDateTime::now_utc())
            .unwrap(),
    );
    assert_eq!(plan.paused, Some(hownow_sync::schedule::Paused::NeedsReauth));
    assert!(matches!(
        fx.sync(&source, RunKind::Changes).await,
        Err(SyncError::NeedsReauth { .. })
    ));
    // The access token source handed to the XPM client reports it as Xero would.
    let source_err = tokens
        .source_for(fx.connection.id)
        .access_token()
        .await
        .unwrap_err();
    assert!(matches!(source_err, XpmError::NeedsReauth { .. }));
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_never_reach_the_database_or_the_logs() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut fx = Fixture::new();
    let id = fx.connection.id;
    let secrets = Arc::new(MemoryStore::new());
    let tokens = manager(
        &fx,
        FakeIdentity::new("refresh-token-SECRET-login"),
        secrets.clone(),
    );
    let login = TokenSet {
        access_token: Secret::new("access-token-SECRET-login"),
        refresh_token: Some(Secret::new("refresh-token-SECRET-login")),
        expires_in: Some(Duration::from_secs(1)),
        id_token: Some(Secret::new("id-token-SECRET-login")),
        scopes: vec![],
    };
    tokens.store_login(id, &login, Some("app")).await.unwrap();
    let source = MemorySource::with_clients(practice(20));
    fx.sync(&source, RunKind::Full).await.unwrap();
    tokens.forget(id).await;
    let access = tokens.access_token(id).await.unwrap(); // refresh: rotation 1
    tracing::info!(?access, creds = ?secrets.get(id).unwrap(), manager = ?tokens, "state after refresh");
    source.advance(time::Duration::hours(6));
    fx.sync(&source, RunKind::Changes).await.unwrap();
    // A failure path too.
    secrets.set(id, &creds("refresh-token-SECRET-dead")).unwrap();
    tokens.refresh_now(id).await.unwrap_err();
    drop(fx.store);

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("access token refreshed"),
        "the capture works: {logs}"
    );
    let mut files = vec![];
    for entry in std::fs::read_dir(fx.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    assert!(files.iter().any(|(p, _)| p.ends_with("hownow.sqlite3")));
    for needle in ["SECRET", "refresh-token", "access-token", "id-token"] {
        assert!(!logs.contains(needle), "{needle} in the logs:\n{logs}");
        for (path, bytes) in &files {
            let found = bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            assert!(!found, "{needle} in {path}");
        }
    }
}
