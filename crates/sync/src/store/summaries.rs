//! Clients as lists and searches show them: typed columns and a count, paged in SQL, no JSON
//! decoded. A window page of 200 out of 15,000 reads 200 rows (and a `COUNT(*)`), where decoding
//! every matching client and then its contacts one query at a time cost tens of milliseconds.

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
        // One statement. The inner select reads only the `clients_by_name` index (and the
        // contacts' covering index for the subquery): it filters, orders and counts every match
        // with `COUNT(*) OVER ()` before LIMIT takes the page. Only the page's rows are then read
        // whole and count their contacts. CROSS JOIN keeps SQLite from driving the count from
        // all the contacts instead of the client's few links.
        let mut stmt = self.db().prepare_cached(&format!(
            "SELECT c.uuid, c.name, c.client_code, c.business_structure, c.email, c.phone, \
             c.is_archived, c.is_prospect, \
             (SELECT COUNT(*) FROM client_contacts cc CROSS JOIN contacts k \
              ON k.connection_id = cc.connection_id AND k.uuid = cc.contact_uuid \
              WHERE cc.connection_id = ?1 AND cc.client_uuid = c.uuid \
              AND k.is_deleted = 0 AND k.removed_at IS NULL), \
             p.total \
             FROM (SELECT uuid, name, COUNT(*) OVER () AS total FROM clients {CLIENT_FILTER} \
                   ORDER BY name COLLATE NOCASE, uuid LIMIT ?4 OFFSET ?5) p \
             CROSS JOIN clients c ON c.connection_id = ?1 AND c.uuid = p.uuid \
             ORDER BY p.name COLLATE NOCASE, p.uuid"
        ))?;
        let mut total = 0i64;
        let rows = stmt.query_map(
            params![
                connection_id,
                query.include_removed,
                pattern,
                as_sql(limit),
                as_sql(offset)
            ],
            |r| {
                Ok((
                    ClientSummary {
                        uuid: r.get(0)?,
                        name: r.get(1)?,
                        client_code: r.get(2)?,
                        business_structure: r.get(3)?,
                        email: r.get(4)?,
                        phone: r.get(5)?,
                        is_archived: r.get(6)?,
                        is_prospect: r.get(7)?,
                        contact_count: r.get::<_, i64>(8)?.max(0) as u64,
                    },
                    r.get::<_, i64>(9)?,
                ))
            },
        )?;
        let mut clients = Vec::new();
        for row in rows {
            let (summary, matching) = row?;
            total = matching;
            clients.push(summary);
        }
        if clients.is_empty() && offset > 0 {
            // A page past the end has no row to carry the count: ask for it.
            total = self
                .db()
                .prepare_cached(&format!("SELECT COUNT(*) FROM clients {CLIENT_FILTER}"))?
                .query_row(params![connection_id, query.include_removed, pattern], |r| {
                    r.get(0)
                })?;
        }
        Ok(ClientSummaryPage {
            total: total.max(0) as u64,
            clients,
        })
    }
}
