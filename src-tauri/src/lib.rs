//! HowNow Admin's desktop shell: Tauri setup, the window's commands, the tray, deep links, the
//! single-instance guard, notifications and the background scheduler. Business logic lives in
//! `hownow-sync`; [`core::AppCore`] holds the app's running state over it.

pub mod autostart;
mod commands;
pub mod core;
mod demo;
mod desktop_settings;
mod diagnostics;
mod error;
mod export;
mod logging;
mod progress;
pub mod scheduler;
pub mod tray;
mod tray_menu;
pub mod views;

#[cfg(test)]
mod kinds_test;

use std::sync::{Arc, Mutex, OnceLock};

use tauri::{AppHandle, Emitter, Manager, Runtime, WindowEvent};
use tauri_plugin_deep_link::DeepLinkExt;
use tauri_plugin_notification::NotificationExt;
use tauri_plugin_opener::OpenerExt;
use time::OffsetDateTime;

use crate::core::{AppCore, AppPaths, Ui};
use crate::tray::{Dispatched, LastSync, Refresh, TrayAction, TrayState, TrayTarget};
use crate::tray_menu::TrayMenu;
use crate::views::{LoginView, ProgressView, SyncFinished};

pub use commands::handler;

use crate::autostart::{Autostart, MINIMIZED_FLAG};

/// When the app started; the startup figures in the log (and BENCHMARKS.md) count from here.
static STARTED: OnceLock<std::time::Instant> = OnceLock::new();

pub(crate) fn millis_since_start() -> u128 {
    STARTED.get().map(|s| s.elapsed().as_millis()).unwrap_or_default()
}

/// Events the window listens to (ui/js/api.js).
pub mod event {
    pub const SYNC_PROGRESS: &str = "sync://progress";
    pub const SYNC_FINISHED: &str = "sync://finished";
    pub const LOGIN_STATE: &str = "login://state";
    pub const CONNECTIONS_CHANGED: &str = "connections://changed";
    pub const NAVIGATE: &str = "app://navigate";
}

fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// The core's view of the desktop: window events, the tray, notifications, the browser.
pub struct TauriUi<R: Runtime> {
    app: AppHandle<R>,
    tray: OnceLock<TrayMenu<R>>,
    /// What the tray last showed, so progress updates need no database read.
    tray_state: Mutex<TrayState>,
}

impl<R: Runtime> TauriUi<R> {
    pub fn new(app: AppHandle<R>) -> Self {
        TauriUi {
            app,
            tray: OnceLock::new(),
            tray_state: Mutex::new(TrayState::default()),
        }
    }

    fn emit<S: serde::Serialize + Clone>(&self, event: &str, payload: S) {
        if let Err(error) = self.app.emit(event, payload) {
            tracing::warn!(%error, event, "could not send an event to the window");
        }
    }

    fn apply_tray(&self) {
        let state = self.tray_state.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(tray) = self.tray.get() {
            if let Err(error) = tray.apply(tray::model(&state, OffsetDateTime::now_utc())) {
                tracing::warn!(%error, "could not update the tray menu");
            }
        }
    }

    /// Re-reads the connections for the tray (off the main thread).
    fn refresh_tray(&self) {
        let app = self.app.clone();
        tauri::async_runtime::spawn(async move {
            let Some(core) = app.try_state::<Arc<AppCore>>().map(|s| s.inner().clone()) else {
                return;
            };
            let Ok(overviews) = core.overviews().await else {
                return;
            };
            let state = TrayState {
                connections: overviews
                    .iter()
                    .filter(|o| o.connection.status != hownow_sync::ConnectionStatus::Disconnected)
                    .count(),
                syncing: core
                    .running_progress()
                    .or_else(|| overviews.iter().any(|o| o.running_pid.is_some()).then_some(None)),
                waiting: core.running_wait(),
                needs_reauth: overviews
                    .iter()
                    .any(|o| o.connection.status == hownow_sync::ConnectionStatus::NeedsReauth),
                last_sync: overviews
                    .iter()
                    .filter_map(|o| o.last_run.as_ref())
                    .filter_map(|r| {
                        r.ended_at.map(|at| LastSync {
                            finished_at: at,
                            succeeded: r.outcome == hownow_sync::RunOutcome::Ok,
                        })
                    })
                    .max_by_key(|l| l.finished_at),
            };
            if let Some(ui) = app.try_state::<Arc<TauriUi<R>>>() {
                *ui.tray_state.lock().unwrap_or_else(|p| p.into_inner()) = state;
                ui.apply_tray();
            }
        });
    }
}

impl<R: Runtime> Ui for TauriUi<R> {
    fn login_changed(&self, view: &LoginView) {
        self.emit(event::LOGIN_STATE, view.clone());
        if matches!(
            view,
            LoginView::ChooseTenant { .. } | LoginView::NoTenant { .. } | LoginView::Connected { .. }
        ) {
            // The browser had the focus: bring the wizard back.
            show_main_window(&self.app);
        }
    }

    fn sync_progress(&self, progress: &ProgressView) {
        self.emit(event::SYNC_PROGRESS, progress.clone());
        self.tray_state.lock().unwrap_or_else(|p| p.into_inner()).syncing = Some(progress.percent);
        self.apply_tray();
    }

    fn sync_finished(&self, finished: &SyncFinished) {
        self.emit(event::SYNC_FINISHED, finished.clone());
    }

    fn connections_changed(&self) {
        self.emit(event::CONNECTIONS_CHANGED, ());
        self.refresh_tray();
    }

