//! Content hashes: SHA-256 over a canonical JSON serialisation, so "did this record change?"
//! is one 32-byte comparison and an unchanged re-sync writes nothing.
//!
//! Canonical means: struct fields in declaration order (serde), and the collections whose order
//! XPM does not define (contacts, groups, relationships) sorted by UUID, so the same client
//! from `list` and from `get` hashes alike. Notes keep XPM's order (they have no key).

use hownow_xpm::{Client, Contact};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub type ContentHash = [u8; 32];

/// Sorts the collections of `client` into canonical order.
pub fn canonicalize(client: &mut Client) {
    client.contacts.sort_by(|a, b| a.uuid.cmp(&b.uuid));
    client
        .groups
        .sort_by(|a, b| a.uuid.cmp(&b.uuid).then_with(|| a.name.cmp(&b.name)));
    client.relationships.sort_by(|a, b| {
        a.uuid
            .cmp(&b.uuid)
            .then_with(|| a.relationship_type.cmp(&b.relationship_type))
            .then_with(|| {
                let ra = a.related_client.as_ref().and_then(|r| r.uuid.as_ref());
                let rb = b.related_client.as_ref().and_then(|r| r.uuid.as_ref());
                ra.cmp(&rb)
            })
    });
}

/// The hash of an already canonicalised client: SHA-256 over its canonical JSON, written into
/// the hasher as it is produced (the JSON itself is never held).
pub fn client_hash(client: &Client) -> ContentHash {
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, client).expect("a Client always serialises");
    hasher.finalize().into()
}

/// The fields of a contact that both `client.api/list` and `client.api/contacts` carry. The
/// link fields (`IsPrimary`, `Position`) belong to the client and are not part of it.
#[derive(Serialize)]
struct ContactContent<'a> {
    name: &'a Option<String>,
    salutation: &'a Option<String>,
    addressee: &'a Option<String>,
    mobile: &'a Option<String>,
    email: &'a Option<String>,
    phone: &'a Option<String>,
}

pub fn contact_hash(contact: &Contact) -> ContentHash {
    let content = ContactContent {
        name: &contact.name,
        salutation: &contact.salutation,
        addressee: &contact.addressee,
        mobile: &contact.mobile,
        email: &contact.email,
        phone: &contact.phone,
    };
    let json = serde_json::to_vec(&content).expect("strings always serialise");
    Sha256::digest(&json).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hownow_xpm::Reference;

    fn contact(uuid: &str, name: &str) -> Contact {
        Contact {
            uuid: Some(uuid.into()),
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn collection_order_does_not_change_the_hash() {
        let mut a = Client {
            uuid: Some("c1".into()),
            contacts: vec![contact("b", "Bea"), contact("a", "Al")],
            groups: vec![
                Reference {
                    uuid: Some("g2".into()),
                    name: None,
                },
                Reference {
                    uuid: Some("g1".into()),
                    name: None,
                },
            ],
            ..Default::default()
        };
        let mut b = a.clone();
        b.contacts.reverse();
        b.groups.reverse();
        canonicalize(&mut a);
        canonicalize(&mut b);
        assert_eq!(client_hash(&a), client_hash(&b));
    }

    #[test]
    fn the_streamed_hash_is_the_hash_of_the_canonical_json() {
        let client = Client {
            uuid: Some("c1".into()),
            name: Some("Ōtautahi \"Quay\" & Co".into()),
            contacts: vec![contact("a", "Al")],
            ..Default::default()
        };
        let json = serde_json::to_string(&client).unwrap();
        assert_eq!(
            client_hash(&client).as_slice(),
            Sha256::digest(json.as_bytes()).as_slice()
        );
    }

    #[test]
    fn any_field_changes_the_hash() {
        let a = Client {
            uuid: Some("c1".into()),
            name: Some("Acme".into()),
            ..Default::default()
        };
        let mut b = a.clone();
        b.postal_post_code = Some("2000".into());
        assert_ne!(client_hash(&a), client_hash(&b));
    }

    #[test]
    fn contact_hash_ignores_link_fields_only() {
        let a = contact("x", "Jo Bloggs");
        let mut linked = a.clone();
        linked.is_primary = Some(true);
        linked.position = Some("Director".into());
        assert_eq!(contact_hash(&a), contact_hash(&linked));
        let mut edited = a.clone();
        edited.email = Some("jo@example.com".into());
        assert_ne!(contact_hash(&a), contact_hash(&edited));
    }
}
