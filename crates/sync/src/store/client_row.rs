//! How the directory holds a client, once: each field the directory reads (lists, search,
//! records) in its column of `clients`, the fields no column carries in `clients.data` (the
//! long tail, as JSON), and the collections in their tables (contacts with their links,
//! groups, relationships, notes).
//!
//! Both directions follow the schema rather than a list of fields: a `TEXT` column named as a
//! field of [`Client`]'s JSON carries that field, an `INTEGER` column carries a flag, and a
//! `<field>_uuid`/`<field>_name` pair carries a reference. So a field added as a column needs
//! its migration and its line in `Applier::write_client`, and nothing here; a field without a
//! column is kept in the long tail with no change at all.
//!
//! A value a column cannot say exactly stays in the long tail too, so that reading a client back
//! gives the client that was written: a flag XPM left out (`null`, where the column says 0), a
//! reference element with neither UUID nor name. Contacts and groups without a UUID are not kept
//! (they cannot be linked), and a group's name is the one XPM sent last.

use std::collections::HashMap;
use std::sync::OnceLock;

use hownow_xpm::Client;
use serde_json::{Map, Value};

use super::long_tail::{self, Fate, Fates};

use crate::error::Result;

/// What a column of `clients` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Carries {
    /// The field of the same name, as text.
    Text,
    /// A yes/no field (0 or 1).
    Flag,
    /// One half of a reference field: its UUID or its name.
    Reference { field: String, part: &'static str },
}

/// The client collections, each held in its own table rather than in a column.
const COLLECTIONS: [&str; 4] = ["contacts", "notes", "groups", "relationships"];

/// Columns of `clients` that are the directory's own, not a field of the client.
const OWN_COLUMNS: [&str; 8] = [
    "id",
    "connection_id",
    "data",
    "content_hash",
    "search_text",
    "first_seen_at",
    "updated_at",
    "removed_at",
];

/// The columns of `clients` that carry the client's fields, read from the schema once.
#[derive(Debug)]
pub(super) struct ClientColumns {
    /// In table order: the column and what it carries.
    columns: Vec<(String, Carries)>,
    /// By the JSON field each carries (a reference's two columns under its field).
    by_field: HashMap<String, Carries>,
    /// `name, title, …`: the columns for a `SELECT`.
    select_list: String,
    /// Each field's fate when a client is written, in the order serde hands them over.
    fates: Fates,
}

static CLIENT_COLUMNS: OnceLock<ClientColumns> = OnceLock::new();

