//! A deterministic, realistic detailed client list (`client.api/list?detailed=true`), for the
//! decode benchmark and the peak-memory example. Each client carries every person, address and
//! tax field, two or three contacts, notes, groups and relationships, like a practice's list.
//!
//! Test and benchmark support only; requires `writer.rs` to be included as `writer`.

#![allow(dead_code)]

use hownow_xpm::{BillingType, Client, Contact, Note, Reference, Relationship, XpmDate};

/// Small deterministic generator: the same document every run, no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() as usize) % options.len()]
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.next(), self.next());
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a & 0xffff_ffff,
            b & 0xffff,
            (a >> 8) & 0xfff,
            (b >> 4) & 0xfff,
            (a << 16 ^ b) & 0xffff_ffff_ffff
        )
    }
}

const FIRST: &[&str] = &[
    "Aroha", "Ben", "Chloe", "Daniel", "Emma", "Finn", "Grace", "Hemi", "Isla", "Jack",
];
const LAST: &[&str] = &[
    "Smith", "Wilson", "Ngata", "Brown", "Taylor", "O'Connor", "Patel", "Williams",
];
const STREETS: &[&str] = &[
    "Queen Street",
    "Lambton Quay",
    "Cuba St",
    "George St",
    "Victoria Road",
];
const CITIES: &[&str] = &[
    "Auckland",
    "Wellington",
    "Christchurch",
    "Sydney",
    "Melbourne",
    "Brisbane",
];
const STRUCTURES: &[&str] = &["Individual", "Company", "Trust", "Partnership", "Sole Trader"];
const STAFF: &[&str] = &["Pat Partner", "Jo Manager", "Sam Senior", "Alex Associate"];

fn date(y: i32, m: u8, d: u8) -> Option<XpmDate> {
    Some(
        format!("{y:04}-{m:02}-{d:02}")
            .parse()
            .expect("valid generated date"),
    )
}

