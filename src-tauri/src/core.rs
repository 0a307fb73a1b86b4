//! The app's running state over the engine: which backend is in use (the firm's Xero, or the
//! in-process Demo practice), where the connection wizard's login stands, and the syncs running in
//! this process with their progress. Tauri-free: it reports through [`Ui`], which the shell
//! implements with window events, the tray and notifications.

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

    // ---- login (the connection wizard) ------------------------------------------------------

    pub fn login_view(&self) -> LoginView {
        lock(&self.login).view.clone()
    }

    fn set_login(&self, generation: Option<u64>, view: LoginView) -> bool {
        let mut login = lock(&self.login);
        if generation.is_some_and(|g| g != login.generation) {
            return false;
        }
        login.view = view.clone();
        drop(login);
        self.ui.login_changed(&view);
        true
    }

    /// The redirect the login uses: the desktop preference, else deep link when a bounce page is
    /// available, else loopback.
    fn redirect_mode(&self, engine: &Engine) -> CommandResult<RedirectMode> {
        let xero = engine.settings().xero;
        let bounce = xero.effective_bounce_url();
        Ok(match lock(&self.desktop).effective_login_mode(bounce.is_some()) {
            RedirectKind::Deeplink => RedirectMode::DeepLink {
                bounce_url: bounce
                    .ok_or_else(|| CommandError::from(EngineError::from(ConnectError::NoBouncePage)))?,
            },
            RedirectKind::Loopback => RedirectMode::Loopback {
                ports: xero.loopback_ports,
            },
        })
    }

    pub fn login_mode(&self) -> RedirectKind {
        let bounce = self
            .backend()
            .engine
            .settings()
            .xero
            .effective_bounce_url()
            .is_some();
        lock(&self.desktop).effective_login_mode(bounce)
    }

    /// Starts a login, opens the browser on it, and waits for the answer in the background.
    /// Reauthorising is the same login: the engine recognises the practice when it is chosen.
    pub async fn start_login(self: &Arc<Self>) -> CommandResult<LoginView> {
        let backend = self.backend();
        let mode = self.redirect_mode(&backend.engine)?;
        let started = backend.engine.start_login(Some(mode)).await?;
        let generation = {
            let mut login = lock(&self.login);
            login.generation += 1;
            login.generation
        };
        let opened = self.ui.open_url(&started.authorize_url);
        if let Err(error) = &opened {
            // The page says so and offers the link to copy first, and "Open again".
            tracing::warn!(%error, "could not open the browser");
        }
        let view = LoginView::Waiting {
            authorize_url: started.authorize_url.clone(),
            browser_opened: opened.is_ok(),
        };
        self.set_login(Some(generation), view.clone());
        let core = self.clone();
        tokio::spawn(async move {
            let answer = backend.engine.wait_for_login().await;
            core.on_login_answer(generation, answer).await;
        });
        Ok(view)
    }

    pub fn open_login_again(&self) -> CommandResult<()> {
        let pending =
            self.backend().engine.pending_login().ok_or_else(|| {
                CommandError::new(ErrorKind::Login, "no Xero login is waiting; start again")
            })?;
        self.ui
            .open_url(&pending.authorize_url)
            .map_err(CommandError::internal)
    }

    pub fn cancel_login(&self) {
        self.backend().engine.cancel_login();
        let generation = {
            let mut login = lock(&self.login);
            login.generation += 1;
            login.generation
        };
        self.set_login(Some(generation), LoginView::Idle);
    }

    /// A deep link the OS handed to the app. Only a callback answering the pending login (its
    /// `state`) is taken; anything else is ignored and logged by the engine.
    pub fn deliver_callback(&self, url: &str) {
        match self.backend().engine.deliver_callback(url) {
            Ok(()) => tracing::info!("login callback accepted"),
            Err(reason) => tracing::warn!(%reason, "login callback ignored"),
        }
    }

    async fn on_login_answer(
        self: &Arc<Self>,
        generation: u64,
        answer: Result<hownow_sync::connect::AuthorizedLogin, EngineError>,
    ) {
        let view = match answer {
            Ok(login) if login.tenants.len() == 1 => {
                let tenant = login.tenants[0].tenant_id.clone();
                // The failure is shown by the wizard's state.
                let _ = self.choose_tenant_for(generation, &tenant).await;
                return;
            }
            Ok(login) => LoginView::ChooseTenant {
                tenants: login
                    .tenants
                    .into_iter()
                    .map(|t| TenantView {
                        id: t.tenant_id,
                        name: t.name,
                    })
                    .collect(),
            },
            Err(EngineError::Connect(ConnectError::NoPracticeManagerTenant { user })) => {
                LoginView::NoTenant {
                    user,
                    guidance: PRIVILEGE_GUIDANCE.to_string(),
                }
            }
            Err(EngineError::Connect(ConnectError::Cancelled)) => return,
            Err(e) => LoginView::Failed {
                message: CommandError::from(e).message,
            },
        };
        self.set_login(Some(generation), view);
    }

    /// The admin picked a practice in the tenant picker.
    pub async fn choose_tenant(self: &Arc<Self>, tenant_id: &str) -> CommandResult<LoginView> {
        let generation = lock(&self.login).generation;
        self.choose_tenant_for(generation, tenant_id).await?;
        Ok(self.login_view())
    }

    async fn choose_tenant_for(self: &Arc<Self>, generation: u64, tenant_id: &str) -> CommandResult<()> {
        self.set_login(Some(generation), LoginView::Connecting);
        let result = self.connect_tenant(generation, tenant_id).await;
        if let Err(e) = &result {
            self.set_login(
                Some(generation),
                LoginView::Failed {
                    message: e.message.clone(),
                },
            );
        }
        result
    }

    async fn connect_tenant(self: &Arc<Self>, generation: u64, tenant_id: &str) -> CommandResult<()> {
        let backend = self.backend();
        let connection = backend.engine.finish_login(Some(tenant_id)).await?;
        let engine = backend.engine.clone();
        let id = connection.id;
        let synced_before = blocking(move || {
            Ok(engine
                .history(id, 50)?
                .iter()
                .any(|r| r.outcome == RunOutcome::Ok))
        })
        .await?;
        if !synced_before {
            self.start_sync(id, RunKind::Full, RunTrigger::Initial, false)?;
        }
        // A reauthorised connection catches up by the schedule.
        self.schedule_changed.notify_one();
        self.ui.connections_changed();
        let view = self.connection(id).await?;
        self.set_login(
            Some(generation),
            LoginView::Connected {
                connection: Box::new(view),
            },
        );
        Ok(())
    }

    // ---- syncs -----------------------------------------------------------------------------

    /// Something outside the core changed connections (a disconnect): refresh views and plans.
    pub fn notify_connections_changed(&self) {
        if let Err(e) = self.apply_start_at_login() {
            tracing::warn!(error = %e.message, "start at login not updated");
        }
        self.ui.connections_changed();
        self.schedule_changed.notify_one();
    }

    /// The schedule policy for a connection, evaluated now (the engine saves its next-due times).
    pub async fn plan(&self, connection_id: i64) -> CommandResult<hownow_sync::Plan> {
        let engine = self.backend().engine.clone();
        blocking(move || engine.plan(connection_id)).await
    }

    /// The engine's scheduler started a sync: shown as running, and a Refresh of it is refused.
    pub(crate) fn scheduled_run_started(&self, connection_id: i64, kind: RunKind) {
        self.mark_running(connection_id, kind);
        self.ui.connections_changed();
    }

    pub(crate) fn scheduled_run_progress(&self, connection_id: i64, kind: RunKind, event: &Progress) {
        self.on_progress(connection_id, kind, event);
    }

    /// The engine's scheduler ended a sync (committed, failed with `error`, or stopped).
    pub(crate) fn scheduled_run_ended(self: &Arc<Self>, connection_id: i64, error: Option<CommandError>) {
        let core = self.clone();
        tokio::spawn(async move { core.after_run(connection_id, error).await });
    }

    /// A connection's syncs are paused until the admin reauthorises it.
    pub(crate) fn needs_attention(&self, tenant_name: &str) {
        self.ui.notify(
            "HowNow Admin needs reauthorisation",
            &format!("Xero no longer accepts the sign-in for {tenant_name}. Open HowNow Admin and choose Reauthorise."),
        );
        self.ui.connections_changed();
    }

    pub fn is_running(&self, connection_id: i64) -> bool {
        lock(&self.running).contains_key(&connection_id)
    }

    pub fn running_progress(&self) -> Option<Option<f64>> {
        let running = lock(&self.running);
        running
            .values()
            .next()
            .map(|r| r.progress.as_ref().and_then(|p| p.percent))
    }

    /// What a running sync waits for, when it waits for XPM to prepare the client list.
    pub fn running_wait(&self) -> Option<String> {
        let running = lock(&self.running);
        running
            .values()
            .filter_map(|r| r.progress.as_ref())
            .find(|p| p.phase == "preparing")
            .map(|p| p.message.clone())
    }

    /// A sync the admin asked for: refused with a clear reason when the connection cannot sync
    /// (unknown, disconnected, needing reauthorisation) or already syncs here.
    pub async fn request_sync(
        self: &Arc<Self>,
        connection_id: i64,
        kind: RunKind,
        force: bool,
    ) -> CommandResult<()> {
        let engine = self.backend().engine.clone();
        let connection = blocking(move || Ok(engine.reader()?.connection(connection_id)?)).await?;
        match connection.status {
            ConnectionStatus::Disconnected => Err(CommandError::invalid(format!(
                "{} is disconnected; reconnect it to sync",
                connection.tenant_name
            ))),
            ConnectionStatus::NeedsReauth => Err(CommandError::new(
                ErrorKind::NeedsReauth,
                format!(
                    "Xero no longer accepts the sign-in for {}; reauthorise it first",
                    connection.tenant_name
                ),
            )),
            _ => self.start_sync(connection_id, kind, RunTrigger::Manual, force),
        }
    }

    /// Starts a sync in the background; refuses when one of this connection already runs here
    /// (another process is told by the engine's cross-process lock when the run starts).
    pub fn start_sync(
        self: &Arc<Self>,
        connection_id: i64,
        kind: RunKind,
        trigger: RunTrigger,
        force: bool,
    ) -> CommandResult<()> {
        if !self.mark_running(connection_id, kind) {
            return Err(CommandError::busy(
                "a sync of this practice is already running; it continues by itself and this request was not queued",
            ));
        }
        self.ui.connections_changed();
        let core = self.clone();
        tokio::spawn(async move { core.run_sync(connection_id, kind, trigger, force).await });
        Ok(())
    }

    /// Records a run of this connection in this app; `false` if one already runs here.
    fn mark_running(&self, connection_id: i64, kind: RunKind) -> bool {
        let mut running = lock(&self.running);
        if running.contains_key(&connection_id) {
            return false;
        }
        running.insert(
            connection_id,
            Running {
                kind,
                hint: SizeHint::default(),
                progress: None,
            },
        );
        true
    }

    async fn run_sync(self: Arc<Self>, connection_id: i64, kind: RunKind, trigger: RunTrigger, force: bool) {
        let backend = self.backend();
        let engine = backend.engine.clone();
        let counts = blocking(move || Ok(engine.reader()?.counts(connection_id)?))
            .await
            .ok();
        if let Some(counts) = counts {
            if let Some(r) = lock(&self.running).get_mut(&connection_id) {
                r.hint = SizeHint {
                    clients: counts.clients + counts.removed,
                    contacts: counts.contacts,
                };
            }
        }
        let relay = Relay {
            core: &self,
            connection_id,
            kind,
        };
        let request = SyncRequest {
            force,
            ..SyncRequest::new(kind, trigger)
        };
        let result = backend.engine.sync(connection_id, request, &relay).await;
        self.after_run(connection_id, result.err().map(CommandError::from))
            .await;
    }

    /// After a run here (manual or scheduled): no longer running; the window, tray and a
    /// notification told how it went.
    async fn after_run(self: &Arc<Self>, connection_id: i64, error: Option<CommandError>) {
        lock(&self.running).remove(&connection_id);
        let engine = self.backend().engine.clone();
        let (run, tenant_name) = blocking(move || {
            let run = engine.history(connection_id, 1)?.into_iter().next();
            let name = engine.reader()?.connection(connection_id)?.tenant_name;
            Ok((run, name))
        })
        .await
        .unwrap_or((None, String::new()));
        if let Some(e) = error {
            tracing::warn!(connection = connection_id, error = %e.message, "sync failed");
            match e.kind {
                ErrorKind::NeedsReauth => self.ui.notify(
                    "HowNow Admin needs reauthorisation",
                    &format!("Xero no longer accepts the sign-in for {tenant_name}. Open HowNow Admin and choose Reauthorise."),
                ),
                // Another process (the CLI) is syncing it: not a failure worth a notification.
                ErrorKind::Busy => {}
                _ => self.ui.notify(&format!("Sync failed: {tenant_name}"), &e.message),
            }
        }
        self.ui.sync_finished(&SyncFinished {
            connection_id,
            tenant_name,
            run: run.as_ref().map(crate::views::RunView::from),
        });
        self.ui.connections_changed();
        self.schedule_changed.notify_one();
    }

    fn on_progress(&self, connection_id: i64, kind: RunKind, event: &Progress) {
        let view = {
            let mut running = lock(&self.running);
            let Some(run) = running.get_mut(&connection_id) else {
                return;
            };
            let view = progress::view(connection_id, kind, event, run.hint);
            run.progress = Some(view.clone());
            view
        };
        self.ui.sync_progress(&view);
    }

    // ---- settings --------------------------------------------------------------------------

    pub fn desktop_settings(&self) -> DesktopSettings {
        lock(&self.desktop).clone()
    }

    pub fn save_desktop_settings(&self, settings: DesktopSettings) -> CommandResult<()> {
        settings
            .save(&self.data_dir)
            .map_err(|e| CommandError::internal(format!("could not save the settings: {e}")))?;
        *lock(&self.desktop) = settings;
        Ok(())
    }

    /// Whether the app starts at login: the administrator's choice, else on once a real practice
    /// is connected (never for the demo alone).
    pub fn start_at_login(&self) -> bool {
        let backend = self.backend();
        let real_connection = !backend.is_demo()
            && backend
                .engine
                .connections()
                .map(|all| all.iter().any(|c| c.status != ConnectionStatus::Disconnected))
                .unwrap_or(false);
        self.desktop_settings().effective_start_at_login(real_connection)
    }

    /// Makes the OS's autostart entry match [`AppCore::start_at_login`]. Called at start, after
    /// the settings change and when connections change (the first real one turns it on).
    pub fn apply_start_at_login(&self) -> CommandResult<()> {
        let Some(autostart) = &self.autostart else {
            return Ok(());
        };
        let wanted = self.start_at_login();
        if autostart.is_enabled() == wanted {
            return Ok(());
        }
        autostart.set(wanted).map_err(|e| {
            CommandError::internal(format!(
                "could not {} the start-at-login entry: {e}",
                if wanted { "write" } else { "remove" }
            ))
        })?;
        tracing::info!(enabled = wanted, "start at login updated");
        Ok(())
    }

    /// The Xero client id saved for the real data dir (or set in the environment).
    pub fn real_client_id(&self) -> Option<String> {
        let backend = self.backend();
        if backend.is_demo() {
            let mut settings = EngineSettings::load(&self.data_dir).unwrap_or_default();
            settings.apply_env();
            configured_client_id(&settings)
        } else {
            configured_client_id(&backend.engine.settings())
        }
    }

    /// Saves a new Xero client id; switches between the demo and the real engine when it
    /// appears or disappears. Refused while a sync runs.
    pub async fn set_client_id(&self, client_id: Option<String>) -> CommandResult<()> {
        let client_id = client_id.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if let Some(id) = &client_id {
            if id.chars().any(char::is_whitespace) || id.len() > 200 {
                return Err(CommandError::invalid(
                    "a Xero client id is one word of letters and digits",
                ));
            }
        }
        if client_id == self.real_client_id() {
            return Ok(());
        }
        if !lock(&self.running).is_empty() {
            return Err(CommandError::busy(
                "wait for the running sync to finish before changing the Xero client id",
            ));
        }
        self.cancel_login();
        let backend = open_backend(&self.data_dir, Some(client_id), self.clock.clone())
            .await
            .map_err(CommandError::internal)?;
        *self.backend.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(backend);
        self.ui.connections_changed();
        self.schedule_changed.notify_one();
        Ok(())
    }

    /// Applies schedule settings to every live connection. Views and plans are refreshed only
    /// when something changed (the window calls this at every start with its UTC offset).
    pub async fn update_sync_settings(
        &self,
        change: impl Fn(&mut SyncSettings) + Send + 'static,
    ) -> CommandResult<()> {
        let engine = self.backend().engine.clone();
        let changed = blocking(move || {
            let mut store = engine.store()?;
            let mut changed = false;
            for c in store.connections()? {
                if c.status == ConnectionStatus::Disconnected {
                    continue;
                }
                let mut settings = c.settings.clone();
                change(&mut settings);
                if settings != c.settings {
                    store.update_settings(c.id, &settings)?;
                    changed = true;
                }
            }
            Ok(changed)
        })
        .await?;
        if changed {
            self.schedule_changed.notify_one();
            self.ui.connections_changed();
        }
        Ok(())
    }

    /// The first live connection's schedule settings (the Settings page edits all at once).
    pub async fn sync_settings(&self) -> CommandResult<Option<SyncSettings>> {
        let engine = self.backend().engine.clone();
        blocking(move || {
            Ok(engine
                .connections()?
                .into_iter()
                .find(|c| c.status != ConnectionStatus::Disconnected)
                .map(|c| c.settings))
        })
        .await
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

/// What a run shows before its first progress event.
fn starting(connection_id: i64, kind: RunKind) -> ProgressView {
    ProgressView {
        connection_id,
        run_kind: kind.as_str(),
        phase: "starting",
        message: "Starting".to_string(),
        done: 0,
        total: None,
        percent: None,
    }
}

struct Relay<'a> {
    core: &'a AppCore,
    connection_id: i64,
    kind: RunKind,
}

