//! The client directory proper: writing synced records (`Applier`, used inside a run's single
//! transaction) and reading them back (`DirectoryClient`).
//!
//! Writes are minimal: a client whose canonical hash equals the stored one costs one indexed
//! read and no write; only a changed client has its row and its child rows (links, groups,
//! relationships, notes) rewritten.

use std::collections::{HashMap, HashSet};

use hownow_xpm::{Client, Contact, Reference};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use super::runs::{record_change, ChangeKind, RecordKind, RunCounts, SyncChange};
use super::Store;
use crate::clock;
use crate::diff;
use crate::error::Result;
use crate::hash::{self, ContentHash};

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

/// What the contact sweep learnt about one contact of `client.api/contacts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContactSweepOutcome {
    Unchanged,
    /// Known, and its content changed: these live clients list it.
    Changed {
        clients: Vec<String>,
    },
    /// Never seen in any client: stored unlinked until a full sync places it.
    Unknown,
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
    /// Contacts whose content changed through a client of this run: other clients that list
    /// them hold a stale copy in their JSON.
    pub changed_contacts: HashSet<String>,
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
    /// The first [`MAX_WARNINGS_PER_RUN`] values XPM sent that could not be read.
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

fn reference(r: &Option<Reference>) -> (Option<&str>, Option<&str>) {
    match r {
        Some(r) => (r.uuid.as_deref(), r.name.as_deref()),
        None => (None, None),
    }
}

