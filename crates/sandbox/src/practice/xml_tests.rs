use super::*;
use crate::practice::generator::{generate, PracticeSpec};

#[test]
fn escapes_markup_characters_only() {
    let mut out = String::new();
    escape_into(&mut out, "Tom & Jerry's <Cheese> \"Co\" 王 🌿");
    assert_eq!(out, "Tom &amp; Jerry's &lt;Cheese&gt; \"Co\" 王 🌿");
}

#[test]
fn error_envelope_is_xpms() {
    assert_eq!(
        error_document("Invalid client identifier"),
        "<Response>\n  <Status>ERROR</Status>\n  <ErrorDescription>Invalid client identifier</ErrorDescription>\n</Response>\n"
    );
}

#[test]
fn postal_address_continuation_lines_are_indented() {
    let mut out = String::new();
    let mut w = XmlWriter::new(&mut out, 2);
    w.multiline("PostalAddress", Some("Level 3\n45 Queen Street"));
    assert_eq!(
        out,
        "\n    <PostalAddress>Level 3\n      45 Queen Street</PostalAddress>"
    );
}

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
        c.details.title.is_none() && !one.contains("<Title")
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
        .find(|c| !c.contacts.is_empty() && !c.details.notes.is_empty())
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
