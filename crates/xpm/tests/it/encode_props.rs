//! Property tests of the encoder: whatever the layout and the endpoint's shape, decoding what it
//! wrote gives back the values it was given, as far as XML can carry them (`normalise`).

use hownow_xpm::decode::decode_all;
use hownow_xpm::encode::{self, Absent, ClientShape, Encoder, Layout};
use hownow_xpm::{Client, Group, Pagination};
use proptest::prelude::*;

use crate::decode_props::{
    client, contact, norm_ref, norm_text, normalise, opt_bool, opt_reference, opt_text,
};

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop::sample::select(vec![Absent::Empty, Absent::Omit, Absent::Alternate]),
        any::<bool>(),
    )
        .prop_map(|(absent, client_code_first)| Layout {
            absent,
            client_code_first,
        })
}

fn group() -> impl Strategy<Value = Group> {
    (
        opt_text(),
        opt_text(),
        opt_bool(),
        prop::collection::vec(opt_reference(), 0..3),
    )
        .prop_map(|(uuid, name, taxable, clients)| Group {
            uuid,
            name,
            taxable,
            clients: clients.into_iter().flatten().collect(),
        })
}

/// An answer as XPM frames it: `<Response>`, the status, then the records inside `<{list}>`
/// (written at depth 2) and what follows the list (at depth 1).
fn document(list: &str, records: impl FnOnce(&mut String), after: impl FnOnce(&mut String)) -> String {
    let mut out = String::new();
    encode::open_response(&mut out, "List");
    out.push_str(&format!("\n  <{list}>"));
    records(&mut out);
    out.push_str(&format!("\n  </{list}>"));
    after(&mut out);
    encode::close_response(&mut out);
    out
}

fn decoded(xml: &str) -> Result<hownow_xpm::decode::Decoded, TestCaseError> {
    let decoded = decode_all(xml.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
    prop_assert!(decoded.warnings.is_empty(), "{:?}", decoded.warnings);
    Ok(decoded)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn listed_clients_read_back(clients in prop::collection::vec((client(), layout()), 1..4)) {
        let xml = document(
            "Clients",
            |out| {
                for (c, layout) in &clients {
                    Encoder::new(out, 2, *layout).client(c, ClientShape::Detailed);
                }
            },
            |_| {},
        );
        let want: Vec<Client> = clients.iter().map(|(c, _)| normalise(c)).collect();
        prop_assert_eq!(decoded(&xml)?.clients.unwrap(), want);
    }

    #[test]
    fn a_single_client_reads_back_with_its_web_url_beside_it(c in client(), layout in layout()) {
        let mut xml = String::new();
        encode::open_response(&mut xml, "Get");
        Encoder::new(&mut xml, 1, layout).client(&c, ClientShape::Single);
        encode::close_response(&mut xml);
        prop_assert_eq!(decoded(&xml)?.clients.unwrap(), vec![normalise(&c)]);
    }

    #[test]
    fn contacts_and_their_pagination_read_back(
        contacts in prop::collection::vec((contact(), layout()), 0..4),
        first in opt_text(),
        next in opt_text(),
    ) {
        let pagination = Pagination { first, next };
        let xml = document(
            "Contacts",
            |out| {
                for (k, layout) in &contacts {
                    Encoder::new(out, 2, *layout).contact(k);
                }
            },
            |out| Encoder::new(out, 1, Layout::default()).pagination(&pagination),
        );
        let got = decoded(&xml)?;
        let listed = Client {
            contacts: contacts.iter().map(|(k, _)| k.clone()).collect(),
            ..Client::default()
        };
        prop_assert_eq!(got.contacts.unwrap(), normalise(&listed).contacts);
        let want = Pagination {
            first: norm_text(&pagination.first),
            next: norm_text(&pagination.next),
        };
        prop_assert_eq!(got.pagination.unwrap(), want);
    }

    #[test]
    fn groups_read_back_with_or_without_members(
        groups in prop::collection::vec((group(), any::<bool>(), layout()), 0..4),
    ) {
        let xml = document(
            "Groups",
            |out| {
                for (g, members, layout) in &groups {
                    Encoder::new(out, 2, *layout).group(g, *members);
                }
            },
            |_| {},
        );
        let want: Vec<Group> = groups
            .iter()
            .map(|(g, _, _)| Group {
                uuid: norm_text(&g.uuid),
                name: norm_text(&g.name),
                taxable: g.taxable,
                clients: g.clients.iter().filter_map(|r| norm_ref(&Some(r.clone()))).collect(),
            })
            .collect();
        prop_assert_eq!(decoded(&xml)?.groups.unwrap(), want);
    }
}