const UPSERT_CLIENT: &str = "INSERT INTO clients (connection_id, uuid, name, title, gender, first_name, \
    last_name, other_name, middle_name, date_of_birth, email, address, city, region, post_code, country, \
    postal_address, postal_city, postal_region, postal_post_code, postal_country, phone, fax, website, \
    referral_source, export_code, client_code, web_url, is_prospect, is_archived, is_deleted, \
    account_manager_uuid, account_manager_name, job_manager_uuid, job_manager_name, billing_client_uuid, \
    billing_client_name, client_type, business_structure, tax_number, company_number, business_number, \
    data, content_hash, first_seen_at, updated_at, removed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
    ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, \
    ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, ?45, ?45, ?46) \
    ON CONFLICT (connection_id, uuid) DO UPDATE SET name = excluded.name, title = excluded.title, \
    gender = excluded.gender, first_name = excluded.first_name, last_name = excluded.last_name, \
    other_name = excluded.other_name, middle_name = excluded.middle_name, date_of_birth = excluded.date_of_birth, \
    email = excluded.email, address = excluded.address, city = excluded.city, region = excluded.region, \
    post_code = excluded.post_code, country = excluded.country, postal_address = excluded.postal_address, \
    postal_city = excluded.postal_city, postal_region = excluded.postal_region, \
    postal_post_code = excluded.postal_post_code, postal_country = excluded.postal_country, \
    phone = excluded.phone, fax = excluded.fax, website = excluded.website, \
    referral_source = excluded.referral_source, export_code = excluded.export_code, \
    client_code = excluded.client_code, web_url = excluded.web_url, is_prospect = excluded.is_prospect, \
    is_archived = excluded.is_archived, is_deleted = excluded.is_deleted, \
    account_manager_uuid = excluded.account_manager_uuid, account_manager_name = excluded.account_manager_name, \
    job_manager_uuid = excluded.job_manager_uuid, job_manager_name = excluded.job_manager_name, \
    billing_client_uuid = excluded.billing_client_uuid, billing_client_name = excluded.billing_client_name, \
    client_type = excluded.client_type, business_structure = excluded.business_structure, \
    tax_number = excluded.tax_number, company_number = excluded.company_number, \
    business_number = excluded.business_number, data = excluded.data, content_hash = excluded.content_hash, \
    updated_at = excluded.updated_at, removed_at = excluded.removed_at";

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
        let mut clients = HashMap::new();
        let mut live = 0;
        let mut stmt = db.prepare_cached(
            "SELECT uuid, content_hash, removed_at IS NOT NULL, is_archived FROM clients WHERE connection_id = ?1",
        )?;
        let mut rows = stmt.query([self.connection_id])?;
        while let Some(r) = rows.next()? {
            let stored = Stored {
                hash: r.get(1)?,
                removed: r.get(2)?,
                archived: r.get(3)?,
            };
            live += u64::from(!stored.removed);
            clients.insert(r.get(0)?, stored);
        }
        let mut contacts = HashMap::new();
        let mut stmt = db.prepare_cached(
            "SELECT uuid, content_hash, removed_at IS NOT NULL, is_deleted FROM contacts WHERE connection_id = ?1",
        )?;
        let mut rows = stmt.query([self.connection_id])?;
        while let Some(r) = rows.next()? {
            let stored = StoredContact {
                hash: r.get(1)?,
                removed: r.get(2)?,
                deleted: r.get(3)?,
            };
            contacts.insert(r.get(0)?, stored);
        }
        self.known_clients = Some(clients);
        self.live_before = Some(live);
        self.known_contacts = Some(contacts);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn change(
        &self,
        db: &rusqlite::Connection,
        kind: RecordKind,
        uuid: &str,
        change: ChangeKind,
        field: Option<String>,
        old: Option<String>,
        new: Option<String>,
    ) -> Result<()> {
        record_change(
            db,
            self.run_id,
            &SyncChange {
                run_id: self.run_id,
                record_kind: kind,
                uuid: uuid.to_string(),
                change,
                field,
                old_value: old,
                new_value: new,
            },
        )
    }

    /// Upserts one client from XPM (list or get) and counts what happened.
    pub(crate) fn apply_client(&mut self, db: &rusqlite::Connection, mut client: Client) -> Result<Applied> {
        let Some(uuid) = client.uuid.clone().filter(|u| !u.is_empty()) else {
            tracing::warn!(name = ?client.name, "XPM sent a client without a UUID; it was skipped");
            return Ok(Applied::Skipped);
        };
        if !self.seen.insert(uuid.clone()) {
            // Listed twice in one run (observed when XPM ignores paging): the first copy counts.
            return Ok(Applied::Unchanged);
        }
        self.counts.fetched += 1;
        // XPM's order of the contacts, before canonical sorting: it is the order to show them in.
        let contact_order: Vec<Option<String>> = client.contacts.iter().map(|c| c.uuid.clone()).collect();
        hash::canonicalize(&mut client);
        let (json, hash) = hash::client_json_and_hash(&client);
        let deleted = flag(client.is_deleted);
        let archived = flag(client.is_archived);

        let stored: Option<Stored> = match &mut self.known_clients {
            Some(known) => known.remove(&uuid),
            None => db
                .prepare_cached(
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
                self.write_client(
                    db,
                    &uuid,
                    &client,
                    &json,
                    &hash,
                    deleted.then(|| self.now.clone()),
                )?;
                self.write_children(db, &uuid, &client, &contact_order, false)?;
                if deleted {
                    // Known from now on (as a tombstone) but never in the directory: not an
                    // addition the administrator would look for among the clients.
                    self.counts.unchanged += 1;
                    Applied::Unchanged
                } else {
                    self.change(
                        db,
                        RecordKind::Client,
                        &uuid,
                        ChangeKind::Added,
                        None,
                        None,
                        client.name.clone(),
                    )?;
                    self.counts.added += 1;
                    self.changed_clients.insert(uuid.clone());
                    Applied::Added
                }
            }
            Some(s) if s.hash.as_slice() == hash.as_slice() => {
                if s.removed && !deleted {
                    db.prepare_cached(
                        "UPDATE clients SET removed_at = NULL, updated_at = ?3 WHERE connection_id = ?1 AND uuid = ?2",
                    )?
                    .execute(params![self.connection_id, uuid, self.now])?;
                    self.counts.client_rows_written += 1;
                    self.change(
                        db,
                        RecordKind::Client,
                        &uuid,
                        ChangeKind::Restored,
                        None,
                        None,
                        None,
                    )?;
                    self.counts.added += 1;
                    self.changed_clients.insert(uuid.clone());
                    Applied::Restored
                } else {
                    self.counts.unchanged += 1;
                    Applied::Unchanged
                }
            }
            Some(s) => {
                let old_json: String = db
                    .prepare_cached("SELECT data FROM clients WHERE connection_id = ?1 AND uuid = ?2")?
                    .query_row(params![self.connection_id, uuid], |r| r.get(0))?;
                let removed_at = if deleted {
                    if s.removed {
                        db.prepare_cached(
                            "SELECT removed_at FROM clients WHERE connection_id = ?1 AND uuid = ?2",
                        )?
                        .query_row(params![self.connection_id, uuid], |r| r.get(0))?
                    } else {
                        Some(self.now.clone())
                    }
                } else {
                    None
                };
                self.write_client(db, &uuid, &client, &json, &hash, removed_at)?;
                self.write_children(db, &uuid, &client, &contact_order, true)?;
                self.record_field_changes(db, &uuid, &old_json, &json)?;
                if s.removed && !deleted {
                    self.change(
                        db,
                        RecordKind::Client,
                        &uuid,
                        ChangeKind::Restored,
                        None,
                        None,
                        None,
                    )?;
                }
                if !s.removed && deleted {
                    self.change(
                        db,
                        RecordKind::Client,
                        &uuid,
                        ChangeKind::Removed,
                        None,
                        None,
                        None,
                    )?;
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
        db: &rusqlite::Connection,
        uuid: &str,
        old: &str,
        new: &str,
    ) -> Result<()> {
        let (Ok(old), Ok(new)) = (serde_json::from_str(old), serde_json::from_str(new)) else {
            return self.change(
                db,
                RecordKind::Client,
                uuid,
                ChangeKind::Updated,
                None,
                None,
                None,
            );
        };
        for c in diff::diff(&old, &new) {
            self.change(
                db,
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

    fn write_client(
        &mut self,
        db: &rusqlite::Connection,
        uuid: &str,
        c: &Client,
        json: &str,
        hash: &ContentHash,
        removed_at: Option<String>,
    ) -> Result<()> {
        let (am_uuid, am_name) = reference(&c.account_manager);
        let (jm_uuid, jm_name) = reference(&c.job_manager);
        let (bc_uuid, bc_name) = reference(&c.billing_client);
        let client_type = c.billing_type.as_ref().and_then(|t| t.name.as_deref());
        let dob = c.date_of_birth.map(|d| d.to_string());
        db.prepare_cached(UPSERT_CLIENT)?.execute(params![
            self.connection_id,
            uuid,
            c.name,
            c.title,
            c.gender,
            c.first_name,
            c.last_name,
            c.other_name,
            c.middle_name,
            dob,
            c.email,
            c.address,
            c.city,
            c.region,
            c.post_code,
            c.country,
            c.postal_address,
            c.postal_city,
            c.postal_region,
            c.postal_post_code,
            c.postal_country,
            c.phone,
            c.fax,
            c.website,
            c.referral_source,
            c.export_code,
            c.client_code,
            c.web_url,
            flag(c.is_prospect),
            flag(c.is_archived),
            flag(c.is_deleted),
            am_uuid,
            am_name,
            jm_uuid,
            jm_name,
            bc_uuid,
            bc_name,
            client_type,
            c.business_structure,
            c.tax_number,
            c.company_number,
            c.business_number,
            json,
            hash.as_slice(),
            self.now,
            removed_at,
        ])?;
        self.counts.client_rows_written += 1;
        Ok(())
    }

    fn write_children(
        &mut self,
        db: &rusqlite::Connection,
        uuid: &str,
        c: &Client,
        contact_order: &[Option<String>],
        replace: bool,
    ) -> Result<()> {
        let conn = self.connection_id;
        if replace {
            for table in ["client_contacts", "client_groups", "relationships", "notes"] {
                db.prepare_cached(&format!(
                    "DELETE FROM {table} WHERE connection_id = ?1 AND client_uuid = ?2"
                ))?
                .execute(params![conn, uuid])?;
            }
        }
        for contact in &c.contacts {
            let Some(contact_uuid) = contact.uuid.as_deref().filter(|u| !u.is_empty()) else {
                continue;
            };
            self.upsert_contact_from_client(db, contact_uuid, contact)?;
            let sort_order = contact_order
                .iter()
                .position(|u| u.as_deref() == Some(contact_uuid))
                .unwrap_or(usize::MAX) as i64;
            db.prepare_cached(
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
                db.prepare_cached(
                    "INSERT INTO groups (connection_id, uuid, name) VALUES (?1, ?2, ?3) \
                     ON CONFLICT DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name",
                )?
                .execute(params![conn, group_uuid, group.name])?;
                self.groups_written
                    .insert(group_uuid.to_string(), group.name.clone());
            }
            db.prepare_cached(
                "INSERT INTO client_groups (connection_id, client_uuid, group_uuid) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![conn, uuid, group_uuid])?;
        }
        for (i, r) in c.relationships.iter().enumerate() {
            let (rc_uuid, rc_name) = reference(&r.related_client);
            db.prepare_cached(
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
            db.prepare_cached(
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
        db: &rusqlite::Connection,
        uuid: &str,
        c: &Contact,
    ) -> Result<()> {
        let hash = hash::contact_hash(c);
        let stored: Option<(Vec<u8>, bool, bool)> = match &self.known_contacts {
            Some(known) => known.get(uuid).map(|k| (k.hash.clone(), k.removed, k.deleted)),
            None => db
                .prepare_cached(
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
                }
                self.write_contact(db, uuid, c, &hash)
            }
        }
    }

    fn write_contact(
        &mut self,
        db: &rusqlite::Connection,
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
        db.prepare_cached(
            "INSERT INTO contacts (connection_id, uuid, name, salutation, addressee, mobile, email, phone, \
             is_deleted, content_hash, first_seen_at, updated_at, removed_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, NULL) \
             ON CONFLICT (connection_id, uuid) DO UPDATE SET name = excluded.name, \
             salutation = excluded.salutation, addressee = excluded.addressee, mobile = excluded.mobile, \
             email = excluded.email, phone = excluded.phone, is_deleted = excluded.is_deleted, \
             content_hash = excluded.content_hash, updated_at = excluded.updated_at, removed_at = NULL",
        )?
        .execute(params![
            self.connection_id,
            uuid,
            c.name,
            c.salutation,
            c.addressee,
            c.mobile,
            c.email,
            c.phone,
            flag(c.is_deleted),
            hash.as_slice(),
            self.now
        ])?;
        Ok(())
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
        for uuid in uuids {
            db.prepare_cached(
                "UPDATE clients SET removed_at = ?3, updated_at = ?3 WHERE connection_id = ?1 AND uuid = ?2",
            )?
            .execute(params![self.connection_id, uuid, self.now])?;
            self.counts.client_rows_written += 1;
            self.counts.removed += 1;
            self.change(
                db,
                RecordKind::Client,
                uuid,
                ChangeKind::Removed,
                None,
                None,
                None,
            )?;
        }
        Ok(())
    }

    /// One contact of `client.api/contacts`, compared with what the directory knows.
    pub(crate) fn sweep_contact(
        &mut self,
        db: &rusqlite::Connection,
        c: &Contact,
    ) -> Result<ContactSweepOutcome> {
        let Some(uuid) = c.uuid.as_deref().filter(|u| !u.is_empty()) else {
            return Ok(ContactSweepOutcome::Skipped);
        };
        self.counts.contacts_fetched += 1;
        let hash = hash::contact_hash(c);
        type Row = (Vec<u8>, bool, [Option<String>; 6]);
        let stored: Option<Row> = db
            .prepare_cached(
                "SELECT content_hash, removed_at IS NOT NULL, name, salutation, addressee, mobile, email, phone \
                 FROM contacts WHERE connection_id = ?1 AND uuid = ?2",
            )?
            .query_row(params![self.connection_id, uuid], |r| {
                Ok((r.get(0)?, r.get(1)?, [r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?]))
            })
            .optional()?;
        let Some((stored_hash, removed, old)) = stored else {
            self.write_contact(db, uuid, c, &hash)?;
            self.change(
                db,
                RecordKind::Contact,
                uuid,
                ChangeKind::Added,
                None,
                None,
                c.name.clone(),
            )?;
            self.counts.contacts_unknown += 1;
            return Ok(ContactSweepOutcome::Unknown);
        };
        if stored_hash.as_slice() == hash.as_slice() && !removed {
            return Ok(ContactSweepOutcome::Unchanged);
        }
        let new = [
            &c.name,
            &c.salutation,
            &c.addressee,
            &c.mobile,
            &c.email,
            &c.phone,
        ];
        let names = ["name", "salutation", "addressee", "mobile", "email", "phone"];
        for ((field, old), new) in names.iter().zip(&old).zip(new) {
            if old != new {
                let (o, n) = (old.clone(), new.clone());
                self.change(
                    db,
                    RecordKind::Contact,
                    uuid,
                    ChangeKind::Updated,
                    Some(field.to_string()),
                    o,
                    n,
                )?;
            }
        }
        if removed {
            self.change(
                db,
                RecordKind::Contact,
                uuid,
                ChangeKind::Restored,
                None,
                None,
                None,
            )?;
        }
        // The sweep's copy carries no IsDeleted worth trusting over the client's: keep the flag.
        let mut c = c.clone();
        c.is_deleted = db
            .prepare_cached("SELECT is_deleted FROM contacts WHERE connection_id = ?1 AND uuid = ?2")?
            .query_row(params![self.connection_id, uuid], |r| r.get::<_, bool>(0))
            .ok();
        self.write_contact(db, uuid, &c, &hash)?;
        self.counts.contacts_changed += 1;
        Ok(ContactSweepOutcome::Changed {
            clients: self.live_clients_of_contact(db, uuid)?,
        })
    }

    /// After a complete sweep: known live contacts the sweep did not list were deleted in XPM.
    /// They are tombstoned; the live clients that listed them are returned for re-fetching.
    pub(crate) fn sweep_missing(
        &mut self,
        db: &rusqlite::Connection,
        seen: &HashSet<String>,
    ) -> Result<Vec<String>> {
        let candidates: Vec<String> = {
            let mut stmt = db.prepare_cached(
                "SELECT uuid FROM contacts WHERE connection_id = ?1 AND removed_at IS NULL AND is_deleted = 0",
            )?;
            let rows = stmt.query_map([self.connection_id], |r| r.get::<_, String>(0))?;
            let mut v = Vec::new();
            for uuid in rows {
                let uuid = uuid?;
                if !seen.contains(&uuid) {
                    v.push(uuid);
                }
            }
            v
        };
        let mut clients = Vec::new();
        for uuid in candidates {
            db.prepare_cached("UPDATE contacts SET removed_at = ?3 WHERE connection_id = ?1 AND uuid = ?2")?
                .execute(params![self.connection_id, uuid, self.now])?;
            if let Some(known) = self.known_contacts.as_mut().and_then(|k| k.get_mut(&uuid)) {
                known.removed = true;
            }
            self.change(
                db,
                RecordKind::Contact,
                &uuid,
                ChangeKind::Removed,
                None,
                None,
                None,
            )?;
            self.counts.contacts_changed += 1;
            clients.extend(self.live_clients_of_contact(db, &uuid)?);
        }
        Ok(clients)
    }

    pub(crate) fn live_clients_of_contact(
        &self,
        db: &rusqlite::Connection,
        contact: &str,
    ) -> Result<Vec<String>> {
        let mut stmt = db.prepare_cached(
            "SELECT cc.client_uuid FROM client_contacts cc JOIN clients c \
             ON c.connection_id = cc.connection_id AND c.uuid = cc.client_uuid \
             WHERE cc.connection_id = ?1 AND cc.contact_uuid = ?2 AND c.removed_at IS NULL",
        )?;
        let rows = stmt.query_map(params![self.connection_id, contact], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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
            None => live_client_count(db, self.connection_id),
        }
    }
}

fn live_client_count(db: &rusqlite::Connection, connection_id: i64) -> Result<u64> {
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

/// The clients a [`ClientQuery`] selects (`?1` connection, `?2` include removed, `?3` pattern).
const CLIENT_FILTER: &str = "WHERE connection_id = ?1 AND (?2 OR removed_at IS NULL) \
     AND (?3 IS NULL OR name LIKE ?3 ESCAPE '\\' OR client_code LIKE ?3 ESCAPE '\\' \
     OR email LIKE ?3 ESCAPE '\\' OR uuid LIKE ?3 ESCAPE '\\')";

/// The `LIKE` pattern of a query's search text (its `%`, `_` and `\` taken literally).
fn like_pattern(query: &ClientQuery) -> Option<String> {
    query.search.as_ref().map(|s| {
        let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        format!("%{escaped}%")
    })
}

#[derive(Debug, Clone, Default)]
pub struct ClientQuery {
    /// Case-insensitive substring of the name, client code, email or UUID.
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

    /// The first `limit` clients of [`Store::clients`] and how many match in all: what a window
    /// shows of a large directory, without decoding the rest.
    pub fn client_page(
        &self,
        connection_id: i64,
        query: &ClientQuery,
        limit: usize,
    ) -> Result<(u64, Vec<DirectoryClient>)> {
        let total: i64 = self
            .db()
            .prepare_cached(&format!("SELECT COUNT(*) FROM clients {CLIENT_FILTER}"))?
            .query_row(
                params![connection_id, query.include_removed, like_pattern(query)],
                |r| r.get(0),
            )?;
        let clients = self.clients_limited(connection_id, query, Some(limit))?;
        Ok((total.max(0) as u64, clients))
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
