//! The directory read as HowNow consumes it: every live client as a HowNow record (the CSV
//! export), and the per-run Client Code report. The SQL is here, with the rest of the store's;
//! the rules that turn a client into a record are [`crate::record`], which stays pure mapping.

use std::collections::HashSet;

use hownow_xpm::Client;
use rusqlite::params;

use super::reads::Parts;
use super::{ClientQuery, Store};
use crate::error::{Result, SyncError};
use crate::record::{client_code, record, CodeReport, FieldChangeReport, HowNowRecord, MissingCode};

impl Store {
    /// Hands the HowNow record of each client `query` selects to `f`, by name, one at a time.
    pub fn for_each_record<E: From<SyncError>>(
        &self,
        connection_id: i64,
        query: &ClientQuery,
        mut f: impl FnMut(HowNowRecord) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let fallback = self.connection(connection_id)?.settings.client_code_fallback;
        // A record reads the client's own fields and its contacts, nothing of its other tables.
        self.for_each_client_with(connection_id, query, Parts::Contacts, |c| {
            f(record(&c.client, fallback))
        })
    }

    /// The Client Code report of one run.
    pub fn code_report(&self, run_id: i64) -> Result<CodeReport> {
        let Some(run) = self.run(run_id)? else {
            return Ok(CodeReport::default());
        };
        let conn = run.connection_id;
        let fallback = self.connection(conn)?.settings.client_code_fallback;
        let mut report = CodeReport::default();
        let name_of = |uuid: &str| -> Result<Option<String>> {
            Ok(self.client(conn, uuid)?.and_then(|c| c.client.name))
        };
        // Every client the run added or changed: thousands after a first sync, so a set.
        let mut touched = HashSet::new();
        for change in self.changes(run_id)? {
            if change.record_kind != crate::RecordKind::Client {
                continue;
            }
            match change.field.as_deref() {
                Some("client_code") => report.code_changed.push(FieldChangeReport {
                    name: name_of(&change.uuid)?,
                    uuid: change.uuid.clone(),
                    old: change.old_value.clone(),
                    new: change.new_value.clone(),
                }),
                Some("name") => report.name_changed.push(FieldChangeReport {
                    name: change.new_value.clone(),
                    uuid: change.uuid.clone(),
                    old: change.old_value.clone(),
                    new: change.new_value.clone(),
                }),
                _ => {}
            }
            touched.insert(change.uuid);
        }
        let mut stmt = self.db().prepare(
            "SELECT uuid, name, client_code, export_code FROM clients WHERE connection_id = ?1 AND removed_at IS NULL",
        )?;
        let rows = stmt.query_map(params![conn], |r| {
            Ok(Client {
                uuid: r.get(0)?,
                name: r.get(1)?,
                client_code: r.get(2)?,
                export_code: r.get(3)?,
                ..Default::default()
            })
        })?;
        for c in rows {
            let c = c?;
            if client_code(&c, fallback).is_none() {
                report.missing_code_total += 1;
                let uuid = c.uuid.clone().unwrap_or_default();
                if touched.contains(&uuid) {
                    report.missing_code.push(MissingCode { uuid, name: c.name });
                }
            }
        }
        Ok(report)
    }
}
