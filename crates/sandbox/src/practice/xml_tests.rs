use super::*;
use crate::practice::generator::{generate, PracticeSpec};

#[test]
fn clients_show_both_empty_and_absent_values_and_xpm_spellings() {
    let data = generate(&PracticeSpec {
        clients: 300,
        seed: 11,
        nz_share: 0.5,
    });
    let mut all = String::new();
    for c in data.clients() {
        write_client(&mut all, 2, &data, c, ClientShape::Detailed, OddValues::default());
    }
    assert!(all.contains("<Title />"));
    assert!(data.clients().iter().any(|c| {
        let mut one = String::new();
        write_client(&mut one, 2, &data, c, ClientShape::Detailed, OddValues::default());
        c.details.values.title.is_none() && !one.contains("<Title")
    }));
    assert!(all.contains("<BillingClient />"));
    assert!(all.contains("<PrepareGST>"));
    assert!(all.contains("<GSTRegistered>"));
    assert!(all.contains("<IsArchived>Yes</IsArchived>"));
    assert!(all.contains("<Type>\n"));
    assert!(all.contains("&amp;"));
    assert!(all.contains("&lt;"));
}

#[test]
fn paged_shape_has_no_collections_and_light_has_no_tax_fields() {
    let data = generate(&PracticeSpec {
        clients: 200,
        seed: 2,
        nz_share: 0.5,
    });
    let client = data
        .clients()
        .iter()
        .find(|c| !c.contacts.is_empty() && !c.details.values.notes.is_empty())
        .unwrap();
    let render = |shape| {
        let mut s = String::new();
        write_client(&mut s, 0, &data, client, shape, OddValues::default());
        s
    };
    let paged = render(ClientShape::Paged);
    let light = render(ClientShape::Light);
    let detailed = render(ClientShape::Detailed);
    assert!(!paged.contains("<Contacts>") && light.contains("<Contacts>") && detailed.contains("<Contacts>"));
    assert!(!light.contains("<Notes>") && detailed.contains("<Notes>"));
    assert!(!light.contains("<BalanceMonth>") && detailed.contains("<BalanceMonth>"));
}
