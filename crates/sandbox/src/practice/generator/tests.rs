use super::*;

fn spec(clients: usize, seed: u64) -> PracticeSpec {
    PracticeSpec {
        clients,
        seed,
        nz_share: 0.5,
    }
}

fn as_json(data: &PracticeData) -> String {
    let clients: Vec<&Client> = data.clients().iter().map(|c| c.as_ref()).collect();
    let contacts: Vec<&Contact> = data.contacts().iter().map(|c| c.as_ref()).collect();
    let groups: Vec<&Group> = data.groups().iter().map(|c| c.as_ref()).collect();
    serde_json::to_string(&(clients, contacts, groups, data.staff())).unwrap()
}

#[test]
fn same_seed_same_practice_other_seed_other_practice() {
    let a = generate(&spec(300, 7));
    let b = generate(&spec(300, 7));
    let c = generate(&spec(300, 8));
    assert_eq!(as_json(&a), as_json(&b));
    assert_ne!(as_json(&a), as_json(&c));
}

#[test]
fn every_client_with_contacts_has_exactly_one_primary() {
    let data = generate(&spec(2000, 1));
    for c in data.clients() {
        if !c.contacts.is_empty() {
            assert_eq!(
                c.contacts.iter().filter(|l| l.is_primary).count(),
                1,
                "{}",
                c.uuid
            );
        }
        for link in &c.contacts {
            assert!(data.contact(&link.contact).is_some());
        }
    }
}

#[test]
fn the_practice_has_the_variety_decoders_must_survive() {
    let data = generate(&spec(2000, 3));
    let clients = data.clients();
    let any = |f: &dyn Fn(&Client) -> bool| clients.iter().any(|c| f(c));
    let structure =
        |s: &'static str| move |c: &Client| c.details.values.business_structure.as_deref() == Some(s);
    for kind in ["Individual", "Company", "Trust", "Partnership"] {
        assert!(any(&structure(kind)), "no {kind}");
    }
    assert!(any(&|c| c.details.is_prospect()));
    assert!(any(&|c| c.details.is_archived()));
    assert!(any(&|c| c.details.is_deleted()));
    assert!(any(&|c| c.details.values.client_code.is_none()));
    assert!(any(
        &|c| c.details.values.country.as_deref() == Some("New Zealand")
    ));
    assert!(any(&|c| c.details.values.country.as_deref() == Some("Australia")));
    assert!(any(&|c| c
        .details
        .values
        .postal_address
        .as_deref()
        .is_some_and(|a| a.contains('\n'))));
    for needle in ["&", "<", "\"", "é", "ā", "王", "🌿"] {
        assert!(
            any(&|c| c.details.name().contains(needle)),
            "no client name contains {needle}"
        );
    }
    assert!(clients.iter().any(|c| c.contacts.len() == 4));
    assert!(clients.iter().any(|c| c.contacts.is_empty()));
    let links: usize = clients.iter().map(|c| c.contacts.len()).sum();
    assert!(
        links > data.contacts().len(),
        "some contacts are shared between clients"
    );
    assert!(any(&|c| !c.details.values.notes.is_empty()));
    assert!(any(&|c| !c.details.groups.is_empty()));
    assert!(any(&|c| c.details.billing_client.is_some()));
}

#[test]
fn relationships_are_written_from_both_sides() {
    let data = generate(&spec(1000, 5));
    let mut seen = 0;
    for c in data.clients() {
        for r in &c.relationships {
            let other = data.client(&r.related_client).expect("related client exists");
            let mirror = other
                .relationships
                .iter()
                .find(|m| m.values.uuid == r.values.uuid && m.related_client == c.uuid)
                .expect("the other side lists it");
            if r.values.relationship_type.as_deref() == Some("Director") {
                assert_eq!(mirror.values.relationship_type.as_deref(), Some("Director of"));
                seen += 1;
            }
        }
    }
    assert!(seen > 0);
}

#[test]
fn fifteen_thousand_clients_generate_quickly_enough_to_start_a_demo() {
    // Not a timing assertion (debug builds vary); a size sanity check of the large practice.
    let data = generate(&spec(15_000, 42));
    assert_eq!(data.clients().len(), 15_000);
    assert!(data.contacts().len() > 15_000);
}
