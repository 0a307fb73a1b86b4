//! End to end, in the real window: the built app under Xvfb and a D-Bus session, driven through
//! tauri-driver and WebKitWebDriver, against a sandbox on loopback standing in for Xero. The test
//! plays the administrator (the window), the browser (the sandbox's login and consent pages) and
//! the OS (it delivers the deep link by launching the app a second time). Screenshots of each
//! step go to artifacts/e2e/.
//!
//! Run by `cargo xtask test` (which provides the display, the D-Bus session and tauri-driver).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::{Sandbox, SandboxConfig};
use support::{play_browser, AppEnv, Driver, Window};

const APP: &str = env!("CARGO_BIN_EXE_hownow-admin");
const NAME_EDIT: &str = "E2E Renamed & <Sons> 🎉 Ltd";

/// Clients of the demo practice the directory should hold: all but the deleted.
fn live_clients(sandbox: &Sandbox) -> usize {
    let counts = sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap().counts();
    counts.clients - counts.deleted
}

fn digits(text: &str) -> usize {
    text.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(usize::MAX)
}

/// From the Connections page through the wizard to the browser: returns the login link shown.
async fn start_wizard(w: &mut Window, env: &AppEnv, shots: bool) -> String {
    w.go("/admin/connections").await;
    w.click("create-connection").await;
    w.click("provider-xpm").await;
    w.testid("install-now").await;
    if shots {
        w.shot("before-getting-started").await;
    }
    w.click("install-now").await;
    w.testid("install-confirm").await;
    if shots {
        w.shot("install-confirm-yes-no").await;
    }
    w.click("install-confirm-confirm").await;
    let link = w.testid("login-link").await.prop("value").await.unwrap().unwrap();
    assert!(link.contains("/identity/connect/authorize?"), "{link}");
    if shots {
        w.shot("log-in-to-xero-in-your-browser").await;
    }
    // The app opened the system browser on the same link.
    let deadline = Instant::now() + support::STEP;
    while !env.opened_urls().contains(&link) {
        assert!(
            Instant::now() < deadline,
            "the browser was not opened: {:?}",
            env.opened_urls()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    link
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_connects_syncs_and_refreshes_in_the_real_window() {
    let sandbox = Sandbox::start(SandboxConfig {
        clients: 300,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let env = AppEnv::new(sandbox.issuer(), sandbox.api_base());
    let binary = Path::new(APP);
    a_minimized_launch_stays_in_the_tray_until_launched_again(binary, &sandbox);
    let driver = Driver::start(&env);

    let launched = Instant::now();
    let client = driver.session(binary).await;
    let mut w = Window::new(client);
    w.find("main h1").await;
    eprintln!("e2e: window with its first page after {:?}", launched.elapsed());
    w.shot("home").await;
    // The page listens for the deep-link event, as a script in it could: the login's URL (its
    // code and state) must never reach it.
    w.client
        .execute(
            "window.__deepLinkEvents = []; \
             window.__TAURI__.event.listen('deep-link://new-url', (e) => window.__deepLinkEvents.push(e.payload));",
            vec![],
        )
        .await
        .unwrap();

    // Welcome back menu → Administration → Connections.
    w.click("welcome-menu").await;
    w.click("menu-administration").await;
    w.testid("admin-connections").await;
    w.shot("administration").await;
    w.click("admin-connections").await;
    w.testid("create-connection").await;
    w.shot("connections-empty").await;

    // Create new connection → Xero Practice Manager → Install Now → Yes → browser.
    let link = start_wizard(&mut w, &env, true).await;
    // Ben sees two practices: the tenant picker appears.
    let callback = play_browser(&link, "u-2").await;
    env.launch_again_with(binary, &callback);
    w.testid("choose-tenant").await;
    let options = w
        .client
        .find_all(fantoccini::Locator::Css("[data-testid='tenant-option']"))
        .await
        .unwrap();
    assert_eq!(
        options.len(),
        2,
        "both practices are offered, the organisation is not"
    );
    w.shot("tenant-picker").await;
    w.click("choose-tenant").await; // the first, Harbour & Co
    w.testid("connected-tenant").await;
    w.shot("connected-initial-sync").await;
    let count = w
        .wait_text("[data-testid='synced-client-count']", "the initial sync", |t| {
            !t.is_empty()
        })
        .await;
    assert_eq!(
        digits(&count),
        live_clients(&sandbox),
        "the client count shown equals the sandbox's"
    );
    w.shot("initial-sync-complete").await;

    // The connection card.
    w.click("go-connections").await;
    let card_count = w.text("[data-testid='client-count']").await;
    assert_eq!(digits(&card_count), live_clients(&sandbox));
    assert_eq!(w.text("[data-testid='tenant-name']").await, DEMO_PRACTICE.name);
    w.shot("connection-card").await;

    // The card renames the practice locally; Xero's name stays beside it.
    w.click("rename").await;
    let input = w.testid("rename-input").await;
    input.clear().await.unwrap();
    input.send_keys("Harbour (our name)").await.unwrap();
    w.click("rename-save").await;
    w.wait_text("[data-testid='tenant-name']", "the new name", |t| {
        t == "Harbour (our name)"
    })
    .await;
    let xero_name = w.text("[data-testid='renamed-from']").await;
    assert!(xero_name.contains(DEMO_PRACTICE.name), "{xero_name}");

    // A real practice is connected: the app now starts at login, minimized into the tray.
    // Settings turns that off and on again, and the OS's entry follows.
    let entry = env.dir.path().join("xdg-config/autostart/hownow-admin.desktop");
    wait_for_file(&entry, true).await;
    let written = std::fs::read_to_string(&entry).unwrap();
    assert!(
        written
            .lines()
            .any(|l| l.starts_with("Exec=") && l.ends_with(" --minimized")),
        "{written}"
    );
    w.go("/admin/settings").await;
    let toggle = w.testid("start-at-login").await;
    assert_eq!(toggle.prop("checked").await.unwrap().as_deref(), Some("true"));
    toggle.click().await.unwrap();
    w.click("save-settings").await;
    w.wait_text("[data-testid='settings-status']", "the save", |t| t == "Saved.")
        .await;
    wait_for_file(&entry, false).await;
    w.testid("start-at-login").await.click().await.unwrap();
    w.click("save-settings").await;
    wait_for_file(&entry, true).await;
    w.go("/admin/connections").await;

    // Staff edit a client in XPM; "Changes since last sync" from the Refresh menu brings it.
    let uuid = {
        let snapshot = sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
        let client = snapshot
            .clients()
            .iter()
            .find(|c| !c.details.is_deleted() && !c.details.is_archived())
            .unwrap()
            .clone();
        client.uuid.clone()
    };
    sandbox
        .practice()
        .edit_client(&uuid, |d| d.values.name = Some(NAME_EDIT.to_string()))
        .unwrap();
    w.click("refresh-menu").await;
    w.testid("refresh-changes").await;
    w.shot("refresh-menu").await;
    w.click("refresh-changes").await;
    w.wait_last_run("Changes since last sync").await;
    let counts = w.text("[data-testid='last-sync-counts']").await;
    assert!(
        counts.contains("1 updated"),
        "the edit came with the changes: {counts}"
    );
    w.shot("after-changes-since-last-sync").await;
    w.go("/admin/clients").await;
    let search = w.testid("client-search").await;
    search.send_keys("E2E Renamed").await.unwrap();
    // Typed while the page was still loading its first list: every key must land in the box.
    let typed = w
        .wait_text_value("[data-testid='client-search']", "E2E Renamed")
        .await;
    assert_eq!(typed, "E2E Renamed", "the search box kept the focus");
    let shown = w
        .wait_text("[data-testid='client-name']", "the edited client", |t| {
            t.starts_with("E2E")
        })
        .await;
    assert_eq!(shown, NAME_EDIT, "the name is shown as written, not as markup");
    w.click("client-name").await;
    w.testid("contacts-panel").await;
    w.shot("clients-edit-visible").await;

    // Re-sync ALL client data: the estimate first, then the run.
    w.go("/admin/connections").await;
    w.click("refresh-menu").await;
    w.click("refresh-full").await;
    let estimate = w.text("[data-testid='full-sync-estimate']").await;
    assert!(estimate.contains("API calls"), "{estimate}");
    w.shot("resync-all-estimate").await;
    w.click("full-sync-dialog-confirm").await;
    w.wait_last_run("Full sync").await;
    w.go("/admin/history").await;
    w.testid("history-chart").await;
    let rows = w
        .client
        .find_all(fantoccini::Locator::Css("[data-testid='history-row']"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "initial full, changes, full");
    assert!(rows[0].text().await.unwrap().contains("Full sync"));
    w.shot("sync-history").await;
    // The last full sync changed a client: its Client Code report, read from the engine when opened.
    w.find("[data-testid='client-codes'] summary")
        .await
        .click()
        .await
        .unwrap();
    let codes = w
        .wait_text(
            "[data-testid='client-codes'] p",
            "the run's Client Code report",
            |t| t.contains("in the directory"),
        )
        .await;
    assert!(!codes.contains("Loading"), "{codes}");
    w.shot("history-client-codes").await;

    // A user without the privilege gets the guidance, and nothing is connected.
    let link = start_wizard(&mut w, &env, false).await;
    let callback = play_browser(&link, "u-3").await;
    env.launch_again_with(binary, &callback);
    let guidance = w.text("[data-testid='no-tenant']").await;
    assert!(guidance.contains("Authorise 3rd Party Full Access"), "{guidance}");
    w.shot("no-privilege-guidance").await;

    // A forged callback (a link with another state) changes nothing: the login still waits.
    w.click("try-again").await;
    let link = w.testid("login-link").await.prop("value").await.unwrap().unwrap();
    let genuine = play_browser(&link, "u-1").await;
    let forged = genuine.replace("state=", "state=forged");
    env.launch_again_with(binary, &forged);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        w.exists("[data-testid='login-waiting']").await,
        "the wizard still waits for the real answer"
    );
    w.shot("forged-callback-ignored").await;
    w.click("cancel-login").await;
    w.testid("connection-card").await;
    let cards = w
        .client
        .find_all(fantoccini::Locator::Css("[data-testid='connection-card']"))
        .await
        .unwrap();
    assert_eq!(cards.len(), 1, "still one connection");
    let seen = w
        .client
        .execute("return window.__deepLinkEvents;", vec![])
        .await
        .unwrap();
    assert_eq!(
        seen,
        serde_json::json!([]),
        "the page received no deep-link URL (four were delivered)"
    );

    w.client.close().await.unwrap();
    drop(driver);
    sandbox.shutdown().await;
}

/// Waits (up to 10 s) until `path` exists, or no longer does.
async fn wait_for_file(path: &std::path::Path, exists: bool) {
    for _ in 0..100 {
        if path.exists() == exists {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{} still {}",
        path.display(),
        if exists { "missing" } else { "present" }
    );
}

/// What the autostart entry starts: `--minimized` shows no window (the app runs in the tray),
/// and launching the app again brings the window forward. Checked on the app's own log, before
/// the WebDriver session, since one instance runs at a time.
fn a_minimized_launch_stays_in_the_tray_until_launched_again(binary: &Path, sandbox: &Sandbox) {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    let env = AppEnv::new(sandbox.issuer(), sandbox.api_base());
    let mut app = std::process::Command::new(binary)
        .arg("--minimized")
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let pid = app.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = app.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    let mut wait_for = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !log.iter().any(|l: &String| l.contains(what)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => log.push(line),
                Err(_) => {
                    unsafe { libc::kill(-pid, libc::SIGKILL) };
                    panic!("no \"{what}\" in the app's log within 30 s: {log:#?}");
                }
            }
        }
        log.clone()
    };
    let started = wait_for("started");
    assert!(
        started
            .iter()
            .any(|l| l.contains("started") && l.contains("minimized=true")),
        "{started:#?}"
    );
    assert!(
        !started.iter().any(|l| l.contains("window shown")),
        "a minimized launch shows no window: {started:#?}"
    );
    let mut again = std::process::Command::new(binary)
        .envs(env.vars.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("a second launch brought the window forward");
    let status = again.wait().unwrap();
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    let _ = app.wait();
    assert!(
        status.success(),
        "the second launch handed over and exited: {status}"
    );
}
