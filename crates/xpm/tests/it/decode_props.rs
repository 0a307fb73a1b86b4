//! Property tests of the decoder: it never panics and always stops on arbitrary or mutated input,
//! refuses every truncation, ignores element order, and reads back what a writer wrote. Its
//! strategies and normalisation (what the XML format cannot carry) serve `encode_props` too.

#[path = "../../benches/support/writer.rs"]
mod writer;

use hownow_xpm::decode::{decode_all, Decoder};
use hownow_xpm::{BillingType, Client, Contact, Note, Reference, Relationship, XpmDate, XpmError};
use proptest::prelude::*;
use proptest::sample::Index;

/// Runs the decoder to its end and returns how it ended, failing if it yields more items than
/// the input could hold (each needs at least one `<`): the loop is bounded whatever the input.
fn run(input: &[u8]) -> Result<usize, XpmError> {
    let bound = input.iter().filter(|&&b| b == b'<').count() + 1;
    let mut decoder = Decoder::new(input);
    let mut items = 0;
    loop {
        match decoder.next_item() {
            Ok(Some(_)) => {
                items += 1;
                assert!(
                    items <= bound,
                    "{items} items from {} bytes: the decoder loops",
                    input.len()
                );
            }
            Ok(None) => return Ok(items),
            Err(e) => {
                if let XpmError::Decode(d) = &e {
                    assert!(
                        d.position <= input.len() as u64,
                        "position {} past the end",
                        d.position
                    );
                }
                // Fused: asking again repeats the failure instead of resuming.
                assert!(decoder.next_item().is_err());
                return Err(e);
            }
        }
    }
}

// ---- strategies ----

/// Text as practices type it: letters, XML specials, whitespace, line breaks, non-ASCII.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,'&<>\"-]{0,24}",
        "[ \t\n\r]{0,3}[a-zA-Z&<>]{1,10}[ \t\n\r]{0,3}",
        // Several lines, indented or blank, as in addresses and notes.
        "[a-z&]{0,5}([ \t]{0,2}(\n|\r\n|\r)[ \t]{0,3}[a-z<]{0,5}){1,3}[ ]{0,2}",
        "\\PC{0,12}",
        Just(String::new()),
        Just("]]> & <![CDATA[x]]>".to_string()),
    ]
}

pub(crate) fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

pub(crate) fn opt_bool() -> impl Strategy<Value = Option<bool>> {
    prop::option::of(any::<bool>())
}

fn opt_date() -> impl Strategy<Value = Option<XpmDate>> {
    prop::option::of(
        (
            1900i32..2100,
            1u8..=12,
            1u8..=28,
            prop::option::of((0u8..24, 0u8..60, 0u8..60)),
        )
            .prop_map(|(y, m, d, time)| {
                let date = time::Date::from_calendar_date(y, m.try_into().unwrap(), d).unwrap();
                match time {
                    None => XpmDate::Date(date),
                    Some((h, mi, s)) => XpmDate::DateTime(date.with_hms(h, mi, s).unwrap()),
                }
            }),
    )
}

pub(crate) fn opt_reference() -> impl Strategy<Value = Option<Reference>> {
    prop::option::of((opt_text(), opt_text()).prop_map(|(uuid, name)| Reference { uuid, name }))
}

pub(crate) fn contact() -> impl Strategy<Value = Contact> {
    (prop::collection::vec(opt_text(), 8), opt_bool(), opt_bool()).prop_map(|(t, is_primary, is_deleted)| {
        let mut t = t.into_iter();
        Contact {
            uuid: t.next().unwrap(),
            name: t.next().unwrap(),
            salutation: t.next().unwrap(),
            addressee: t.next().unwrap(),
            mobile: t.next().unwrap(),
            email: t.next().unwrap(),
            phone: t.next().unwrap(),
            position: t.next().unwrap(),
            is_primary,
            is_deleted,
        }
    })
}

fn note() -> impl Strategy<Value = Note> {
    (opt_text(), opt_text(), opt_text(), opt_date(), opt_text()).prop_map(
        |(title, text, folder, date, created_by)| Note {
            title,
            text,
            folder,
            date,
            created_by,
        },
    )
}

fn relationship() -> impl Strategy<Value = Relationship> {
    (
        opt_text(),
        opt_text(),
        opt_reference(),
        opt_text(),
        opt_text(),
        opt_date(),
        opt_date(),
    )
        .prop_map(
            |(
                uuid,
                relationship_type,
                related_client,
                number_of_shares,
                percentage,
                start_date,
                end_date,
            )| {
                Relationship {
                    uuid,
                    relationship_type,
                    related_client,
                    number_of_shares,
                    percentage,
                    start_date,
                    end_date,
                }
            },
        )
}

