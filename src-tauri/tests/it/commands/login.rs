//! A fresh app and logging in: the wizard, a forged callback, a user without the privilege,
//! several practices and a denial, cancelling, and a browser that could not be opened.

use std::time::Duration;

use serde_json::json;

use crate::harness::Harness;

#[test]
fn a_fresh_app_offers_the_demo_practice() {
    let h = Harness::new();
    let info = h.ok("app_info", json!({}));
    assert_eq!(info["demo"], true);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    // The wizard's "Before getting started" in the engine's words, as the CLI says them.
    assert_eq!(
        info["privilege"]["requirement"],
        hownow_sync::connect::PRIVILEGE_REQUIREMENT
    );
    assert_eq!(info["privilege"]["steps"].as_array().unwrap().len(), 4);
    assert_eq!(h.ok("connections_list", json!({})), json!([]));
    assert_eq!(h.ok("login_state", json!({})), json!({"stage": "idle"}));
    let settings = h.ok("settings_get", json!({}));
    assert_eq!(settings["scheduleAvailable"], false);
    assert_eq!(settings["intervalHours"], 6);
    assert_eq!(settings["dailyFullEnabled"], true);
    assert_eq!(settings["xeroClientId"], "");
    // The demo's sandbox serves the bounce page, so the deep link is the default.
    assert_eq!(settings["loginMode"], "deeplink");
}

