//! Changes to a practice while the sandbox runs: what staff do in XPM, and how each change moves
//! (or, through XPM's defect, fails to move) the client's modified time.
//!
//! Every change is made on a copy of the snapshot and published whole, so a failed change leaves
//! nothing behind and a response already streaming keeps the snapshot it started with.

use std::sync::{Arc, RwLock};

use time::{OffsetDateTime, PrimitiveDateTime};

use super::data::PracticeData;
use super::model::{Client, ClientDetails, Contact, ContactDetails, ContactLink};
use crate::tenants::Tenant;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PracticeError {
    #[error("no practice for tenant {0}")]
    UnknownTenant(String),
    #[error("no client {0}")]
    UnknownClient(String),
    #[error("no contact {0}")]
    UnknownContact(String),
    #[error("contact {contact} is not linked to client {client}")]
    NotLinked { client: String, contact: String },
    #[error("contact {contact} is already linked to client {client}")]
    AlreadyLinked { client: String, contact: String },
    #[error("contact {0} is deleted")]
    ContactDeleted(String),
    #[error("{0}")]
    Invalid(String),
}

/// A new contact's link to a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    pub client: String,
    #[serde(default)]
    pub position: Option<String>,
    /// Make it the client's primary contact (a client's first contact always is).
    #[serde(default)]
    pub primary: bool,
}

/// The current second, UTC: XPM's modified times have no finer grain.
pub(crate) fn now_utc() -> PrimitiveDateTime {
    let now = OffsetDateTime::now_utc();
    PrimitiveDateTime::new(now.date(), now.time().replace_nanosecond(0).unwrap_or(now.time()))
}

fn bump(client: &mut Client, now: PrimitiveDateTime) {
    client.modified = client.modified.max(now);
}

/// One tenant's practice.
#[derive(Debug)]
pub(crate) struct TenantPractice {
    pub(crate) tenant: Tenant,
    data: RwLock<Arc<PracticeData>>,
}

