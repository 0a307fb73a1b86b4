use hownow_xpm::Contact;
use time::macros::datetime;

use super::*;
use crate::store::apply::Applier;
use crate::store::migrations;

fn directory() -> rusqlite::Connection {
    let mut db = rusqlite::Connection::open_in_memory().unwrap();
    migrations::migrate(&mut db, std::path::Path::new(":memory:")).unwrap();
    db.execute_batch(
        "INSERT INTO connections (id, xero_connection_id, tenant_id, tenant_name, created_at, updated_at) \
         VALUES (1, 'x', 't', 'Practice', '', ''); \
         INSERT INTO sync_runs (id, connection_id, kind, trigger, started_at) VALUES (1, 1, 'full', 'manual', '');",
    )
    .unwrap();
    db
}

fn contact(uuid: &str, name: &str, email: Option<&str>) -> Contact {
    Contact {
        uuid: (!uuid.is_empty()).then(|| uuid.to_string()),
        name: Some(name.into()),
        email: email.map(str::to_string),
        ..Default::default()
    }
}

fn client(uuid: &str, name: &str, contacts: Vec<Contact>) -> Client {
    Client {
        uuid: Some(uuid.into()),
        name: Some(name.into()),
        client_code: Some(format!("{}-CODE", uuid.to_uppercase())),
        contacts,
        ..Default::default()
    }
}

/// The search text of each client: as stored, and as the SQL form computes it from the tables,
/// each as its sorted lines (the contacts' order is not part of what a search matches).
fn texts(db: &rusqlite::Connection) -> Vec<(String, Vec<String>, Vec<String>)> {
    let mut stmt = db
        .prepare(&format!(
            "SELECT c.uuid, c.search_text, {SEARCH_TEXT_SQL} FROM clients c ORDER BY c.uuid"
        ))
        .unwrap();
    let lines = |text: String| {
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        lines.sort();
        lines
    };
    stmt.query_map([], |r| Ok((r.get(0)?, lines(r.get(1)?), lines(r.get(2)?))))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn apply(db: &rusqlite::Connection, clients: Vec<Client>) -> Applier {
    let mut applier = Applier::new(1, 1, datetime!(2025-01-01 0:00 UTC));
    for c in clients {
        applier.apply_client(db, c).unwrap();
    }
    applier
}

#[test]
fn the_written_text_is_the_one_the_tables_give() {
    let db = directory();
    let deleted = Contact {
        is_deleted: Some(true),
        ..contact("p3", "Gone Person", Some("gone@example.test"))
    };
    apply(
        &db,
        vec![
            client(
                "c1",
                "Harbour & Co",
                vec![
                    contact("p1", "Ana Silva", Some("ana@example.test")),
                    contact("p2", "Bo Chen", None),
                    deleted,
                    // No UUID: not linked, so not searched.
                    contact("", "Nobody", Some("nobody@example.test")),
                ],
            ),
            client(
                "c2",
                "Quay Ltd",
                vec![contact("p1", "Ana Silva", Some("ana@example.test"))],
            ),
            client("c3", "Alone", vec![]),
        ],
    );
    let texts = texts(&db);
    assert_eq!(texts.len(), 3);
    for (uuid, stored, from_tables) in &texts {
        assert_eq!(stored, from_tables, "client {uuid}");
    }
    let c1 = &texts[0].1;
    assert!(c1.contains(&"Bo Chen".to_string()) && c1.contains(&"ana@example.test".to_string()));
    assert!(
        !c1.iter().any(|l| l.contains("Gone") || l.contains("Nobody")),
        "{c1:?}"
    );
    assert_eq!(texts[2].1, ["", "Alone", "C3-CODE", "c3"]);
}

#[test]
fn a_contact_changed_through_another_client_is_found_under_both() {
    let db = directory();
    apply(
        &db,
        vec![
            client("c1", "Harbour & Co", vec![contact("p1", "Ana Silva", None)]),
            client("c2", "Quay Ltd", vec![contact("p1", "Ana Silva", None)]),
        ],
    );
    // A later run lists c2 only, with the shared contact renamed: c1's text is rewritten too.
    let mut run = Applier::new(1, 1, datetime!(2025-01-02 0:00 UTC));
    run.apply_client(
        &db,
        client("c2", "Quay Ltd", vec![contact("p1", "Ana Ngata", None)]),
    )
    .unwrap();
    let stale: String = db
        .query_row("SELECT search_text FROM clients WHERE uuid = 'c1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(stale.contains("Ana Silva"), "not yet refreshed: {stale}");
    run.refresh_search(&db).unwrap();
    for (uuid, stored, from_tables) in texts(&db) {
        assert_eq!(stored, from_tables, "client {uuid}");
        assert!(
            stored.contains(&"Ana Ngata".to_string()),
            "client {uuid}: {stored:?}"
        );
    }
}

#[test]
fn migration_8_fills_every_client() {
    let db = directory();
    apply(
        &db,
        vec![client(
            "c1",
            "Harbour & Co",
            vec![contact("p1", "Ana Silva", Some("ana@example.test"))],
        )],
    );
    let written = texts(&db);
    db.execute("UPDATE clients SET search_text = NULL", []).unwrap();
    fill(&db).unwrap();
    assert_eq!(texts(&db), written);
}