pub(crate) fn client() -> impl Strategy<Value = Client> {
    let texts = prop::collection::vec(opt_text(), 48);
    let bools = prop::collection::vec(opt_bool(), 10);
    let dates = prop::collection::vec(opt_date(), 2);
    let refs = prop::collection::vec(opt_reference(), 3);
    let billing = prop::option::of(prop::collection::vec(opt_text(), 4).prop_map(|t| BillingType {
        name: t[0].clone(),
        cost_markup: t[1].clone(),
        payment_term: t[2].clone(),
        payment_day: t[3].clone(),
    }));
    let lists = (
        prop::collection::vec(contact(), 0..3),
        prop::collection::vec(note(), 0..3),
        prop::collection::vec(opt_reference(), 0..3),
        prop::collection::vec(relationship(), 0..3),
    );
    (texts, bools, dates, refs, billing, lists).prop_map(
        |(texts, bools, dates, refs, billing_type, (contacts, notes, groups, relationships))| {
            let mut t = texts.into_iter();
            let mut b = bools.into_iter();
            let mut d = dates.into_iter();
            let mut r = refs.into_iter();
            Client {
                uuid: t.next().unwrap(),
                name: t.next().unwrap(),
                title: t.next().unwrap(),
                gender: t.next().unwrap(),
                first_name: t.next().unwrap(),
                last_name: t.next().unwrap(),
                other_name: t.next().unwrap(),
                middle_name: t.next().unwrap(),
                date_of_birth: d.next().unwrap(),
                date_of_death: d.next().unwrap(),
                place_of_birth: t.next().unwrap(),
                place_of_birth_city: t.next().unwrap(),
                place_of_birth_country_code: t.next().unwrap(),
                email: t.next().unwrap(),
                address: t.next().unwrap(),
                city: t.next().unwrap(),
                region: t.next().unwrap(),
                post_code: t.next().unwrap(),
                country: t.next().unwrap(),
                postal_address: t.next().unwrap(),
                postal_city: t.next().unwrap(),
                postal_region: t.next().unwrap(),
                postal_post_code: t.next().unwrap(),
                postal_country: t.next().unwrap(),
                phone: t.next().unwrap(),
                fax: t.next().unwrap(),
                website: t.next().unwrap(),
                referral_source: t.next().unwrap(),
                export_code: t.next().unwrap(),
                is_prospect: b.next().unwrap(),
                is_archived: b.next().unwrap(),
                is_deleted: b.next().unwrap(),
                client_code: t.next().unwrap(),
                web_url: t.next().unwrap(),
                account_manager: r.next().unwrap(),
                job_manager: r.next().unwrap(),
                billing_client: r.next().unwrap(),
                billing_type,
                tax_number: t.next().unwrap(),
                company_number: t.next().unwrap(),
                business_number: t.next().unwrap(),
                business_structure: t.next().unwrap(),
                industry: t.next().unwrap(),
                balance_month: t.next().unwrap(),
                prepare_gst: b.next().unwrap(),
                gst_registered: b.next().unwrap(),
                gst_period: t.next().unwrap(),
                gst_basis: t.next().unwrap(),
                provisional_tax_basis: t.next().unwrap(),
                provisional_tax_ratio: t.next().unwrap(),
                signed_tax_authority: b.next().unwrap(),
                tax_agent: t.next().unwrap(),
                agency_status: t.next().unwrap(),
                return_type: t.next().unwrap(),
                prepare_activity_statement: b.next().unwrap(),
                prepare_tax_return: b.next().unwrap(),
                branch_number: t.next().unwrap(),
                active_ato_client: b.next().unwrap(),
                auto_bas_opt_in_criteria: t.next().unwrap(),
                bank_account_name: t.next().unwrap(),
                bank_account_number: t.next().unwrap(),
                bank_bsb: t.next().unwrap(),
                contacts,
                notes,
                groups: groups.into_iter().flatten().collect(),
                relationships,
            }
        },
    )
}

// ---- what the XML format cannot carry ----

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A value as XPM's format carries it: surrounding XML whitespace is layout, and nothing left
/// means no value.
pub(crate) fn norm_text(v: &Option<String>) -> Option<String> {
    let t = v.as_deref()?.trim_matches(is_xml_space);
    (!t.is_empty()).then(|| t.to_string())
}

