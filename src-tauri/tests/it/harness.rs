//! The window's commands over Tauri's mock runtime, for the commands and scheduler_host tests:
//! an app on a temp data dir with the in-process Demo practice, a UI that records what the app
//! told it, and the test playing the browser and the OS (it hands the deep link to the app as the
//! deep-link handler does).
//!
//! The engine's clock is injected: every harness starts at 10:00 UTC tomorrow (never the wall
//! clock's hour).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hownow_admin::autostart::Autostart;
use hownow_admin::core::{AppCore, AppPaths, Ui};
use hownow_admin::views::{LoginView, ProgressView, SyncFinished};
use hownow_sandbox::browser::Browser;
use hownow_sync::ShiftedClock;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

#[derive(Default)]
pub struct RecordingUi {
    pub opened: Mutex<Vec<String>>,
    pub logins: Mutex<Vec<LoginView>>,
    pub progress: Mutex<Vec<ProgressView>>,
    pub finished: Mutex<Vec<SyncFinished>>,
    pub notes: Mutex<Vec<String>>,
    pub changed: std::sync::atomic::AtomicUsize,
    /// The system has no browser to open (a server session, a broken default).
    pub no_browser: std::sync::atomic::AtomicBool,
}

impl Ui for RecordingUi {
    fn login_changed(&self, view: &LoginView) {
        self.logins.lock().unwrap().push(view.clone());
    }
    fn sync_progress(&self, progress: &ProgressView) {
        self.progress.lock().unwrap().push(progress.clone());
    }
    fn sync_finished(&self, finished: &SyncFinished) {
        self.finished.lock().unwrap().push(finished.clone());
    }
    fn connections_changed(&self) {
        self.changed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    fn notify(&self, title: &str, body: &str) {
        self.notes.lock().unwrap().push(format!("{title}: {body}"));
    }
    fn open_url(&self, url: &str) -> Result<(), String> {
        if self.no_browser.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("no browser is configured".into());
        }
        self.opened.lock().unwrap().push(url.to_string());
        Ok(())
    }
}

pub struct Harness {
    _app: App<MockRuntime>,
    pub window: WebviewWindow<MockRuntime>,
    pub ui: Arc<RecordingUi>,
    pub core: Arc<AppCore>,
    pub clock: Arc<ShiftedClock>,
    pub dir: tempfile::TempDir,
}

/// `hour`:00 UTC tomorrow: a fixed hour whatever the time of day the tests run, and later than
/// the sandbox's own (real) clock, as a real Xero's clock would be near ours.
pub fn tomorrow_at(hour: u8) -> time::OffsetDateTime {
    let tomorrow = time::OffsetDateTime::now_utc().date() + time::Duration::days(1);
    tomorrow.with_hms(hour, 0, 0).unwrap().assume_utc()
}

impl Harness {
    pub fn new() -> Harness {
        Harness::at(tomorrow_at(10))
    }

    pub fn at(start: time::OffsetDateTime) -> Harness {
        let clock = Arc::new(ShiftedClock::starting_at(start));
        let dir = tempfile::tempdir().unwrap();
        let ui = Arc::new(RecordingUi::default());
        let paths = AppPaths {
            data_dir: dir.path().join("data"),
            export_dir: Some(dir.path().join("exports")),
            autostart: Some(Autostart::desktop_entry_in(
                dir.path().join("autostart"),
                "/opt/hownow/hownow-admin".into(),
            )),
        };
        let core = tauri::async_runtime::block_on(AppCore::open_with_clock(paths, ui.clone(), clock.clone()))
            .unwrap();
        let app = mock_builder()
            .invoke_handler(hownow_admin::handler())
            .manage(core.clone())
            .build(mock_context(noop_assets()))
            .unwrap();
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        Harness {
            _app: app,
            window,
            ui,
            core,
            clock,
            dir,
        }
    }

    /// Invokes a command as the window does; `Err` holds the command's error value.
    pub fn call(&self, command: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: command.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }

    pub fn ok(&self, command: &str, args: Value) -> Value {
        self.call(command, args)
            .unwrap_or_else(|e| panic!("{command} failed: {e}"))
    }

    pub fn err(&self, command: &str, args: Value) -> Value {
        match self.call(command, args) {
            Ok(v) => panic!("{command} should have failed, returned {v}"),
            Err(e) => e,
        }
    }

    pub fn wait_for(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn login_stage(&self) -> String {
        self.ok("login_state", json!({}))["stage"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Starts a login and plays the browser as `user` (a demo user id): log in, choose Allow
    /// access (or Cancel), follow the bounce page. Returns the deep link the OS would hand over.
    pub fn log_in_as(&self, user: &str, allow: bool) -> String {
        let started = self.ok("login_start", json!({}));
        assert_eq!(started["stage"], "waiting");
        let url = started["authorizeUrl"].as_str().unwrap().to_string();
        assert_eq!(
            self.ui.opened.lock().unwrap().last(),
            Some(&url),
            "the browser was opened on the login"
        );
        tauri::async_runtime::block_on(play_browser(&url, user, allow))
    }

    /// The Demo practice's data and switches: staff editing XPM, faults.
    pub fn practice(&self) -> hownow_sandbox::PracticeHandle {
        self.core
            .backend()
            .demo_sandbox()
            .expect("the demo is running")
            .practice()
            .clone()
    }

    pub fn last_run(&self) -> hownow_sync::RunView {
        self.ui
            .finished
            .lock()
            .unwrap()
            .last()
            .unwrap()
            .run
            .clone()
            .unwrap()
    }

    /// Moves the engine's clock `hours` forward, as if the app had been closed (or the computer
    /// asleep) that long since the last sync.
    pub fn time_passes(&self, hours: i64) {
        self.clock.advance(time::Duration::hours(hours));
    }

    /// One pass of the engine's scheduler as the app hosts it; how long it would sleep. Panics
    /// when another host (the service) schedules this data dir.
    pub fn scheduler_pass(&self) -> Duration {
        tauri::async_runtime::block_on(hownow_admin::scheduler::pass(&self.core))
            .expect("this app schedules")
            .wake_in
    }

    pub fn save_schedule(&self, interval_hours: u32, daily_full: bool, daily_full_hour: u8) {
        let mut settings = self.ok("settings_get", json!({}));
        settings["intervalHours"] = json!(interval_hours);
        settings["dailyFullEnabled"] = json!(daily_full);
        settings["dailyFullHour"] = json!(daily_full_hour);
        self.ok("settings_save", json!({ "settings": settings }));
    }

    pub fn finished_runs(&self) -> usize {
        self.ui.finished.lock().unwrap().len()
    }

    /// Connects the demo practice as the first demo user and waits for the initial sync.
    pub fn connect(&self) -> Value {
        let link = self.log_in_as("u-1", true);
        self.core.deliver_callback(&link);
        self.wait_for("the connection", || self.login_stage() == "connected");
        self.wait_for("the initial sync", || self.finished_runs() == 1);
        let list = self.ok("connections_list", json!({}));
        assert_eq!(list.as_array().unwrap().len(), 1);
        list[0].clone()
    }
}

/// The browser's part of a login (log in, allow or deny), through the sandbox's pages: the deep
/// link the bounce page hands to the app.
async fn play_browser(authorize_url: &str, user: &str, allow: bool) -> String {
    let link = Browser::new()
        .deep_link_login(authorize_url, user, allow)
        .await
        .unwrap();
    assert!(link.starts_with("nz.co.hownow.admin://oauth/callback?"), "{link}");
    link
}
