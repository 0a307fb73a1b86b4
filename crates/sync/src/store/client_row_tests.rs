use hownow_xpm::{BillingType, Contact, Note, Reference, Relationship, XpmDate};
use time::macros::{date, datetime};

use super::*;
use crate::hash;
use crate::store::apply::{Applier, PreparedClient, Writer};
use crate::store::{migrations, reads};

fn directory() -> rusqlite::Connection {
    let mut db = rusqlite::Connection::open_in_memory().unwrap();
    migrations::migrate(&mut db, std::path::Path::new(":memory:")).unwrap();
    db.execute(
        "INSERT INTO connections (id, xero_connection_id, tenant_id, tenant_name, created_at, updated_at) \
         VALUES (1, 'x', 't', 'Practice', '', '')",
        [],
    )
    .unwrap();
    // The run the applier records its changes under.
    db.execute(
        "INSERT INTO sync_runs (id, connection_id, kind, trigger, started_at) VALUES (1, 1, 'full', 'manual', '')",
        [],
    )
    .unwrap();
    db
}

fn reference(uuid: &str, name: &str) -> Option<Reference> {
    Some(Reference {
        uuid: Some(uuid.into()),
        name: Some(name.into()),
    })
}

fn contact(uuid: &str, name: &str) -> Contact {
    Contact {
        uuid: Some(uuid.into()),
        name: Some(name.into()),
        email: Some(format!("{name}@example.test")),
        ..Default::default()
    }
}