/// An address: each line trimmed, blank lines dropped.
fn norm_lines(v: &Option<String>) -> Option<String> {
    let lines: Vec<&str> = v
        .as_deref()?
        .split('\n')
        .map(|l| l.trim_matches(is_xml_space))
        .filter(|l| !l.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

pub(crate) fn norm_ref(r: &Option<Reference>) -> Option<Reference> {
    let r = r.as_ref()?;
    let n = Reference {
        uuid: norm_text(&r.uuid),
        name: norm_text(&r.name),
    };
    (n.uuid.is_some() || n.name.is_some()).then_some(n)
}

pub(crate) fn normalise(c: &Client) -> Client {
    let t = norm_text;
    Client {
        uuid: t(&c.uuid),
        name: t(&c.name),
        title: t(&c.title),
        gender: t(&c.gender),
        first_name: t(&c.first_name),
        last_name: t(&c.last_name),
        other_name: t(&c.other_name),
        middle_name: t(&c.middle_name),
        place_of_birth: t(&c.place_of_birth),
        place_of_birth_city: t(&c.place_of_birth_city),
        place_of_birth_country_code: t(&c.place_of_birth_country_code),
        email: t(&c.email),
        address: norm_lines(&c.address),
        city: t(&c.city),
        region: t(&c.region),
        post_code: t(&c.post_code),
        country: t(&c.country),
        postal_address: norm_lines(&c.postal_address),
        postal_city: t(&c.postal_city),
        postal_region: t(&c.postal_region),
        postal_post_code: t(&c.postal_post_code),
        postal_country: t(&c.postal_country),
        phone: t(&c.phone),
        fax: t(&c.fax),
        website: t(&c.website),
        referral_source: t(&c.referral_source),
        export_code: t(&c.export_code),
        client_code: t(&c.client_code),
        web_url: t(&c.web_url),
        account_manager: norm_ref(&c.account_manager),
        job_manager: norm_ref(&c.job_manager),
        billing_client: norm_ref(&c.billing_client),
        billing_type: c
            .billing_type
            .as_ref()
            .map(|b| BillingType {
                name: t(&b.name),
                cost_markup: t(&b.cost_markup),
                payment_term: t(&b.payment_term),
                payment_day: t(&b.payment_day),
            })
            .filter(|b| *b != BillingType::default()),
        tax_number: t(&c.tax_number),
        company_number: t(&c.company_number),
        business_number: t(&c.business_number),
        business_structure: t(&c.business_structure),
        industry: t(&c.industry),
        balance_month: t(&c.balance_month),
        gst_period: t(&c.gst_period),
        gst_basis: t(&c.gst_basis),
        provisional_tax_basis: t(&c.provisional_tax_basis),
        provisional_tax_ratio: t(&c.provisional_tax_ratio),
        tax_agent: t(&c.tax_agent),
        agency_status: t(&c.agency_status),
        return_type: t(&c.return_type),
        branch_number: t(&c.branch_number),
        auto_bas_opt_in_criteria: t(&c.auto_bas_opt_in_criteria),
        bank_account_name: t(&c.bank_account_name),
        bank_account_number: t(&c.bank_account_number),
        bank_bsb: t(&c.bank_bsb),
        contacts: c
            .contacts
            .iter()
            .map(|k| Contact {
                uuid: t(&k.uuid),
                name: t(&k.name),
                salutation: t(&k.salutation),
                addressee: t(&k.addressee),
                mobile: t(&k.mobile),
                email: t(&k.email),
                phone: t(&k.phone),
                position: t(&k.position),
                ..k.clone()
            })
            .collect(),
        notes: c
            .notes
            .iter()
            .map(|n| Note {
                title: t(&n.title),
                text: t(&n.text),
                folder: t(&n.folder),
                created_by: t(&n.created_by),
                ..n.clone()
            })
            .collect(),
        groups: c
            .groups
            .iter()
            .filter_map(|g| norm_ref(&Some(g.clone())))
            .collect(),
        relationships: c
            .relationships
            .iter()
            .map(|r| Relationship {
                uuid: t(&r.uuid),
                relationship_type: t(&r.relationship_type),
                related_client: norm_ref(&r.related_client),
                number_of_shares: t(&r.number_of_shares),
                percentage: t(&r.percentage),
                ..r.clone()
            })
            .collect(),
        // Booleans and dates are carried as they are.
        ..c.clone()
    }
}

/// Splits the lines the writer produced for one client into its direct children (each child
/// starts on a line indented by exactly one level), for reordering.
fn client_children(client_xml: &str) -> Vec<String> {
    let mut children: Vec<String> = Vec::new();
    for line in client_xml.lines().skip(1) {
        if line == "</Client>" {
            break;
        }
        let starts_child = line.starts_with("  <") && !line.starts_with("  </");
        match children.last_mut() {
            Some(last) if !starts_child => {
                last.push('\n');
                last.push_str(line);
            }
            _ => children.push(line.to_string()),
        }
    }
    children
}

fn client_xml(c: &Client) -> String {
    let mut w = writer::XmlWriter::new();
    w.client(c);
    w.out
}

fn envelope(clients_xml: &str) -> String {
    format!("<Response>\n<Status>OK</Status>\n<Clients>\n{clients_xml}</Clients>\n</Response>\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_or_loop(input in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = run(&input);
    }

    #[test]
    fn arbitrary_xmlish_text_never_panics_or_loops(
        input in "(<[A-Za-z/!?]{0,3}[A-Za-z]{0,8}[ =\"a-z]{0,6}/?>|[a-z &;#x0-9]{0,6}|<!\\[CDATA\\[|\\]\\]>|<!--|-->){0,60}"
    ) {
        let _ = run(format!("<Response><Status>OK</Status>{input}").as_bytes());
        let _ = run(input.as_bytes());
    }

    #[test]
    fn written_clients_read_back(clients in prop::collection::vec(client(), 1..4)) {
        let xml = envelope(&clients.iter().map(client_xml).collect::<String>());
        let decoded = decode_all(xml.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
        let want: Vec<Client> = clients.iter().map(normalise).collect();
        prop_assert_eq!(decoded.clients.unwrap(), want);
    }

    #[test]
    fn element_order_does_not_change_the_client(
        c in client(),
        order in any::<u64>(),
    ) {
        let mut children = client_children(&client_xml(&c));
        // Deterministic shuffle from the generated seed (Fisher–Yates).
        let mut seed = order;
        for i in (1..children.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            children.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let shuffled = format!("<Client>\n{}\n</Client>\n", children.join("\n"));
        let decoded = decode_all(envelope(&shuffled).as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{shuffled}")))?;
        prop_assert_eq!(&decoded.clients.unwrap()[0], &normalise(&c));
    }

    #[test]
    fn any_text_in_a_typed_field_is_read_or_warned_never_fatal(
        c in client(),
        field in prop::sample::select(vec!["DateOfBirth", "IsProspect", "IsArchived", "GSTRegistered", "DateOfDeath"]),
        raw in "[ -~]{0,90}",
    ) {
        // Any printable value (escaped as XPM would) in a date or Yes/No field: the client is
        // still read, every other field intact, and an unreadable value is one warning naming it.
        let escaped = raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let odd = format!("<{field}>{escaped}</{field}>");
        let body = client_xml(&c).replacen("</Client>", &format!("{odd}\n</Client>"), 1);
        let decoded = decode_all(envelope(&body).as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{body}")))?;
        let got = &decoded.clients.as_ref().unwrap()[0];
        prop_assert_eq!(got.uuid.clone(), normalise(&c).uuid);
        prop_assert_eq!(got.name.clone(), normalise(&c).name);
        prop_assert!(decoded.warnings.len() <= 1, "{:?}", decoded.warnings);
        for w in &decoded.warnings {
            prop_assert_eq!(&w.field, field);
            prop_assert_eq!(&w.client_uuid, &got.uuid);
            prop_assert!(w.raw_value.chars().count() <= 81);
        }
    }

    #[test]
    fn every_truncation_is_refused(c in client(), cuts in prop::collection::vec(any::<Index>(), 16)) {
        let xml = envelope(&client_xml(&c));
        let end_of_root = xml.rfind("</Response>").unwrap() + "</Response>".len();
        for cut in cuts.iter().map(|i| i.index(end_of_root)) {
            match run(&xml.as_bytes()[..cut]) {
                Err(XpmError::Decode(e)) => prop_assert!(e.position <= cut as u64),
                other => prop_assert!(false, "cut at {} of {} gave {:?}", cut, xml.len(), other),
            }
        }
        prop_assert!(run(&xml.as_bytes()[..end_of_root]).is_ok());
    }

    #[test]
    fn mutated_documents_never_panic_or_loop(
        c in client(),
        edits in prop::collection::vec((any::<Index>(), 0u8..4, any::<u8>()), 1..8),
    ) {
        let mut bytes = envelope(&client_xml(&c)).into_bytes();
        for (at, kind, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] ^= byte | 1,
                1 => bytes.insert(i, byte),
                2 => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        let _ = run(&bytes);
    }
}

#[test]
fn every_prefix_of_a_detailed_client_is_refused() {
    // Exhaustive over one document (the property above samples offsets of many).
    let mut c = Client {
        uuid: Some("u-1".into()),
        name: Some("Smith & Jones <Ltd>".into()),
        address: Some("Level 1\n12 Queen St".into()),
        is_archived: Some(false),
        date_of_birth: Some("1980-02-29".parse().unwrap()),
        account_manager: Some(Reference {
            uuid: Some("s-1".into()),
            name: Some("Pat".into()),
        }),
        ..Client::default()
    };
    c.contacts.push(Contact {
        name: Some("Jane".into()),
        is_primary: Some(true),
        ..Contact::default()
    });
    let xml = envelope(&client_xml(&c));
    let end_of_root = xml.rfind("</Response>").unwrap() + "</Response>".len();
    for cut in 0..end_of_root {
        assert!(
            matches!(run(&xml.as_bytes()[..cut]), Err(XpmError::Decode(_))),
            "prefix of {cut} bytes accepted"
        );
    }
    assert_eq!(run(xml.as_bytes()).unwrap(), 1);
}
