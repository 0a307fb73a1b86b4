//! The engine facade: everything the CLI and the desktop app do, as a few calls over one data
//! dir. No Tauri, no terminal: callers show progress and results their own way.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hownow_sync::engine::EngineError> {
//! use hownow_sync::engine::{Engine, EngineOptions};
//! use hownow_sync::{NoProgress, RunKind, RunTrigger, SyncRequest};
//! let engine = Engine::open(EngineOptions::new("/tmp/hownow"))?;
//! let login = engine.start_login(None).await?;           // open login.authorize_url
//! let authorized = engine.wait_for_login().await?;       // the browser came back
//! let connection = engine.finish_login(None).await?;     // the only practice, or name one
//! engine.sync(connection.id, SyncRequest::new(RunKind::Full, RunTrigger::Initial), &NoProgress).await?;
//! # drop((login, authorized)); Ok(()) }
//! ```
//!
//! The data dir holds `hownow.sqlite3` (the directory), `hownow-state.sqlite3` (bookkeeping
//! written while syncs run), `settings.json` (how to reach Xero), `locks/` (one sync per
//! connection across processes) and, with `--insecure-storage`, `credentials.json` (0600).
//! Tokens never reach the database or the settings.
//!
//! ## Who waits on whom
//!
//! A sync applies everything in one write transaction, which at XPM's pace stays open for
//! minutes. Nothing else may wait on it:
//!
//! * The schema is migrated once, at [`Engine::open`], and only a due migration takes the write
//!   lock.
//! * Reads (status, clients, contacts, history, the tray, the CLI from another process) come from
//!   a small pool of read-only connections ([`Engine::reader`]). In WAL mode a reader never
//!   waits on the writer: it sees the last committed state.
//! * What changes while a sync runs (a token refresh's time, the schedule's next-due times, the
//!   administrator's sync settings) is written to the state file, never to the directory, so a
//!   token refresh in the middle of a run (a network wait) never leads to a lock wait.
//! * Each run writes through its own connection. The few other directory writes (connecting,
//!   disconnecting, a status change) are short; made while another connection's sync holds the
//!   lock, they wait their turn ([`Engine::write`]) rather than fail.

mod directory;
mod disconnect;
mod login;
mod naming;
mod overview;
mod readers;
mod runtime;
mod settings;
mod support;
mod sync_settings;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hownow_xpm::{ApiConfig, HttpConfig, Identity, IdentityConfig, IdentityEndpoints, XeroApi, XpmError};
use serde::Serialize;
use url::Url;

use crate::budget::{self, Estimate};
use crate::clock::{Clock, SystemClock};
use crate::connect::{
    AuthorizedLogin, CallbackRejected, ConnectError, LoginFlow, LoginOptions, LoginStarted, RedirectKind,
    RedirectMode, DEFAULT_LOGIN_TIMEOUT,
};
use crate::error::SyncError;
use crate::lock::SyncLock;
use crate::run_view::RunView;
use crate::schedule::{plan, Plan, ScheduleInput};
use crate::secrets::{FileStore, KeyringStore, MemoryStore, SecretStore};
use crate::store::{Connection, ConnectionStatus, NewConnection, PinnedXero, RunKind, Store, SyncRun};
use crate::sync::{run_sync, ProgressSink, SyncReport, SyncRequest};
use crate::tokens::TokenManager;

pub use overview::ConnectionOverview;
use readers::ReadPool;
pub use readers::Reader;
pub use settings::{
    default_data_dir, resolve_data_dir, CredentialStorage, EngineSettings, XeroSettings, XeroTimeouts,
    APP_IDENTIFIER, ENV_API_BASE, ENV_CLIENT_ID, ENV_DATA_DIR, ENV_ISSUER,
};
pub use support::{BundleHost, BundleReport, BUNDLE_LOG_BYTES, BUNDLE_RUNS};

