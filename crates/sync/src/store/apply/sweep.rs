//! The contact sweep's side of the applier (SPEC 5.4): each contact of `client.api/contacts`
//! compared with the directory's copy, the contacts the sweep no longer lists tombstoned, and
//! the live clients to re-fetch because a contact of theirs changed. The run itself (paging,
//! budget, re-fetches) is `sync::sweep`.

use std::collections::HashSet;

use hownow_xpm::Contact;
use rusqlite::{params, OptionalExtension};

use super::{Applier, Writer};
use crate::error::Result;
use crate::hash;
use crate::store::runs::{ChangeKind, RecordKind};

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

impl Applier {
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
        let w = &mut Writer::new(db);
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
            self.write_contact(w, uuid, c, &hash)?;
            self.record_event(w, RecordKind::Contact, uuid, ChangeKind::Added, c.name.clone())?;
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
                    w,
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
            self.record_event(w, RecordKind::Contact, uuid, ChangeKind::Restored, None)?;
        }
        // The sweep's copy carries no IsDeleted worth trusting over the client's: keep the flag.
        let mut c = c.clone();
        c.is_deleted = db
            .prepare_cached("SELECT is_deleted FROM contacts WHERE connection_id = ?1 AND uuid = ?2")?
            .query_row(params![self.connection_id, uuid], |r| r.get::<_, bool>(0))
            .ok();
        self.write_contact(w, uuid, &c, &hash)?;
        self.search_stale.insert(uuid.to_string());
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
        let w = &mut Writer::new(db);
        for uuid in candidates {
            db.prepare_cached("UPDATE contacts SET removed_at = ?3 WHERE connection_id = ?1 AND uuid = ?2")?
                .execute(params![self.connection_id, uuid, self.now])?;
            if let Some(known) = self.known_contacts.as_mut().and_then(|k| k.get_mut(&uuid)) {
                known.removed = true;
            }
            self.record_event(w, RecordKind::Contact, &uuid, ChangeKind::Removed, None)?;
            self.search_stale.insert(uuid.clone());
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
}
