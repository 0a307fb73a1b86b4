//! Playing the browser against the sandbox: follow the authorize URL, log in and consent as a
//! demo user (or let auto-consent do it), and land on the redirect URI.
#![allow(dead_code)]

use std::time::Duration;

use hownow_sandbox::browser::Browser;
use hownow_sandbox::identity::IdentityConfig;
use hownow_sandbox::{Sandbox, SandboxConfig, Switches};
use hownow_sync::engine::{CredentialStorage, Engine, EngineOptions, XeroSettings};
use hownow_sync::{NoProgress, RunKind, RunTrigger, SyncRequest};

pub const CLIENT_ID: &str = "hownow-test-app";
/// The login timeout of the tests' engines: longer than any of them takes.
pub const TEN_MINUTES: Duration = Duration::from_secs(600);

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
        // No spacing: the sandbox's budgets are off, and these tests are about the flows, not
        // Xero's pace (`sandbox_pace` tests the spacing).
        min_request_spacing_ms: Some(0),
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

/// [`log_in`] as the auto-consent user to the one practice it reaches, then the initial full sync.
pub async fn log_in_and_sync(engine: &Engine) -> hownow_sync::Connection {
    let connection = log_in(engine, None, None).await;
    engine
        .sync(
            connection.id,
            SyncRequest::new(RunKind::Full, RunTrigger::Initial),
            &NoProgress,
        )
        .await
        .unwrap();
    connection
}

/// The sandbox's test browser (one for every test that logs in through its pages).
pub fn browser() -> Browser {
    Browser::new()
}

/// Authorize (as `user` unless auto-consent picks the user) and return where Xero redirects.
pub async fn authorize(browser: &Browser, authorize_url: &str, user: Option<&str>) -> String {
    browser.authorize(authorize_url, user, true).await.unwrap()
}

/// Follows the loopback redirect as the browser would; returns the status and page.
pub async fn land(browser: &Browser, location: &str) -> (u16, String) {
    browser.land(location).await.unwrap()
}

/// The deep link the sandbox's bounce page forwards to (its "open HowNow Admin" link).
pub async fn deep_link_from_bounce(browser: &Browser, bounce_location: &str) -> String {
    browser.deep_link(bounce_location).await.unwrap()
}
