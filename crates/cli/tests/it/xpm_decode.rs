//! `hownow xpm decode` run as a user runs it: the built binary on saved responses shaped like
//! Xero's documentation examples, checking the JSON on stdout, the message on stderr and the
//! exit code.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../xpm/tests/fixtures")
        .join(name)
}

fn hownow_decode(path: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hownow"))
        .args(["xpm", "decode"])
        .arg(path)
        .arg("--json")
        .output()
        .expect("the hownow binary runs")
}

/// Decodes a fixture that must succeed and returns the one JSON document it printed.
fn decode_ok(name: &str) -> Value {
    let out = hownow_decode(&fixture(name));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name}: exit {:?}, stderr: {stderr}",
        out.status.code()
    );
    assert!(stderr.is_empty(), "{name}: unexpected stderr: {stderr}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{name}: stdout is not one JSON document: {e}"))
}

/// Decodes a file that must fail and returns stderr.
fn decode_fails(path: &std::path::Path) -> String {
    let out = hownow_decode(path);
    assert_eq!(out.status.code(), Some(1), "{}: {:?}", path.display(), out);
    assert!(out.stdout.is_empty(), "nothing on stdout when decoding fails");
    String::from_utf8(out.stderr).unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort();
    k
}

#[test]
fn detailed_client_list_as_json() {
    let v = decode_ok("client-list-detailed.xml");
    assert_eq!(keys(&v), ["clients", "status"]);
    assert_eq!(v["status"], "OK");
    let clients = v["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 2);

    let c = &clients[0];
    assert_eq!(c["uuid"], "f0b6c3a2-7d4e-4b1a-9c2d-3e4f5a6b7c8d");
    assert_eq!(c["name"], "Smith & Jones Holdings Ltd");
    assert_eq!(c["address"], "Level 4\n123 Lambton Quay");
    assert_eq!(c["postal_address"], "PO Box 10-123\nWellington Mail Centre");
    assert_eq!(c["postal_post_code"], "6143");
    assert_eq!(c["postal_region"], Value::Null);
    assert_eq!(c["title"], Value::Null);
    assert_eq!(c["is_archived"], false);
    assert_eq!(c["is_prospect"], false);
    assert_eq!(c["prepare_gst"], true);
    assert_eq!(c["gst_registered"], true);
    assert_eq!(
        c["account_manager"],
        json!({"uuid": "a1a1a1a1-0000-4000-8000-000000000001", "name": "Pat Partner"})
    );
    assert_eq!(c["billing_client"], Value::Null);
    assert_eq!(
        c["type"],
        json!({"name": "Standard", "cost_markup": "0.00", "payment_term": "DayOfMonth", "payment_day": "20"})
    );
    assert_eq!(c["contacts"][0]["is_primary"], true);
    assert_eq!(c["contacts"][1]["is_primary"], false);
    assert_eq!(c["contacts"][0]["position"], "Director");
    assert_eq!(c["notes"][0]["date"], "2023-04-03T10:15:00");
    assert_eq!(
        c["notes"][0]["text"],
        "Signed engagement letter received.\nNext review: March."
    );
    assert_eq!(
        c["groups"],
        json!([{"uuid": "b0b0b0b0-0000-4000-8000-000000000001", "name": "Monthly GST"}])
    );
    let rel = &c["relationships"][0];
    assert_eq!(rel["type"], "Shareholder");
    assert_eq!(rel["related_client"]["name"], "Jane Smith");
    assert_eq!(rel["start_date"], "2015-07-01T00:00:00");
    assert_eq!(rel["end_date"], Value::Null);

    let person = &clients[1];
    assert_eq!(person["date_of_birth"], "1980-02-29");
    assert_eq!(person["is_archived"], true);
    assert_eq!(person["billing_client"]["name"], "Smith & Jones Holdings Ltd");
}

#[test]
fn paged_list_carries_pagination() {
    let v = decode_ok("client-paged-list.xml");
    assert_eq!(keys(&v), ["clients", "pagination", "status"]);
    assert_eq!(v["clients"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["pagination"]["next"],
        "https://api.xero.com/practicemanager/3.1/client.api/paged-list?pageSize=2&pageToken=eyJwIjoyfQ"
    );
    let last = decode_ok("client-paged-list-last.xml");
    assert_eq!(last["pagination"]["next"], Value::Null);
}

#[test]
fn single_client_is_still_a_list() {
    let v = decode_ok("client-get.xml");
    let clients = v["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(
        clients[0]["web_url"],
        "https://practicemanager.xero.com/Client/2222/Detail"
    );
    assert_eq!(clients[0]["address"], "Flat 2\n9 Cuba Street");
    assert_eq!(clients[0]["date_of_birth"], "1975-11-30T00:00:00");
}

#[test]
fn contacts_and_groups() {
    let v = decode_ok("contacts-page.xml");
    assert_eq!(keys(&v), ["contacts", "pagination", "status"]);
    assert_eq!(v["contacts"][1]["email"], "tom@smithjones.example");
    assert_eq!(v["contacts"][1]["is_deleted"], false);

    let v = decode_ok("contact-get.xml");
    assert_eq!(keys(&v), ["contacts", "status"]);
    assert_eq!(v["contacts"][0]["is_primary"], true);

    let v = decode_ok("clientgroup-get.xml");
    assert_eq!(keys(&v), ["groups", "status"]);
    assert_eq!(v["groups"][0]["taxable"], true);
    assert_eq!(v["groups"][0]["clients"][1]["name"], "Daniel O'Connor");
}

#[test]
fn error_envelope_prints_the_description_and_fails() {
    let stderr = decode_fails(&fixture("error.xml"));
    assert!(stderr.contains("Invalid client identifier"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one clear sentence: {stderr}");
}

#[test]
fn undecodable_input_fails_with_the_position() {
    let stderr = decode_fails(&fixture("truncated.xml"));
    assert!(
        stderr.contains("byte 700") && stderr.contains("truncated"),
        "{stderr}"
    );

    let stderr = decode_fails(&fixture("doctype-entities.xml"));
    assert!(
        stderr.contains("DOCTYPE") && stderr.contains("byte 22"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("gateway.json");
    std::fs::write(
        &json,
        r#"{"Title":"Unauthorized","Status":401,"Detail":"TokenExpired"}"#,
    )
    .unwrap();
    let stderr = decode_fails(&json);
    assert!(
        stderr.contains("byte 0") && stderr.contains("gateway.json"),
        "{stderr}"
    );
}

#[test]
fn missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = decode_fails(&dir.path().join("nope.xml"));
    assert!(
        stderr.contains("cannot open") && stderr.contains("nope.xml"),
        "{stderr}"
    );
    let stderr = decode_fails(dir.path());
    assert!(stderr.contains("is a directory"), "{stderr}");
}

#[test]
fn values_that_cannot_be_read_are_listed_and_the_document_still_decodes() {
    let out = hownow_decode(&fixture("odd/ambiguous-dates.xml"));
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(keys(&v), ["clients", "status", "warnings"]);
    let warnings = v["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 3);
    assert_eq!(
        warnings[1],
        json!({
            "client_uuid": "3c0a8b9e-0003-4a6b-9f00-000000000001",
            "field": "Notes/Note/Date",
            "raw_value": "01/03/2024 09:30",
            "reason": "is an ambiguous date (day and month could be either way round)"
        })
    );
    assert_eq!(v["clients"][0]["notes"][0]["date"], Value::Null);
    // Also said on stderr, one line each, for a person reading the terminal.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 3, "{stderr}");
    assert!(
        stderr.contains("<Notes/Note/Date> `01/03/2024 09:30` is an ambiguous date"),
        "{stderr}"
    );
}