#[test]
fn the_wizard_connects_syncs_and_the_directory_answers() {
    let h = Harness::new();
    let connection = h.connect();
    let id = connection["id"].as_i64().unwrap();
    assert_eq!(connection["status"], "connected");
    assert_eq!(connection["demo"], true);
    assert_eq!(connection["tenantName"], "Harbour & Co Chartered Accountants");
    assert_eq!(connection["authorisedBy"]["name"], "Ava Partner");
    assert_eq!(connection["lastSync"]["kind"], "full");
    assert_eq!(connection["lastSync"]["trigger"], "initial");
    assert_eq!(connection["lastSync"]["outcome"], "ok");
    // The run inside is the engine's view, in snake case as the CLI's `--json` has it.
    assert!(connection["lastSync"]["ended_at"].is_string(), "{connection}");
    assert!(connection["lastSync"]["counts"]["api_calls"].as_u64().unwrap() >= 1);
    assert_eq!(connection["nextSync"]["kind"], "changes");
    assert!(
        !h.ui.progress.lock().unwrap().is_empty(),
        "the initial sync reported progress"
    );
    assert_eq!(h.ok("app_info", json!({}))["userName"], "Ava Partner");

    // Clients: every live client, searchable, with contacts.
    let clients = h.ok("clients_search", json!({"connectionId": id, "limit": 5000}));
    let total = clients["total"].as_u64().unwrap();
    assert_eq!(total, connection["clientCount"].as_u64().unwrap());
    assert!(total > 100, "{total}");
    let rows = clients["clients"].as_array().unwrap();
    assert_eq!(rows.len() as u64, total);
    let with_contacts = rows
        .iter()
        .find(|c| c["contactCount"].as_u64().unwrap() > 0)
        .unwrap();
    let name = with_contacts["name"].as_str().unwrap();
    let found = h.ok("clients_search", json!({"connectionId": id, "query": name}));
    assert!(found["clients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["uuid"] == with_contacts["uuid"]));
    let limited = h.ok("clients_search", json!({"connectionId": id, "limit": 3}));
    assert_eq!(
        (
            limited["total"].as_u64(),
            limited["clients"].as_array().unwrap().len()
        ),
        (Some(total), 3)
    );
    // Every row's count is what its contacts panel shows (XPM's deleted contacts in neither).
    for row in rows {
        let contacts = h.ok(
            "clients_contacts",
            json!({"connectionId": id, "clientUuid": row["uuid"]}),
        );
        let contacts = contacts.as_array().unwrap();
        assert_eq!(
            contacts.len() as u64,
            row["contactCount"].as_u64().unwrap(),
            "{row}"
        );
        assert!(
            contacts.iter().filter(|c| c["isPrimary"] == true).count() <= 1,
            "{row}"
        );
    }
    let contacts = h.ok(
        "clients_contacts",
        json!({"connectionId": id, "clientUuid": with_contacts["uuid"]}),
    );
    assert_eq!(
        contacts
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["isPrimary"] == true)
            .count(),
        1
    );

    // History and the full-sync estimate.
    let history = h.ok("history_list", json!({"connectionId": id}));
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert!(history[0]["counts"]["fetched"].as_u64().unwrap() >= total);
    let estimate = h.ok("sync_estimate_full", json!({"connectionId": id}));
    assert!(estimate["apiCalls"].as_u64().unwrap() >= 1);
    assert_eq!(estimate["dayLimit"], 5000);

    // CSV export: one HowNow record per client, only where asked, and only it may be revealed.
    let export = h.ok("clients_export_csv", json!({"connectionId": id}));
    assert_eq!(export["rows"].as_u64(), Some(total));
    let path = std::path::PathBuf::from(export["path"].as_str().unwrap());
    assert!(path.starts_with(h.dir.path().join("exports")), "{path:?}");
    let rows = csv::Reader::from_path(&path).unwrap().records().count() as u64;
    assert_eq!(rows, total);
    let refused = h.err("reveal_file", json!({"path": "/etc/passwd"}));
    assert_eq!(refused["kind"], "invalid");
}

#[test]
fn a_forged_callback_changes_nothing() {
    let h = Harness::new();
    let link = h.log_in_as("u-1", true);
    let forged = link.replace("state=", "state=forged");
    h.core.deliver_callback(&forged);
    h.core
        .deliver_callback("nz.co.hownow.admin://oauth/callback?code=abc&state=nope");
    h.core
        .deliver_callback("https://elsewhere.example/oauth/callback?code=abc");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(h.login_stage(), "waiting");
    assert_eq!(h.ok("connections_list", json!({})), json!([]));
    // The real answer still completes the login.
    h.core.deliver_callback(&link);
    h.wait_for("the connection", || h.login_stage() == "connected");
}

#[test]
fn a_user_without_the_privilege_gets_the_guidance() {
    let h = Harness::new();
    let link = h.log_in_as("u-3", true);
    h.core.deliver_callback(&link);
    h.wait_for("the answer", || h.login_stage() != "waiting");
    let state = h.ok("login_state", json!({}));
    assert_eq!(state["stage"], "no_tenant", "{state}");
    assert!(state["guidance"]
        .as_str()
        .unwrap()
        .contains("Authorise 3rd Party Full Access"));
    assert_eq!(h.ok("connections_list", json!({})), json!([]));
}

#[test]
fn several_practices_are_chosen_from_and_a_denial_is_reported() {
    let h = Harness::new();
    let link = h.log_in_as("u-2", true);
    h.core.deliver_callback(&link);
    h.wait_for("the tenant picker", || h.login_stage() != "waiting");
    let state = h.ok("login_state", json!({}));
    assert_eq!(state["stage"], "choose_tenant", "{state}");
    let tenants = state["tenants"].as_array().unwrap();
    assert_eq!(
        tenants.len(),
        2,
        "only Practice Manager tenants are offered: {state}"
    );
    let second = tenants[1].clone();
    let chosen = h.ok("login_choose_tenant", json!({"tenantId": second["id"]}));
    assert_eq!(chosen["stage"], "connected");
    assert_eq!(chosen["connection"]["tenantName"], second["name"]);

    let denied = h.log_in_as("u-1", false);
    h.core.deliver_callback(&denied);
    h.wait_for("the denial", || h.login_stage() != "waiting");
    let state = h.ok("login_state", json!({}));
    assert_eq!(state["stage"], "failed", "{state}");
    assert!(
        state["message"]
            .as_str()
            .unwrap()
            .contains("did not grant access"),
        "{state}"
    );
}

#[test]
fn a_login_can_be_cancelled_and_reopened_only_while_pending() {
    let h = Harness::new();
    let err = h.err("login_open_again", json!({}));
    assert_eq!(err["kind"], "login");
    let started = h.ok("login_start", json!({}));
    h.ok("login_open_again", json!({}));
    assert_eq!(h.ui.opened.lock().unwrap().len(), 2);
    assert_eq!(
        h.ui.opened.lock().unwrap()[1],
        started["authorizeUrl"].as_str().unwrap()
    );
    h.ok("login_cancel", json!({}));
    assert_eq!(h.login_stage(), "idle");
    assert_eq!(h.err("login_open_again", json!({}))["kind"], "login");
}

#[test]
fn the_login_page_says_when_the_browser_could_not_be_opened() {
    let h = Harness::new();
    let started = h.ok("login_start", json!({}));
    assert_eq!(started["stage"], "waiting");
    assert_eq!(started["browserOpened"], true);
    h.ok("login_cancel", json!({}));

    h.ui.no_browser.store(true, std::sync::atomic::Ordering::SeqCst);
    let started = h.ok("login_start", json!({}));
    assert_eq!(started["stage"], "waiting");
    assert_eq!(started["browserOpened"], false, "{started}");
    assert!(started["authorizeUrl"]
        .as_str()
        .unwrap()
        .contains("code_challenge"));
    assert_eq!(h.ok("login_state", json!({}))["browserOpened"], false);
}
