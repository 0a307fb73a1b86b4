//! Reading the directory back for the window and the CLI: clients (a page of a search, or one
//! by UUID) with the contacts they list, and the counts. Read-only, so these run on the engine's
//! pool of read-only handles while a sync holds the write transaction. The writes are in
//! [`super::apply`].

use hownow_xpm::{Client, Contact, Note, Reference, Relationship, XpmDate};
use rusqlite::params;
use serde::Serialize;
use time::OffsetDateTime;

use super::client_row::ClientColumns;
use super::Store;
use crate::clock;
use crate::error::{Result, SyncError};

/// Live clients of a connection (also what an applier counts before a run it did not preload).
pub(super) fn live_client_count(db: &rusqlite::Connection, connection_id: i64) -> Result<u64> {
    let n: i64 = db
        .prepare_cached("SELECT COUNT(*) FROM clients WHERE connection_id = ?1 AND removed_at IS NULL")?
        .query_row([connection_id], |r| r.get(0))?;
    Ok(n as u64)
}

/// One client with everything the directory holds of it: XPM's record (its contacts, groups,
/// relationships and notes from their tables) and the directory's own times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientDetail {
    #[serde(flatten)]
    pub client: Client,
    pub first_seen_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Set when the client left XPM (deleted, or absent from a complete list).
    pub removed_at: Option<OffsetDateTime>,
}

/// A date as the directory writes it (XPM's own form, which reads back as written).
fn date(text: Option<String>) -> Option<XpmDate> {
    text.and_then(|t| t.parse().ok())
}

/// The clients a [`ClientQuery`] selects (`?1` connection, `?2` include removed, `?3` pattern):
/// by the client's name, code, email or UUID, or by the name or email of a live contact it
/// lists, all in its `search_text` ([`super::search`]).
pub(super) const CLIENT_FILTER: &str = "WHERE connection_id = ?1 AND (?2 OR removed_at IS NULL) \
     AND (?3 IS NULL OR search_text LIKE ?3 ESCAPE '\\')";

/// The `LIKE` pattern of a query's search text (its `%`, `_` and `\` taken literally).
pub(super) fn like_pattern(query: &ClientQuery) -> Option<String> {
    query.search.as_ref().map(|s| {
        let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    })
}

#[derive(Debug, Clone, Default)]
pub struct ClientQuery {
    /// Case-insensitive substring of the name, client code, email or UUID, or of the name or
    /// email of a contact the client lists.
    pub search: Option<String>,
    pub include_removed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirectoryCounts {
    /// Clients in the directory (not removed), archived ones included.
    pub clients: u64,
    pub archived: u64,
    pub removed: u64,
    pub contacts: u64,
}

impl Store {
    /// Hands each client `query` selects to `f`, whole, by name: one at a time, so that an
    /// export of 15,000 clients holds one in memory. Stops at the first error `f` returns.
    pub fn for_each_client<E: From<SyncError>>(
        &self,
        connection_id: i64,
        query: &ClientQuery,
        f: impl FnMut(ClientDetail) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        self.for_each_client_with(connection_id, query, Parts::Whole, f)
    }

    /// [`Store::for_each_client`], reading of the collections only what `parts` says.
    pub(super) fn for_each_client_with<E: From<SyncError>>(
        &self,
        connection_id: i64,
        query: &ClientQuery,
        parts: Parts,
        mut f: impl FnMut(ClientDetail) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let columns = ClientColumns::get(self.db())?;
        let pattern = like_pattern(query);
        let mut stmt = self
            .db()
            .prepare_cached(&format!(
                "SELECT data, first_seen_at, updated_at, removed_at, {} FROM clients {CLIENT_FILTER} \
                 ORDER BY name COLLATE NOCASE, uuid",
                columns.select_list()
            ))
            .map_err(SyncError::from)?;
        let mut rows = stmt
            .query(params![connection_id, query.include_removed, pattern])
            .map_err(SyncError::from)?;
        while let Some(row) = rows.next().map_err(SyncError::from)? {
            f(client_detail_from(self.db(), connection_id, columns, row, parts)?)?;
        }
        Ok(())
    }

    /// One client by UUID (removed ones included), whole.
    pub fn client(&self, connection_id: i64, uuid: &str) -> Result<Option<ClientDetail>> {
        client(self.db(), connection_id, uuid)
    }

    /// The contacts a client lists, in XPM's order, with the link's primary flag and position.
    pub fn contacts_of(&self, connection_id: i64, client_uuid: &str) -> Result<Vec<Contact>> {
        contacts_of(self.db(), connection_id, client_uuid)
    }

