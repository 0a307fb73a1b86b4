//! The XML the sandbox serves decodes with the product's decoder (`hownow_xpm::decode`, what
//! `hownow xpm decode` runs) into exactly the sandbox's own records: no value lost, changed or
//! invented, whichever endpoint wrote it.

use crate::common::start_with;
use hownow_sandbox::practice::{Client, Contact, ContactLink, PracticeData};
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_xpm as xpm;
use xpm::XpmDate;

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Paged,
    Light,
    Detailed,
}

/// XPM writes every date with a time of day.
fn date(d: Option<XpmDate>) -> Option<XpmDate> {
    d.map(|d| match d {
        XpmDate::Date(day) => XpmDate::DateTime(day.midnight()),
        at => at,
    })
}

fn reference(uuid: &str, name: Option<&str>) -> xpm::Reference {
    xpm::Reference {
        uuid: Some(uuid.to_string()),
        name: name.map(str::to_string),
    }
}

fn expected_contact(contact: &Contact, link: Option<&ContactLink>) -> xpm::Contact {
    xpm::Contact {
        uuid: Some(contact.uuid.clone()),
        position: link.and_then(|l| l.position.clone()),
        is_primary: link.map(|l| l.is_primary),
        is_deleted: Some(contact.is_deleted),
        ..contact.details.0.clone()
    }
}

/// The sandbox's record as XPM's client would decode it from `shape`: its values as they are,
/// its references resolved, its links as contacts, and nothing of the detail in the shorter
/// shapes.
fn expected_client(data: &PracticeData, c: &Client, shape: Shape) -> xpm::Client {
    let d = &c.details;
    let v = &d.values;
    let staff = |uuid: &Option<String>| {
        uuid.as_deref()
            .map(|u| reference(u, data.staff_member(u).map(|s| s.name.as_str())))
    };
    let detailed = shape == Shape::Detailed;
    let detail = |v: &Option<String>| if detailed { v.clone() } else { None };
    let detail_flag = |v: Option<bool>| if detailed { v } else { None };
    xpm::Client {
        uuid: Some(c.uuid.clone()),
        date_of_birth: date(v.date_of_birth),
        date_of_death: date(v.date_of_death),
        place_of_birth_city: detail(&v.place_of_birth_city),
        place_of_birth_country_code: detail(&v.place_of_birth_country_code),
        is_prospect: Some(d.is_prospect()),
        is_archived: Some(d.is_archived()),
        is_deleted: Some(d.is_deleted()),
        account_manager: staff(&d.account_manager),
        job_manager: staff(&d.job_manager),
        billing_client: d
            .billing_client
            .as_deref()
            .map(|u| reference(u, data.client(u).map(|b| b.details.name()))),
        tax_number: detail(&v.tax_number),
        company_number: detail(&v.company_number),
        business_number: detail(&v.business_number),
        business_structure: detail(&v.business_structure),
        industry: detail(&v.industry),
        balance_month: detail(&v.balance_month),
        prepare_gst: detail_flag(v.prepare_gst),
        gst_registered: detail_flag(v.gst_registered),
        gst_period: detail(&v.gst_period),
        gst_basis: detail(&v.gst_basis),
        provisional_tax_basis: detail(&v.provisional_tax_basis),
        provisional_tax_ratio: detail(&v.provisional_tax_ratio),
        signed_tax_authority: detail_flag(v.signed_tax_authority),
        tax_agent: detail(&v.tax_agent),
        agency_status: detail(&v.agency_status),
        return_type: detail(&v.return_type),
        prepare_activity_statement: detail_flag(v.prepare_activity_statement),
        prepare_tax_return: detail_flag(v.prepare_tax_return),
        branch_number: detail(&v.branch_number),
        active_ato_client: detail_flag(v.active_ato_client),
        auto_bas_opt_in_criteria: detail(&v.auto_bas_opt_in_criteria),
        bank_account_name: detail(&v.bank_account_name),
        bank_account_number: detail(&v.bank_account_number),
        bank_bsb: detail(&v.bank_bsb),
        contacts: if shape == Shape::Paged {
            Vec::new()
        } else {
            data.contacts_of(c)
                .map(|(link, contact)| expected_contact(contact, Some(link)))
                .collect()
        },
        notes: if detailed {
            v.notes
                .iter()
                .map(|n| xpm::Note {
                    date: date(n.date),
                    ..n.clone()
                })
                .collect()
        } else {
            Vec::new()
        },
        groups: if detailed {
            d.groups
                .iter()
                .map(|g| reference(g, data.group(g).map(|g| g.name.as_str())))
                .collect()
        } else {
            Vec::new()
        },
        relationships: if detailed {
            c.relationships
                .iter()
                .map(|r| xpm::Relationship {
                    related_client: Some(reference(
                        &r.related_client,
                        data.client(&r.related_client).map(|o| o.details.name()),
                    )),
                    start_date: date(r.values.start_date),
                    end_date: date(r.values.end_date),
                    ..r.values.0.clone()
                })
                .collect()
        } else {
            Vec::new()
        },
        ..v.0.clone()
    }
}

