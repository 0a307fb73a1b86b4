//! A practice's card: renamed and back, and disconnected keeping or deleting its local data.

use serde_json::{json, Value};

use crate::harness::Harness;

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