const DB_FILE: &str = "hownow.sqlite3";
const CREDENTIALS_FILE: &str = "credentials.json";

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Sync(#[from] SyncError),

    #[error(transparent)]
    Connect(#[from] ConnectError),

    #[error(transparent)]
    Xpm(#[from] XpmError),

    #[error("no practice is connected yet; connect to Xero Practice Manager first")]
    NotConnected,

    #[error("several practices are connected ({}); say which one", names.join(", "))]
    WhichConnection { names: Vec<String> },

    #[error("several connected practices have ids starting \"{wanted}\" ({}); give more of the id", names.join(", "))]
    AmbiguousConnection { wanted: String, names: Vec<String> },

    #[error("{0}")]
    InvalidName(String),

    #[error("no connected practice is called or has the id \"{0}\"")]
    NoSuchConnection(String),

    #[error(
        "no Xero client id is configured; register an app with Xero and give HowNow Admin its client id"
    )]
    MissingClientId,

    #[error("the OS data directory is unknown; choose where HowNow Admin keeps its data")]
    NoDataDir,

    #[error(transparent)]
    Settings(#[from] crate::settings::InvalidSettings),

    #[error("invalid configuration: {0}")]
    Config(String),

    #[error("could not write the export: {0}")]
    Export(#[source] std::io::Error),

    #[error("could not use {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl EngineError {
    /// The caller asked for something that cannot be (a wrong name, a missing choice), as
    /// opposed to something that failed: the CLI exits 2 for these.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            EngineError::WhichConnection { .. }
                | EngineError::NoSuchConnection(_)
                | EngineError::AmbiguousConnection { .. }
                | EngineError::InvalidName(_)
                | EngineError::Settings(_)
                | EngineError::MissingClientId
                | EngineError::Connect(
                    ConnectError::ChooseTenant { .. }
                        | ConnectError::UnknownTenant { .. }
                        | ConnectError::AmbiguousTenant { .. }
                )
        )
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// How to open an engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub data_dir: PathBuf,
    /// `None`: the choice saved in the data dir (the OS keychain unless `--insecure-storage` was
    /// chosen before).
    pub storage: Option<CredentialStorage>,
    /// How long a pending login waits for its callback (10 minutes).
    pub login_timeout: Duration,
    /// Read `HOWNOW_XERO_*` overrides from the environment.
    pub use_env: bool,
    /// Where "now" comes from (the computer's clock; tests place it at a chosen hour).
    pub clock: Arc<dyn Clock>,
}

impl EngineOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        EngineOptions {
            data_dir: data_dir.into(),
            storage: None,
            login_timeout: DEFAULT_LOGIN_TIMEOUT,
            use_env: true,
            clock: Arc::new(SystemClock),
        }
    }
}

/// Xero as reachable with the current settings.
struct XeroRuntime {
    settings: XeroSettings,
    identity: Identity,
    api: XeroApi,
    tokens: Arc<TokenManager<Identity>>,
}

/// What [`Engine::disconnect`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisconnectReport {
    pub connection_id: i64,
    pub tenant_name: String,
    /// `DELETE /connections/{id}` succeeded.
    pub xero_connection_removed: bool,
    /// The refresh token was revoked at Xero.
    pub token_revoked: bool,
    /// The synced clients stay in the directory (`--keep-data`).
    pub data_kept: bool,
    /// What could not be done at Xero (the local side is always cleaned up).
    pub warnings: Vec<String>,
}

/// One data dir's engine. `Send + Sync`: share it behind an `Arc`. Reads share a pool of
/// read-only handles; writes open their own short-lived handle (see the module docs).
pub struct Engine {
    data_dir: PathBuf,
    db_path: PathBuf,
    clock: Arc<dyn Clock>,
    readers: ReadPool,
    lock_dir: PathBuf,
    storage: CredentialStorage,
    secrets: Arc<dyn SecretStore>,
    settings: RwLock<EngineSettings>,
    runtime: tokio::sync::Mutex<Option<Arc<XeroRuntime>>>,
    /// One runtime per Xero that connections were made with.
    pinned: tokio::sync::Mutex<std::collections::HashMap<PinnedXero, Arc<XeroRuntime>>>,
    login: LoginFlow,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("data_dir", &self.data_dir)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens (creating if needed) the data dir and its directory database.
    pub fn open(options: EngineOptions) -> Result<Engine> {
        let data_dir = options.data_dir;
        make_private(&data_dir)?;
        let mut settings = EngineSettings::load(&data_dir)?;
        // What the data dir was set up with, before this process's environment overrides.
        let saved = settings.clone();
        if options.use_env {
            settings.apply_env();
        }
        let storage = options.storage.unwrap_or(settings.credential_storage);
        let secrets: Arc<dyn SecretStore> = match storage {
            CredentialStorage::Keychain => Arc::new(KeyringStore::for_data_dir(&data_dir)),
            CredentialStorage::File => Arc::new(FileStore::new(data_dir.join(CREDENTIALS_FILE))),
            CredentialStorage::Memory => Arc::new(MemoryStore::new()),
        };
        let db_path = data_dir.join(DB_FILE);
        // The one migration of this process.
        Store::open_with_clock(&db_path, options.clock.clone())?;
        let login = LoginFlow::new(LoginOptions {
            timeout: options.login_timeout,
            deep_link_scheme: settings.xero.deep_link_scheme.clone(),
            clock: options.clock.clone(),
        });
        let engine = Engine {
            readers: ReadPool::new(db_path.clone(), options.clock.clone()),
            clock: options.clock,
            lock_dir: data_dir.join("locks"),
            data_dir,
            db_path,
            storage,
            secrets,
            settings: RwLock::new(settings),
            runtime: tokio::sync::Mutex::new(None),
            pinned: Default::default(),
            login,
        };
        engine.pin_legacy(&saved.xero)?;
        Ok(engine)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn database_path(&self) -> &Path {
        &self.db_path
    }

    pub fn credential_storage(&self) -> CredentialStorage {
        self.storage
    }

    /// Where tokens are kept, for messages ("the OS keychain", "the file …").
    pub fn credential_storage_description(&self) -> String {
        self.secrets.describe()
    }

    /// The engine's clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// A writable handle on the directory database, for writes the facade does not wrap. Opening
    /// one takes no lock; a write made while a sync's transaction is open waits for it (up to the
    /// busy timeout): prefer [`Engine::write`], which waits without blocking a thread's caller.
    pub fn store(&self) -> Result<Store> {
        Ok(Store::open_with_clock(&self.db_path, self.clock.clone())?)
    }

    /// A read-only handle from the pool: never waits on a running sync (it sees the last
    /// committed state) and returns to the pool when dropped.
    pub fn reader(&self) -> Result<Reader<'_>> {
        Ok(self.readers.get()?)
    }