impl ProgressSink for Relay<'_> {
    fn progress(&self, event: &Progress) {
        self.core.on_progress(self.connection_id, self.kind, event);
    }
}

/// The engine for the real data dir, or the demo when no client id is configured.
/// `client_id`: `Some(change)` to save a new client id first.
async fn open_backend(
    data_dir: &Path,
    client_id: Option<Option<String>>,
    clock: Arc<dyn Clock>,
) -> Result<Backend, String> {
    let dir = data_dir.to_path_buf();
    let engine_clock = clock.clone();
    let engine = tokio::task::spawn_blocking(move || -> Result<Engine, EngineError> {
        let engine = Engine::open(EngineOptions {
            clock: engine_clock,
            ..EngineOptions::new(dir)
        })?;
        if let Some(client_id) = client_id {
            let mut xero = engine.settings().xero;
            xero.client_id = client_id;
            engine.set_xero_settings(xero);
            engine.save_settings()?;
        }
        Ok(engine)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    if configured_client_id(&engine.settings()).is_some() {
        return Ok(Backend {
            engine: Arc::new(engine),
            demo: None,
        });
    }
    drop(engine);
    let demo = demo::start(data_dir, clock).await?;
    Ok(Backend {
        engine: demo.engine.clone(),
        demo: Some(demo),
    })
}
