//! The window's commands over Tauri's mock runtime (no display): their contracts and errors,
//! against the in-process Demo practice, with the test playing the browser and the OS (it hands
//! the deep link to the app as the deep-link handler does).
//!
//! The engine's clock is injected: every harness starts at 10:00 UTC tomorrow (never the wall
//! clock's hour), and `next_sync_is_right_at_every_hour_of_the_day` walks a whole day.

use std::time::Duration;

use hownow_sync::{RunKind, RunOutcome, RunTrigger};
use serde_json::{json, Value};

use crate::harness::{tomorrow_at, Harness};

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
fn refresh_runs_once_at_a_time_and_unknown_connections_are_refused() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    // XPM taking its time keeps the first run going while the second request arrives.
    h.practice().update_switches(|s| s.latency_ms = 1_000).unwrap();
    h.ok("sync_start", json!({"connectionId": id, "kind": "changes"}));
    let busy = h.err("sync_start", json!({"connectionId": id, "kind": "full"}));
    h.practice().update_switches(|s| s.latency_ms = 0).unwrap();
    assert_eq!(busy["kind"], "busy", "{busy}");
    h.wait_for("the changes sync", || h.finished_runs() == 2);
    let last = h.ui.finished.lock().unwrap().last().unwrap().clone();
    let run = last.run.unwrap();
    assert_eq!(
        (run.kind, run.trigger, run.outcome),
        (RunKind::Changes, RunTrigger::Manual, RunOutcome::Ok)
    );

    h.ok("sync_start", json!({"connectionId": id, "kind": "full"}));
    h.wait_for("the full sync", || h.finished_runs() == 3);
    let history = h.ok("history_list", json!({"connectionId": id, "limit": 2}));
    assert_eq!(history[0]["kind"], "full");
    assert_eq!(
        history[0]["counts"]["added"], 0,
        "nothing changed in the practice"
    );

    let missing = h.err("sync_start", json!({"connectionId": 999, "kind": "changes"}));
    assert_eq!(missing["kind"], "not_found", "{missing}");
    let bad_kind = h.call("sync_start", json!({"connectionId": id, "kind": "everything"}));
    assert!(bad_kind.is_err(), "an unknown refresh choice is refused");
    assert!(h.ui.notes.lock().unwrap().is_empty(), "no failure was notified");
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

