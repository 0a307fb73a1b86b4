//! The directory file: migrations at open, re-open, refusing a newer schema, connections.

use crate::common;

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

/// The window's list reads typed columns, pages in SQL, counts only the contacts its panel
/// shows, and its search also finds a client by a contact's name or email.
#[tokio::test]
async fn the_client_list_pages_in_sql_and_searches_contacts_too() {
    use hownow_sync::{ClientQuery, MemorySource, RunKind};
    let mut fx = common::Fixture::new();
    let mut clients = common::practice(30);
    // Client 6 lists contacts 60 and 61; XPM deleted 61.
    clients[6].contacts[1].is_deleted = Some(true);
    fx.sync(&MemorySource::with_clients(clients), RunKind::Full)
        .await
        .unwrap();
    let id = fx.connection.id;
    let everyone = ClientQuery::default();
    let decoded = crate::common::stored_clients(&fx.store, id, &everyone);
    let page = fx.store.client_summaries(id, &everyone, 0, 500).unwrap();
    assert_eq!(page.total, decoded.len() as u64);
    assert_eq!(page.total, 29, "client 28 was deleted in XPM");
    for (summary, full) in page.clients.iter().zip(&decoded) {
        assert_eq!(Some(&summary.uuid), full.client.uuid.as_ref(), "the same order");
        assert_eq!(summary.name, full.client.name);
        assert_eq!(summary.client_code, full.client.client_code);
        assert_eq!(summary.is_archived, full.client.is_archived == Some(true));
        let shown = full
            .client
            .contacts
            .iter()
            .filter(|k| k.is_deleted != Some(true))
            .count();
        assert_eq!(summary.contact_count, shown as u64, "{}", summary.uuid);
    }
    let six = page.clients.iter().find(|c| c.uuid == "client-00006").unwrap();
    assert_eq!(six.contact_count, 1);

    // Paging: the second page of 10 is the list's 11th to 20th.
    let second = fx.store.client_summaries(id, &everyone, 10, 10).unwrap();
    assert_eq!(second.total, 29);
    assert_eq!(second.clients, page.clients[10..20].to_vec());
    let past = fx.store.client_summaries(id, &everyone, 40, 10).unwrap();
    assert_eq!(
        (past.total, past.clients.len()),
        (29, 0),
        "past the end: still the total"
    );

    let search = |text: &str| {
        let query = ClientQuery {
            search: Some(text.into()),
            ..Default::default()
        };
        let found = fx.store.client_summaries(id, &query, 0, 50).unwrap();
        assert_eq!(found.total, found.clients.len() as u64);
        found.clients.into_iter().map(|c| c.uuid).collect::<Vec<_>>()
    };
    assert_eq!(search("Family 60"), ["client-00006"], "a contact's name");
    assert_eq!(
        search("PERSON60@"),
        ["client-00006"],
        "a contact's email, any case"
    );
    assert!(search("Family 61").is_empty(), "a deleted contact finds nothing");
    assert_eq!(search("client7@"), ["client-00007"], "the client's own email");
    assert!(search("100%").is_empty(), "LIKE wildcards are taken literally");
}

/// A run commits without checkpointing (`store::checkpoint`): a thread of the engine's moves the
/// log into the database file just after, with no other write or open to prompt it.
#[tokio::test]
async fn a_runs_log_reaches_the_database_file_by_itself() {
    let mut fx = common::Fixture::new();
    let db_len = |fx: &common::Fixture| std::fs::metadata(fx.db_path()).unwrap().len();
    let before = db_len(&fx);
    let source = hownow_sync::MemorySource::with_clients(common::practice(2_000));
    let report = fx.sync(&source, hownow_sync::RunKind::Full).await.unwrap();
    assert!(report.counts.added > 1_000, "{:?}", report.counts);
    let wal = std::fs::metadata(fx.db_path().with_extension("sqlite3-wal"))
        .unwrap()
        .len();
    assert!(
        wal > 1_000_000,
        "the run wrote its clients to the log ({wal} bytes)"
    );
    // Bounded: 20 s at most, though it takes milliseconds.
    let mut after = db_len(&fx);
    for _ in 0..400 {
        if after > before + wal / 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        after = db_len(&fx);
    }
    assert!(
        after > before + wal / 2,
        "the database file grew from {before} to only {after} bytes; the log holds {wal}"
    );
    // The directory reads the same through the file as through the log.
    assert!(fx.store.integrity_check().unwrap().is_empty());
    let query = hownow_sync::ClientQuery::default();
    let stored = common::stored_clients(&fx.store, fx.connection.id, &query);
    assert_eq!(stored.len() as u64, report.counts.added);
}