/// A client with a value in every kind of place: text and date columns, flags, references,
/// the long tail (billing type, practice fields, a newer optional field) and each collection.
fn full_client(uuid: &str) -> Client {
    Client {
        uuid: Some(uuid.into()),
        name: Some("Harbour & Co \"Ltd\"".into()),
        first_name: Some("Ana".into()),
        date_of_birth: Some(XpmDate::DateTime(datetime!(1980-02-29 0:00))),
        date_of_death: Some(XpmDate::Date(date!(2020 - 01 - 02))),
        email: Some("ana@example.test".into()),
        postal_post_code: Some("2000".into()),
        client_code: Some("HAR01".into()),
        is_prospect: Some(false),
        is_archived: Some(true),
        is_deleted: Some(false),
        account_manager: reference("s1", "Sam"),
        job_manager: Some(Reference {
            uuid: Some("s2".into()),
            name: None,
        }),
        billing_type: Some(BillingType {
            name: Some("Standard".into()),
            cost_markup: Some("10".into()),
            payment_term: None,
            payment_day: Some("20".into()),
        }),
        tax_number: Some("*****6789".into()),
        industry: Some("Shipping".into()),
        gst_registered: Some(true),
        contacts: vec![
            Contact {
                position: Some("Director".into()),
                is_primary: Some(true),
                ..contact("p2", "Bea")
            },
            contact("p1", "Al"),
        ],
        groups: vec![
            Reference {
                uuid: Some("g1".into()),
                name: Some("Monthly".into()),
            },
            Reference {
                uuid: Some("g2".into()),
                name: None,
            },
        ],
        relationships: vec![Relationship {
            uuid: Some("r1".into()),
            relationship_type: Some("Director".into()),
            related_client: reference("c9", "Other"),
            number_of_shares: Some("10".into()),
            percentage: None,
            start_date: Some(XpmDate::Date(date!(2019 - 07 - 01))),
            end_date: None,
        }],
        notes: vec![
            Note {
                title: Some("B".into()),
                text: Some("second".into()),
                date: Some(XpmDate::DateTime(datetime!(2024-05-06 7:08:09))),
                ..Default::default()
            },
            Note {
                title: Some("A".into()),
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

/// Writes `client` as a sync would and reads it back.
fn written_and_read(db: &rusqlite::Connection, client: &Client) -> (Client, String) {
    let mut applier = Applier::new(1, 1, datetime!(2025-01-01 0:00 UTC));
    applier.apply_client(db, client.clone()).unwrap();
    let uuid = client.uuid.as_deref().unwrap();
    let read = reads::client(db, 1, uuid).unwrap().unwrap().client;
    let tail: String = db
        .query_row("SELECT data FROM clients WHERE uuid = ?1", [uuid], |r| r.get(0))
        .unwrap();
    (read, tail)
}

fn canonical(client: &Client) -> Client {
    let mut client = stored_form(client.clone());
    hash::canonicalize(&mut client);
    client
}

#[test]
fn a_client_reads_back_as_written() {
    let db = directory();
    let client = full_client("c1");
    let (mut read, tail) = written_and_read(&db, &client);
    hash::canonicalize(&mut read);
    assert_eq!(read, canonical(&client));
    // Stored once: what the columns and tables hold is not in the long tail.
    let tail: Map<String, Value> = serde_json::from_str(&tail).unwrap();
    let mut fields: Vec<&str> = tail.keys().map(String::as_str).collect();
    fields.retain(|f| tail[*f] != Value::Null);
    assert_eq!(fields, ["date_of_death", "gst_registered", "industry", "type"]);
}

#[test]
fn values_a_column_cannot_say_stay_in_the_long_tail() {
    let db = directory();
    let client = Client {
        uuid: Some("c2".into()),
        name: Some("No flags".into()),
        // XPM left the flags out: the columns would say "no".
        is_prospect: None,
        is_archived: None,
        is_deleted: None,
        // An element with neither UUID nor name: the columns would say "no manager".
        account_manager: Some(Reference::default()),
        billing_client: None,
        ..Default::default()
    };
    let (mut read, tail) = written_and_read(&db, &client);
    hash::canonicalize(&mut read);
    assert_eq!(read, canonical(&client));
    let tail: Map<String, Value> = serde_json::from_str(&tail).unwrap();
    for field in ["is_prospect", "is_archived", "is_deleted", "account_manager"] {
        assert!(tail.contains_key(field), "{field} is in the tail: {tail:?}");
    }
    assert!(!tail.contains_key("billing_client"));
    assert!(!tail.contains_key("name"));
}

#[test]
fn the_schema_says_what_each_column_carries() {
    let db = directory();
    let columns = ClientColumns::read(&db).unwrap();
    let carried = |name: &str| {
        columns
            .columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.clone())
    };
    assert_eq!(carried("name"), Some(Carries::Text));
    assert_eq!(carried("first_name"), Some(Carries::Text));
    assert_eq!(carried("date_of_birth"), Some(Carries::Text));
    assert_eq!(carried("is_archived"), Some(Carries::Flag));
    assert_eq!(
        carried("account_manager_name"),
        Some(Carries::Reference {
            field: "account_manager".into(),
            part: "name"
        })
    );
    assert_eq!(carried("data"), None);
    assert_eq!(carried("client_type"), None, "dropped by migration 7");
}

/// Migration 7 turns a directory written whole (`data` = the client's full JSON) into columns
/// and a long tail that read back as the same client.
#[test]
fn migration_7_keeps_every_client_as_it_was() {
    let mut db = rusqlite::Connection::open_in_memory().unwrap();
    migrations::migrate_until(&mut db, 6).unwrap();
    db.execute(
        "INSERT INTO connections (id, xero_connection_id, tenant_id, tenant_name, created_at, updated_at) \
         VALUES (1, 'x', 't', 'Practice', '', '')",
        [],
    )
    .unwrap();
    let plain = full_client("c1");
    let unflagged = Client {
        uuid: Some("c2".into()),
        name: Some("No flags".into()),
        account_manager: Some(Reference::default()),
        ..Default::default()
    };
    for client in [&plain, &unflagged] {
        let mut client = client.clone();
        hash::canonicalize(&mut client);
        let json = serde_json::to_string(&client).unwrap();
        let hash = hash::client_hash(&client);
        let (am_uuid, am_name) = client
            .account_manager
            .as_ref()
            .map_or((None, None), |r| (r.uuid.clone(), r.name.clone()));
        let (jm_uuid, jm_name) = client
            .job_manager
            .as_ref()
            .map_or((None, None), |r| (r.uuid.clone(), r.name.clone()));
        // As schema 6 wrote it: the columns, and the whole client in `data`.
        db.execute(
            "INSERT INTO clients (connection_id, uuid, name, first_name, date_of_birth, email, postal_post_code, \
             client_code, tax_number, is_prospect, is_archived, is_deleted, account_manager_uuid, \
             account_manager_name, job_manager_uuid, job_manager_name, client_type, data, content_hash, \
             first_seen_at, updated_at) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, '', '')",
            rusqlite::params![
                client.uuid,
                client.name,
                client.first_name,
                client.date_of_birth.map(|d| d.to_string()),
                client.email,
                client.postal_post_code,
                client.client_code,
                client.tax_number,
                client.is_prospect == Some(true),
                client.is_archived == Some(true),
                client.is_deleted == Some(true),
                am_uuid,
                am_name,
                jm_uuid,
                jm_name,
                client.billing_type.as_ref().and_then(|t| t.name.clone()),
                json,
                hash.as_slice(),
            ],
        )
        .unwrap();
        // Its collections were in their tables already (the applier wrote both).
        let mut applier = Applier::new(1, 1, datetime!(2025-01-01 0:00 UTC));
        let prepared = PreparedClient::children_only(client.clone());
        applier
            .write_children(
                &mut Writer::new(&db),
                client.uuid.as_deref().unwrap(),
                &prepared,
                false,
            )
            .unwrap();
    }
    migrations::migrate(&mut db, std::path::Path::new(":memory:")).unwrap();
    for client in [&plain, &unflagged] {
        let mut read = reads::client(&db, 1, client.uuid.as_deref().unwrap())
            .unwrap()
            .unwrap()
            .client;
        hash::canonicalize(&mut read);
        assert_eq!(read, canonical(client));
    }
    let tail: String = db
        .query_row("SELECT data FROM clients WHERE uuid = 'c1'", [], |r| r.get(0))
        .unwrap();
    assert!(
        !tail.contains("Harbour"),
        "the name is in its column only: {tail}"
    );
    assert!(
        !tail.contains("Bea"),
        "the contacts are in their table only: {tail}"
    );
}

/// The tail written straight from the client is the canonical JSON's fields that no column
/// says, whether the fields' fates are still being learnt (the first client) or known.
#[test]
fn the_tail_is_the_canonical_fields_no_column_says() {
    let db = directory();
    let columns = ClientColumns::read(&db).unwrap();
    let without_newer_fields = Client {
        industry: None,
        ..full_client("c0")
    };
    let clients = [without_newer_fields, full_client("c1"), full_client("c2")];
    for client in &clients {
        let json = serde_json::to_string(client).unwrap();
        let all: Map<String, Value> = serde_json::from_str(&json).unwrap();
        let expected: Map<String, Value> = all
            .into_iter()
            .filter(|(field, value)| match columns.fate_of(field) {
                Fate::Carried => false,
                Fate::Tail => true,
                Fate::Flag => value.is_null(),
                Fate::Reference => *value == serde_json::json!({"uuid": null, "name": null}),
            })
            .collect();
        let tail: Map<String, Value> = serde_json::from_str(&columns.long_tail(client)).unwrap();
        assert_eq!(tail, expected, "{:?}", client.uuid);
    }
    assert!(columns.fates.get().is_some(), "learnt from the first client");
}
