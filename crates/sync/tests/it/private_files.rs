//! The data dir is private: 0700, every file in it 0600, under the usual umask 022 and for a data
//! dir an older version left readable by every local account.
#![cfg(unix)]

use crate::common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use hownow_sync::engine::{CredentialStorage, Engine, EngineOptions};
use hownow_sync::secrets::{FileStore, SecretStore, StoredCredentials};
use hownow_sync::{run_sync, MemorySource, NewConnection, NoProgress, RunKind, RunTrigger, SyncRequest};
use hownow_xpm::Secret;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file and folder under `dir`, with its mode.
fn modes(dir: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        out.push((path.display().to_string(), mode(&path)));
        if path.is_dir() {
            out.extend(modes(&path));
        }
    }
    out
}

#[tokio::test]
async fn the_data_dir_and_everything_in_it_are_private_under_umask_022() {
    // SAFETY: umask only sets this process's file-creation mask; 022 is the common default.
    unsafe { libc::umask(0o022) };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A data dir from before: readable by everyone.
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(data.join("settings.json"), "{}").unwrap();
    std::fs::set_permissions(data.join("settings.json"), std::fs::Permissions::from_mode(0o644)).unwrap();

    let engine = Engine::open(EngineOptions {
        storage: Some(CredentialStorage::File),
        use_env: false,
        ..EngineOptions::new(&data)
    })
    .unwrap();
    engine.save_settings().unwrap();
    FileStore::new(data.join("credentials.json"))
        .set(
            1,
            &StoredCredentials {
                refresh_token: Secret::new("refresh-token-SECRET"),
                client_id: None,
                scopes: vec![],
            },
        )
        .unwrap();
    let mut store = engine.store().unwrap();
    let id = store
        .create_connection(&NewConnection {
            xero_connection_id: "xc".into(),
            tenant_id: "t".into(),
            tenant_name: "Practice".into(),
            ..Default::default()
        })
        .unwrap()
        .id;
    let source = MemorySource::with_clients(common::practice(20));
    run_sync(
        &mut store,
        &source,
        &data.join("locks"),
        id,
        SyncRequest::new(RunKind::Full, RunTrigger::Manual),
        &NoProgress,
    )
    .await
    .unwrap();
    // A plan and its state, with the directory still open (WAL and shared memory present).
    engine.plan(id).unwrap();

    let all = modes(&data);
    assert!(all.len() >= 6, "{all:?}");
    assert_eq!(mode(&data), 0o700);
    for (path, mode) in &all {
        let want = if Path::new(path).is_dir() { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{path} is {mode:o}; all: {all:?}");
    }
    for name in [
        "hownow.sqlite3",
        "hownow.sqlite3-wal",
        "hownow-state.sqlite3",
        "credentials.json",
        "settings.json",
    ] {
        assert!(all.iter().any(|(p, _)| p.ends_with(name)), "{name} in {all:?}");
    }
}