/// The next sync the card shows, after a full sync at each hour of a day: whichever of the
/// changes sync (six hours on) and the daily full sync (02:00, the default, at least 3 hours
/// after the last full one) comes first. Run at every hour so a time-of-day assumption cannot
/// hide in a test that passes only by day.
#[test]
fn next_sync_is_right_at_every_hour_of_the_day() {
    let h = Harness::at(tomorrow_at(0));
    let id = h.connect()["id"].as_i64().unwrap();
    h.ok("app_info", json!({"utcOffsetMinutes": 0}));
    let day = tomorrow_at(0) + time::Duration::days(1);
    for hour in 0..24u8 {
        h.clock.set(day + time::Duration::hours(i64::from(hour)));
        let before = h.finished_runs();
        h.ok("sync_start", json!({"connectionId": id, "kind": "full"}));
        h.wait_for("the full sync", || h.finished_runs() == before + 1);
        let run = h.last_run();
        assert_eq!(
            (run.kind, run.outcome),
            (RunKind::Full, RunOutcome::Ok),
            "at {hour}:00"
        );
        let next = h.ok("connections_list", json!({}))[0]["nextSync"].clone();
        let at = time::OffsetDateTime::parse(
            next["at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        // Hours from this run to the first 02:00 more than 3 hours after it (the engine's
        // MIN_FULL_GAP: a full sync stands for a night's full sync that close).
        let to_daily = match (2 + 24 - i64::from(hour)) % 24 {
            0 => 24,
            n if n <= 3 => n + 24,
            n => n,
        };
        if to_daily <= 6 {
            assert_eq!(next["kind"], "full", "at {hour}:00: {next}");
            assert_eq!(
                at,
                day + time::Duration::hours(i64::from(hour) + to_daily),
                "at {hour}:00"
            );
        } else {
            assert_eq!(next["kind"], "changes", "at {hour}:00: {next}");
            assert_eq!(at - run.started_at, time::Duration::hours(6), "at {hour}:00");
        }
    }
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

#[test]
fn start_at_login_is_off_for_the_demo_and_follows_the_settings() {
    let h = Harness::new();
    let entry = h.dir.path().join("autostart/hownow-admin.desktop");
    h.connect();
    h.core.apply_start_at_login().unwrap();
    let mut settings = h.ok("settings_get", json!({}));
    assert_eq!(
        settings["startAtLogin"], false,
        "a demo connection does not turn it on"
    );
    assert!(!entry.exists());

    settings["startAtLogin"] = json!(true);
    let saved = h.ok("settings_save", json!({ "settings": settings.clone() }));
    assert_eq!(saved["startAtLogin"], true);
    let written = std::fs::read_to_string(&entry).unwrap();
    assert!(
        written.contains("\nExec=\"/opt/hownow/hownow-admin\" --minimized\n"),
        "{written}"
    );
    // Saving other settings keeps the choice.
    settings["intervalHours"] = json!(2);
    assert_eq!(
        h.ok("settings_save", json!({ "settings": settings.clone() }))["startAtLogin"],
        true
    );
    assert!(entry.exists());

    settings["startAtLogin"] = json!(false);
    h.ok("settings_save", json!({ "settings": settings }));
    assert!(!entry.exists());
}

#[test]
fn settings_are_validated_and_saved() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    let mut settings = h.ok("settings_get", json!({}));
    assert_eq!(settings["scheduleAvailable"], true);
    settings["dailyFullHour"] = json!(24);
    let err = h.err("settings_save", json!({ "settings": settings.clone() }));
    assert_eq!(err["kind"], "invalid");
    settings["dailyFullHour"] = json!(23);
    settings["intervalHours"] = json!(0);
    assert_eq!(
        h.err("settings_save", json!({ "settings": settings.clone() }))["kind"],
        "invalid"
    );
    settings["intervalHours"] = json!(3);
    settings["loginMode"] = json!("loopback");
    let saved = h.ok("settings_save", json!({ "settings": settings }));
    assert_eq!(
        (saved["intervalHours"].as_u64(), saved["dailyFullHour"].as_u64()),
        (Some(3), Some(23))
    );
    assert_eq!(saved["loginMode"], "loopback");
    assert_eq!(saved["xeroClientId"], "");
    assert_eq!(
        h.ok("app_info", json!({}))["demo"],
        true,
        "no client id: still the demo"
    );
    let next = h.ok("connections_list", json!({}))[0]["nextSync"].clone();
    assert_eq!(next["kind"], "changes", "{next}");
    // The daily full sync hour is local time: the window says where it is.
    h.ok("app_info", json!({"utcOffsetMinutes": 780}));
    let engine = h.core.backend().engine.clone();
    let stored = engine.store().unwrap().connection(id).unwrap().settings;
    assert_eq!(
        (
            stored.changes_interval_minutes,
            stored.daily_full_hour,
            stored.utc_offset_minutes
        ),
        (180, 23, 780)
    );
    assert!(std::fs::read_to_string(h.dir.path().join("data/desktop.json"))
        .unwrap()
        .contains("loopback"));
}

#[test]
fn a_practice_can_be_renamed_on_its_card_and_back() {
    let h = Harness::new();
    let connection = h.connect();
    let (id, xero_name) = (
        connection["id"].as_i64().unwrap(),
        connection["tenantName"].clone(),
    );
    let changes = h.ui.changed.load(std::sync::atomic::Ordering::SeqCst);
    h.ok(
        "connection_rename",
        json!({"connectionId": id, "name": " Our practice "}),
    );
    let card = &h.ok("connections_list", json!({}))[0];
    assert_eq!(card["tenantName"], "Our practice");
    assert_eq!(card["renamedFrom"], xero_name);
    assert!(
        h.ui.changed.load(std::sync::atomic::Ordering::SeqCst) > changes,
        "the window is told"
    );
    let refused = h.err(
        "connection_rename",
        json!({"connectionId": id, "name": "two\nlines"}),
    );
    assert_eq!(refused["kind"], "invalid", "{refused}");
    h.ok("connection_rename", json!({"connectionId": id, "name": null}));
    let card = &h.ok("connections_list", json!({}))[0];
    assert_eq!(card["tenantName"], xero_name);
    assert_eq!(card["renamedFrom"], Value::Null);
}

#[test]
fn disconnect_keeps_or_deletes_the_local_data() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    let report = h.ok(
        "connection_disconnect",
        json!({"connectionId": id, "keepData": true}),
    );
    assert_eq!(report["dataKept"], true);
    let list = h.ok("connections_list", json!({}));
    assert_eq!(list[0]["status"], "disconnected");
    assert!(
        list[0]["clientCount"].as_u64().unwrap() > 0,
        "the clients were kept"
    );
    let refused = h.err("sync_start", json!({"connectionId": id, "kind": "changes"}));
    assert_eq!(refused["kind"], "invalid", "{refused}");

    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    let report = h.ok(
        "connection_disconnect",
        json!({"connectionId": id, "keepData": false}),
    );
    assert_eq!(report["dataKept"], false);
    assert_eq!(report["warnings"], json!([]), "{report}");
    assert_eq!(h.ok("connections_list", json!({})), json!([]));
}

#[test]
fn changes_since_last_sync_brings_edits_and_the_sweep_catches_unflagged_contact_changes() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    let clients = h.ok("clients_search", json!({"connectionId": id, "limit": 5000}));
    let rows = clients["clients"].as_array().unwrap();
    let renamed = rows[0]["uuid"].as_str().unwrap().to_string();
    let other = rows
        .iter()
        .find(|c| c["contactCount"].as_u64().unwrap() > 0 && c["uuid"] != rows[0]["uuid"])
        .unwrap();
    let contacts = h.ok(
        "clients_contacts",
        json!({"connectionId": id, "clientUuid": other["uuid"]}),
    );
    let contact = contacts[0]["uuid"].as_str().unwrap().to_string();

    h.practice()
        .edit_client(&renamed, |d| {
            d.values.name = Some("Renamed & <Sons> 🎉 Ltd".into())
        })
        .unwrap();
    // XPM's defect: this does not mark the client modified.
    h.practice()
        .edit_contact(&contact, |d| d.email = Some("moved@example.nz".into()))
        .unwrap();

    h.ok("sync_start", json!({"connectionId": id, "kind": "changes"}));
    h.wait_for("the changes sync", || h.finished_runs() == 2);
    let run = h.last_run();
    assert_eq!(run.outcome, RunOutcome::Ok);
    assert!(run.counts.updated >= 1, "{run:?}");
    assert!(
        run.counts.contacts_changed >= 1,
        "the sweep caught the contact edit: {run:?}"
    );
    let found = h.ok(
        "clients_search",
        json!({"connectionId": id, "query": "Renamed & <Sons>"}),
    );
    assert_eq!(found["clients"][0]["name"], "Renamed & <Sons> 🎉 Ltd");
    let contacts = h.ok(
        "clients_contacts",
        json!({"connectionId": id, "clientUuid": other["uuid"]}),
    );
    assert!(
        contacts
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["email"] == "moved@example.nz"),
        "{contacts}"
    );
}

