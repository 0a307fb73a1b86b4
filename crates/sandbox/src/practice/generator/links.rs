//! What joins a practice's records: relationships between clients, billing clients, and the
//! contacts (some shared between clients) with their links.

use rand::Rng;
use time::Duration;

use super::super::model::{calendar, Client, Contact, ContactLink, Relationship};
use super::words::*;
use super::{Country, Generator, Kind, Person};

impl Generator {
    /// Links entities to people, written on both clients with the same UUID.
    pub(super) fn make_relationships(&mut self) {
        let individuals: Vec<usize> = (0..self.clients.len())
            .filter(|&i| self.kinds[i].0 == Kind::Individual)
            .collect();
        if individuals.len() < 2 {
            return;
        }
        for entity in 0..self.clients.len() {
            let kind = self.kinds[entity].0;
            if kind == Kind::Individual {
                if self.pct(8) {
                    let other = self.pick(&individuals);
                    if other != entity {
                        self.relate(entity, other, ("Spouse", "Spouse"), None, None);
                    }
                }
                continue;
            }
            if !kind.is_entity() || !self.pct(55) {
                continue;
            }
            let people = self.rng.gen_range(1..4);
            for _ in 0..people {
                let person = self.pick(&individuals);
                if self.clients[entity]
                    .relationships
                    .iter()
                    .any(|r| r.related_client == self.clients[person].uuid)
                {
                    continue;
                }
                match kind {
                    Kind::Company => {
                        self.relate(entity, person, ("Director", "Director of"), None, None);
                        if self.pct(50) {
                            let shares = self.rng.gen_range(1..100) * 10;
                            let pct = format!("{}.00", self.rng.gen_range(1..101));
                            self.relate(
                                entity,
                                person,
                                ("Shareholder", "Shareholder of"),
                                Some(shares.to_string()),
                                Some(pct),
                            );
                        }
                    }
                    Kind::Trust => {
                        let labels = match self.rng.gen_range(0..10) {
                            0..=4 => ("Trustee", "Trustee of"),
                            5..=8 => ("Beneficiary", "Beneficiary of"),
                            _ => ("Settlor", "Settlor of"),
                        };
                        self.relate(entity, person, labels, None, None);
                    }
                    Kind::Partnership => {
                        let pct = format!("{}.00", self.rng.gen_range(10..60));
                        self.relate(entity, person, ("Partner", "Partner of"), None, Some(pct));
                    }
                    Kind::SuperFund => self.relate(entity, person, ("Member", "Member of"), None, None),
                    Kind::Individual | Kind::SoleTrader => {}
                }
            }
        }
    }

    fn relate(
        &mut self,
        a: usize,
        b: usize,
        (label_on_a, label_on_b): (&str, &str),
        number_of_shares: Option<String>,
        percentage: Option<String>,
    ) {
        let uuid = self.uuid();
        let start_date = self.pct(60).then(|| self.date_between(2000, 2024));
        let end_date = match start_date {
            Some(start) if self.pct(8) => Some(start + Duration::days(self.rng.gen_range(30..3000))),
            _ => None,
        };
        let side = |label: &str, other: &Client| Relationship {
            values: hownow_xpm::Relationship {
                uuid: Some(uuid.clone()),
                relationship_type: Some(label.into()),
                related_client: None,
                number_of_shares: number_of_shares.clone(),
                percentage: percentage.clone(),
                start_date: start_date.map(calendar),
                end_date: end_date.map(calendar),
            }
            .into(),
            related_client: other.uuid.clone(),
        };
        let on_a = side(label_on_a, &self.clients[b]);
        let on_b = side(label_on_b, &self.clients[a]);
        self.clients[a].relationships.push(on_a);
        self.clients[b].relationships.push(on_b);
    }

    /// Some people's fees are billed to the entity they direct, some to another client.
    pub(super) fn make_billing_clients(&mut self) {
        for i in 0..self.clients.len() {
            if !self.pct(8) {
                continue;
            }
            let related = self.clients[i]
                .relationships
                .first()
                .map(|r| r.related_client.clone());
            let target = match related {
                Some(related) if self.pct(70) => Some(related),
                _ => {
                    let j = self.rng.gen_range(0..self.clients.len());
                    (j != i).then(|| self.clients[j].uuid.clone())
                }
            };
            self.clients[i].details.billing_client = target;
        }
    }

    pub(super) fn make_contacts(&mut self) {
        for i in 0..self.clients.len() {
            let count = match self.rng.gen_range(0..100) {
                0..=7 => 0,
                8..=47 => 1,
                48..=77 => 2,
                78..=92 => 3,
                _ => 4,
            };
            let (kind, country) = self.kinds[i];
            let mut links: Vec<ContactLink> = Vec::with_capacity(count);
            for slot in 0..count {
                let shared = !self.contacts.is_empty() && self.pct(12);
                let contact_uuid = if shared {
                    let recent = self.contacts.len().saturating_sub(300);
                    let j = self.rng.gen_range(recent..self.contacts.len());
                    self.contacts[j].uuid.clone()
                } else if slot == 0 && kind == Kind::Individual && self.pct(70) {
                    let person = self.people[i].take();
                    let name = self.clients[i].details.name().to_owned();
                    let contact = self.contact_for(person.as_ref(), country, Some(&name));
                    self.people[i] = person;
                    contact
                } else {
                    self.contact_for(None, country, None)
                };
                if links.iter().any(|l| l.contact == contact_uuid) {
                    continue;
                }
                let position = match kind {
                    Kind::Individual if slot == 0 => None,
                    _ if self.pct(60) => Some(self.pick(POSITIONS).to_string()),
                    _ => None,
                };
                links.push(ContactLink {
                    contact: contact_uuid,
                    is_primary: false,
                    position,
                });
            }
            if !links.is_empty() {
                let primary = if links.len() > 1 && self.pct(15) {
                    self.rng.gen_range(1..links.len())
                } else {
                    0
                };
                links[primary].is_primary = true;
            }
            self.clients[i].contacts = links;
        }
    }

    /// Creates a contact (for the client's own person when given) and returns its UUID.
    fn contact_for(&mut self, person: Option<&Person>, country: Country, name: Option<&String>) -> String {
        let generated;
        let person = match person {
            Some(p) => p,
            None => {
                generated = self.person();
                &generated
            }
        };
        let name = name.cloned().unwrap_or_else(|| person.display());
        let domain = if country == Country::Nz {
            "example.co.nz"
        } else {
            "example.com.au"
        };
        let details = hownow_xpm::Contact {
            salutation: self.pct(80).then(|| person.given.0.to_string()),
            addressee: self.pct(60).then(|| name.clone()),
            mobile: self.pct(70).then(|| self.mobile(country)),
            email: self
                .pct(75)
                .then(|| format!("{}.{}@{domain}", person.given.1, person.family.1)),
            phone: self.pct(40).then(|| self.landline(country)),
            name: Some(name),
            ..hownow_xpm::Contact::default()
        };
        let contact = Contact {
            uuid: self.uuid(),
            details: details.into(),
            is_deleted: false,
        };
        let uuid = contact.uuid.clone();
        self.contacts.push(contact);
        uuid
    }
}
