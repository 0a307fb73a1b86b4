//! The SQL that writes one client and its child rows (contact links, groups, relationships,
//! notes) and the contacts it lists. Kept apart from the decisions in [`super`] so that the
//! mapping of each XPM field to its column is in one place (see "Adding an XPM field" in the
//! store's docs).

use hownow_xpm::{Client, Contact, Reference};
use rusqlite::{params, OptionalExtension};

use super::{flag, Applier, StoredContact};
use crate::error::Result;
use crate::hash::{self, ContentHash};

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
    pub(super) fn write_client(
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

    pub(super) fn write_children(
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

    pub(super) fn write_contact(
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
}
