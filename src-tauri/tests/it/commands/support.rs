//! What support reads: values XPM sent that could not be read in the history, and the support
//! bundle Save diagnostics writes.

use serde_json::{json, Value};

use crate::harness::Harness;

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