    /// Runs a short directory write, waiting its turn if a sync's transaction holds the write
    /// lock (in this process or another) instead of failing with "database is locked".
    pub async fn write<T>(&self, op: impl Fn(&mut Store) -> crate::error::Result<T>) -> Result<T> {
        let mut store = self.store()?;
        // A short wait in SQLite (which blocks the thread), the rest asleep on the runtime.
        store.set_busy_timeout(std::time::Duration::from_millis(20))?;
        let mut announced = false;
        loop {
            match op(&mut store) {
                Err(SyncError::Database(e)) if is_busy(&e) => {
                    if !announced {
                        tracing::info!("a sync is writing the directory; this change waits for it to finish");
                        announced = true;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                other => return Ok(other?),
            }
        }
    }

    pub fn settings(&self) -> EngineSettings {
        self.settings.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes the Xero settings for this engine (the next Xero call uses them); saved to the
    /// data dir when a connection is made, or at once with [`Engine::save_settings`].
    pub fn set_xero_settings(&self, xero: XeroSettings) {
        self.settings.write().unwrap_or_else(|p| p.into_inner()).xero = xero;
    }

    /// Records in the settings file where credentials are kept (a connection made with
    /// `--insecure-storage` must be found by the next command), leaving the rest as saved.
    fn remember_storage_choice(&self) -> Result<()> {
        if self.storage == CredentialStorage::Memory {
            return Ok(());
        }
        let mut saved = EngineSettings::load(&self.data_dir)?;
        if saved.credential_storage != self.storage || !EngineSettings::path(&self.data_dir).exists() {
            saved.credential_storage = self.storage;
            saved.save(&self.data_dir)?;
        }
        Ok(())
    }

    /// Saves the current settings, overrides included (and the credential storage choice,
    /// unless memory): what later commands and new logins use.
    pub fn save_settings(&self) -> Result<()> {
        let mut settings = self.settings();
        if self.storage != CredentialStorage::Memory {
            settings.credential_storage = self.storage;
        }
        settings.save(&self.data_dir)
    }

    // ---- connections ----------------------------------------------------------------------

    /// Every connection, disconnected ones (kept data) included.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        Ok(self.reader()?.connections()?)
    }

    // ---- sync -----------------------------------------------------------------------------

    /// What a run of `kind` should cost in API calls (shown before a "Re-sync ALL").
    pub fn estimate(&self, connection_id: i64, kind: RunKind) -> Result<Estimate> {
        let store = self.reader()?;
        let connection = store.connection(connection_id)?;
        Ok(budget::estimate(
            kind,
            &store.counts(connection_id)?,
            &connection.settings,
        ))
    }

    /// Runs a sync under the connection's cross-process lock ([`SyncError::AlreadyRunning`] if
    /// another task or process is syncing it), reporting progress to `progress`.
    pub async fn sync(
        &self,
        connection_id: i64,
        request: SyncRequest,
        progress: &dyn ProgressSink,
    ) -> Result<SyncReport> {
        let connection = self.reader()?.connection(connection_id)?;
        let rt = self.connection_runtime(&connection).await?;
        let source = rt
            .api
            .practice(connection.tenant_id.clone(), rt.tokens.source_for(connection_id));
        let mut store = self.store()?;
        // An access token that dies early is renewed by the source, request by request
        // (`AccessTokenSource::token_rejected`): the run goes on without a failed attempt.
        let result = run_sync(
            &mut store,
            &source,
            &self.lock_dir,
            connection_id,
            request,
            progress,
        )
        .await;
        // One error for "log in again", whichever layer noticed; a 403 says what to check first.
        result.map_err(|e| match e {
            SyncError::Xpm(XpmError::NeedsReauth { reason }) => SyncError::NeedsReauth {
                id: connection_id,
                reason,
            }
            .into(),
            SyncError::Xpm(XpmError::Forbidden { detail }) => SyncError::NeedsReauth {
                id: connection_id,
                reason: crate::sync::access_withdrawn(&detail),
            }
            .into(),
            other => other.into(),
        })
    }

    /// What the schedule wants for this connection now; the next-due times are saved so a
    /// restart (or the other process) knows them. The scheduler runs `plan.due_now` with
    /// [`Engine::sync`] and `plan.refresh_token_now` with [`Engine::refresh_token`].
    pub fn plan(&self, connection_id: i64) -> Result<Plan> {
        let input = ScheduleInput::load(&*self.reader()?, connection_id, self.clock.now())?;
        let plan = plan(&input);
        // The state file: saving a plan never waits on a running sync.
        self.store()?.save_plan(connection_id, &plan)?;
        Ok(plan)
    }

    /// The idle refresh that keeps the refresh token from expiring after 60 days unused.
    pub async fn refresh_token(&self, connection_id: i64) -> Result<()> {
        let connection = self.reader()?.connection(connection_id)?;
        let rt = self.connection_runtime(&connection).await?;
        match rt.tokens.refresh_now(connection_id).await {
            Err(SyncError::NeedsReauth { id, reason }) => {
                self.write(|s| s.set_status(id, ConnectionStatus::NeedsReauth, Some(&reason)))
                    .await?;
                Err(SyncError::NeedsReauth { id, reason }.into())
            }
            other => Ok(other?),
        }
    }

    // ---- queries --------------------------------------------------------------------------

    /// Status of every connection: last and next syncs, quota, directory size, a running sync.
    pub fn status(&self) -> Result<Vec<ConnectionOverview>> {
        let store = self.reader()?;
        let now = self.clock.now();
        store
            .connections()?
            .into_iter()
            .map(|c| ConnectionOverview::load(&store, &self.lock_dir, c, now))
            .collect()
    }

    /// The most recent sync runs, newest first.
    pub fn history(&self, connection_id: i64, limit: u32) -> Result<Vec<SyncRun>> {
        Ok(self.reader()?.runs(connection_id, limit)?)
    }

    /// [`history`](Self::history) as the CLI's `history --json` and the window's Sync history
    /// list it: each run with the values XPM sent that could not be read (an empty list when
    /// there were none).
    pub fn history_views(&self, connection_id: i64, limit: u32) -> Result<Vec<RunView>> {
        let store = self.reader()?;
        let mut views = Vec::new();
        for run in store.runs(connection_id, limit)? {
            let mut view = RunView::from(&run);
            view.data_warnings = Some(match run.counts.data_warnings {
                0 => Vec::new(),
                _ => store.warnings(run.id)?,
            });
            views.push(view);
        }
        Ok(views)
    }

    /// What in a run would surprise HowNow's folder naming (SPEC 4): clients whose Client Code or
    /// name changed, clients the run touched that have no code, and how many live clients have
    /// none.
    pub fn code_report(&self, run_id: i64) -> Result<crate::CodeReport> {
        Ok(self.reader()?.code_report(run_id)?)
    }
}

/// The data dir 0700 and what it holds 0600, also when an older version made them under a
/// looser umask.
fn make_private(data_dir: &Path) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| EngineError::Io { path, source }
    };
    crate::private::private_dir(data_dir).map_err(io(data_dir))?;
    let locks = data_dir.join("locks");
    if locks.exists() {
        crate::private::private_dir(&locks).map_err(io(&locks))?;
    }
    for dir in [data_dir, locks.as_path()] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                crate::private::private_file(&path).map_err(io(&path))?;
            }
        }
    }
    Ok(())
}

/// SQLite's "another connection holds the write lock" (after the busy timeout).
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