    fn notify(&self, title: &str, body: &str) {
        if let Err(error) = self.app.notification().builder().title(title).body(body).show() {
            tracing::warn!(%error, title, "could not show a notification");
        }
    }

    fn open_url(&self, url: &str) -> Result<(), String> {
        self.app
            .opener()
            .open_url(url, None::<&str>)
            .map_err(|e| e.to_string())
    }
}

/// The tray's actions on the running app.
struct AppTray<'a, R: Runtime>(&'a AppHandle<R>);

impl<R: Runtime> TrayTarget for AppTray<'_, R> {
    fn show_window(&self) {
        show_main_window(self.0);
    }

    fn refresh(&self, choice: Refresh) {
        match choice {
            // A full resync costs API calls: the window shows the estimate and asks first.
            Refresh::Full => {
                show_main_window(self.0);
                let _ = self.0.emit(
                    event::NAVIGATE,
                    serde_json::json!({ "route": "/admin/connections?confirm=full" }),
                );
            }
            Refresh::Changes => {
                let Some(core) = self.0.try_state::<Arc<AppCore>>().map(|s| s.inner().clone()) else {
                    return;
                };
                tauri::async_runtime::spawn(async move {
                    for overview in core.overviews().await.unwrap_or_default() {
                        if overview.connection.status == hownow_sync::ConnectionStatus::Connected {
                            if let Err(e) = core.start_sync(
                                overview.connection.id,
                                hownow_sync::RunKind::Changes,
                                hownow_sync::RunTrigger::Manual,
                                false,
                            ) {
                                tracing::warn!(error = %e.message, "tray refresh not started");
                            }
                        }
                    }
                });
            }
        }
    }

    fn quit(&self) {
        self.0.exit(0);
    }
}

fn on_tray_action<R: Runtime>(app: &AppHandle<R>, action: TrayAction) {
    let Some(ui) = app.try_state::<Arc<TauriUi<R>>>() else {
        return;
    };
    let Some(shown) = ui.tray.get().map(TrayMenu::shown) else {
        return;
    };
    if tray::dispatch(action, &shown, &AppTray(app)) == Dispatched::Ignored {
        tracing::info!(action = action.id(), "tray action ignored: it was disabled");
    }
}

fn deliver_deep_links<R: Runtime>(app: &AppHandle<R>, urls: impl IntoIterator<Item = String>) {
    let Some(core) = app.try_state::<Arc<AppCore>>() else {
        return;
    };
    for url in urls {
        core.deliver_callback(&url);
    }
}

fn setup<R: Runtime>(app: &mut tauri::App<R>) -> Result<(), Box<dyn std::error::Error>> {
    let handle = app.handle().clone();
    let paths = AppPaths {
        data_dir: hownow_sync::engine::resolve_data_dir(None)?,
        export_dir: handle.path().download_dir().ok(),
        autostart: std::env::current_exe().ok().and_then(Autostart::for_this_user),
    };
    let ui = Arc::new(TauriUi::new(handle.clone()));
    let core = tauri::async_runtime::block_on(AppCore::open(paths, ui.clone()))?;
    app.manage(core.clone());
    app.manage(ui.clone());

    let minimized = std::env::args().any(|a| a == MINIMIZED_FLAG);
    if !minimized {
        show_main_window(&handle);
        tracing::info!(ms = millis_since_start(), "window shown");
    }
    // Off the startup path: it reads the connections and may write a file.
    let autostart_core = core.clone();
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(e) = autostart_core.apply_start_at_login() {
            tracing::warn!(error = %e.message, "start at login not updated");
        }
    });

    match TrayMenu::install(
        &handle,
        tray::model(&TrayState::default(), OffsetDateTime::now_utc()),
        on_tray_action,
    ) {
        Ok(tray) => {
            let _ = ui.tray.set(tray);
        }
        // No tray host (a bare X server): the app still works from its window.
        Err(error) => tracing::warn!(%error, "no tray icon"),
    }
    ui.refresh_tray();
    tracing::info!(ms = millis_since_start(), minimized, "started");

    #[cfg(any(target_os = "linux", windows))]
    if let Err(error) = app.deep_link().register_all() {
        tracing::warn!(%error, "could not register the deep-link scheme");
    }
    // A cold start by the link itself does not fire `on_open_url`: read it first.
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        deliver_deep_links(&handle, urls.into_iter().map(String::from));
    }
    // macOS hands links to the running app as an Apple event, which only the plugin receives.
    #[cfg(target_os = "macos")]
    {
        let links = handle.clone();
        app.deep_link()
            .on_open_url(move |event| deliver_deep_links(&links, event.urls().into_iter().map(String::from)));
    }

    tauri::async_runtime::spawn(scheduler::run(core));
    let ticker = ui.clone();
    tauri::async_runtime::spawn(async move {
        // "Last sync: 5 min ago" ages.
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            ticker.refresh_tray();
        }
    });
    Ok(())
}

pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    logging::init();

    tauri::Builder::default()
        // First: a second launch (the OS delivering a deep link, or the user opening the app
        // again) hands its arguments to this process over D-Bus and exits. Its link goes to the
        // engine from here, in Rust: the login's code and state never reach the page.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            deliver_deep_links(app, argv.into_iter().filter(|arg| arg.contains("://")));
            show_main_window(app);
            tracing::info!("a second launch brought the window forward");
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(commands::handler())
        .setup(setup)
        .on_window_event(|window, event| {
            // Closing the window keeps the app, and its scheduled syncs, running in the tray.
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == "main" {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .run(tauri::generate_context!())
        .expect("HowNow Admin could not start");
}