impl ClientColumns {
    /// The columns of this build's schema (the same for every directory it has migrated).
    pub(super) fn get(db: &rusqlite::Connection) -> Result<&'static ClientColumns> {
        if let Some(columns) = CLIENT_COLUMNS.get() {
            return Ok(columns);
        }
        let columns = ClientColumns::read(db)?;
        Ok(CLIENT_COLUMNS.get_or_init(|| columns))
    }

    fn read(db: &rusqlite::Connection) -> Result<ClientColumns> {
        let mut stmt = db.prepare("SELECT name, type FROM pragma_table_info('clients') ORDER BY cid")?;
        let table: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ClientColumns::from_table(&table))
    }

    fn from_table(table: &[(String, String)]) -> ClientColumns {
        let has = |name: &str| table.iter().any(|(n, _)| n == name);
        let mut columns = Vec::new();
        for (name, kind) in table {
            if OWN_COLUMNS.contains(&name.as_str()) {
                continue;
            }
            let reference = ["uuid", "name"].into_iter().find_map(|part| {
                let field = name.strip_suffix(&format!("_{part}"))?;
                (has(&format!("{field}_uuid")) && has(&format!("{field}_name"))).then(|| Carries::Reference {
                    field: field.to_string(),
                    part,
                })
            });
            let carries = match reference {
                Some(reference) => reference,
                None if kind.eq_ignore_ascii_case("INTEGER") => Carries::Flag,
                None => Carries::Text,
            };
            columns.push((name.clone(), carries));
        }
        let by_field = columns
            .iter()
            .map(|(name, carries)| match carries {
                Carries::Reference { field, .. } => (field.clone(), carries.clone()),
                _ => (name.clone(), carries.clone()),
            })
            .collect();
        let select_list = columns
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        ClientColumns {
            columns,
            by_field,
            select_list,
            fates: Fates::new(),
        }
    }

    /// The columns to `SELECT` for [`ClientColumns::fields`], in its order.
    pub(super) fn select_list(&self) -> &str {
        &self.select_list
    }

    /// What becomes of a field of the client's JSON when it is written: carried by a column or
    /// a child table, or kept in the long tail (always, or when a column cannot say it exactly).
    fn fate_of(&self, field: &str) -> Fate {
        if COLLECTIONS.contains(&field) {
            return Fate::Carried;
        }
        match self.by_field.get(field) {
            Some(Carries::Text) => Fate::Carried,
            Some(Carries::Flag) => Fate::Flag,
            Some(Carries::Reference { .. }) => Fate::Reference,
            None => Fate::Tail,
        }
    }

    /// The long tail of `client`: the fields the columns and tables do not carry, as one JSON
    /// object (`{}` when there are none), in the canonical order. This runs for every client a
    /// sync writes, so it is written from the client in one pass ([`long_tail`]).
    pub(super) fn long_tail(&self, client: &Client) -> String {
        long_tail::write(client, &self.fates, &|field| self.fate_of(field))
    }

    /// A client's fields from its columns (`row` from `first`, in [`ClientColumns::select_list`]
    /// order) and its long tail. The collections are empty: their tables fill them.
    pub(super) fn client(
        &self,
        row: &rusqlite::Row<'_>,
        first: usize,
        tail: &str,
    ) -> rusqlite::Result<Client> {
        let mut fields = Map::new();
        for (i, (_, carries)) in self.columns.iter().enumerate() {
            let name = &self.columns[i].0;
            match carries {
                Carries::Text => {
                    if let Some(text) = row.get::<_, Option<String>>(first + i)? {
                        fields.insert(name.clone(), Value::String(text));
                    }
                }
                Carries::Flag => {
                    let flag: bool = row.get(first + i)?;
                    fields.insert(name.clone(), Value::Bool(flag));
                }
                Carries::Reference { field, part } => {
                    if let Some(text) = row.get::<_, Option<String>>(first + i)? {
                        let reference = fields
                            .entry(field.clone())
                            .or_insert_with(|| serde_json::json!({"uuid": null, "name": null}));
                        reference[*part] = Value::String(text);
                    }
                }
            }
        }
        for collection in COLLECTIONS {
            fields.insert(collection.to_string(), Value::Array(Vec::new()));
        }
        let uuid = fields.get("uuid").and_then(Value::as_str).map(str::to_string);
        match serde_json::from_str::<Map<String, Value>>(tail) {
            Ok(tail) => fields.extend(tail),
            Err(e) => {
                tracing::warn!(?uuid, error = %e, "a stored client's long tail could not be read; showing its columns only")
            }
        }
        Ok(serde_json::from_value(Value::Object(fields)).unwrap_or_else(|e| {
            tracing::warn!(?uuid, error = %e, "a stored client could not be read back; showing its UUID only");
            Client {
                uuid,
                ..Default::default()
            }
        }))
    }
}

/// `client` as the directory will read it back: contacts and groups without a UUID left out,
/// and a contact's flags as their table says them (an absent flag is "no"). The applier measures
/// field changes between two clients in this form, so a difference of storage is not a change.
pub(super) fn stored_form(mut client: Client) -> Client {
    client
        .contacts
        .retain(|c| c.uuid.as_deref().is_some_and(|u| !u.is_empty()));
    for contact in &mut client.contacts {
        contact.is_primary.get_or_insert(false);
        contact.is_deleted.get_or_insert(false);
    }
    client
        .groups
        .retain(|g| g.uuid.as_deref().is_some_and(|u| !u.is_empty()));
    client
}

#[cfg(test)]
#[path = "client_row_tests.rs"]
mod tests;
