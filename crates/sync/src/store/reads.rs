//! Reading the directory back for the window and the CLI: clients (a page of a search, or one
//! by UUID) with the contacts they list, and the counts. Read-only, so these run on the engine's
//! pool of read-only handles while a sync holds the write transaction. The writes are in
//! [`super::apply`].

use hownow_xpm::{Client, Contact};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use super::Store;
use crate::clock;
use crate::error::Result;

/// Live clients of a connection (also what an applier counts before a run it did not preload).
pub(super) fn live_client_count(db: &rusqlite::Connection, connection_id: i64) -> Result<u64> {
    let n: i64 = db
        .prepare_cached("SELECT COUNT(*) FROM clients WHERE connection_id = ?1 AND removed_at IS NULL")?
        .query_row([connection_id], |r| r.get(0))?;
    Ok(n as u64)
}

/// A client as the directory holds it: XPM's record (its contacts taken from the contact
/// tables, which the contact sweep keeps current) and the directory's own times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectoryClient {
    #[serde(flatten)]
    pub client: Client,
    pub first_seen_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Set when the client left XPM (deleted, or absent from a complete list).
    pub removed_at: Option<OffsetDateTime>,
}

/// The clients a [`ClientQuery`] selects (`?1` connection, `?2` include removed, `?3` pattern):
/// by the client's name, code, email or UUID, or by the name or email of a contact it lists.
/// The contacts' match is a subquery evaluated once for the whole search: the matching contacts,
/// then the clients that list them, as two sets rather than a join per contact.
pub(super) const CLIENT_FILTER: &str = "WHERE connection_id = ?1 AND (?2 OR removed_at IS NULL) \
     AND (?3 IS NULL OR name LIKE ?3 ESCAPE '\\' OR client_code LIKE ?3 ESCAPE '\\' \
     OR email LIKE ?3 ESCAPE '\\' OR uuid LIKE ?3 ESCAPE '\\' \
     OR uuid IN (SELECT client_uuid FROM client_contacts WHERE connection_id = ?1 \
       AND contact_uuid IN (SELECT uuid FROM contacts WHERE connection_id = ?1 \
       AND is_deleted = 0 AND removed_at IS NULL \
       AND (name LIKE ?3 ESCAPE '\\' OR email LIKE ?3 ESCAPE '\\'))))";

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
    /// Clients of a connection by name, with their contacts.
    pub fn clients(&self, connection_id: i64, query: &ClientQuery) -> Result<Vec<DirectoryClient>> {
        self.clients_limited(connection_id, query, None)
    }

    fn clients_limited(
        &self,
        connection_id: i64,
        query: &ClientQuery,
        limit: Option<usize>,
    ) -> Result<Vec<DirectoryClient>> {
        let pattern = like_pattern(query);
        let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let mut stmt = self.db().prepare_cached(&format!(
            "SELECT uuid, data, first_seen_at, updated_at, removed_at FROM clients {CLIENT_FILTER} \
             ORDER BY name COLLATE NOCASE, uuid LIMIT ?4"
        ))?;
        let rows = stmt.query_map(
            params![connection_id, query.include_removed, pattern, limit],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (uuid, data, first_seen, updated, removed) = row?;
            out.push(self.directory_client(connection_id, &uuid, &data, &first_seen, &updated, removed)?);
        }
        Ok(out)
    }

    /// One client by UUID (removed ones included).
    pub fn client(&self, connection_id: i64, uuid: &str) -> Result<Option<DirectoryClient>> {
        let row = self
            .db()
            .query_row(
                "SELECT data, first_seen_at, updated_at, removed_at FROM clients WHERE connection_id = ?1 AND uuid = ?2",
                params![connection_id, uuid],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?)),
            )
            .optional()?;
        row.map(|(data, first, updated, removed)| {
            self.directory_client(connection_id, uuid, &data, &first, &updated, removed)
        })
        .transpose()
    }

    fn directory_client(
        &self,
        connection_id: i64,
        uuid: &str,
        data: &str,
        first_seen: &str,
        updated: &str,
        removed: Option<String>,
    ) -> Result<DirectoryClient> {
        let mut client: Client = serde_json::from_str(data).unwrap_or_else(|e| {
            tracing::warn!(uuid, error = %e, "a stored client could not be read back; showing its UUID only");
            Client {
                uuid: Some(uuid.to_string()),
                ..Default::default()
            }
        });
        client.contacts = self.contacts_of(connection_id, uuid)?;
        Ok(DirectoryClient {
            client,
            first_seen_at: clock::from_db(first_seen).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            updated_at: clock::from_db(updated).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            removed_at: removed.as_deref().and_then(clock::from_db),
        })
    }

    /// The contacts a client lists, in XPM's order, with the link's primary flag and position.
    pub fn contacts_of(&self, connection_id: i64, client_uuid: &str) -> Result<Vec<Contact>> {
        let mut stmt = self.db().prepare_cached(
            "SELECT c.uuid, c.name, c.salutation, c.addressee, c.mobile, c.email, c.phone, cc.position, \
             cc.is_primary, c.is_deleted OR c.removed_at IS NOT NULL FROM client_contacts cc JOIN contacts c \
             ON c.connection_id = cc.connection_id AND c.uuid = cc.contact_uuid \
             WHERE cc.connection_id = ?1 AND cc.client_uuid = ?2 ORDER BY cc.sort_order, c.uuid",
        )?;
        let rows = stmt.query_map(params![connection_id, client_uuid], |r| {
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
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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
