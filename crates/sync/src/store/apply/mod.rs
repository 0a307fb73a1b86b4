//! Writing what a sync run fetched into the directory: the [`Applier`], which a run keeps for
//! its whole single transaction and hands each record to.
//!
//! Writes are minimal: a client whose canonical hash equals the stored one costs one indexed
//! read and no write; only a changed client has its row and its child rows (links, groups,
//! relationships, notes) rewritten. Every change is recorded in `sync_changes`.
//!
//! Split by job, so each part reads on its own: this module decides what a client's arrival
//! means (added, updated, restored, removed) and counts it; [`write`] holds the SQL that writes a
//! client and its child rows; [`sweep`] compares the contact list's contacts (SPEC 5.4) with the
//! directory's. The reads the window and the CLI make are in [`super::reads`].

mod prepared;
mod sweep;
mod write;

use std::collections::{HashMap, HashSet};

use hownow_xpm::Client;
use rusqlite::{params, OptionalExtension};

use super::client_row;
use super::runs::{ChangeKind, RecordKind, RunCounts, SyncChange};
use crate::clock;
use crate::diff;
use crate::error::Result;
use crate::hash;

pub(crate) use prepared::{PreparedClient, Preparer};
pub(crate) use sweep::ContactSweepOutcome;
use write::Slot;
pub(crate) use write::Writer;

/// What applying one client did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    Added,
    Updated,
    Unchanged,
    /// A tombstoned client came back unchanged.
    Restored,
    /// No UUID: cannot be keyed, not stored.
    Skipped,
}

/// Writes records of one run. Holds no borrow of the database, so a run can keep it across
/// `.await`s and pass the open transaction to each call.
pub(crate) struct Applier {
    connection_id: i64,
    run_id: i64,
    now: String,
    pub counts: RunCounts,
    /// Clients applied in this run: full syncs tombstone the live clients not in it; changes
    /// syncs do not fetch them again.
    pub seen: HashSet<String>,
    /// Clients added, restored or changed by this run (full syncs: the candidates for
    /// `missed_by_incremental`).
    pub changed_clients: HashSet<String>,
    /// Contacts whose content changed through a client of this run: the other clients that list
    /// them were hashed with the old copy (their contacts read from the one table are current).
    pub changed_contacts: HashSet<String>,
    /// Contacts changed or removed after a client listing them may have been written: the
    /// search text of the clients that list them is rewritten before the run commits.
    search_stale: HashSet<String>,
    /// After [`Applier::preload`] (full syncs, which look at every client): the stored state of
    /// every client not yet applied in this run, read in one scan of the covering index instead
    /// of one lookup per client. What is left at the end are the clients the list lacked.
    known_clients: Option<HashMap<String, Stored>>,
    /// Live clients before the run, counted by the preload.
    live_before: Option<u64>,
    /// After [`Applier::preload`]: every stored contact's state, kept current as contacts are
    /// written, instead of one lookup per contact a client lists.
    known_contacts: Option<HashMap<String, StoredContact>>,
    /// Groups this run already wrote, with the name written: each is upserted once per run.
    groups_written: HashMap<String, Option<String>>,
    /// The first [`MAX_WARNINGS_PER_RUN`](super::MAX_WARNINGS_PER_RUN) values XPM sent that could
    /// not be read.
    pub warnings: Vec<hownow_xpm::DataWarning>,
}

#[derive(Debug, Clone)]
struct Stored {
    hash: Vec<u8>,
    removed: bool,
    archived: bool,
}

#[derive(Debug, Clone)]
struct StoredContact {
    hash: Vec<u8>,
    removed: bool,
    deleted: bool,
}

fn flag(v: Option<bool>) -> bool {
    v.unwrap_or(false)
}

/// The stored state of every row of `table` of the connection, by UUID: its hash, whether it is
/// tombstoned, and its flag column (`is_archived`, `is_deleted`), as `state` makes them.
fn scan_states<T>(
    db: &rusqlite::Connection,
    table: &str,
    flag: &str,
    connection_id: i64,
    state: impl Fn(Vec<u8>, bool, bool) -> T,
) -> Result<HashMap<String, T>> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT uuid, content_hash, removed_at IS NOT NULL, {flag} FROM {table} WHERE connection_id = ?1"
    ))?;
    let mut rows = stmt.query([connection_id])?;
    let mut by_uuid = HashMap::new();
    while let Some(r) = rows.next()? {
        by_uuid.insert(r.get(0)?, state(r.get(1)?, r.get(2)?, r.get(3)?));
    }
    Ok(by_uuid)
}

