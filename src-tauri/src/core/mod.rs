//! The app's running state over the engine: which backend is in use (the firm's Xero, or the
//! in-process Demo practice), where the connection wizard's login stands, and the syncs running in
//! this process with their progress. Tauri-free: it reports through [`Ui`], which the shell
//! implements with window events, the tray and notifications.
//!
//! By job: `login` (the wizard's login), `runs` (syncs in this process and their progress),
//! `settings` (what the Settings page edits, including the client id that switches backends),
//! `backend` (the real engine or the demo); this file holds the state they share and the
//! connection views.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use hownow_sync::connect::{ConnectError, RedirectKind, RedirectMode, PRIVILEGE_GUIDANCE};
use hownow_sync::engine::{ConnectionOverview, Engine, EngineError, EngineOptions, EngineSettings};
use hownow_sync::{
    Clock, ConnectionStatus, Progress, ProgressSink, RunKind, RunOutcome, RunTrigger, SyncRequest,
    SyncSettings, SystemClock,
};
use tokio::sync::Notify;

mod backend;
mod login;
mod runs;
mod settings;

use backend::open_backend;
use runs::starting;

use crate::autostart::Autostart;
use crate::demo::{self, DemoPractice};
use crate::desktop_settings::DesktopSettings;
use crate::error::{CommandError, CommandResult, ErrorKind};
use crate::progress::{self, SizeHint};
use crate::views::{ConnectionView, LoginView, ProgressView, SyncFinished, TenantView};

/// How the core reaches the window, the tray and the desktop.
pub trait Ui: Send + Sync + 'static {
    fn login_changed(&self, view: &LoginView);
    fn sync_progress(&self, progress: &ProgressView);
    fn sync_finished(&self, finished: &SyncFinished);
    /// Connections, their status or the running syncs changed: refresh lists and the tray.
    fn connections_changed(&self);
    fn notify(&self, title: &str, body: &str);
    /// Opens a URL in the system browser.
    fn open_url(&self, url: &str) -> Result<(), String>;
}

/// The engine in use, and the demo sandbox when it is the demo.
pub struct Backend {
    pub engine: Arc<Engine>,
    demo: Option<DemoPractice>,
}

impl Backend {
    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }

    /// The Demo practice's sandbox, to play staff editing XPM (and faults) against the demo.
    pub fn demo_sandbox(&self) -> Option<&hownow_sandbox::Sandbox> {
        self.demo.as_ref().map(|d| &d.sandbox)
    }
}

struct Running {
    kind: RunKind,
    hint: SizeHint,
    progress: Option<ProgressView>,
}

struct Login {
    view: LoginView,
    /// Bumped by every new login so a superseded waiter's answer is dropped.
    generation: u64,
}

/// Where the app keeps and writes things.
#[derive(Debug, Clone)]
pub struct AppPaths {
    /// The engine's data dir, shared with the CLI (the demo uses a throwaway folder inside it).
    pub data_dir: PathBuf,
    /// Where CSV exports go (the Downloads folder); `None`: `exports` in the data dir.
    pub export_dir: Option<PathBuf>,
    /// This user's "start at login" entry; `None` where the OS offers none.
    pub autostart: Option<Autostart>,
}

pub struct AppCore {
    data_dir: PathBuf,
    autostart: Option<Autostart>,
    clock: Arc<dyn Clock>,
    export_dir: PathBuf,
    backend: RwLock<Arc<Backend>>,
    ui: Arc<dyn Ui>,
    login: Mutex<Login>,
    running: Mutex<HashMap<i64, Running>>,
    desktop: Mutex<DesktopSettings>,
    exports: Mutex<Vec<PathBuf>>,
    /// Wakes the scheduler early (a connection was made, settings changed, a run ended).
    pub(crate) schedule_changed: Notify,
    /// The engine's scheduler while this app hosts it (see `scheduler`).
    pub(crate) hosting: crate::scheduler::Hosting,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs a blocking engine call (SQLite, files) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> CommandResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CommandError::internal(format!("a background task failed: {e}")))?
        .map_err(CommandError::from)
}

/// The Xero client id the real data dir is configured with (environment included).
fn configured_client_id(settings: &EngineSettings) -> Option<String> {
    settings.xero.client_id.clone().filter(|c| !c.trim().is_empty())
}

impl AppCore {
    /// Opens the engine on `data_dir`; with no Xero client id configured there, starts the Demo
    /// practice instead. Call on the async runtime the app runs on (the demo's server lives there).
    pub async fn open(paths: AppPaths, ui: Arc<dyn Ui>) -> Result<Arc<AppCore>, String> {
        AppCore::open_with_clock(paths, ui, Arc::new(SystemClock)).await
    }

    /// [`AppCore::open`] with the engine's time read from `clock` (tests choose the hour).
    pub async fn open_with_clock(
        paths: AppPaths,
        ui: Arc<dyn Ui>,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<AppCore>, String> {
        let data_dir = paths.data_dir;
        let backend = open_backend(&data_dir, None, clock.clone()).await?;
        let desktop = DesktopSettings::load(&data_dir);
        Ok(Arc::new(AppCore {
            autostart: paths.autostart,
            clock,
            export_dir: paths.export_dir.unwrap_or_else(|| data_dir.join("exports")),
            data_dir,
            backend: RwLock::new(Arc::new(backend)),
            ui,
            login: Mutex::new(Login {
                view: LoginView::Idle,
                generation: 0,
            }),
            running: Mutex::new(HashMap::new()),
            desktop: Mutex::new(desktop),
            exports: Mutex::new(Vec::new()),
            schedule_changed: Notify::new(),
            hosting: Default::default(),
        }))
    }

    pub fn backend(&self) -> Arc<Backend> {
        self.backend.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn export_dir(&self) -> &Path {
        &self.export_dir
    }

    // ---- connections ----------------------------------------------------------------------

    /// Every connection's status, last and next syncs, as the engine sees them.
    pub async fn overviews(&self) -> CommandResult<Vec<ConnectionOverview>> {
        let engine = self.backend().engine.clone();
        blocking(move || engine.status()).await
    }

    /// Every connection with its status and, for a sync running here, its progress.
    pub async fn connections(&self) -> CommandResult<Vec<ConnectionView>> {
        let demo = self.backend().is_demo();
        Ok(self
            .overviews()
            .await?
            .iter()
            .map(|o| self.view_of(o, demo))
            .collect())
    }

    pub async fn connection(&self, id: i64) -> CommandResult<ConnectionView> {
        self.connections()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| {
                CommandError::new(
                    ErrorKind::NotFound,
                    format!("there is no connection with id {id}"),
                )
            })
    }

    fn view_of(&self, overview: &ConnectionOverview, demo: bool) -> ConnectionView {
        let progress = lock(&self.running).get(&overview.connection.id).map(|r| {
            r.progress
                .clone()
                .unwrap_or_else(|| starting(overview.connection.id, r.kind))
        });
        ConnectionView::new(overview, demo, progress)
    }

    // ---- exports ---------------------------------------------------------------------------

    pub fn remember_export(&self, path: PathBuf) {
        lock(&self.exports).push(path);
    }

    /// Only files this app exported may be revealed from the window.
    pub fn is_export(&self, path: &Path) -> bool {
        lock(&self.exports).iter().any(|p| p == path)
    }
}
