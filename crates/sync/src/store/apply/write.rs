//! The SQL that writes one client and its child rows (contact links, groups, relationships,
//! notes), the contacts it lists and the run's change log. Kept apart from the decisions in
//! [`super`] so that the mapping of each XPM field to its column is in one place,
//! [`Applier::write_client`] (see "Adding an XPM field" in the store's docs).

use std::sync::OnceLock;

use hownow_xpm::{Contact, Reference};
use rusqlite::types::ToSql;
use rusqlite::{named_params, params, CachedStatement, OptionalExtension};

use super::{flag, Applier, PreparedClient, StoredContact};
use crate::error::Result;
use crate::hash::ContentHash;
use crate::store::runs::SyncChange;

/// The statements a [`Writer`] holds, one slot each.
#[derive(Debug, Clone, Copy)]
pub(super) enum Slot {
    ClientUpsert,
    ClientState,
    ContactUpsert,
    ContactState,
    ContactLink,
    Group,
    GroupLink,
    Relationship,
    Note,
    Change,
    ClearContactLinks,
    ClearGroupLinks,
    ClearRelationships,
    ClearNotes,
}

impl Slot {
    const COUNT: usize = Slot::ClearNotes as usize + 1;
}

/// The statements that clear a client's child rows, each with its slot.
const CLEAR_CHILDREN: [(Slot, &str); 4] = [
    (
        Slot::ClearContactLinks,
        "DELETE FROM client_contacts WHERE connection_id = ?1 AND client_uuid = ?2",
    ),
    (
        Slot::ClearGroupLinks,
        "DELETE FROM client_groups WHERE connection_id = ?1 AND client_uuid = ?2",
    ),
    (
        Slot::ClearRelationships,
        "DELETE FROM relationships WHERE connection_id = ?1 AND client_uuid = ?2",
    ),
    (
        Slot::ClearNotes,
        "DELETE FROM notes WHERE connection_id = ?1 AND client_uuid = ?2",
    ),
];

/// The run's connection, with the statements that write clients held for a batch of them.
///
/// Each statement is taken from rusqlite's cache on first use and kept until the writer is
/// dropped, instead of being looked up for every row: the lookup hashes the SQL's text twice
/// (out of the cache and back into it), and the client upsert's text is 2.9 KB. A sync makes one
/// writer for the clients it has ready at once, so that a batch costs one lookup a statement.
pub(crate) struct Writer<'db> {
    db: &'db rusqlite::Connection,
    held: [Option<CachedStatement<'db>>; Slot::COUNT],
}

impl<'db> Writer<'db> {
    pub(crate) fn new(db: &'db rusqlite::Connection) -> Self {
        Writer {
            db,
            held: std::array::from_fn(|_| None),
        }
    }

    pub(crate) fn db(&self) -> &'db rusqlite::Connection {
        self.db
    }

    /// The statement in `slot`, prepared from `sql` the first time (every use of a slot passes
    /// the same SQL).
    pub(super) fn statement(&mut self, slot: Slot, sql: &str) -> Result<&mut CachedStatement<'db>> {
        let held = &mut self.held[slot as usize];
        if held.is_none() {
            *held = Some(self.db.prepare_cached(sql)?);
        }
        Ok(held.as_mut().expect("prepared just above"))
    }

    /// Adds `change` to the run's change log (`sync_changes`).
    pub(super) fn record_change(&mut self, change: &SyncChange) -> Result<()> {
        self.statement(
            Slot::Change,
            "INSERT INTO sync_changes (run_id, record_kind, uuid, change, field, old_value, new_value) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            change.run_id,
            change.record_kind.as_str(),
            change.uuid,
            change.change.as_str(),
            change.field,
            change.old_value,
            change.new_value
        ])?;
        Ok(())
    }
}

fn reference(r: &Option<Reference>) -> (Option<&str>, Option<&str>) {
    match r {
        Some(r) => (r.uuid.as_deref(), r.name.as_deref()),
        None => (None, None),
    }
}

/// One row to upsert: each parameter `:column` is the value of that column.
type Row<'a> = &'a [(&'a str, &'a dyn ToSql)];

/// The upserts' SQL, built on first use from their rows' parameter names.
static CLIENT_UPSERT: OnceLock<String> = OnceLock::new();
static CONTACT_UPSERT: OnceLock<String> = OnceLock::new();

/// Columns an upsert leaves alone on a row that exists: its key, and when it was first seen.
const KEPT_ON_CONFLICT: [&str; 3] = ["connection_id", "uuid", "first_seen_at"];

