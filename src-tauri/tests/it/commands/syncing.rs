//! Syncing: one refresh at a time, changes since the last sync with the contact sweep, and a
//! dead sign-in that asks for reauthorisation while failures are notified.

use hownow_sync::{RunKind, RunOutcome, RunTrigger};
use serde_json::json;

use crate::harness::Harness;

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
