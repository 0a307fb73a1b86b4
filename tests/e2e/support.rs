//! The machinery of the end-to-end test: the sandbox's browser login played over HTTP, the
//! app's environment, tauri-driver, a WebDriver session, screenshots.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long any single step may take before the test fails.
pub const STEP: Duration = Duration::from_secs(30);

/// The repository root: where tauri.conf.json is (the app crate may sit in a subfolder).
pub fn repo_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("tauri.conf.json").exists() {
        assert!(
            dir.pop(),
            "tauri.conf.json not found above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_tauri_driver() -> PathBuf {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return path.into();
    }
    let in_path = std::env::var_os("PATH").map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("tauri-driver"))
            .find(|p| p.exists())
    });
    if let Some(Some(path)) = in_path {
        return path;
    }
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo/bin/tauri-driver");
    assert!(
        home.exists(),
        "tauri-driver is not installed: cargo install tauri-driver --version 2.1.0 --locked (cargo xtask test does)"
    );
    home
}

/// What the app runs with: its own data dir, a Xero that is the sandbox, a desktop whose
/// "browser" records what it was asked to open, and deep links registered in a throwaway place.
pub struct AppEnv {
    pub dir: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

impl AppEnv {
    pub fn new(issuer: &str, api_base: &str) -> AppEnv {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        // No Secret Service in the test's D-Bus session: keep tokens in the 0600 file store.
        std::fs::write(data.join("settings.json"), r#"{"credential_storage": "file"}"#).unwrap();

        let xdg_data = dir.path().join("xdg-data");
        let xdg_config = dir.path().join("xdg-config");
        std::fs::create_dir_all(xdg_data.join("applications")).unwrap();
        std::fs::create_dir_all(&xdg_config).unwrap();
        let browser = dir.path().join("browser.sh");
        std::fs::write(
            &browser,
            format!(
                "#!/bin/sh\necho \"$1\" >> '{}'\n",
                dir.path().join("opened.txt").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(
            xdg_data.join("applications/e2e-browser.desktop"),
            format!(
                "[Desktop Entry]\nType=Application\nName=E2E browser\nExec={} %u\n\
                 MimeType=x-scheme-handler/http;x-scheme-handler/https;\n",
                browser.display()
            ),
        )
        .unwrap();
        std::fs::write(
            xdg_config.join("mimeapps.list"),
            "[Default Applications]\nx-scheme-handler/http=e2e-browser.desktop\n\
             x-scheme-handler/https=e2e-browser.desktop\n",
        )
        .unwrap();

        let vars = [
            ("HOWNOW_DATA_DIR", data.display().to_string()),
            ("HOWNOW_XERO_CLIENT_ID", "hownow-admin-e2e".to_string()),
            ("HOWNOW_XERO_ISSUER", issuer.to_string()),
            ("HOWNOW_XERO_API_BASE", api_base.to_string()),
            ("XDG_DATA_HOME", xdg_data.display().to_string()),
            ("XDG_CONFIG_HOME", xdg_config.display().to_string()),
            ("HOWNOW_LOG", "info".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        AppEnv { dir, vars }
    }

    /// URLs the app asked the desktop to open in the browser.
    pub fn opened_urls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("opened.txt"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Delivers a deep link as the OS does: a second launch of the app with the URL, which the
    /// single-instance guard hands to the running app before exiting.
    pub fn launch_again_with(&self, binary: &Path, url: &str) {
        let mut child = Command::new(binary)
            .arg(url)
            .envs(self.vars.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "the second launch exited with {status}");
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the second launch did not hand the link over and exit (single instance over D-Bus)");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// tauri-driver on free loopback ports; stopped on drop.
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub fn start(env: &AppEnv) -> Driver {
        assert!(
            std::env::var_os("DISPLAY").is_some() && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
            "the end-to-end test needs a display and a D-Bus session: run it under \
             `dbus-run-session -- xvfb-run -a` (cargo xtask test does)"
        );
        let (port, native) = (free_port(), free_port());
        // Its own process group, so WebKitWebDriver and the app stop with it.
        let child = Command::new(find_tauri_driver())
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .envs(env.vars.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, port }
    }

    /// A WebDriver session: tauri-driver starts the app through WebKitWebDriver.
    pub async fn session(&self, binary: &Path) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            json!({ "application": binary, "args": [] }),
        );
        // tauri-driver listens at once but starts WebKitWebDriver behind it, which takes a moment
        // more on a busy machine: until then a new session is refused.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(client) => return client,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("e2e: no WebDriver session yet ({e}); trying again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("no WebDriver session with the app: {e}"),
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group's id is the driver's pid (`process_group(0)`): this signals exactly what this
        // test started — tauri-driver, WebKitWebDriver and the app — and nothing else.
        let group = i32::try_from(self.child.id()).expect("a pid");
        assert!(group > 1, "refusing to signal process group {group}");
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// The window, as the test drives it.
pub struct Window {
    pub client: Client,
    shots: PathBuf,
    count: u32,
}

impl Window {
    pub fn new(client: Client) -> Window {
        let shots = repo_root().join("artifacts/e2e");
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        Window {
            client,
            shots,
            count: 0,
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` in the window: {e}"))
    }

    pub async fn testid(&self, id: &str) -> Element {
        self.find(&format!("[data-testid='{id}']")).await
    }

    pub async fn click(&self, id: &str) {
        let deadline = Instant::now() + STEP;
        loop {
            let element = self.testid(id).await;
            // An element can be found before it is enabled, or be replaced as a page redraws.
            match element.click().await {
                Ok(_) => return,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("could not click `{id}`: {e}"),
            }
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Waits until `css` holds text for which `ok` is true; returns it.
    pub async fn wait_text(&self, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let found = self.text_or_empty(css).await;
            if ok(&found) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} (`{css}` shows {found:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the connection card's last sync is a finished run of `kind` (its label) that
    /// succeeded: a card drawn while the run was still going would show its partial counts.
    pub async fn wait_last_run(&self, kind: &str) {
        let deadline = Instant::now() + STEP;
        loop {
            let kind_shown = self.text_or_empty("[data-testid='last-sync-kind']").await;
            let outcome = self.text_or_empty("[data-testid='last-sync-outcome']").await;
            if kind_shown == kind && outcome == "Succeeded" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for a finished {kind:?} run (the card shows {kind_shown:?}, {outcome:?}; counts {:?})",
                self.text_or_empty("[data-testid='last-sync-counts']").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The value of the input at `css` once it equals `want`, or what it held after a short wait
    /// (keys are delivered one by one).
    pub async fn wait_text_value(&self, css: &str, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let value = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.prop("value").await.ok().flatten().unwrap_or_default(),
                Err(_) => String::new(),
            };
            if value == want || Instant::now() > deadline {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn text_or_empty(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn go(&self, route: &str) {
        self.client
            .execute(&format!("location.hash = '#{route}'"), vec![])
            .await
            .unwrap();
    }

    /// Saves a screenshot of the window as artifacts/e2e/NN-name.png.
    pub async fn shot(&mut self, name: &str) {
        self.count += 1;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.count)), png).unwrap();
    }
}

/// The browser's part of a login as `user` (log in, allow), through the sandbox's pages: the deep
/// link the bounce page hands to the app.
pub async fn play_browser(authorize_url: &str, user: &str) -> String {
    let browser = hownow_sandbox::browser::Browser::new();
    let bounce = browser.authorize(authorize_url, Some(user), true).await.unwrap();
    assert!(
        bounce.contains("/bounce?"),
        "Xero redirects to the bounce page: {bounce}"
    );
    let link = browser.deep_link(&bounce).await.unwrap();
    assert!(link.starts_with("nz.co.hownow.admin://oauth/callback?"), "{link}");
    link
}