/// `INSERT INTO table (columns) VALUES (:columns) ON CONFLICT (connection_id, uuid) DO UPDATE
/// SET column = excluded.column, …`, one column per parameter of `row`. Built from the
/// parameters rather than written out, so that a column is added in one place (its line in the
/// row) and no list of columns can drift from its list of values.
fn upsert_sql(table: &str, row: Row<'_>) -> String {
    let columns: Vec<&str> = row.iter().map(|(p, _)| p.trim_start_matches(':')).collect();
    let values: Vec<&str> = row.iter().map(|(p, _)| *p).collect();
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !KEPT_ON_CONFLICT.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT (connection_id, uuid) DO UPDATE SET {}",
        columns.join(", "),
        values.join(", "),
        updates.join(", ")
    )
}

/// Upserts `row` into `table` with the statement in `slot`, whose SQL is cached in `sql` (built
/// from the first row: every call site passes the same parameters).
///
/// The values are bound in the row's order: SQLite numbers `:name` parameters as they first
/// appear, and [`upsert_sql`] lists them in that order (a test checks each number). Binding by
/// name would look each of the 47 names up in a linear scan of the statement's: that cost 5–8%
/// of the in-memory full sync's clients/s (`full_sync` bench, alternated runs).
fn upsert(
    w: &mut Writer<'_>,
    slot: Slot,
    sql: &'static OnceLock<String>,
    table: &str,
    row: Row<'_>,
) -> Result<()> {
    let sql = sql.get_or_init(|| upsert_sql(table, row));
    let values = row.iter().map(|(_, value)| value);
    w.statement(slot, sql)?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

impl Applier {
    pub(super) fn write_client(
        &mut self,
        w: &mut Writer<'_>,
        uuid: &str,
        prepared: &PreparedClient,
        removed_at: Option<String>,
    ) -> Result<()> {
        let c = &prepared.client;
        let (am_uuid, am_name) = reference(&c.account_manager);
        let (jm_uuid, jm_name) = reference(&c.job_manager);
        let (bc_uuid, bc_name) = reference(&c.billing_client);
        let dob = c.date_of_birth.map(|d| d.to_string());
        // The mapping from XPM's client to the `clients` columns: one line per column.
        let row = named_params! {
            ":connection_id": self.connection_id,
            ":uuid": uuid,
            ":name": c.name,
            ":title": c.title,
            ":gender": c.gender,
            ":first_name": c.first_name,
            ":last_name": c.last_name,
            ":other_name": c.other_name,
            ":middle_name": c.middle_name,
            ":date_of_birth": dob,
            ":email": c.email,
            ":address": c.address,
            ":city": c.city,
            ":region": c.region,
            ":post_code": c.post_code,
            ":country": c.country,
            ":postal_address": c.postal_address,
            ":postal_city": c.postal_city,
            ":postal_region": c.postal_region,
            ":postal_post_code": c.postal_post_code,
            ":postal_country": c.postal_country,
            ":phone": c.phone,
            ":fax": c.fax,
            ":website": c.website,
            ":referral_source": c.referral_source,
            ":export_code": c.export_code,
            ":client_code": c.client_code,
            ":web_url": c.web_url,
            ":is_prospect": flag(c.is_prospect),
            ":is_archived": flag(c.is_archived),
            ":is_deleted": flag(c.is_deleted),
            ":account_manager_uuid": am_uuid,
            ":account_manager_name": am_name,
            ":job_manager_uuid": jm_uuid,
            ":job_manager_name": jm_name,
            ":billing_client_uuid": bc_uuid,
            ":billing_client_name": bc_name,
            ":business_structure": c.business_structure,
            ":tax_number": c.tax_number,
            ":company_number": c.company_number,
            ":business_number": c.business_number,
            // What the columns here and the child tables do not carry (`client_row`).
            ":data": prepared.long_tail,
            ":content_hash": prepared.hash.as_slice(),
            ":first_seen_at": self.now,
            ":updated_at": self.now,
            ":removed_at": removed_at,
            ":search_text": prepared.search_text,
        };
        upsert(w, Slot::ClientUpsert, &CLIENT_UPSERT, "clients", row)?;
        self.counts.client_rows_written += 1;
        Ok(())
    }

    pub(in crate::store) fn write_children(
        &mut self,
        w: &mut Writer<'_>,
        uuid: &str,
        prepared: &PreparedClient,
        replace: bool,
    ) -> Result<()> {
        let (c, contact_order) = (&prepared.client, &prepared.contact_order);
        let conn = self.connection_id;
        if replace {
            for (slot, sql) in CLEAR_CHILDREN {
                w.statement(slot, sql)?.execute(params![conn, uuid])?;
            }
        }
        for (contact, hash) in c.contacts.iter().zip(&prepared.contact_hashes) {
            let Some(contact_uuid) = contact.uuid.as_deref().filter(|u| !u.is_empty()) else {
                continue;
            };
            self.upsert_contact_from_client(w, contact_uuid, contact, hash)?;
            let sort_order = contact_order
                .iter()
                .position(|u| u.as_deref() == Some(contact_uuid))
                .unwrap_or(usize::MAX) as i64;
            w.statement(
                Slot::ContactLink,
                "INSERT INTO client_contacts (connection_id, client_uuid, contact_uuid, is_primary, position, sort_order) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?
            .execute(params![conn, uuid, contact_uuid, flag(contact.is_primary), contact.position, sort_order])?;
        }
        for group in &c.groups {
            let Some(group_uuid) = group.uuid.as_deref().filter(|u| !u.is_empty()) else {
                continue;
            };
            if self.groups_written.get(group_uuid) != Some(&group.name) {
                w.statement(
                    Slot::Group,
                    "INSERT INTO groups (connection_id, uuid, name) VALUES (?1, ?2, ?3) \
                     ON CONFLICT DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name",
                )?
                .execute(params![conn, group_uuid, group.name])?;
                self.groups_written
                    .insert(group_uuid.to_string(), group.name.clone());
            }
            w.statement(
                Slot::GroupLink,
                "INSERT INTO client_groups (connection_id, client_uuid, group_uuid) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![conn, uuid, group_uuid])?;
        }
        for (i, r) in c.relationships.iter().enumerate() {
            let (rc_uuid, rc_name) = reference(&r.related_client);
            w.statement(
                Slot::Relationship,
                "INSERT INTO relationships (connection_id, client_uuid, sort_order, uuid, relationship_type, \
                 related_client_uuid, related_client_name, number_of_shares, percentage, start_date, end_date) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                conn,
                uuid,
                i as i64,
                r.uuid,
                r.relationship_type,
                rc_uuid,
                rc_name,
                r.number_of_shares,
                r.percentage,
                r.start_date.map(|d| d.to_string()),
                r.end_date.map(|d| d.to_string()),
            ])?;
        }
        for (i, n) in c.notes.iter().enumerate() {
            w.statement(
                Slot::Note,
                "INSERT INTO notes (connection_id, client_uuid, sort_order, title, text, folder, date, created_by) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                conn,
                uuid,
                i as i64,
                n.title,
                n.text,
                n.folder,
                n.date.map(|d| d.to_string()),
                n.created_by
            ])?;
        }
        Ok(())
    }

    /// A contact as listed under a client: inserted, or updated when its content changed.
    fn upsert_contact_from_client(
        &mut self,
        w: &mut Writer<'_>,
        uuid: &str,
        c: &Contact,
        hash: &ContentHash,
    ) -> Result<()> {
        let stored: Option<(Vec<u8>, bool, bool)> = match &self.known_contacts {
            Some(known) => known.get(uuid).map(|k| (k.hash.clone(), k.removed, k.deleted)),
            None => w
                .statement(
                    Slot::ContactState,
                    "SELECT content_hash, removed_at IS NOT NULL, is_deleted FROM contacts WHERE connection_id = ?1 AND uuid = ?2",
                )?
                .query_row(params![self.connection_id, uuid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?,
        };
        let deleted = flag(c.is_deleted);
        match stored {
            Some((h, removed, was_deleted))
                if h.as_slice() == hash.as_slice() && !removed && was_deleted == deleted =>
            {
                Ok(())
            }
            other => {
                if matches!(other, Some((ref h, ..)) if h.as_slice() != hash.as_slice()) {
                    self.changed_contacts.insert(uuid.to_string());
                    self.search_stale.insert(uuid.to_string());
                }
                self.write_contact(w, uuid, c, hash)
            }
        }
    }

    pub(super) fn write_contact(
        &mut self,
        w: &mut Writer<'_>,
        uuid: &str,
        c: &Contact,
        hash: &ContentHash,
    ) -> Result<()> {
        if let Some(known) = &mut self.known_contacts {
            known.insert(
                uuid.to_string(),
                StoredContact {
                    hash: hash.to_vec(),
                    removed: false,
                    deleted: flag(c.is_deleted),
                },
            );
        }
        let row = named_params! {
            ":connection_id": self.connection_id,
            ":uuid": uuid,
            ":name": c.name,
            ":salutation": c.salutation,
            ":addressee": c.addressee,
            ":mobile": c.mobile,
            ":email": c.email,
            ":phone": c.phone,
            ":is_deleted": flag(c.is_deleted),
            ":content_hash": hash.as_slice(),
            ":first_seen_at": self.now,
            ":updated_at": self.now,
            // Listed again, so not removed (any more).
            ":removed_at": None::<&str>,
        };
        upsert(w, Slot::ContactUpsert, &CONTACT_UPSERT, "contacts", row)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Preparer;
    use super::*;
    use crate::store::migrations;
    use hownow_xpm::Client;

    fn table_columns(db: &rusqlite::Connection, table: &str) -> Vec<String> {
        let mut stmt = db.prepare(&format!("PRAGMA table_info({table})")).unwrap();
        let columns = stmt.query_map([], |r| r.get::<_, String>(1)).unwrap();
        columns.map(Result::unwrap).filter(|c| c != "id").collect()
    }

    fn upsert_columns(sql: &OnceLock<String>) -> Vec<String> {
        let sql = sql.get().expect("the upsert ran");
        let list = &sql[sql.find('(').unwrap() + 1..sql.find(')').unwrap()];
        list.split(", ").map(str::to_string).collect()
    }

    /// A writer holds its statements from row to row: a row that fails leaves its statement
    /// ready for the next one.
    #[test]
    fn a_held_statement_survives_a_failed_row() {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .unwrap();
        let sql = "INSERT INTO t (k, v) VALUES (?1, ?2)";
        let mut w = Writer::new(&db);
        let mut insert =
            |k: i64, v: Option<&str>| w.statement(Slot::Note, sql).unwrap().execute(params![k, v]);
        insert(1, Some("a")).unwrap();
        assert!(insert(1, Some("again")).is_err(), "the key is taken");
        assert!(insert(2, None).is_err(), "v is NOT NULL");
        insert(2, Some("b")).unwrap();
        drop(w);
        let rows: Vec<(i64, String)> = db
            .prepare("SELECT k, v FROM t ORDER BY k")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows, [(1, "a".to_string()), (2, "b".to_string())]);
    }

    /// The recipe for a new XPM field adds a column in a migration and a line in the mapping:
    /// a column without its line (or a line without its column) fails here.
    #[test]
    fn the_upserts_write_every_column_of_their_tables() {
        let mut db = rusqlite::Connection::open_in_memory().unwrap();
        migrations::migrate(&mut db, std::path::Path::new(":memory:")).unwrap();
        db.execute(
            "INSERT INTO connections (id, xero_connection_id, tenant_id, tenant_name, created_at, updated_at) \
             VALUES (1, 'x', 't', 'Practice', '', '')",
            [],
        )
        .unwrap();
        let mut applier = Applier::new(1, 1, time::OffsetDateTime::UNIX_EPOCH);
        let client = Client {
            uuid: Some("c1".into()),
            name: Some("Client".into()),
            contacts: vec![Contact {
                uuid: Some("p1".into()),
                name: Some("Person".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let prepared = Preparer::new(&db).unwrap().prepare(client);
        let mut w = Writer::new(&db);
        applier.write_client(&mut w, "c1", &prepared, None).unwrap();
        applier.write_children(&mut w, "c1", &prepared, false).unwrap();
        drop(w);
        for (sql, table) in [(&CLIENT_UPSERT, "clients"), (&CONTACT_UPSERT, "contacts")] {
            let columns = upsert_columns(sql);
            assert_eq!(columns, table_columns(&db, table));
            // `upsert` binds by position: each `:column` must be numbered as it is listed.
            let stmt = db.prepare(sql.get().unwrap()).unwrap();
            assert_eq!(stmt.parameter_count(), columns.len());
            for (i, column) in columns.iter().enumerate() {
                assert_eq!(stmt.parameter_index(&format!(":{column}")).unwrap(), Some(i + 1));
            }
        }
        // Written again: the row is updated in place and keeps when it was first seen.
        let mut later = Applier::new(1, 2, time::macros::datetime!(2025-01-01 0:00 UTC));
        later
            .write_client(&mut Writer::new(&db), "c1", &prepared, None)
            .unwrap();
        let (rows, first_seen, updated): (i64, String, String) = db
            .query_row(
                "SELECT COUNT(*), first_seen_at, updated_at FROM clients",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(rows, 1);
        assert_eq!(first_seen, "1970-01-01T00:00:00.000Z");
        assert_eq!(updated, "2025-01-01T00:00:00.000Z");
    }
}
