//! `hownow support-bundle`: the zip's entries and what each holds, on a data dir the demo filled
//! with runs. (The journey in the engine_cli module checks that no token reaches the bundle or the
//! logs.)

use std::io::Read as _;
use std::path::Path;
use std::process::Command;

use crate::common::BIN;

fn hownow(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("HOWNOW_DATA_DIR")
        .env_remove("HOWNOW_XERO_CLIENT_ID")
        .env_remove("HOWNOW_XERO_ISSUER")
        .env_remove("HOWNOW_XERO_API_BASE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn entry(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    zip.by_name(name)
        .unwrap_or_else(|_| panic!("{name} in the bundle"))
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

#[test]
fn the_bundle_holds_runs_settings_schema_platform_and_the_newest_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, _, stderr) = hownow(&data, &["demo", "--clients", "40"]);
    assert_eq!(code, 0, "{stderr}");

    // Logs as a long-running host leaves them: a current file over the bundle's 4 MiB per file,
    // one rotated file, and an older one the bundle leaves out.
    let logs = data.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let line = "2026-01-01T00:00:00Z  INFO hownow_sync: a line of 64 bytes.....\n";
    assert_eq!(line.len(), 64);
    let big = format!("FIRST LINE, CUT\n{}", line.repeat(5 * 1024 * 1024 / 64));
    std::fs::write(logs.join("service.log"), &big).unwrap();
    std::fs::write(logs.join("service.log.1"), "rotated once\n").unwrap();
    std::fs::write(logs.join("service.log.2"), "rotated twice\n").unwrap();

    let out = dir.path().join("bundle.zip");
    let (code, stdout, stderr) = hownow(&data, &["support-bundle", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(&format!("Wrote {}", out.display())),
        "{stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the bundle names practices and clients");
    }

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(str::to_string).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "README.txt",
            "about.json",
            "logs/service.log",
            "logs/service.log.1",
            "runs.json",
            "settings.json"
        ]
    );
    for i in 0..zip.len() {
        let file = zip.by_index(i).unwrap();
        assert_eq!(
            file.compression(),
            zip::CompressionMethod::Deflated,
            "{}",
            file.name()
        );
    }

    let about: serde_json::Value = serde_json::from_slice(&entry(&mut zip, "about.json")).unwrap();
    assert_eq!(about["host"], "hownow");
    assert_eq!(about["host_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(about["os"], std::env::consts::OS);
    assert_eq!(about["arch"], std::env::consts::ARCH);
    let schema = about["schema_version"].as_i64().unwrap();
    assert!(schema >= 1);
    assert_eq!(about["latest_schema_version"].as_i64(), Some(schema));
    assert_eq!(about["credential_storage"], "keychain");
    assert_eq!(about["connections"].as_array().unwrap().len(), 1);

    // The demo's runs, newest first, as many as there are (fewer than 50).
    let runs: serde_json::Value = serde_json::from_slice(&entry(&mut zip, "runs.json")).unwrap();
    let runs = runs.as_array().unwrap();
    assert!(runs.len() >= 2, "{runs:?}");
    // Newest first by run id and by start time. The times are compared as instants: RFC 3339
    // with trimmed fractions (".8Z" after ".82Z") does not sort as text.
    let ids: Vec<i64> = runs.iter().map(|r| r["run_id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let started: Vec<time::OffsetDateTime> = runs
        .iter()
        .map(|r| {
            let text = r["started_at"].as_str().unwrap();
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|e| panic!("{text}: {e}"))
        })
        .collect();
    assert!(started.windows(2).all(|w| w[0] >= w[1]), "{started:?}");
    assert!(runs.iter().any(|r| r["kind"] == "full"));

    let settings: serde_json::Value = serde_json::from_slice(&entry(&mut zip, "settings.json")).unwrap();
    assert!(settings["xero"]["issuer"].is_string(), "{settings}");
    let text = String::from_utf8(entry(&mut zip, "settings.json")).unwrap();
    assert!(!text.to_lowercase().contains("token\""), "{text}");

    // The current log's newest 4 MiB (a whole number of lines here); the older head is gone.
    let current = entry(&mut zip, "logs/service.log");
    assert_eq!(current.len(), 4 * 1024 * 1024);
    assert!(current.starts_with(line.as_bytes()));
    assert!(big.as_bytes().ends_with(&current));
    assert_eq!(entry(&mut zip, "logs/service.log.1"), b"rotated once\n");
}

#[test]
fn the_default_name_is_dated_in_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .arg("--data-dir")
        .arg(&data)
        .arg("support-bundle")
        .env_remove("HOWNOW_DATA_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let zips: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".zip"))
        .collect();
    assert_eq!(zips.len(), 1, "{zips:?}");
    assert!(zips[0].starts_with("hownow-support-20"), "{zips:?}");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(dir.path().join(&zips[0])).unwrap()).unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&entry(&mut zip, "runs.json")).unwrap();
    assert_eq!(runs, serde_json::json!([]), "a fresh data dir has no runs");
}
