//! Shared fixtures: a deterministic practice, a directory in a temp dir, a connection.
#![allow(dead_code)]

use std::path::PathBuf;

use hownow_sync::{
    run_sync, Connection, MemorySource, NewConnection, NoProgress, RunKind, RunTrigger, Store, SyncReport,
    SyncRequest, SyncSettings,
};
use hownow_xpm::{BillingType, Client, Contact, Note, Reference, Relationship, XpmDate};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub connection: Connection,
}

impl Fixture {
    pub fn new() -> Self {
        Self::with_settings(SyncSettings::default())
    }

    pub fn with_settings(settings: SyncSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("hownow.sqlite3")).unwrap();
        let connection = store
            .create_connection(&NewConnection {
                xero_connection_id: "xc-1".into(),
                tenant_id: "tenant-1".into(),
                tenant_name: "Demo Practice".into(),
                authorised_by_name: Some("Pat Admin".into()),
                authorised_by_email: Some("pat@example.com".into()),
                settings,
                ..Default::default()
            })
            .unwrap();
        Fixture {
            dir,
            store,
            connection,
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("hownow.sqlite3")
    }

    pub fn lock_dir(&self) -> PathBuf {
        self.dir.path().join("locks")
    }

    pub async fn sync(&mut self, source: &MemorySource, kind: RunKind) -> hownow_sync::Result<SyncReport> {
        self.sync_with(source, SyncRequest::new(kind, RunTrigger::Manual))
            .await
    }

    pub async fn sync_with(
        &mut self,
        source: &MemorySource,
        request: SyncRequest,
    ) -> hownow_sync::Result<SyncReport> {
        let lock_dir = self.lock_dir();
        run_sync(
            &mut self.store,
            source,
            &lock_dir,
            self.connection.id,
            request,
            &NoProgress,
        )
        .await
    }

    pub fn connection(&self) -> Connection {
        self.store.connection(self.connection.id).unwrap()
    }
}

pub fn contact(i: usize, primary: bool) -> Contact {
    Contact {
        uuid: Some(format!("contact-{i:05}")),
        name: Some(if i % 7 == 0 {
            format!("Mononym{i}")
        } else {
            format!("Given{i} Family {i}")
        }),
        salutation: Some(format!("Dear {i}")),
        addressee: None,
        mobile: Some(format!("04{i:08}")),
        email: Some(format!("person{i}@example.com")),
        phone: if i % 3 == 0 {
            None
        } else {
            Some(format!("02 {i:08}"))
        },
        position: Some(if primary {
            "Director".into()
        } else {
            "Bookkeeper".into()
        }),
        is_primary: Some(primary),
        is_deleted: Some(false),
    }
}

/// A deterministic practice: companies, trusts and individuals; 0–3 contacts each, some shared
/// with the next client; groups; relationships; notes; some archived, prospects and deleted;
/// names with `&`, `<`, accents and emoji.
pub fn practice(n: usize) -> Vec<Client> {
    (0..n)
        .map(|i| {
            let structure = ["Company", "Trust", "Individual", "Partnership"][i % 4];
            let contact_count = i % 4;
            let mut contacts: Vec<Contact> =
                (0..contact_count).map(|k| contact(i * 10 + k, k == 0)).collect();
            if i > 0 && i % 5 == 0 {
                // Shared with the previous client (not primary here).
                contacts.push(contact((i - 1) * 10, false));
            }
            Client {
                uuid: Some(format!("client-{i:05}")),
                name: Some(match i % 6 {
                    0 => format!("Smith & Sons {i} Pty Ltd"),
                    1 => format!("Café Ümlaut <{i}> Trust"),
                    2 => format!("Jo Bloggs {i} 🎉"),
                    _ => format!("Client {i}"),
                }),
                first_name: (structure == "Individual").then(|| format!("First{i}")),
                last_name: (structure == "Individual").then(|| format!("Last{i}")),
                email: Some(format!("client{i}@example.com")),
                phone: Some(format!("02 9{i:07}")),
                website: (i % 2 == 0).then(|| format!("https://client{i}.example")),
                address: Some(format!("{i} Main Street\nSuite {i}")),
                city: Some("Sydney".into()),
                region: Some("NSW".into()),
                post_code: Some("2000".into()),
                country: Some("Australia".into()),
                postal_address: (i % 3 == 0).then(|| format!("PO Box {i}")),
                postal_city: (i % 3 == 0).then(|| "Parramatta".into()),
                postal_post_code: (i % 3 == 0).then(|| "2150".into()),
                client_code: (i % 10 != 9).then(|| format!("C{i:05}")),
                export_code: Some(format!("EXP{i}")),
                is_prospect: Some(i % 17 == 0),
                is_archived: Some(i % 13 == 0),
                is_deleted: Some(i % 29 == 28),
                account_manager: Some(Reference {
                    uuid: Some("staff-1".into()),
                    name: Some("Alex Partner".into()),
                }),
                billing_type: Some(BillingType {
                    name: Some("Standard".into()),
                    ..Default::default()
                }),
                business_structure: Some(structure.into()),
                business_number: Some(format!("{:011}", i * 7919)),
                date_of_birth: (structure == "Individual").then(|| "1980-02-03".parse::<XpmDate>().unwrap()),
                contacts,
                notes: (i % 4 == 1)
                    .then(|| Note {
                        title: Some("Onboarding".into()),
                        text: Some(format!("note {i}")),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                groups: vec![Reference {
                    uuid: Some(format!("group-{}", i % 3)),
                    name: Some(format!("Group {}", i % 3)),
                }],
                relationships: (i % 4 == 0 && i + 1 < n)
                    .then(|| Relationship {
                        uuid: Some(format!("rel-{i}")),
                        relationship_type: Some("Director".into()),
                        related_client: Some(Reference {
                            uuid: Some(format!("client-{:05}", i + 1)),
                            name: Some(format!("Client {}", i + 1)),
                        }),
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                ..Default::default()
            }
        })
        .collect()
}

/// Every client `query` selects, whole, by name, collected (the store hands them over one by one).
pub fn stored_clients(
    store: &Store,
    connection_id: i64,
    query: &hownow_sync::ClientQuery,
) -> Vec<hownow_sync::ClientDetail> {
    let mut clients = Vec::new();
    store
        .for_each_client(connection_id, query, |c| {
            clients.push(c);
            Ok::<_, hownow_sync::SyncError>(())
        })
        .unwrap();
    clients
}

/// The live clients `search` matches, whole, by name, collected through the engine.
pub fn live_clients(
    engine: &hownow_sync::engine::Engine,
    connection_id: i64,
    search: Option<&str>,
) -> Vec<hownow_sync::ClientDetail> {
    let mut clients = Vec::new();
    engine
        .for_each_client(connection_id, search, |c| {
            clients.push(c);
            Ok(())
        })
        .unwrap();
    clients
}

/// Every client's stored JSON, for "nothing changed" comparisons.
pub fn snapshot(store: &Store, connection_id: i64) -> Vec<(Client, Option<String>)> {
    crate::common::stored_clients(
        store,
        connection_id,
        &hownow_sync::ClientQuery {
            search: None,
            include_removed: true,
        },
    )
    .into_iter()
    .map(|c| (c.client, c.removed_at.map(|t| t.to_string())))
    .collect()
}