/// The `i`-th client of the generated practice.
pub fn client(rng: &mut u64, i: usize) -> Client {
    let mut r = Lcg(*rng);
    let first = r.pick(FIRST);
    let last = r.pick(LAST);
    let structure = r.pick(STRUCTURES);
    let person = structure == "Individual" || structure == "Sole Trader";
    let name = if person {
        format!("{first} {last}")
    } else {
        format!("{last} & {} {structure} Ltd", r.pick(LAST))
    };
    let city = r.pick(CITIES);
    let street_no = r.next() % 300 + 1;
    let staff = |r: &mut Lcg| {
        Some(Reference {
            uuid: Some(r.uuid()),
            name: Some(r.pick(STAFF).to_string()),
        })
    };
    let contacts = (0..1 + r.next() % 2)
        .map(|k| {
            let f = r.pick(FIRST);
            let l = r.pick(LAST);
            Contact {
                uuid: Some(r.uuid()),
                name: Some(format!("{f} {l}")),
                salutation: Some(f.to_string()),
                addressee: Some(format!("{f} {l}")),
                mobile: Some(format!("021 {:03} {:04}", r.next() % 1000, r.next() % 10000)),
                email: Some(format!("{}.{}@example.test", f.to_lowercase(), l.to_lowercase())),
                phone: Some(format!("09 {:03} {:04}", r.next() % 1000, r.next() % 10000)),
                position: Some(if k == 0 { "Director" } else { "Accounts" }.to_string()),
                is_primary: Some(k == 0),
                is_deleted: Some(false),
            }
        })
        .collect();
    let notes = (0..r.next() % 2)
        .map(|k| Note {
            title: Some(format!("Annual review {}", 2015 + k)),
            text: Some(format!(
                "Discussed the {} year-end accounts & the provisional tax position with {first}.\n\
                 Follow up on <GST> returns before the due date.",
                2015 + k
            )),
            folder: Some("General".into()),
            date: Some(
                format!("20{:02}-0{}-1{}T09:30:00", 15 + k, 1 + r.next() % 9, r.next() % 9)
                    .parse()
                    .unwrap(),
            ),
            created_by: Some(r.pick(STAFF).to_string()),
        })
        .collect();
    let groups = (0..1)
        .map(|_| Reference {
            uuid: Some(r.uuid()),
            name: Some(
                r.pick(&["Tax clients", "Monthly bookkeeping", "VIP", "Payroll"])
                    .to_string(),
            ),
        })
        .collect();
    let relationships = (0..r.next() % 3)
        .map(|_| Relationship {
            uuid: Some(r.uuid()),
            relationship_type: Some(
                r.pick(&["Director", "Shareholder", "Trustee", "Beneficiary"])
                    .into(),
            ),
            related_client: Some(Reference {
                uuid: Some(r.uuid()),
                name: Some(format!("{} {}", r.pick(FIRST), r.pick(LAST))),
            }),
            number_of_shares: Some((r.next() % 1000).to_string()),
            percentage: Some(format!("{}.5", r.next() % 100)),
            start_date: date(2000 + (r.next() % 20) as i32, 1 + (r.next() % 12) as u8, 1),
            end_date: None,
        })
        .collect();
    let client = Client {
        uuid: Some(r.uuid()),
        name: Some(name),
        title: person.then(|| r.pick(&["Mr", "Ms", "Mrs", "Dr"]).to_string()),
        gender: person.then(|| r.pick(&["Male", "Female"]).to_string()),
        first_name: person.then(|| first.to_string()),
        last_name: person.then(|| last.to_string()),
        other_name: None,
        middle_name: person.then(|| r.pick(FIRST).to_string()),
        date_of_birth: if person {
            date(
                1940 + (r.next() % 60) as i32,
                1 + (r.next() % 12) as u8,
                1 + (r.next() % 28) as u8,
            )
        } else {
            None
        },
        date_of_death: None,
        place_of_birth: person.then(|| r.pick(CITIES).to_string()),
        // XPM 3.1's long-tail fields stay empty, so the document is the one BENCHMARKS.md measured.
        place_of_birth_city: None,
        place_of_birth_country_code: None,
        industry: None,
        bank_account_name: None,
        bank_account_number: None,
        bank_bsb: None,
        email: Some(format!(
            "office{i}@{}.example.test",
            last.to_lowercase().replace('\'', "")
        )),
        address: Some(format!(
            "Level {}\n{street_no} {}",
            r.next() % 20 + 1,
            r.pick(STREETS)
        )),
        city: Some(city.into()),
        region: Some(r.pick(&["Auckland", "Wellington", "NSW", "VIC", "QLD"]).into()),
        post_code: Some(format!("{:04}", r.next() % 10000)),
        country: Some(r.pick(&["New Zealand", "Australia"]).into()),
        postal_address: Some(format!("PO Box {}\n{} Mail Centre", r.next() % 9000 + 100, city)),
        postal_city: Some(city.into()),
        postal_region: Some("Auckland".into()),
        postal_post_code: Some(format!("{:04}", r.next() % 10000)),
        postal_country: Some("New Zealand".into()),
        phone: Some(format!("09 {:03} {:04}", r.next() % 1000, r.next() % 10000)),
        fax: Some(format!("09 {:03} {:04}", r.next() % 1000, r.next() % 10000)),
        website: Some(format!(
            "https://www.{}{i}.example.test",
            last.to_lowercase().replace('\'', "")
        )),
        referral_source: Some(r.pick(&["Referral", "Website", "Existing client"]).into()),
        export_code: Some(format!("EXP{i:05}")),
        is_prospect: Some(false),
        is_archived: Some(r.next() % 10 == 0),
        is_deleted: Some(r.next() % 50 == 0),
        client_code: Some(format!("{}{i:05}", &last[..3].to_uppercase())),
        web_url: Some(format!("https://practicemanager.xero.com/Client/{i}/Detail")),
        account_manager: staff(&mut r),
        job_manager: staff(&mut r),
        billing_client: None,
        billing_type: Some(BillingType {
            name: Some("Standard".into()),
            cost_markup: Some("0.00".into()),
            payment_term: Some("DayOfMonth".into()),
            payment_day: Some("20".into()),
        }),
        tax_number: Some(format!("***-***-{:03}", r.next() % 1000)),
        company_number: (!person).then(|| format!("{}", 1_000_000 + r.next() % 9_000_000)),
        business_number: Some(format!("94{:011}", r.next() % 100_000_000_000)),
        business_structure: Some(structure.into()),
        balance_month: Some(r.pick(&["March", "June", "December"]).into()),
        prepare_gst: Some(r.next() % 2 == 0),
        gst_registered: Some(r.next() % 3 != 0),
        gst_period: Some(r.pick(&["Monthly", "2 Monthly", "6 Monthly"]).into()),
        gst_basis: Some(r.pick(&["Invoice", "Payment", "Hybrid"]).into()),
        provisional_tax_basis: Some(
            r.pick(&["Standard Option", "Estimate Option", "Ratio Option"])
                .into(),
        ),
        provisional_tax_ratio: Some("7.5".into()),
        signed_tax_authority: Some(true),
        tax_agent: Some("Pat Partner".into()),
        agency_status: Some(r.pick(&["With EOT", "Without EOT", "Unlinked"]).into()),
        return_type: Some(r.pick(&["IR3", "IR4", "IR6", "IR7"]).into()),
        prepare_activity_statement: Some(false),
        prepare_tax_return: Some(true),
        branch_number: Some("001".into()),
        active_ato_client: Some(false),
        auto_bas_opt_in_criteria: None,
        contacts,
        notes,
        groups,
        relationships,
    };
    *rng = r.0;
    client
}

/// Writes a detailed client list of `count` clients to `sink` in chunks, so a 50 MB document
/// can go straight to a file without a second copy in memory. The layout is one element per
/// line without indentation: denser than Xero's indented examples, so the harder case per byte.
pub fn write_client_list(count: usize, mut sink: impl FnMut(&str)) {
    let mut rng = 0x5eed_u64;
    sink("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Response api-method=\"List\">\n<Status>OK</Status>\n<Clients>\n");
    let mut chunk = super::writer::XmlWriter::unindented();
    for i in 0..count {
        chunk.out.clear();
        chunk.client(&client(&mut rng, i));
        sink(&chunk.out);
    }
    sink("</Clients>\n</Response>\n");
}

/// The whole document in memory (for the in-memory benchmark).
pub fn client_list(count: usize) -> String {
    let mut doc = String::new();
    write_client_list(count, |s| doc.push_str(s));
    doc
}