fn assert_same(got: &[xpm::Client], expected: &[xpm::Client]) {
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert_eq!(g, e, "client {:?}", e.uuid);
    }
}

#[tokio::test]
async fn every_client_shape_decodes_to_the_sandbox_records() {
    let env = start_with(|c| c.clients = 600).await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();

    let detailed = env
        .decoded("client.api/list?detailed=true")
        .await
        .clients
        .unwrap();
    let expected: Vec<_> = data
        .clients()
        .iter()
        .map(|c| expected_client(&data, c, Shape::Detailed))
        .collect();
    assert_same(&detailed, &expected);

    let light = env.decoded("client.api/list").await.clients.unwrap();
    let expected: Vec<_> = data
        .clients()
        .iter()
        .map(|c| expected_client(&data, c, Shape::Light))
        .collect();
    assert_same(&light, &expected);

    let paged = env
        .decoded("client.api/paged-list?pageSize=500")
        .await
        .clients
        .unwrap();
    let expected: Vec<_> = data
        .clients()
        .iter()
        .filter(|c| !c.details.is_archived() && !c.details.is_deleted())
        .take(500)
        .map(|c| expected_client(&data, c, Shape::Paged))
        .collect();
    assert_same(&paged, &expected);

    for c in data.clients().iter().step_by(37) {
        let single = env
            .decoded(&format!("client.api/get/{}", c.uuid))
            .await
            .clients
            .unwrap();
        assert_same(&single, &[expected_client(&data, c, Shape::Detailed)]);
    }
}

#[tokio::test]
async fn contacts_and_groups_decode_to_the_sandbox_records() {
    let env = start_with(|c| c.clients = 300).await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();

    let contacts = env
        .decoded("client.api/contacts?pageSize=500")
        .await
        .contacts
        .unwrap();
    let expected: Vec<xpm::Contact> = data
        .contacts()
        .iter()
        .filter(|c| !c.is_deleted)
        .take(500)
        .map(|c| expected_contact(c, None))
        .collect();
    assert_eq!(contacts, expected);

    let groups = env.decoded("clientgroup.api/list").await.groups.unwrap();
    let expected: Vec<xpm::Group> = data
        .groups()
        .iter()
        .map(|g| xpm::Group {
            uuid: Some(g.uuid.clone()),
            name: Some(g.name.clone()),
            taxable: Some(g.taxable),
            clients: Vec::new(),
        })
        .collect();
    assert_eq!(groups, expected);
}

#[tokio::test]
async fn awkward_text_survives_the_round_trip() {
    let env = start_with(|c| c.clients = 300).await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let names: Vec<String> = env
        .decoded("client.api/list")
        .await
        .clients
        .unwrap()
        .into_iter()
        .map(|c| c.name.unwrap())
        .collect();
    for needle in ["&", "<", "\"", "é", "ā", "🌿"] {
        assert!(
            names.iter().any(|n| n.contains(needle)),
            "no decoded name with {needle}"
        );
    }
    let expected: Vec<&str> = data.clients().iter().map(|c| c.details.name()).collect();
    assert_eq!(names, expected);
}