#[test]
fn a_dead_sign_in_asks_for_reauthorisation_and_failures_are_notified() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();

    h.practice()
        .update_switches(|s| {
            s.fail_next = 50;
            s.fail_status = 503;
        })
        .unwrap();
    h.ok("sync_start", json!({"connectionId": id, "kind": "changes"}));
    h.wait_for("the failed sync", || h.finished_runs() == 2);
    assert_eq!(h.last_run().outcome, RunOutcome::Failed);
    assert!(
        h.ui.notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.starts_with("Sync failed")),
        "{:?}",
        h.ui.notes
    );
    h.practice().update_switches(|s| s.fail_next = 0).unwrap();

    h.practice().revoke_all_refresh_tokens();
    h.practice().expire_all_access_tokens();
    h.ok("sync_start", json!({"connectionId": id, "kind": "changes"}));
    h.wait_for("the refused sync", || h.finished_runs() == 3);
    let notes = h.ui.notes.lock().unwrap().clone();
    assert!(
        notes.iter().any(|n| n.contains("needs reauthorisation")),
        "{notes:?}"
    );
    assert_eq!(h.ok("connections_list", json!({}))[0]["status"], "needs_reauth");
    let refused = h.err("sync_start", json!({"connectionId": id, "kind": "changes"}));
    assert_eq!(refused["kind"], "needs_reauth", "{refused}");

    // Reauthorise: the same login; choosing the practice again restores the connection.
    let link = h.log_in_as("u-1", true);
    h.core.deliver_callback(&link);
    h.wait_for("the reconnection", || h.login_stage() == "connected");
    let list = h.ok("connections_list", json!({}));
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "the same connection, not a new one"
    );
    assert_eq!(list[0]["status"], "connected");
    assert_eq!(list[0]["id"], id);
}

