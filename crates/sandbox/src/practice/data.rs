//! One practice's data at one moment: an immutable snapshot that is cheap to clone.
//!
//! Every record sits behind an `Arc`, so taking a snapshot for a 50 MB response copies a few
//! vectors of pointers, and an edit made while the response streams changes the next snapshot,
//! not the one being written (XPM's answers are consistent in the same way).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::model::{Client, Contact, ContactLink, Group, Staff};

#[derive(Debug, Clone)]
pub struct PracticeData {
    pub(crate) clients: Vec<Arc<Client>>,
    pub(crate) client_index: Arc<HashMap<String, usize>>,
    pub(crate) contacts: Vec<Arc<Contact>>,
    pub(crate) contact_index: Arc<HashMap<String, usize>>,
    pub(crate) groups: Vec<Arc<Group>>,
    pub(crate) staff: Arc<[Staff]>,
}

/// How many records of each kind a practice holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub clients: usize,
    /// Neither archived nor deleted: what `client.api/paged-list` returns.
    pub active: usize,
    pub prospects: usize,
    pub archived: usize,
    pub deleted: usize,
    /// Not deleted: what `client.api/contacts` returns.
    pub contacts: usize,
    pub groups: usize,
}

impl PracticeData {
    pub(crate) fn new(
        clients: Vec<Client>,
        contacts: Vec<Contact>,
        groups: Vec<Group>,
        staff: Vec<Staff>,
    ) -> Self {
        let client_index = clients
            .iter()
            .enumerate()
            .map(|(i, c)| (c.uuid.clone(), i))
            .collect();
        let contact_index = contacts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.uuid.clone(), i))
            .collect();
        PracticeData {
            clients: clients.into_iter().map(Arc::new).collect(),
            client_index: Arc::new(client_index),
            contacts: contacts.into_iter().map(Arc::new).collect(),
            contact_index: Arc::new(contact_index),
            groups: groups.into_iter().map(Arc::new).collect(),
            staff: staff.into(),
        }
    }

    /// Every client in XPM's list order (archived and deleted included).
    pub fn clients(&self) -> &[Arc<Client>] {
        &self.clients
    }

    pub fn client(&self, uuid: &str) -> Option<&Arc<Client>> {
        self.client_index.get(uuid).map(|&i| &self.clients[i])
    }

    /// Every contact, deleted ones included, in the order they were created.
    pub fn contacts(&self) -> &[Arc<Contact>] {
        &self.contacts
    }

    pub fn contact(&self, uuid: &str) -> Option<&Arc<Contact>> {
        self.contact_index.get(uuid).map(|&i| &self.contacts[i])
    }

    pub fn groups(&self) -> &[Arc<Group>] {
        &self.groups
    }

    pub fn group(&self, uuid: &str) -> Option<&Arc<Group>> {
        self.groups.iter().find(|g| g.uuid == uuid)
    }

    pub fn staff(&self) -> &[Staff] {
        &self.staff
    }

    pub fn staff_member(&self, uuid: &str) -> Option<&Staff> {
        self.staff.iter().find(|s| s.uuid == uuid)
    }

    /// A client's contacts with their links, in the client's order.
    pub fn contacts_of<'a>(
        &'a self,
        client: &'a Client,
    ) -> impl Iterator<Item = (&'a ContactLink, &'a Contact)> {
        client
            .contacts
            .iter()
            .filter_map(|link| self.contact(&link.contact).map(|c| (link, c.as_ref())))
    }

    /// The clients a contact is linked to.
    pub fn clients_of_contact<'a>(&'a self, contact_uuid: &'a str) -> impl Iterator<Item = &'a Arc<Client>> {
        self.clients
            .iter()
            .filter(move |c| c.contacts.iter().any(|l| l.contact == contact_uuid))
    }

    /// The members of a group that XPM would list (deleted clients drop out).
    pub fn group_members<'a>(&'a self, group_uuid: &'a str) -> impl Iterator<Item = &'a Arc<Client>> {
        self.clients
            .iter()
            .filter(move |c| !c.details.is_deleted() && c.details.groups.iter().any(|g| g == group_uuid))
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            clients: self.clients.len(),
            groups: self.groups.len(),
            contacts: self.contacts.iter().filter(|c| !c.is_deleted).count(),
            ..Counts::default()
        };
        for c in &self.clients {
            let d = &c.details;
            counts.prospects += usize::from(d.is_prospect());
            counts.archived += usize::from(d.is_archived());
            counts.deleted += usize::from(d.is_deleted());
            counts.active += usize::from(!d.is_archived() && !d.is_deleted());
        }
        counts
    }
}
