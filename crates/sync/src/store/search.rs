//! What the client search matches: each client's `search_text`, its name, client code, email and
//! UUID and the names and emails of the live contacts it lists, one per line. Kept in the
//! client's row so that a search is one pass over one covering index (`clients_search`), with no
//! join per contact: a page of 200 out of 15,000 clients, counted, in a few milliseconds.
//!
//! Written two ways that give the same text: in Rust from the client a sync writes (one more
//! column of the upsert, no extra statement), and in SQL from the tables for the clients whose
//! contacts changed after they were written (a contact changed through another client, or by the
//! contact sweep) and by the migration that added it. A unit test holds the two together.

use std::collections::HashSet;

use hownow_xpm::Client;
use rusqlite::params;

use crate::error::Result;

/// The text the search matches for `client`, as a sync writes it.
pub(super) fn search_text(client: &Client) -> String {
    let mut lines = vec![
        client.name.as_deref().unwrap_or_default(),
        client.client_code.as_deref().unwrap_or_default(),
        client.email.as_deref().unwrap_or_default(),
        client.uuid.as_deref().unwrap_or_default(),
    ];
    for contact in &client.contacts {
        let linked = contact.uuid.as_deref().is_some_and(|u| !u.is_empty());
        if linked && contact.is_deleted != Some(true) {
            lines.push(contact.name.as_deref().unwrap_or_default());
            lines.push(contact.email.as_deref().unwrap_or_default());
        }
    }
    lines.join("\n")
}

/// [`search_text`] from the tables, for the client row aliased `c`. CROSS JOIN: the client's few
/// links drive the contacts' lookup (the planner would otherwise scan every contact per client).
pub(super) const SEARCH_TEXT_SQL: &str = "coalesce(c.name, '') || char(10) || coalesce(c.client_code, '') \
     || char(10) || coalesce(c.email, '') || char(10) || c.uuid || coalesce(char(10) || \
     (SELECT group_concat(coalesce(k.name, '') || char(10) || coalesce(k.email, ''), char(10)) \
      FROM client_contacts cc CROSS JOIN contacts k \
      ON k.connection_id = cc.connection_id AND k.uuid = cc.contact_uuid \
      WHERE cc.connection_id = c.connection_id AND cc.client_uuid = c.uuid \
      AND k.is_deleted = 0 AND k.removed_at IS NULL), '')";

/// Fills the search text of every client that has none (migration 8's data step).
pub(super) fn fill(db: &rusqlite::Connection) -> Result<()> {
    db.execute(
        &format!("UPDATE clients AS c SET search_text = {SEARCH_TEXT_SQL} WHERE c.search_text IS NULL"),
        [],
    )?;
    Ok(())
}

/// Rewrites the search text of every client that lists one of `contacts` from the tables.
pub(super) fn refresh_clients_of(
    db: &rusqlite::Connection,
    connection_id: i64,
    contacts: &HashSet<String>,
) -> Result<()> {
    let mut stmt = db.prepare_cached(&format!(
        "UPDATE clients AS c SET search_text = {SEARCH_TEXT_SQL} WHERE c.connection_id = ?1 \
         AND c.uuid IN (SELECT client_uuid FROM client_contacts WHERE connection_id = ?1 AND contact_uuid = ?2)"
    ))?;
    for contact in contacts {
        stmt.execute(params![connection_id, contact])?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;