impl TenantPractice {
    pub(crate) fn new(tenant: Tenant, data: PracticeData) -> Self {
        TenantPractice {
            tenant,
            data: RwLock::new(Arc::new(data)),
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<PracticeData> {
        self.data.read().expect("practice lock").clone()
    }

    /// Applies `change` to a copy and publishes it if it succeeds.
    pub(crate) fn change<R>(
        &self,
        change: impl FnOnce(&mut PracticeData) -> Result<R, PracticeError>,
    ) -> Result<R, PracticeError> {
        let mut current = self.data.write().expect("practice lock");
        let mut next = PracticeData::clone(&current);
        let result = change(&mut next)?;
        *current = Arc::new(next);
        Ok(result)
    }
}

impl PracticeData {
    fn client_slot(&mut self, uuid: &str) -> Result<&mut Client, PracticeError> {
        let i = *self
            .client_index
            .get(uuid)
            .ok_or_else(|| PracticeError::UnknownClient(uuid.into()))?;
        Ok(Arc::make_mut(&mut self.clients[i]))
    }

    fn contact_slot(&mut self, uuid: &str) -> Result<&mut Contact, PracticeError> {
        let i = *self
            .contact_index
            .get(uuid)
            .ok_or_else(|| PracticeError::UnknownContact(uuid.into()))?;
        Ok(Arc::make_mut(&mut self.contacts[i]))
    }

    fn validate(&self, d: &ClientDetails) -> Result<(), PracticeError> {
        if d.name().trim().is_empty() {
            return Err(PracticeError::Invalid("a client needs a name".into()));
        }
        for staff in [&d.account_manager, &d.job_manager].into_iter().flatten() {
            if self.staff_member(staff).is_none() {
                return Err(PracticeError::Invalid(format!("no staff member {staff}")));
            }
        }
        if let Some(billing) = &d.billing_client {
            if self.client(billing).is_none() {
                return Err(PracticeError::Invalid(format!("no billing client {billing}")));
            }
        }
        for (i, group) in d.groups.iter().enumerate() {
            if self.group(group).is_none() {
                return Err(PracticeError::Invalid(format!("no group {group}")));
            }
            if d.groups[..i].contains(group) {
                return Err(PracticeError::Invalid(format!("group {group} listed twice")));
            }
        }
        Ok(())
    }

    pub(crate) fn add_client(
        &mut self,
        details: ClientDetails,
        now: PrimitiveDateTime,
    ) -> Result<Arc<Client>, PracticeError> {
        self.validate(&details)?;
        let client = Arc::new(Client {
            uuid: uuid::Uuid::new_v4().to_string(),
            modified: now,
            details,
            contacts: Vec::new(),
            relationships: Vec::new(),
        });
        Arc::make_mut(&mut self.client_index).insert(client.uuid.clone(), self.clients.len());
        self.clients.push(client.clone());
        Ok(client)
    }

    /// Any edit to the client itself counts as a change, as in XPM.
    pub(crate) fn edit_client(
        &mut self,
        uuid: &str,
        edit: impl FnOnce(&mut ClientDetails) -> Result<(), PracticeError>,
        now: PrimitiveDateTime,
    ) -> Result<Arc<Client>, PracticeError> {
        let mut details = self
            .client(uuid)
            .ok_or_else(|| PracticeError::UnknownClient(uuid.into()))?
            .details
            .clone();
        edit(&mut details)?;
        self.validate(&details)?;
        let client = self.client_slot(uuid)?;
        client.details = details;
        bump(client, now);
        Ok(self.client(uuid).expect("just edited").clone())
    }

    pub(crate) fn add_contact(
        &mut self,
        details: ContactDetails,
        link: Option<NewLink>,
        now: PrimitiveDateTime,
    ) -> Result<Arc<Contact>, PracticeError> {
        if is_nameless(&details) {
            return Err(PracticeError::Invalid("a contact needs a name".into()));
        }
        if let Some(link) = &link {
            if self.client(&link.client).is_none() {
                return Err(PracticeError::UnknownClient(link.client.clone()));
            }
        }
        let contact = Arc::new(Contact {
            uuid: uuid::Uuid::new_v4().to_string(),
            details,
            is_deleted: false,
        });
        Arc::make_mut(&mut self.contact_index).insert(contact.uuid.clone(), self.contacts.len());
        self.contacts.push(contact.clone());
        if let Some(link) = link {
            self.link_contact(&link.client, &contact.uuid, link.position, link.primary, now)?;
        }
        Ok(contact)
    }

    /// With the defect on, the clients the contact belongs to keep their modified time.
    pub(crate) fn edit_contact(
        &mut self,
        uuid: &str,
        edit: impl FnOnce(&mut ContactDetails) -> Result<(), PracticeError>,
        now: PrimitiveDateTime,
        defect: bool,
    ) -> Result<Arc<Contact>, PracticeError> {
        let contact = self.contact_slot(uuid)?;
        if contact.is_deleted {
            return Err(PracticeError::ContactDeleted(uuid.into()));
        }
        let mut details = contact.details.clone();
        edit(&mut details)?;
        if is_nameless(&details) {
            return Err(PracticeError::Invalid("a contact needs a name".into()));
        }
        contact.details = details;
        if !defect {
            self.bump_clients_of(uuid, now);
        }
        Ok(self.contact(uuid).expect("just edited").clone())
    }

    /// Marks the contact deleted and unlinks it everywhere; a client that loses its primary
    /// contact gets its next one as primary. A contact-side change: under the defect, no client
    /// moves.
    pub(crate) fn delete_contact(
        &mut self,
        uuid: &str,
        now: PrimitiveDateTime,
        defect: bool,
    ) -> Result<(), PracticeError> {
        let contact = self.contact_slot(uuid)?;
        if contact.is_deleted {
            return Err(PracticeError::ContactDeleted(uuid.into()));
        }
        contact.is_deleted = true;
        let linked: Vec<String> = self.clients_of_contact(uuid).map(|c| c.uuid.clone()).collect();
        for client_uuid in linked {
            let client = self.client_slot(&client_uuid)?;
            remove_link(client, uuid);
            if !defect {
                bump(client, now);
            }
        }
        Ok(())
    }

    /// Adding a contact to a client is an edit of the client: it moves.
    pub(crate) fn link_contact(
        &mut self,
        client_uuid: &str,
        contact_uuid: &str,
        position: Option<String>,
        primary: bool,
        now: PrimitiveDateTime,
    ) -> Result<Arc<Client>, PracticeError> {
        let contact = self
            .contact(contact_uuid)
            .ok_or_else(|| PracticeError::UnknownContact(contact_uuid.into()))?;
        if contact.is_deleted {
            return Err(PracticeError::ContactDeleted(contact_uuid.into()));
        }
        let client = self.client_slot(client_uuid)?;
        if client.contacts.iter().any(|l| l.contact == contact_uuid) {
            return Err(PracticeError::AlreadyLinked {
                client: client_uuid.into(),
                contact: contact_uuid.into(),
            });
        }
        let primary = primary || client.contacts.is_empty();
        if primary {
            client.contacts.iter_mut().for_each(|l| l.is_primary = false);
        }
        client.contacts.push(ContactLink {
            contact: contact_uuid.into(),
            is_primary: primary,
            position,
        });
        bump(client, now);
        Ok(self.client(client_uuid).expect("just linked").clone())
    }

    pub(crate) fn unlink_contact(
        &mut self,
        client_uuid: &str,
        contact_uuid: &str,
        now: PrimitiveDateTime,
    ) -> Result<Arc<Client>, PracticeError> {
        let client = self.client_slot(client_uuid)?;
        if !remove_link(client, contact_uuid) {
            return Err(PracticeError::NotLinked {
                client: client_uuid.into(),
                contact: contact_uuid.into(),
            });
        }
        bump(client, now);
        Ok(self.client(client_uuid).expect("just unlinked").clone())
    }

    /// Under the defect, moving the primary contact leaves the client's modified time alone.
    pub(crate) fn set_primary_contact(
        &mut self,
        client_uuid: &str,
        contact_uuid: &str,
        now: PrimitiveDateTime,
        defect: bool,
    ) -> Result<Arc<Client>, PracticeError> {
        let client = self.client_slot(client_uuid)?;
        if !client.contacts.iter().any(|l| l.contact == contact_uuid) {
            return Err(PracticeError::NotLinked {
                client: client_uuid.into(),
                contact: contact_uuid.into(),
            });
        }
        for link in &mut client.contacts {
            link.is_primary = link.contact == contact_uuid;
        }
        if !defect {
            bump(client, now);
        }
        Ok(self.client(client_uuid).expect("just changed").clone())
    }

    fn bump_clients_of(&mut self, contact_uuid: &str, now: PrimitiveDateTime) {
        let linked: Vec<usize> = (0..self.clients.len())
            .filter(|&i| self.clients[i].contacts.iter().any(|l| l.contact == contact_uuid))
            .collect();
        for i in linked {
            bump(Arc::make_mut(&mut self.clients[i]), now);
        }
    }
}

fn is_nameless(contact: &ContactDetails) -> bool {
    contact.name.as_deref().is_none_or(|n| n.trim().is_empty())
}

/// Removes the link; promotes the next contact when the primary one leaves. Returns whether a
/// link was removed.
fn remove_link(client: &mut Client, contact_uuid: &str) -> bool {
    let Some(i) = client.contacts.iter().position(|l| l.contact == contact_uuid) else {
        return false;
    };
    let was_primary = client.contacts.remove(i).is_primary;
    if was_primary {
        if let Some(first) = client.contacts.first_mut() {
            first.is_primary = true;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::practice::generator::{generate, PracticeSpec};
    use time::macros::datetime;

    const NOW: PrimitiveDateTime = datetime!(2030-01-01 12:00:00);

    fn practice() -> PracticeData {
        generate(&PracticeSpec {
            clients: 200,
            seed: 9,
            nz_share: 0.5,
        })
    }

    fn client_with_two_contacts(data: &PracticeData) -> Arc<Client> {
        data.clients()
            .iter()
            .find(|c| c.contacts.len() >= 2)
            .unwrap()
            .clone()
    }

    #[test]
    fn editing_a_client_moves_it() {
        let mut data = practice();
        let uuid = data.clients()[0].uuid.clone();
        let edited = data
            .edit_client(
                &uuid,
                |d| {
                    d.values.name = Some("Renamed & Co".into());
                    Ok(())
                },
                NOW,
            )
            .unwrap();
        assert_eq!(edited.details.name(), "Renamed & Co");
        assert_eq!(edited.modified, NOW);
    }

    #[test]
    fn the_defect_hides_contact_edits_and_primary_moves() {
        for defect in [true, false] {
            let mut data = practice();
            let client = client_with_two_contacts(&data);
            let before = client.modified;
            let secondary = client
                .contacts
                .iter()
                .find(|l| !l.is_primary)
                .unwrap()
                .contact
                .clone();
            data.set_primary_contact(&client.uuid, &secondary, NOW, defect)
                .unwrap();
            let after = data.client(&client.uuid).unwrap();
            assert_eq!(after.primary_contact().unwrap().contact, secondary);
            assert_eq!(after.modified == before, defect);

            let mut data = practice();
            let contact = client.contacts[0].contact.clone();
            data.edit_contact(
                &contact,
                |c| {
                    c.email = Some("new@example.nz".into());
                    Ok(())
                },
                NOW,
                defect,
            )
            .unwrap();
            for c in data.clients_of_contact(&contact) {
                let original = practice().client(&c.uuid).unwrap().modified;
                assert_eq!(c.modified == original, defect, "defect={defect}");
            }
        }
    }

    #[test]
    fn a_failed_change_leaves_nothing_behind() {
        let tenant = TenantPractice::new(crate::tenants::DEMO_PRACTICE, practice());
        let uuid = tenant.snapshot().clients()[0].uuid.clone();
        let err = tenant
            .change(|d| {
                d.edit_client(
                    &uuid,
                    |c| {
                        c.groups.push("no-such-group".into());
                        Ok(())
                    },
                    NOW,
                )
            })
            .unwrap_err();
        assert!(matches!(err, PracticeError::Invalid(_)));
        assert_eq!(
            tenant.snapshot().client(&uuid).unwrap().modified,
            practice().client(&uuid).unwrap().modified
        );
    }

    #[test]
    fn deleting_the_primary_contact_promotes_the_next_one() {
        let mut data = practice();
        let client = client_with_two_contacts(&data);
        let primary = client.primary_contact().unwrap().contact.clone();
        data.delete_contact(&primary, NOW, true).unwrap();
        let after = data.client(&client.uuid).unwrap();
        assert!(after.contacts.iter().all(|l| l.contact != primary));
        assert_eq!(after.contacts.iter().filter(|l| l.is_primary).count(), 1);
        assert!(data.contact(&primary).unwrap().is_deleted);
        assert_eq!(
            data.edit_contact(&primary, |_| Ok(()), NOW, true).unwrap_err(),
            PracticeError::ContactDeleted(primary)
        );
    }

    #[test]
    fn new_contacts_link_and_the_first_one_is_primary() {
        let mut data = practice();
        let lonely = data
            .clients()
            .iter()
            .find(|c| c.contacts.is_empty())
            .unwrap()
            .uuid
            .clone();
        let contact = data
            .add_contact(
                ContactDetails::named("Ngaio Marsh"),
                Some(NewLink {
                    client: lonely.clone(),
                    position: Some("Owner".into()),
                    primary: false,
                }),
                NOW,
            )
            .unwrap();
        let client = data.client(&lonely).unwrap();
        assert_eq!(client.primary_contact().unwrap().contact, contact.uuid);
        assert_eq!(client.modified, NOW);
        assert!(matches!(
            data.link_contact(&lonely, &contact.uuid, None, false, NOW),
            Err(PracticeError::AlreadyLinked { .. })
        ));
    }
}