    pub fn counts(&self, connection_id: i64) -> Result<DirectoryCounts> {
        let db = self.db();
        let (clients, archived, removed): (i64, i64, i64) = db.query_row(
            "SELECT COALESCE(SUM(removed_at IS NULL), 0), COALESCE(SUM(removed_at IS NULL AND is_archived), 0), \
             COALESCE(SUM(removed_at IS NOT NULL), 0) FROM clients WHERE connection_id = ?1",
            [connection_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let contacts: i64 = db.query_row(
            "SELECT COUNT(*) FROM contacts WHERE connection_id = ?1 AND removed_at IS NULL AND is_deleted = 0",
            [connection_id],
            |r| r.get(0),
        )?;
        Ok(DirectoryCounts {
            clients: clients as u64,
            archived: archived as u64,
            removed: removed as u64,
            contacts: contacts as u64,
        })
    }

    /// Live clients, for estimates.
    pub fn live_client_count(&self, connection_id: i64) -> Result<u64> {
        live_client_count(self.db(), connection_id)
    }
}

/// One client by UUID (removed ones included), whole.
pub(super) fn client(
    db: &rusqlite::Connection,
    connection_id: i64,
    uuid: &str,
) -> Result<Option<ClientDetail>> {
    let columns = ClientColumns::get(db)?;
    let mut stmt = db.prepare_cached(&format!(
        "SELECT data, first_seen_at, updated_at, removed_at, {} FROM clients \
         WHERE connection_id = ?1 AND uuid = ?2",
        columns.select_list()
    ))?;
    let mut rows = stmt.query(params![connection_id, uuid])?;
    match rows.next()? {
        Some(row) => Ok(Some(client_detail_from(
            db,
            connection_id,
            columns,
            row,
            Parts::Whole,
        )?)),
        None => Ok(None),
    }
}

/// Which of a client's collections a read fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parts {
    /// Contacts, groups, relationships and notes.
    Whole,
    /// Contacts only: what a HowNow record is made from (a third of the queries per client).
    Contacts,
}

/// A client from its row (`data`, the three times, then the columns) and its tables.
fn client_detail_from(
    db: &rusqlite::Connection,
    connection_id: i64,
    columns: &ClientColumns,
    row: &rusqlite::Row<'_>,
    parts: Parts,
) -> Result<ClientDetail> {
    let tail: String = row.get(0)?;
    let time = |i: usize| -> rusqlite::Result<Option<OffsetDateTime>> {
        Ok(row
            .get::<_, Option<String>>(i)?
            .as_deref()
            .and_then(clock::from_db))
    };
    let mut client = columns.client(row, 4, &tail)?;
    let uuid = client.uuid.clone().unwrap_or_default();
    client.contacts = contacts_of(db, connection_id, &uuid)?;
    if parts == Parts::Whole {
        client.groups = groups_of(db, connection_id, &uuid)?;
        client.relationships = relationships_of(db, connection_id, &uuid)?;
        client.notes = notes_of(db, connection_id, &uuid)?;
    }
    Ok(ClientDetail {
        client,
        first_seen_at: time(1)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        updated_at: time(2)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        removed_at: time(3)?,
    })
}

/// The rows `sql` selects for one client (`?1` connection, `?2` client), each mapped by `row`.
fn child_rows<T>(
    db: &rusqlite::Connection,
    sql: &str,
    connection_id: i64,
    client_uuid: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = db.prepare_cached(sql)?;
    let rows = stmt.query_map(params![connection_id, client_uuid], row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn groups_of(db: &rusqlite::Connection, connection_id: i64, client_uuid: &str) -> Result<Vec<Reference>> {
    child_rows(
        db,
        "SELECT g.uuid, g.name FROM client_groups cg JOIN groups g \
         ON g.connection_id = cg.connection_id AND g.uuid = cg.group_uuid \
         WHERE cg.connection_id = ?1 AND cg.client_uuid = ?2 ORDER BY g.uuid, g.name",
        connection_id,
        client_uuid,
        |r| {
            Ok(Reference {
                uuid: r.get(0)?,
                name: r.get(1)?,
            })
        },
    )
}

fn relationships_of(
    db: &rusqlite::Connection,
    connection_id: i64,
    client_uuid: &str,
) -> Result<Vec<Relationship>> {
    child_rows(
        db,
        "SELECT uuid, relationship_type, related_client_uuid, related_client_name, number_of_shares, \
         percentage, start_date, end_date FROM relationships \
         WHERE connection_id = ?1 AND client_uuid = ?2 ORDER BY sort_order",
        connection_id,
        client_uuid,
        |r| {
            let related_uuid: Option<String> = r.get(2)?;
            let related_name: Option<String> = r.get(3)?;
            Ok(Relationship {
                uuid: r.get(0)?,
                relationship_type: r.get(1)?,
                related_client: (related_uuid.is_some() || related_name.is_some()).then_some(Reference {
                    uuid: related_uuid,
                    name: related_name,
                }),
                number_of_shares: r.get(4)?,
                percentage: r.get(5)?,
                start_date: date(r.get(6)?),
                end_date: date(r.get(7)?),
            })
        },
    )
}

fn notes_of(db: &rusqlite::Connection, connection_id: i64, client_uuid: &str) -> Result<Vec<Note>> {
    child_rows(
        db,
        "SELECT title, text, folder, date, created_by FROM notes \
         WHERE connection_id = ?1 AND client_uuid = ?2 ORDER BY sort_order",
        connection_id,
        client_uuid,
        |r| {
            Ok(Note {
                title: r.get(0)?,
                text: r.get(1)?,
                folder: r.get(2)?,
                date: date(r.get(3)?),
                created_by: r.get(4)?,
            })
        },
    )
}

/// The contacts a client lists, in XPM's order, with the link's primary flag and position.
fn contacts_of(db: &rusqlite::Connection, connection_id: i64, client_uuid: &str) -> Result<Vec<Contact>> {
    child_rows(
        db,
        "SELECT c.uuid, c.name, c.salutation, c.addressee, c.mobile, c.email, c.phone, cc.position, \
         cc.is_primary, c.is_deleted OR c.removed_at IS NOT NULL FROM client_contacts cc JOIN contacts c \
         ON c.connection_id = cc.connection_id AND c.uuid = cc.contact_uuid \
         WHERE cc.connection_id = ?1 AND cc.client_uuid = ?2 ORDER BY cc.sort_order, c.uuid",
        connection_id,
        client_uuid,
        |r| {
            Ok(Contact {
                uuid: r.get(0)?,
                name: r.get(1)?,
                salutation: r.get(2)?,
                addressee: r.get(3)?,
                mobile: r.get(4)?,
                email: r.get(5)?,
                phone: r.get(6)?,
                position: r.get(7)?,
                is_primary: Some(r.get(8)?),
                is_deleted: Some(r.get(9)?),
            })
        },
    )
}