impl Applier {
    pub(crate) fn new(connection_id: i64, run_id: i64, now: time::OffsetDateTime) -> Self {
        Applier {
            connection_id,
            run_id,
            now: clock::to_db(now),
            counts: RunCounts::default(),
            seen: HashSet::new(),
            changed_clients: HashSet::new(),
            changed_contacts: HashSet::new(),
            search_stale: HashSet::new(),
            known_clients: None,
            live_before: None,
            known_contacts: None,
            groups_written: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    /// Counts values XPM sent that could not be read, keeping the first few for the run.
    pub(crate) fn note_warnings(&mut self, warnings: Vec<hownow_xpm::DataWarning>) {
        self.counts.data_warnings += warnings.len() as u64;
        let room = super::runs::MAX_WARNINGS_PER_RUN.saturating_sub(self.warnings.len());
        self.warnings.extend(warnings.into_iter().take(room));
    }

    /// Reads the stored state of every client and contact of the connection in two scans, for a
    /// run that will look at all of them (a full sync): cheaper than a lookup per record, and the
    /// clients left over after the list are the absent ones. Call inside the run's transaction.
    pub(crate) fn preload(&mut self, db: &rusqlite::Connection) -> Result<()> {
        let id = self.connection_id;
        let clients = scan_states(db, "clients", "is_archived", id, |hash, removed, archived| {
            Stored {
                hash,
                removed,
                archived,
            }
        })?;
        let contacts = scan_states(db, "contacts", "is_deleted", id, |hash, removed, deleted| {
            StoredContact {
                hash,
                removed,
                deleted,
            }
        })?;
        self.live_before = Some(clients.values().filter(|s| !s.removed).count() as u64);
        self.known_clients = Some(clients);
        self.known_contacts = Some(contacts);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn change(
        &self,
        w: &mut Writer<'_>,
        kind: RecordKind,
        uuid: &str,
        change: ChangeKind,
        field: Option<String>,
        old: Option<String>,
        new: Option<String>,
    ) -> Result<()> {
        w.record_change(&SyncChange {
            run_id: self.run_id,
            record_kind: kind,
            uuid: uuid.to_string(),
            change,
            field,
            old_value: old,
            new_value: new,
        })
    }

    /// A change of a whole record (added, removed, restored), with its name when added.
    fn record_event(
        &self,
        w: &mut Writer<'_>,
        kind: RecordKind,
        uuid: &str,
        change: ChangeKind,
        name: Option<String>,
    ) -> Result<()> {
        self.change(w, kind, uuid, change, None, None, name)
    }

    /// Upserts one client from XPM (list or get) and counts what happened.
    pub(crate) fn apply_client(&mut self, db: &rusqlite::Connection, client: Client) -> Result<Applied> {
        let prepared = Preparer::new(db)?.prepare(client);
        self.apply_prepared(&mut Writer::new(db), prepared)
    }

    /// [`Applier::apply_client`] for a client prepared beforehand, maybe on another thread,
    /// with a writer that may hold statements for several clients.
    pub(crate) fn apply_prepared(&mut self, w: &mut Writer<'_>, prepared: PreparedClient) -> Result<Applied> {
        let client = &prepared.client;
        let Some(uuid) = client.uuid.clone().filter(|u| !u.is_empty()) else {
            tracing::warn!(name = ?client.name, "XPM sent a client without a UUID; it was skipped");
            return Ok(Applied::Skipped);
        };
        if !self.seen.insert(uuid.clone()) {
            // Listed twice in one run (observed when XPM ignores paging): the first copy counts.
            return Ok(Applied::Unchanged);
        }
        self.counts.fetched += 1;
        let hash = prepared.hash;
        let deleted = flag(client.is_deleted);
        let archived = flag(client.is_archived);

        let stored: Option<Stored> = match &mut self.known_clients {
            Some(known) => known.remove(&uuid),
            None => w
                .statement(
                    Slot::ClientState,
                    "SELECT content_hash, removed_at IS NOT NULL, is_archived FROM clients \
                     WHERE connection_id = ?1 AND uuid = ?2",
                )?
                .query_row(params![self.connection_id, uuid], |r| {
                    Ok(Stored {
                        hash: r.get(0)?,
                        removed: r.get(1)?,
                        archived: r.get(2)?,
                    })
                })
                .optional()?,
        };

        let outcome = match &stored {
            None => {
                self.write_client(w, &uuid, &prepared, deleted.then(|| self.now.clone()))?;
                self.write_children(w, &uuid, &prepared, false)?;
                if deleted {
                    // Known from now on (as a tombstone) but never in the directory: not an
                    // addition the administrator would look for among the clients.
                    self.counts.unchanged += 1;
                    Applied::Unchanged
                } else {
                    self.record_event(
                        w,
                        RecordKind::Client,
                        &uuid,
                        ChangeKind::Added,
                        client.name.clone(),
                    )?;
                    self.counts.added += 1;
                    self.changed_clients.insert(uuid.clone());
                    Applied::Added
                }
            }
            Some(s) if s.hash.as_slice() == hash.as_slice() => {
                if s.removed && !deleted {
                    w.db()
                        .prepare_cached(
                            "UPDATE clients SET removed_at = NULL, updated_at = ?3 WHERE connection_id = ?1 AND uuid = ?2",
                        )?
                    .execute(params![self.connection_id, uuid, self.now])?;
                    self.counts.client_rows_written += 1;
                    self.record_event(w, RecordKind::Client, &uuid, ChangeKind::Restored, None)?;
                    self.counts.added += 1;
                    self.changed_clients.insert(uuid.clone());
                    Applied::Restored
                } else {
                    self.counts.unchanged += 1;
                    Applied::Unchanged
                }
            }
            Some(s) => {
                // The stored client as it reads back (columns, long tail, tables), in canonical
                // form: what the field-by-field changes are measured from.
                let old = super::reads::client(w.db(), self.connection_id, &uuid)?.map(|mut old| {
                    hash::canonicalize(&mut old.client);
                    old.client
                });
                let removed_at = if deleted {
                    if s.removed {
                        w.db()
                            .prepare_cached(
                                "SELECT removed_at FROM clients WHERE connection_id = ?1 AND uuid = ?2",
                            )?
                            .query_row(params![self.connection_id, uuid], |r| r.get(0))?
                    } else {
                        Some(self.now.clone())
                    }
                } else {
                    None
                };
                self.write_client(w, &uuid, &prepared, removed_at)?;
                self.write_children(w, &uuid, &prepared, true)?;
                let new = client_row::stored_form(client.clone());
                self.record_field_changes(w, &uuid, old.as_ref(), &new)?;
                if s.removed && !deleted {
                    self.record_event(w, RecordKind::Client, &uuid, ChangeKind::Restored, None)?;
                }
                if !s.removed && deleted {
                    self.record_event(w, RecordKind::Client, &uuid, ChangeKind::Removed, None)?;
                    self.counts.removed += 1;
                }
                if !s.archived && archived {
                    self.counts.archived += 1;
                }
                self.changed_clients.insert(uuid.clone());
                if s.removed && !deleted {
                    // Back in the directory: counted like a new client.
                    self.counts.added += 1;
                    Applied::Restored
                } else {
                    self.counts.updated += 1;
                    Applied::Updated
                }
            }
        };
        Ok(outcome)
    }

    fn record_field_changes(
        &self,
        w: &mut Writer<'_>,
        uuid: &str,
        old: Option<&Client>,
        new: &Client,
    ) -> Result<()> {
        let values = old.map(|old| (serde_json::to_value(old), serde_json::to_value(new)));
        let Some((Ok(old), Ok(new))) = values else {
            // Not comparable field by field: recorded as changed as a whole.
            return self.record_event(w, RecordKind::Client, uuid, ChangeKind::Updated, None);
        };
        for c in diff::diff(&old, &new) {
            self.change(
                w,
                RecordKind::Client,
                uuid,
                ChangeKind::Updated,
                Some(c.field),
                c.old,
                c.new,
            )?;
        }
        Ok(())
    }

    /// Rewrites the search text of the clients listing a contact that changed in this run after
    /// they were written (`store::search`). Before the run commits, in its transaction.
    pub(crate) fn refresh_search(&self, db: &rusqlite::Connection) -> Result<()> {
        super::search::refresh_clients_of(db, self.connection_id, &self.search_stale)
    }

    /// Live clients of this connection that the full list did not contain.
    pub(crate) fn absent_clients(&self, db: &rusqlite::Connection) -> Result<Vec<String>> {
        if let Some(known) = &self.known_clients {
            // Preloaded: every client the run applied was taken out; the rest were not listed.
            let mut absent: Vec<String> = known
                .iter()
                .filter(|(_, s)| !s.removed)
                .map(|(uuid, _)| uuid.clone())
                .collect();
            absent.sort_unstable();
            return Ok(absent);
        }
        let seen = &self.seen;
        let mut stmt =
            db.prepare_cached("SELECT uuid FROM clients WHERE connection_id = ?1 AND removed_at IS NULL")?;
        let mut absent = Vec::new();
        let mut rows = stmt.query([self.connection_id])?;
        while let Some(row) = rows.next()? {
            let uuid: String = row.get(0)?;
            if !seen.contains(&uuid) {
                absent.push(uuid);
            }
        }
        Ok(absent)
    }

    /// Tombstones clients that are no longer in XPM's list (never deletes them).
    pub(crate) fn tombstone(&mut self, db: &rusqlite::Connection, uuids: &[String]) -> Result<()> {
        let w = &mut Writer::new(db);
        for uuid in uuids {
            db.prepare_cached(
                "UPDATE clients SET removed_at = ?3, updated_at = ?3 WHERE connection_id = ?1 AND uuid = ?2",
            )?
            .execute(params![self.connection_id, uuid, self.now])?;
            self.counts.client_rows_written += 1;
            self.counts.removed += 1;
            self.record_event(w, RecordKind::Client, uuid, ChangeKind::Removed, None)?;
        }
        Ok(())
    }

    /// The next `n` live clients after the rotation cursor (wrapping), for the verify slice;
    /// moves the cursor.
    pub(crate) fn next_verify_slice(&self, db: &rusqlite::Connection, n: u32) -> Result<Vec<String>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let cursor = super::connections::verify_cursor(db, self.connection_id)?.unwrap_or_default();
        let mut stmt = db.prepare_cached(
            "SELECT uuid FROM clients WHERE connection_id = ?1 AND removed_at IS NULL AND uuid > ?2 \
             ORDER BY uuid LIMIT ?3",
        )?;
        let mut slice: Vec<String> = stmt
            .query_map(params![self.connection_id, cursor, n], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if (slice.len() as u32) < n {
            let more: Vec<String> = stmt
                .query_map(params![self.connection_id, "", n - slice.len() as u32], |r| {
                    r.get(0)
                })?
                .collect::<rusqlite::Result<_>>()?;
            for uuid in more {
                if !slice.contains(&uuid) {
                    slice.push(uuid);
                }
            }
        }
        super::connections::set_verify_cursor(db, self.connection_id, slice.last().map(String::as_str))?;
        Ok(slice)
    }

    /// Live clients before this run (as preloaded, or counted now).
    pub(crate) fn live_client_count(&self, db: &rusqlite::Connection) -> Result<u64> {
        match self.live_before {
            Some(n) => Ok(n),
            None => super::reads::live_client_count(db, self.connection_id),
        }
    }
}

#[cfg(test)]
mod warning_tests {
    use super::*;

    #[test]
    fn a_run_counts_every_unreadable_value_and_keeps_the_first_200() {
        let mut applier = Applier::new(1, 1, time::OffsetDateTime::UNIX_EPOCH);
        let warning = |i: usize| hownow_xpm::DataWarning {
            client_uuid: Some(format!("c{i}")),
            field: "DateOfBirth".into(),
            raw_value: "01/03/1980".into(),
            reason: "is an ambiguous date".into(),
        };
        applier.note_warnings((0..150).map(warning).collect());
        applier.note_warnings((150..260).map(warning).collect());
        assert_eq!(applier.counts.data_warnings, 260);
        assert_eq!(applier.warnings.len(), super::super::runs::MAX_WARNINGS_PER_RUN);
        assert_eq!(applier.warnings[199].client_uuid.as_deref(), Some("c199"));
    }
}
