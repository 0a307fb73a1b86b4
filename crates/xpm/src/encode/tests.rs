use super::*;
use crate::{Client, Contact, Pagination, Reference};

fn client_xml(client: &Client, shape: ClientShape, layout: Layout) -> String {
    let mut out = String::new();
    Encoder::new(&mut out, 0, layout).client(client, shape);
    out
}

#[test]
fn escapes_markup_characters_and_carriage_returns_only() {
    let mut out = String::new();
    escape_into(&mut out, "Tom & Jerry's <Cheese> \"Co\" 王 🌿\r\n");
    assert_eq!(out, "Tom &amp; Jerry's &lt;Cheese&gt; \"Co\" 王 🌿&#13;\n");
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
    Encoder::new(&mut out, 2, Layout::default()).lines("PostalAddress", Some("Level 3\n45 Queen Street"));
    assert_eq!(
        out,
        "\n    <PostalAddress>Level 3\n      45 Queen Street</PostalAddress>"
    );
}

#[test]
fn absent_values_are_empty_left_out_or_both_in_turn() {
    let client = Client {
        uuid: Some("c".into()),
        name: Some("N".into()),
        ..Client::default()
    };
    let with = |absent| {
        let layout = Layout {
            absent,
            client_code_first: false,
        };
        client_xml(&client, ClientShape::Paged, layout)
    };
    let empty = with(Absent::Empty);
    assert!(empty.contains("<Title />") && empty.contains("<Gender />"));
    let omitted = with(Absent::Omit);
    assert!(!omitted.contains("<Title") && !omitted.contains("<Gender"));
    let alternate = with(Absent::Alternate);
    assert!(alternate.contains("<Title />") && !alternate.contains("<Gender"));
    // Whatever the layout: no billing client is written empty, and middle names only when known.
    for xml in [&empty, &omitted, &alternate] {
        assert!(xml.contains("<BillingClient />"), "{xml}");
        assert!(!xml.contains("MiddleName"), "{xml}");
    }
}

#[test]
fn shapes_add_contacts_then_the_detail_and_single_puts_web_url_beside() {
    let client = Client {
        uuid: Some("c".into()),
        client_code: Some("CODE1".into()),
        web_url: Some("https://x.example/c".into()),
        tax_number: Some("***123".into()),
        contacts: vec![Contact {
            name: Some("K".into()),
            is_primary: Some(true),
            ..Contact::default()
        }],
        groups: vec![Reference {
            uuid: Some("g".into()),
            name: Some("G".into()),
        }],
        ..Client::default()
    };
    let render = |shape| client_xml(&client, shape, Layout::default());
    let (paged, light, detailed, single) = (
        render(ClientShape::Paged),
        render(ClientShape::Light),
        render(ClientShape::Detailed),
        render(ClientShape::Single),
    );
    assert!(!paged.contains("<Contacts>") && light.contains("<Contacts>"));
    assert!(!light.contains("<Groups>") && detailed.contains("<Groups>"));
    assert!(!light.contains("<TaxNumber>") && detailed.contains("<TaxNumber>"));
    assert!(
        detailed.ends_with("<WebUrl>https://x.example/c</WebUrl>\n</Client>"),
        "{detailed}"
    );
    assert!(
        single.ends_with("</Client>\n<WebUrl>https://x.example/c</WebUrl>"),
        "{single}"
    );
    let code_first = client_xml(
        &client,
        ClientShape::Paged,
        Layout {
            client_code_first: true,
            ..Layout::default()
        },
    );
    assert!(
        code_first.starts_with("\n<Client>\n  <UUID>c</UUID>\n  <Name />\n  <ClientCode>CODE1</ClientCode>")
    );
}

#[test]
fn a_contact_shows_its_link_only_when_it_has_one() {
    let mut contact = Contact {
        uuid: Some("k".into()),
        name: Some("K".into()),
        is_deleted: Some(false),
        ..Contact::default()
    };
    let render = |c: &Contact| {
        let mut out = String::new();
        Encoder::new(&mut out, 0, Layout::default()).contact(c);
        out
    };
    let listed = render(&contact);
    assert!(
        !listed.contains("IsPrimary") && !listed.contains("Position"),
        "{listed}"
    );
    contact.is_primary = Some(false);
    let linked = render(&contact);
    assert!(linked.contains("<IsPrimary>No</IsPrimary>") && linked.contains("<Position />"));
}

#[test]
fn pagination_has_no_next_on_the_last_page() {
    let mut out = String::new();
    Encoder::new(&mut out, 1, Layout::default()).pagination(&Pagination {
        first: Some("f".into()),
        next: None,
    });
    assert_eq!(
        out,
        "\n  <Pagination>\n    <Links>\n      <First>f</First>\n    </Links>\n  </Pagination>"
    );
}
