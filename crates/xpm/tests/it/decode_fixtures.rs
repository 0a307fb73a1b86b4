//! The decoder against saved documents shaped like Xero's documentation examples: indentation,
//! comments, stray text, self-closing elements, multi-line addresses, `<WebUrl>` beside `<Client>`.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use hownow_xpm::decode::{decode_all, Decoded, Decoder, Item};
use hownow_xpm::{BillingType, Client, Contact, Group, Note, Reference, Relationship, XpmError};

fn fixture(name: &str) -> BufReader<File> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    BufReader::new(File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn decode(name: &str) -> Decoded {
    decode_all(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn r(uuid: &str, name: &str) -> Reference {
    Reference {
        uuid: s(uuid),
        name: s(name),
    }
}

#[test]
fn detailed_client_list() {
    let d = decode("client-list-detailed.xml");
    assert_eq!(d.contacts, None);
    assert_eq!(d.groups, None);
    assert_eq!(d.pagination, None);
    let clients = d.clients.unwrap();
    assert_eq!(clients.len(), 2);

    let company = &clients[0];
    let want = Client {
        uuid: s("f0b6c3a2-7d4e-4b1a-9c2d-3e4f5a6b7c8d"),
        name: s("Smith & Jones Holdings Ltd"),
        email: s("accounts@smithjones.example"),
        address: s("Level 4\n123 Lambton Quay"),
        city: s("Wellington"),
        region: s("Wellington"),
        post_code: s("6011"),
        country: s("New Zealand"),
        postal_address: s("PO Box 10-123\nWellington Mail Centre"),
        postal_city: s("Wellington"),
        postal_post_code: s("6143"),
        postal_country: s("New Zealand"),
        phone: s("04 555 0100"),
        website: s("www.smithjones.example"),
        referral_source: s("Referral"),
        export_code: s("SMI001"),
        is_prospect: Some(false),
        is_archived: Some(false),
        is_deleted: Some(false),
        client_code: s("SMI001"),
        account_manager: Some(r("a1a1a1a1-0000-4000-8000-000000000001", "Pat Partner")),
        job_manager: Some(r("a1a1a1a1-0000-4000-8000-000000000002", "Jo Manager")),
        billing_client: None,
        billing_type: Some(BillingType {
            name: s("Standard"),
            cost_markup: s("0.00"),
            payment_term: s("DayOfMonth"),
            payment_day: s("20"),
        }),
        tax_number: s("***-***-456"),
        company_number: s("1234567"),
        business_number: s("9429041234567"),
        business_structure: s("Company"),
        balance_month: s("March"),
        prepare_gst: Some(true),
        gst_registered: Some(true),
        gst_period: s("2 Monthly"),
        gst_basis: s("Invoice"),
        provisional_tax_basis: s("Standard Option"),
        signed_tax_authority: Some(true),
        tax_agent: s("Pat Partner"),
        agency_status: s("With EOT"),
        return_type: s("IR4"),
        contacts: vec![
            Contact {
                uuid: s("c0c0c0c0-0000-4000-8000-000000000001"),
                name: s("Jane Smith"),
                salutation: s("Jane"),
                addressee: s("Ms J Smith"),
                mobile: s("021 555 0101"),
                email: s("jane@smithjones.example"),
                phone: None,
                position: s("Director"),
                is_primary: Some(true),
                is_deleted: None,
            },
            Contact {
                uuid: s("c0c0c0c0-0000-4000-8000-000000000002"),
                name: s("Tom Jones"),
                salutation: s("Tom"),
                addressee: s("Mr T Jones"),
                mobile: None,
                email: s("tom@smithjones.example"),
                phone: s("04 555 0102"),
                position: s("Shareholder"),
                is_primary: Some(false),
                is_deleted: None,
            },
        ],
        notes: vec![Note {
            title: s("Engagement letter"),
            text: s("Signed engagement letter received.\nNext review: March."),
            folder: s("Compliance"),
            date: Some("2023-04-03T10:15:00".parse().unwrap()),
            created_by: s("Jo Manager"),
        }],
        groups: vec![r("b0b0b0b0-0000-4000-8000-000000000001", "Monthly GST")],
        relationships: vec![Relationship {
            uuid: s("d0d0d0d0-0000-4000-8000-000000000001"),
            relationship_type: s("Shareholder"),
            related_client: Some(r("f0b6c3a2-7d4e-4b1a-9c2d-000000000002", "Jane Smith")),
            number_of_shares: s("500"),
            percentage: s("50"),
            start_date: Some("2015-07-01T00:00:00".parse().unwrap()),
            end_date: None,
        }],
        ..Client::default()
    };
    assert_eq!(company, &want);

    let person = &clients[1];
    assert_eq!(person.first_name.as_deref(), Some("Jane"));
    assert_eq!(person.date_of_birth.unwrap().to_string(), "1980-02-29");
    assert_eq!(person.address.as_deref(), Some("14 Hill Road\nKarori"));
    assert_eq!(person.is_prospect, Some(false));
    assert_eq!(person.is_archived, Some(true));
    assert_eq!(
        person.billing_client,
        Some(r(
            "f0b6c3a2-7d4e-4b1a-9c2d-3e4f5a6b7c8d",
            "Smith & Jones Holdings Ltd"
        ))
    );
    assert_eq!(
        person.relationships[0].relationship_type.as_deref(),
        Some("Shareholder of")
    );
    assert_eq!(
        person.relationships[0].start_date.unwrap().to_string(),
        "2015-07-01"
    );
}

#[test]
fn paged_list_pages() {
    let d = decode("client-paged-list.xml");
    let clients = d.clients.unwrap();
    assert_eq!(clients.len(), 2);
    assert_eq!(clients[1].name.as_deref(), Some("Ben & Co"));
    assert_eq!(clients[1].is_prospect, Some(true));
    assert_eq!(
        d.pagination.unwrap().next_page_token().as_deref(),
        Some("eyJwIjoyfQ")
    );

    let last = decode("client-paged-list-last.xml");
    assert_eq!(last.clients.unwrap().len(), 1);
    let p = last.pagination.unwrap();
    assert!(p.first.is_some());
    assert_eq!(p.next, None);
}

#[test]
fn single_client_with_web_url_beside_it() {
    let d = decode("client-get.xml");
    let clients = d.clients.unwrap();
    assert_eq!(clients.len(), 1);
    let c = &clients[0];
    assert_eq!(c.name.as_deref(), Some("Daniel O'Connor"));
    assert_eq!(
        c.web_url.as_deref(),
        Some("https://practicemanager.xero.com/Client/2222/Detail")
    );
    // The comment inside the address and the stray "Yes or No" text are not content.
    assert_eq!(c.address.as_deref(), Some("Flat 2\n9 Cuba Street"));
    assert_eq!(c.city.as_deref(), Some("Wellington"));
    assert_eq!(c.date_of_birth.unwrap().to_string(), "1975-11-30T00:00:00");
    assert_eq!(c.billing_client, None);
    assert_eq!(c.active_ato_client, Some(true));
    assert_eq!(c.prepare_activity_statement, Some(true));
    assert_eq!(c.contacts.len(), 1);
    assert_eq!(c.contacts[0].position, None);
    assert!(c.notes.is_empty() && c.groups.is_empty());
}

#[test]
fn the_single_client_is_yielded_once_the_envelope_closes() {
    let mut decoder = Decoder::new(fixture("client-get.xml"));
    let Some(Item::Client(c)) = decoder.next_item().unwrap() else {
        panic!("expected the client")
    };
    assert!(c.web_url.is_some());
    assert_eq!(decoder.next_item().unwrap(), None);
}

#[test]
fn contacts_page_and_single_contact() {
    let d = decode("contacts-page.xml");
    assert_eq!(d.clients, None);
    let contacts = d.contacts.unwrap();
    assert_eq!(contacts.len(), 2);
    assert_eq!(contacts[1].email.as_deref(), Some("tom@smithjones.example"));
    assert_eq!(contacts[1].is_deleted, Some(false));
    assert_eq!(contacts[0].phone, None);
    assert_eq!(d.pagination.unwrap().next_page_token().as_deref(), Some("NEXT2"));

    let one = decode("contact-get.xml").contacts.unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].is_primary, Some(true));
    assert_eq!(one[0].position.as_deref(), Some("Director"));
}

#[test]
fn groups_and_group_members() {
    let list = decode("clientgroup-list.xml").groups.unwrap();
    assert_eq!(
        list.iter()
            .map(|g| (g.name.clone().unwrap(), g.taxable))
            .collect::<Vec<_>>(),
        [
            ("Monthly GST".to_string(), Some(true)),
            ("Payroll".to_string(), Some(false))
        ]
    );

    let one = decode("clientgroup-get.xml");
    assert_eq!(one.clients, None);
    assert_eq!(
        one.groups.unwrap(),
        vec![Group {
            uuid: s("b0b0b0b0-0000-4000-8000-000000000001"),
            name: s("Monthly GST"),
            taxable: Some(true),
            clients: vec![
                r(
                    "f0b6c3a2-7d4e-4b1a-9c2d-3e4f5a6b7c8d",
                    "Smith & Jones Holdings Ltd"
                ),
                r("22222222-0000-4000-8000-000000000001", "Daniel O'Connor"),
            ],
        }]
    );
}

#[test]
fn error_envelope_is_an_api_error() {
    match decode_all(fixture("error.xml")) {
        Err(XpmError::Api { description }) => assert_eq!(description, "Invalid client identifier"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn entity_declarations_are_refused_before_any_expansion() {
    match decode_all(fixture("doctype-entities.xml")) {
        Err(XpmError::Decode(e)) => {
            assert!(e.message.contains("DOCTYPE"), "{e}");
            assert_eq!(e.position, "<?xml version=\"1.0\"?>\n".len() as u64);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_truncated_download_is_refused() {
    // Records before the cut are handed out; the error comes where the input stops.
    let mut decoder = Decoder::new(fixture("truncated.xml"));
    let err = loop {
        match decoder.next_item() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a truncated document decoded as complete"),
            Err(e) => break e,
        }
    };
    match err {
        XpmError::Decode(e) => {
            assert!(e.message.contains("truncated"), "{e}");
            assert_eq!(e.position, 700);
        }
        other => panic!("{other:?}"),
    }
}
