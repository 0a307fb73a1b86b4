//! Playing the browser against the sandbox: follow the authorize URL, log in and consent as a
//! demo user (or let auto-consent do it), and land on the redirect URI.
#![allow(dead_code)]

use std::time::Duration;

use hownow_sandbox::identity::IdentityConfig;
use hownow_sandbox::{Sandbox, SandboxConfig, Switches};
use hownow_sync::engine::{CredentialStorage, Engine, EngineOptions, XeroSettings};

pub const CLIENT_ID: &str = "hownow-test-app";

pub async fn sandbox(auto_consent: bool, clients: usize) -> Sandbox {
    Sandbox::start(SandboxConfig {
        clients,
        identity: IdentityConfig {
            auto_consent,
            ..IdentityConfig::default()
        },
        switches: Switches::unlimited(),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

/// An engine on a temp data dir, tokens in memory, pointed at `sandbox`.
pub fn engine(dir: &std::path::Path, sandbox: &Sandbox, login_timeout: Duration) -> Engine {
    let engine = Engine::open(EngineOptions {
        data_dir: dir.to_path_buf(),
        storage: Some(CredentialStorage::Memory),
        login_timeout,
        use_env: false,
        ..EngineOptions::new(dir)
    })
    .expect("engine opens");
    engine.set_xero_settings(XeroSettings {
        issuer: sandbox.issuer().to_string(),
        api_base: sandbox.api_base().to_string(),
        client_id: Some(CLIENT_ID.into()),
        loopback_ports: vec![0],
        ..XeroSettings::default()
    });
    engine
}

/// Logs in through the loopback redirect (as `user`, or the auto-consent user when `None`) and
/// connects `practice` (by name; `None` when the login reaches one): the saved connection.
pub async fn log_in(engine: &Engine, user: Option<&str>, practice: Option<&str>) -> hownow_sync::Connection {
    let started = engine
        .start_login(Some(hownow_sync::RedirectMode::Loopback { ports: vec![0] }))
        .await
        .unwrap();
    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, user).await;
    assert_eq!(land(&browser, &location).await.0, 200);
    engine.wait_for_login().await.unwrap();
    engine.finish_login(practice).await.unwrap()
}

/// A browser that does not follow redirects by itself, so each hop can be checked.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Authorize (as `user` unless auto-consent picks the user) and return where Xero redirects.
pub async fn authorize(browser: &reqwest::Client, authorize_url: &str, user: Option<&str>) -> String {
    let answer = browser.get(authorize_url).send().await.unwrap();
    let answer = if answer.status().is_redirection() {
        answer
    } else {
        let page = answer.text().await.unwrap();
        let login = hidden_input(&page, "login");
        let user = user.expect("the sandbox shows its login page: say which user logs in");
        let base = url::Url::parse(authorize_url).unwrap();
        let at = |path: &str| base.join(path).unwrap();
        let consent = browser
            .post(at("/identity/connect/authorize/login"))
            .form(&[("login", login.as_str()), ("user", user)])
            .send()
            .await
            .unwrap();
        assert!(consent.status().is_success(), "login: {}", consent.status());
        browser
            .post(at("/identity/connect/authorize/consent"))
            .form(&[("login", login.as_str()), ("user", user), ("decision", "allow")])
            .send()
            .await
            .unwrap()
    };
    assert!(
        answer.status().is_redirection(),
        "authorize answered {}",
        answer.status()
    );
    answer
        .headers()
        .get(reqwest::header::LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

/// Follows the loopback redirect as the browser would; returns the status and page.
pub async fn land(browser: &reqwest::Client, location: &str) -> (u16, String) {
    let page = browser.get(location).send().await.unwrap();
    (page.status().as_u16(), page.text().await.unwrap())
}

/// The deep link the sandbox's bounce page forwards to (its "open HowNow Admin" link).
pub async fn deep_link_from_bounce(browser: &reqwest::Client, bounce_location: &str) -> String {
    let page = browser
        .get(bounce_location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page
        .find("id=\"continue\" href=\"")
        .expect("the bounce page links the app")
        + 20;
    let end = page[start..].find('"').unwrap();
    page[start..start + end].replace("&amp;", "&")
}

pub fn hidden_input(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html.find(&needle).expect("hidden input") + needle.len();
    let end = html[start..].find('"').unwrap();
    html[start..start + end].to_string()
}