#[test]
fn the_window_start_up_call_changes_nothing_twice() {
    // The window asks for app_info at every start and whenever connections change: that call must
    // not itself announce a change, or the two would chase each other.
    let h = Harness::new();
    h.connect();
    let changes = || h.ui.changed.load(std::sync::atomic::Ordering::SeqCst);
    h.ok("app_info", json!({"utcOffsetMinutes": 600}));
    let after_first = changes();
    h.ok("app_info", json!({"utcOffsetMinutes": 600}));
    h.ok("app_info", json!({}));
    assert_eq!(changes(), after_first, "unchanged settings announce nothing");
}

#[test]
fn the_history_lists_values_xpm_sent_that_could_not_be_read() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    h.wait_for("the initial sync", || h.finished_runs() == 1);
    // Every other client now carries odd values; their first note's date cannot be read.
    h.practice().update_switches(|s| s.odd_values = 2).unwrap();
    h.ok("sync_start", json!({"connectionId": id, "kind": "full"}));
    h.wait_for("the full sync", || h.finished_runs() == 2);
    h.practice().update_switches(|s| s.odd_values = 0).unwrap();

    let history = h.ok("history_list", json!({"connectionId": id, "limit": 2}));
    let run = &history[0];
    assert_eq!(
        (run["kind"].as_str(), run["outcome"].as_str()),
        (Some("full"), Some("ok"))
    );
    let count = run["counts"]["data_warnings"].as_u64().unwrap();
    assert!(count > 0, "{run}");
    let warnings = run["data_warnings"].as_array().unwrap();
    assert_eq!(warnings.len() as u64, count.min(200));
    assert_eq!(warnings[0]["field"], "Notes/Note/Date");
    assert!(warnings[0]["client_uuid"].is_string() && warnings[0]["raw_value"].is_string());
    // The initial sync had none, and lists none.
    assert_eq!(history[1]["counts"]["data_warnings"], 0);
    assert_eq!(history[1]["data_warnings"], json!([]));
}

#[test]
fn save_diagnostics_writes_the_support_bundle_to_the_export_folder() {
    let h = Harness::new();
    h.connect();
    // The app's log lives in the real data dir even while the Demo practice runs elsewhere.
    let logs = h.dir.path().join("data/logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("app.log"), "INFO hownow_admin: window shown\n").unwrap();

    let saved = h.ok("diagnostics_save", json!({}));
    let path = std::path::PathBuf::from(saved["path"].as_str().unwrap());
    assert!(path.starts_with(h.dir.path().join("exports")), "{path:?}");
    assert_eq!(
        saved["bytes"].as_u64(),
        Some(std::fs::metadata(&path).unwrap().len())
    );
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(str::to_string).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "README.txt",
            "about.json",
            "desktop.json",
            "logs/app.log",
            "runs.json",
            "settings.json"
        ]
    );
    let read = |zip: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let about: Value = serde_json::from_str(&read(&mut zip, "about.json")).unwrap();
    assert_eq!(about["host"], "HowNow Admin");
    assert_eq!(about["connections"].as_array().unwrap().len(), 1);
    let runs: Value = serde_json::from_str(&read(&mut zip, "runs.json")).unwrap();
    assert_eq!(runs[0]["kind"], "full", "the initial sync: {runs}");
    assert_eq!(
        read(&mut zip, "logs/app.log"),
        "INFO hownow_admin: window shown\n"
    );
    // The saved bundle is an export: the window may show it in its folder.
    assert!(h.core.is_export(&path));
}
