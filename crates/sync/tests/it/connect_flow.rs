//! The connect flow against the real sandbox over loopback HTTP: loopback and deep-link
//! redirects, forged callbacks, expiry, cancel, the user without the privilege, and choosing
//! among several practices.

use std::time::Duration;

use crate::connect_support::*;
use hownow_sandbox::tenants::{DEMO_PRACTICE, SECOND_PRACTICE};
use hownow_sync::connect::{CallbackRejected, ConnectError, RedirectKind, RedirectMode, PRIVILEGE_GUIDANCE};
use hownow_sync::engine::EngineError;
use hownow_sync::{ConnectionStatus, NoProgress, RunKind, RunTrigger, SyncRequest};

fn loopback() -> Option<RedirectMode> {
    Some(RedirectMode::Loopback { ports: vec![0] })
}

#[tokio::test]
async fn loopback_login_connects_and_the_initial_sync_matches_the_sandbox() {
    let sandbox = sandbox(true, 40).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);

    let started = engine.start_login(loopback()).await.unwrap();
    assert_eq!(started.mode, RedirectKind::Loopback);
    assert!(
        started.redirect_uri.starts_with("http://localhost:"),
        "{}",
        started.redirect_uri
    );
    assert!(started.authorize_url.contains("code_challenge_method=S256"));
    assert_eq!(engine.pending_login().unwrap(), started);

    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, None).await;
    assert!(location.starts_with(&started.redirect_uri), "{location}");
    let (status, page) = land(&browser, &location).await;
    assert_eq!(status, 200);
    assert!(page.contains("You can close this window"), "{page}");

    let login = engine.wait_for_login().await.unwrap();
    assert_eq!(login.user_name.as_deref(), Some("Ava Partner"));
    assert_eq!(login.tenants.len(), 1);
    assert_eq!(login.tenants[0].tenant_id, DEMO_PRACTICE.id);
    assert!(engine.pending_login().is_none());

    let connection = engine.finish_login(None).await.unwrap();
    assert_eq!(connection.tenant_name, DEMO_PRACTICE.name);
    assert_eq!(
        connection.authorised_by_email.as_deref(),
        Some("ava.partner@harbour.example")
    );
    assert_eq!(connection.status, ConnectionStatus::Connected);

    let report = engine
        .sync(
            connection.id,
            SyncRequest::new(RunKind::Full, RunTrigger::Initial),
            &NoProgress,
        )
        .await
        .unwrap();
    let expected = sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap().counts();
    assert_eq!(report.counts.fetched, expected.clients as u64);
    let clients = crate::common::live_clients(&engine, connection.id, None);
    assert_eq!(clients.len(), expected.clients - expected.deleted);
    assert_eq!(
        engine.history(connection.id, 10).unwrap()[0].trigger,
        RunTrigger::Initial
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn deep_link_login_through_the_bounce_page() {
    let sandbox = sandbox(true, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let bounce_url = format!("{}/bounce", sandbox.issuer());

    let started = engine
        .start_login(Some(RedirectMode::DeepLink {
            bounce_url: bounce_url.clone(),
        }))
        .await
        .unwrap();
    assert_eq!(started.mode, RedirectKind::Deeplink);
    assert_eq!(started.redirect_uri, bounce_url);

    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, None).await;
    assert!(location.starts_with(&bounce_url), "{location}");
    let link = deep_link_from_bounce(&browser, &location).await;
    assert!(link.starts_with("nz.co.hownow.admin://oauth/callback?"), "{link}");

    // A forged link (wrong state) and a foreign scheme are refused; the login goes on.
    let forged = link.replace("state=", "state=forged");
    assert_eq!(
        engine.deliver_callback(&forged),
        Err(CallbackRejected::StateMismatch)
    );
    assert!(matches!(
        engine.deliver_callback("https://evil.example/oauth/callback?code=x&state=y"),
        Err(CallbackRejected::Malformed(_))
    ));
    engine.deliver_callback(&link).unwrap();
    // The same link again is a replay.
    assert_eq!(
        engine.deliver_callback(&link),
        Err(CallbackRejected::AlreadyAnswered)
    );

    let login = engine.wait_for_login().await.unwrap();
    assert_eq!(login.tenants.len(), 1);
    let connection = engine.finish_login(None).await.unwrap();
    assert_eq!(connection.tenant_id, DEMO_PRACTICE.id);
    // After the login, a late link finds nothing pending.
    assert_eq!(
        engine.deliver_callback(&link),
        Err(CallbackRejected::NothingPending)
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_forged_loopback_callback_is_ignored_and_the_real_one_still_works() {
    let sandbox = sandbox(true, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let started = engine.start_login(loopback()).await.unwrap();
    let browser = browser();

    let forged = format!("{}?code=stolen&state=guessed", started.redirect_uri);
    let (status, page) = land(&browser, &forged).await;
    assert_eq!(status, 400);
    assert!(page.contains("ignored"), "{page}");
    let no_state = format!("{}?code=stolen", started.redirect_uri);
    assert_eq!(land(&browser, &no_state).await.0, 400);
    assert!(engine.pending_login().is_some());

    let location = authorize(&browser, &started.authorize_url, None).await;
    assert_eq!(land(&browser, &location).await.0, 200);
    let login = engine.wait_for_login().await.unwrap();
    assert_eq!(login.tenants[0].tenant_id, DEMO_PRACTICE.id);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_pending_login_expires() {
    let sandbox = sandbox(true, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, Duration::from_millis(300));
    let started = engine.start_login(loopback()).await.unwrap();
    let err = engine.wait_for_login().await.unwrap_err();
    assert!(
        matches!(err, EngineError::Connect(ConnectError::Expired(_))),
        "{err}"
    );
    assert!(engine.pending_login().is_none());
    // The browser coming back late finds nobody listening, or a refusal: never a connection.
    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, None).await;
    let late = browser.land(&location).await;
    assert!(
        late.as_ref().map_or(true, |(status, _)| *status == 400),
        "{late:?}"
    );
    assert!(engine.connections().unwrap().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_pending_login_can_be_cancelled_or_replaced() {
    let sandbox = sandbox(true, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = std::sync::Arc::new(engine(dir.path(), &sandbox, TEN_MINUTES));
    engine.start_login(loopback()).await.unwrap();
    let waiter = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.wait_for_login().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    engine.cancel_login();
    let err = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Connect(ConnectError::Cancelled)),
        "{err}"
    );

    // Starting again replaces the first login: its link is stale, the second one works.
    let first = engine.start_login(loopback()).await.unwrap();
    let second = engine.start_login(loopback()).await.unwrap();
    assert_ne!(first.authorize_url, second.authorize_url);
    let browser = browser();
    let stale = authorize(&browser, &first.authorize_url, None).await;
    let stale = browser.land(&stale).await;
    assert!(
        stale.as_ref().map_or(true, |(status, _)| *status == 400),
        "{stale:?}"
    );
    let location = authorize(&browser, &second.authorize_url, None).await;
    assert_eq!(land(&browser, &location).await.0, 200);
    engine.wait_for_login().await.unwrap();
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_user_without_the_privilege_gets_the_guidance() {
    let sandbox = sandbox(false, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let started = engine.start_login(loopback()).await.unwrap();
    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, Some("u-3")).await;
    assert_eq!(land(&browser, &location).await.0, 200);
    let err = engine.wait_for_login().await.unwrap_err();
    assert!(
        matches!(
            &err,
            EngineError::Connect(ConnectError::NoPracticeManagerTenant { user: Some(u) }) if u == "cleo.junior@harbour.example"
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), PRIVILEGE_GUIDANCE);
    assert!(err.to_string().contains("Authorise 3rd Party Full Access"));
    assert!(engine.connections().unwrap().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn several_practices_ask_for_a_choice() {
    let sandbox = sandbox(false, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let started = engine.start_login(loopback()).await.unwrap();
    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, Some("u-2")).await;
    assert_eq!(land(&browser, &location).await.0, 200);
    let login = engine.wait_for_login().await.unwrap();
    let names: Vec<&str> = login.tenants.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, [DEMO_PRACTICE.name, SECOND_PRACTICE.name]);

    let err = engine.finish_login(None).await.unwrap_err();
    assert!(err.is_usage(), "{err}");
    assert!(err.to_string().contains(SECOND_PRACTICE.name), "{err}");
    let err = engine.finish_login(Some("Nobody & Co")).await.unwrap_err();
    assert!(
        matches!(err, EngineError::Connect(ConnectError::UnknownTenant { .. })),
        "{err}"
    );

    // The login waited for the choice.
    let connection = engine.finish_login(Some("kōwhai tax partners")).await.unwrap();
    assert_eq!(connection.tenant_id, SECOND_PRACTICE.id);
    let report = engine
        .sync(
            connection.id,
            SyncRequest::new(RunKind::Full, RunTrigger::Initial),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(report.counts.fetched, 20);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_first_free_port_of_the_list_is_used() {
    let sandbox = sandbox(true, 3).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let started = engine
        .start_login(Some(RedirectMode::Loopback {
            ports: vec![busy_port, 0],
        }))
        .await
        .unwrap();
    assert!(
        !started.redirect_uri.contains(&format!(":{busy_port}/")),
        "{}",
        started.redirect_uri
    );
    let err = engine
        .start_login(Some(RedirectMode::Loopback {
            ports: vec![busy_port],
        }))
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Connect(ConnectError::NoFreePort { .. })),
        "{err}"
    );
    assert!(err.to_string().contains(&busy_port.to_string()));
    sandbox.shutdown().await;
}

/// Logs in as `user` and connects `practice` (by name).
async fn connect_as(engine: &hownow_sync::Engine, user: &str, practice: &str) -> hownow_sync::Connection {
    log_in(engine, Some(user), Some(practice)).await
}

#[tokio::test]
async fn disconnecting_one_of_two_practices_of_one_login_leaves_the_other_connected() {
    let sandbox = sandbox(false, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    // One Xero user reaches both practices and connects each in turn.
    let first = connect_as(&engine, "u-2", DEMO_PRACTICE.name).await;
    let second = connect_as(&engine, "u-2", SECOND_PRACTICE.name).await;
    assert!(first.xero_user_id.is_some(), "the authorising user is recorded");
    assert_eq!(first.xero_user_id, second.xero_user_id);
    let full = || SyncRequest::new(RunKind::Full, RunTrigger::Initial);
    engine.sync(first.id, full(), &NoProgress).await.unwrap();
    engine.sync(second.id, full(), &NoProgress).await.unwrap();

    // Disconnecting the second removes its Xero connection but keeps the sign-in: at Xero,
    // revoking it would remove the first practice's connection too.
    let report = engine.disconnect(second.id, false).await.unwrap();
    assert!(report.xero_connection_removed, "{report:?}");
    assert!(!report.token_revoked, "{report:?}");
    assert!(
        report.warnings.iter().any(|w| w.contains(DEMO_PRACTICE.name)),
        "{report:?}"
    );
    let changes = SyncRequest::new(RunKind::Changes, RunTrigger::Manual);
    engine
        .sync(first.id, changes, &NoProgress)
        .await
        .expect("the first practice is still connected at Xero");

    // The last practice of that login goes with its sign-in.
    let report = engine.disconnect(first.id, false).await.unwrap();
    assert!(
        report.xero_connection_removed && report.token_revoked,
        "{report:?}"
    );
    assert!(engine.connections().unwrap().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn reconnecting_a_practice_records_the_new_connection_and_who_authorised_it() {
    let sandbox = sandbox(false, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let before = connect_as(&engine, "u-1", DEMO_PRACTICE.name).await;
    let after = connect_as(&engine, "u-2", DEMO_PRACTICE.name).await;
    assert_eq!(after.id, before.id, "the same practice, the same directory");
    assert_ne!(
        after.xero_connection_id, before.xero_connection_id,
        "Xero's new connection"
    );
    assert_ne!(after.authorised_by_email, before.authorised_by_email);
    assert_ne!(after.xero_user_id, before.xero_user_id);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn each_connection_keeps_to_the_xero_that_issued_its_tokens() {
    // Two Xero stand-ins (issuers) and one data dir, as when a second practice is connected
    // through another issuer: the settings now name the second.
    let first_xero = sandbox(false, 10).await;
    let second_xero = sandbox(false, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &first_xero, TEN_MINUTES);
    let first = connect_as(&engine, "u-1", DEMO_PRACTICE.name).await;
    let pinned = first.xero.clone().expect("the Xero it was made with is recorded");
    assert_eq!(pinned.issuer, first_xero.issuer());
    assert_eq!(pinned.api_base, first_xero.api_base());

    let mut xero = engine.settings().xero;
    xero.issuer = second_xero.issuer().to_string();
    xero.api_base = second_xero.api_base().to_string();
    engine.set_xero_settings(xero);
    let second = connect_as(&engine, "u-2", SECOND_PRACTICE.name).await;
    assert_eq!(second.xero.unwrap().issuer, second_xero.issuer());

    // The first practice's refresh, sync and disconnect go to the first issuer only.
    let (first_before, second_before) = (
        first_xero.identity().refresh_grants(),
        second_xero.identity().refresh_grants(),
    );
    engine.refresh_token(first.id).await.unwrap();
    engine
        .sync(
            first.id,
            SyncRequest::new(RunKind::Full, RunTrigger::Initial),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(first_xero.identity().refresh_grants(), first_before + 1);
    assert_eq!(
        second_xero.identity().refresh_grants(),
        second_before,
        "the other issuer never saw this practice's refresh token"
    );
    engine
        .sync(
            second.id,
            SyncRequest::new(RunKind::Full, RunTrigger::Initial),
            &NoProgress,
        )
        .await
        .unwrap();
    let report = engine.disconnect(first.id, false).await.unwrap();
    assert!(
        report.xero_connection_removed && report.token_revoked,
        "{report:?}"
    );
    // The second practice, at the other issuer, is untouched.
    engine
        .sync(
            second.id,
            SyncRequest::new(RunKind::Changes, RunTrigger::Manual),
            &NoProgress,
        )
        .await
        .unwrap();
    first_xero.shutdown().await;
    second_xero.shutdown().await;
}

#[tokio::test]
async fn a_login_does_not_save_this_commands_overrides() {
    let sandbox = sandbox(true, 5).await;
    let dir = tempfile::tempdir().unwrap();
    // `engine` points this engine at the sandbox, as --issuer/--api-base would.
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let started = engine.start_login(loopback()).await.unwrap();
    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, None).await;
    assert_eq!(land(&browser, &location).await.0, 200);
    engine.wait_for_login().await.unwrap();
    let connection = engine.finish_login(None).await.unwrap();
    let saved = hownow_sync::engine::EngineSettings::load(dir.path()).unwrap();
    assert_ne!(saved.xero.issuer, sandbox.issuer(), "not saved without asking");
    assert_eq!(
        connection.xero.unwrap().issuer,
        sandbox.issuer(),
        "the connection keeps its own Xero anyway"
    );
    // Saving on purpose (`hownow connect --save`, the window's Settings) does keep them.
    engine.save_settings().unwrap();
    let saved = hownow_sync::engine::EngineSettings::load(dir.path()).unwrap();
    assert_eq!(saved.xero.issuer, sandbox.issuer());
    sandbox.shutdown().await;
}

async fn sandbox_with(identity: hownow_sandbox::identity::IdentityConfig) -> hownow_sandbox::Sandbox {
    hownow_sandbox::Sandbox::start(hownow_sandbox::SandboxConfig {
        clients: 3,
        identity,
        switches: hownow_sandbox::Switches::unlimited(),
        ..hownow_sandbox::SandboxConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn an_id_token_the_issuer_did_not_sign_refuses_the_login() {
    let sandbox = sandbox_with(hownow_sandbox::identity::IdentityConfig {
        id_token_unpublished_key: true,
        auto_consent: true,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let started = engine.start_login(loopback()).await.unwrap();
    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, None).await;
    assert_eq!(land(&browser, &location).await.0, 200);
    let err = engine.wait_for_login().await.unwrap_err();
    assert!(
        matches!(&err, EngineError::Connect(ConnectError::IdTokenRefused(_))),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Xero's sign-in answer could not be trusted: its signature does not match the issuer's key; nothing was connected"
    );
    assert!(engine.connections().unwrap().is_empty());
    assert!(matches!(
        engine.finish_login(None).await,
        Err(EngineError::Connect(ConnectError::NotAuthorized))
    ));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn an_id_token_without_a_profile_is_completed_from_userinfo() {
    let sandbox = sandbox_with(hownow_sandbox::identity::IdentityConfig {
        id_token_profile: false,
        auto_consent: true,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let connection = log_in(&engine, None, None).await;
    assert_eq!(connection.authorised_by_name.as_deref(), Some("Ava Partner"));
    assert_eq!(
        connection.authorised_by_email.as_deref(),
        Some("ava.partner@harbour.example")
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn nameless_practices_are_named_after_their_id_and_can_be_renamed() {
    let sandbox = sandbox_with(hownow_sandbox::identity::IdentityConfig {
        nameless_practices: true,
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let short = |id: &str| format!("Xero Practice Manager ({})", &id[..8]);
    let started = engine.start_login(loopback()).await.unwrap();
    let browser = browser();
    let location = authorize(&browser, &started.authorize_url, Some("u-2")).await;
    assert_eq!(land(&browser, &location).await.0, 200);
    let login = engine.wait_for_login().await.unwrap();
    let names: Vec<String> = login.tenants.iter().map(|t| t.name.clone()).collect();
    assert_eq!(names, [short(DEMO_PRACTICE.id), short(SECOND_PRACTICE.id)]);
    // The picker's name, and a unique start of the id, both choose.
    let second = engine.finish_login(Some(&SECOND_PRACTICE.id[..6])).await.unwrap();
    assert_eq!(second.tenant_name, short(SECOND_PRACTICE.id));
    let first = connect_as(&engine, "u-2", &short(DEMO_PRACTICE.id)).await;

    let renamed = engine
        .rename_connection(first.id, Some("  Harbour & Co  "))
        .unwrap();
    assert_eq!(renamed.tenant_name, "Harbour & Co");
    assert_eq!(renamed.renamed_from, Some(short(DEMO_PRACTICE.id)));
    assert_eq!(engine.connection(Some("harbour & co")).unwrap().id, first.id);
    assert_eq!(
        engine.connection(Some(&SECOND_PRACTICE.id[..5])).unwrap().id,
        second.id
    );
    let taken = engine
        .rename_connection(second.id, Some("HARBOUR & CO"))
        .unwrap_err();
    assert!(
        taken.is_usage() && taken.to_string().contains("already called"),
        "{taken}"
    );
    assert!(engine
        .rename_connection(second.id, Some("a\nb"))
        .unwrap_err()
        .is_usage());
    assert!(engine
        .rename_connection(second.id, Some(&"x".repeat(101)))
        .is_err());

    // A reconnect rewrites Xero's side of the row; the local name stays.
    let again = connect_as(&engine, "u-2", &short(DEMO_PRACTICE.id)).await;
    assert_eq!(again.id, first.id);
    assert_eq!(
        engine
            .connection(Some(&first.id.to_string()))
            .unwrap()
            .tenant_name,
        "Harbour & Co"
    );
    let reset = engine.rename_connection(first.id, None).unwrap();
    assert_eq!(reset.tenant_name, short(DEMO_PRACTICE.id));
    assert_eq!(reset.renamed_from, None);
    sandbox.shutdown().await;
}
