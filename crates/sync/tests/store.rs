//! The directory file: migrations at open, re-open, refusing a newer schema, connections.

mod common;

use hownow_sync::{ConnectionStatus, NewConnection, Store, SyncError, SyncSettings, LATEST_SCHEMA_VERSION};

#[test]
fn migrates_an_empty_file_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/hownow.sqlite3");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA_VERSION);
    assert!(store.integrity_check().unwrap().is_empty());
    drop(store);
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA_VERSION);
    let c = store
        .create_connection(&NewConnection {
            xero_connection_id: "xc".into(),
            tenant_id: "t".into(),
            tenant_name: "Practice".into(),
            ..Default::default()
        })
        .unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.connection(c.id).unwrap().tenant_name, "Practice");
}

#[test]
fn a_file_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hownow.sqlite3");
    drop(Store::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", LATEST_SCHEMA_VERSION + 1)
        .unwrap();
    drop(raw);
    match Store::open(&path) {
        Err(SyncError::SchemaTooNew { found, known, .. }) => {
            assert_eq!((found, known), (LATEST_SCHEMA_VERSION + 1, LATEST_SCHEMA_VERSION))
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn concurrent_first_opens_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hownow.sqlite3");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || Store::open(&path).map(|s| s.schema_version().unwrap()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), LATEST_SCHEMA_VERSION);
    }
}

#[test]
fn connections_keep_settings_status_and_one_live_row_per_tenant() {
    let mut fx = common::Fixture::new();
    let id = fx.connection.id;
    let settings = SyncSettings {
        daily_full_hour: 23,
        ..Default::default()
    };
    fx.store.update_settings(id, &settings).unwrap();
    fx.store
        .set_status(id, ConnectionStatus::NeedsReauth, Some("invalid_grant"))
        .unwrap();
    let c = fx.connection();
    assert_eq!(c.settings.daily_full_hour, 23);
    assert_eq!(
        (c.status, c.status_reason.as_deref()),
        (ConnectionStatus::NeedsReauth, Some("invalid_grant"))
    );
    assert_eq!(
        fx.store.connection_for_tenant("tenant-1").unwrap().unwrap().id,
        id
    );
    let duplicate = NewConnection {
        tenant_id: "tenant-1".into(),
        ..Default::default()
    };
    assert!(fx.store.create_connection(&duplicate).is_err());
    fx.store.mark_disconnected(id).unwrap();
    assert!(
        fx.store.create_connection(&duplicate).is_ok(),
        "a disconnected tenant can be connected again"
    );
    fx.store.delete_connection(id).unwrap();
    assert!(matches!(
        fx.store.connection(id),
        Err(SyncError::UnknownConnection(_))
    ));
}
