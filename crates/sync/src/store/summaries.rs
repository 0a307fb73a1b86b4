//! Clients as lists and searches show them: typed columns and a count, paged in SQL, no JSON
//! decoded. A window page of 200 out of 15,000 reads 200 rows (and a `COUNT(*)` of one index),
//! where decoding every matching client and then its contacts one query at a time cost tens of
//! milliseconds.

use rusqlite::params;
use serde::Serialize;

use super::reads::{like_pattern, ClientQuery, CLIENT_FILTER};
use super::Store;
use crate::error::Result;

/// One row of the client list. Serialised in camel case for the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientSummary {
    pub uuid: String,
    pub name: Option<String>,
    pub client_code: Option<String>,
    pub business_structure: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_archived: bool,
    pub is_prospect: bool,
    /// Contacts the client lists that XPM has not deleted: what its contacts panel shows.
    pub contact_count: u64,
}

/// A page of [`ClientSummary`] and how many clients match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientSummaryPage {
    pub total: u64,
    pub clients: Vec<ClientSummary>,
}

impl Store {
    /// Clients matching `query`, by name: `limit` of them from `offset`, and the total.
    pub fn client_summaries(
        &self,
        connection_id: i64,
        query: &ClientQuery,
        offset: usize,
        limit: usize,
    ) -> Result<ClientSummaryPage> {
        let pattern = like_pattern(query);
        let as_sql = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        // Both statements read one snapshot, so the total is the page's.
        let snapshot = self.db().unchecked_transaction()?;
        // The count and the page each read only the `clients_search` index, in name order; the
        // page stops after its rows (a window count over the page's query would have to sort
        // every match first) and only those rows are then read whole, with their contacts
        // counted. CROSS JOIN keeps SQLite from driving that count from all the contacts
        // instead of the client's few links.
        let total: i64 = snapshot
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM clients INDEXED BY clients_search {CLIENT_FILTER}"
            ))?
            .query_row(params![connection_id, query.include_removed, pattern], |r| {
                r.get(0)
            })?;
        let mut stmt = snapshot.prepare_cached(&format!(
            "SELECT c.uuid, c.name, c.client_code, c.business_structure, c.email, c.phone, \
             c.is_archived, c.is_prospect, \
             (SELECT COUNT(*) FROM client_contacts cc CROSS JOIN contacts k \
              ON k.connection_id = cc.connection_id AND k.uuid = cc.contact_uuid \
              WHERE cc.connection_id = ?1 AND cc.client_uuid = c.uuid \
              AND k.is_deleted = 0 AND k.removed_at IS NULL) \
             FROM (SELECT uuid, name FROM clients INDEXED BY clients_search {CLIENT_FILTER} \
                   ORDER BY name COLLATE NOCASE, uuid LIMIT ?4 OFFSET ?5) p \
             CROSS JOIN clients c ON c.connection_id = ?1 AND c.uuid = p.uuid \
             ORDER BY p.name COLLATE NOCASE, p.uuid"
        ))?;
        let rows = stmt.query_map(
            params![
                connection_id,
                query.include_removed,
                pattern,
                as_sql(limit),
                as_sql(offset)
            ],
            |r| {
                Ok(ClientSummary {
                    uuid: r.get(0)?,
                    name: r.get(1)?,
                    client_code: r.get(2)?,
                    business_structure: r.get(3)?,
                    email: r.get(4)?,
                    phone: r.get(5)?,
                    is_archived: r.get(6)?,
                    is_prospect: r.get(7)?,
                    contact_count: r.get::<_, i64>(8)?.max(0) as u64,
                })
            },
        )?;
        let clients = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(ClientSummaryPage {
            total: total.max(0) as u64,
            clients,
        })
    }
}
