//! A deterministic generator of realistic practices of any size.
//!
//! Everything comes from one ChaCha stream seeded by [`PracticeSpec::seed`] (never the thread
//! RNG, never a `HashMap`'s order, never the clock), so the same spec gives the same practice,
//! byte for byte, on every machine and every run.

mod long_tail;
mod words;

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::macros::datetime;
use time::{Date, Duration, Month, PrimitiveDateTime};

use super::data::PracticeData;
use super::model::{
    BillingType, Client, ClientDetails, Contact, ContactDetails, ContactLink, Group, Note, Relationship,
    Staff,
};
use words::*;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PracticeSpec {
    pub clients: usize,
    pub seed: u64,
    /// The share of New Zealand clients; the rest are Australian.
    pub nz_share: f64,
}

/// Modified times are spread over these three years, all safely in the past, so anything the
/// admin API changes "now" stands out to `modifiedsince`.
const MODIFIED_FROM: PrimitiveDateTime = datetime!(2023-01-01 00:00:00);
const MODIFIED_SPAN_SECONDS: i64 = 3 * 365 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Country {
    Nz,
    Au,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Individual,
    Company,
    Trust,
    Partnership,
    SoleTrader,
    SuperFund,
}

impl Kind {
    fn business_structure(self) -> &'static str {
        match self {
            Kind::Individual => "Individual",
            Kind::Company => "Company",
            Kind::Trust => "Trust",
            Kind::Partnership => "Partnership",
            Kind::SoleTrader => "Sole Trader",
            Kind::SuperFund => "Superannuation Fund",
        }
    }

    fn is_entity(self) -> bool {
        matches!(
            self,
            Kind::Company | Kind::Trust | Kind::Partnership | Kind::SuperFund
        )
    }
}

struct Person {
    given: Word,
    family: Word,
    female: bool,
    /// Written family name first, without a space (王伟).
    family_first: bool,
}

impl Person {
    fn display(&self) -> String {
        if self.family_first {
            format!("{}{}", self.family.0, self.given.0)
        } else {
            format!("{} {}", self.given.0, self.family.0)
        }
    }
}

/// Generates one practice.
pub fn generate(spec: &PracticeSpec) -> PracticeData {
    Generator::new(spec).run()
}

struct Generator {
    rng: ChaCha8Rng,
    spec: PracticeSpec,
    staff: Vec<Staff>,
    groups: Vec<Group>,
    clients: Vec<Client>,
    kinds: Vec<(Kind, Country)>,
    people: Vec<Option<Person>>,
    contacts: Vec<Contact>,
    code_counters: HashMap<String, u32>,
}

impl Generator {
    fn new(spec: &PracticeSpec) -> Self {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(spec.seed),
            spec: *spec,
            staff: Vec::new(),
            groups: Vec::new(),
            clients: Vec::with_capacity(spec.clients),
            kinds: Vec::with_capacity(spec.clients),
            people: Vec::with_capacity(spec.clients),
            contacts: Vec::new(),
            code_counters: HashMap::new(),
        }
    }

    fn run(mut self) -> PracticeData {
        self.staff = STAFF
            .iter()
            .map(|name| Staff {
                uuid: self.uuid(),
                name: (*name).to_string(),
            })
            .collect();
        self.make_groups();
        for i in 0..self.spec.clients {
            let client = self.make_client(i);
            self.clients.push(client);
        }
        self.make_relationships();
        self.make_billing_clients();
        self.make_contacts();
        PracticeData::new(self.clients, self.contacts, self.groups, self.staff)
    }

    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
    }

    fn pct(&mut self, percent: u32) -> bool {
        self.rng.gen_ratio(percent, 100)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        *items.choose(&mut self.rng).expect("non-empty word list")
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.rng.gen_range(0..10u8)))
            .collect()
    }

    fn make_groups(&mut self) {
        let count = (self.spec.clients / 100).clamp(3, 200);
        for i in 0..count {
            let name = if let Some(theme) = GROUP_THEMES.get(i) {
                theme.to_string()
            } else {
                let family = self.pick(LAST_NAMES).0;
                format!("{family} Family Group {}", i + 1)
            };
            let group = Group {
                uuid: self.uuid(),
                name,
                taxable: self.pct(30),
            };
            self.groups.push(group);
        }
    }

    fn person(&mut self) -> Person {
        let female = self.rng.gen_bool(0.5);
        if self.pct(4) {
            let (family, given, family_slug, given_slug) = self.pick(CJK_NAMES);
            return Person {
                given: (given, given_slug),
                family: (family, family_slug),
                female,
                family_first: true,
            };
        }
        let given = self.pick(if female {
            FIRST_NAMES_FEMALE
        } else {
            FIRST_NAMES_MALE
        });
        Person {
            given,
            family: self.pick(LAST_NAMES),
            female,
            family_first: false,
        }
    }

    fn kind(&mut self, country: Country) -> Kind {
        let roll = self.rng.gen_range(0..100);
        match roll {
            0..=51 => Kind::Individual,
            52..=73 => Kind::Company,
            74..=85 => Kind::Trust,
            86..=91 => Kind::Partnership,
            92..=96 => Kind::SoleTrader,
            _ if country == Country::Au => Kind::SuperFund,
            _ => Kind::Company,
        }
    }

    fn entity_name(&mut self, kind: Kind, country: Country, person: &Person) -> String {
        let awkward = self.pct(8).then(|| self.pick(AWKWARD_ENTITY_NAMES));
        let family = person.family.0;
        match kind {
            Kind::Company => {
                let stem = match awkward {
                    Some(a) => a.to_string(),
                    None => match self.rng.gen_range(0..3) {
                        0 => format!("{family} {}", self.pick(INDUSTRIES)),
                        1 => format!("{family} {}", self.pick(COMPANY_WORDS)),
                        _ => {
                            let places = if country == Country::Nz {
                                NZ_PLACES
                            } else {
                                AU_PLACES
                            };
                            format!("{} {}", self.pick(places).0, self.pick(INDUSTRIES))
                        }
                    },
                };
                let suffix = if country == Country::Nz {
                    "Limited"
                } else {
                    "Pty Ltd"
                };
                format!("{stem} {suffix}")
            }
            Kind::Trust => match awkward {
                Some(a) => format!("{a} Trust"),
                None if self.pct(50) => format!("The {family} Family Trust"),
                None => {
                    let other = self.pick(FIRST_NAMES_FEMALE).0;
                    let initial = |s: &str| s.chars().next().unwrap_or('X');
                    format!("{} & {} {family} Trust", initial(person.given.0), initial(other))
                }
            },
            Kind::Partnership => match awkward {
                Some(a) => format!("{a} Partners"),
                None if self.pct(60) => format!("{family} & {}", self.pick(LAST_NAMES).0),
                None => format!("{family} {} Partners", self.pick(INDUSTRIES)),
            },
            Kind::SuperFund => format!("{family} Family Superannuation Fund"),
            Kind::SoleTrader => format!("{} - {}", person.display(), self.pick(INDUSTRIES)),
            Kind::Individual => person.display(),
        }
    }

    fn client_code(&mut self, name: &str) -> String {
        let mut prefix: String = name
            .chars()
            .filter(char::is_ascii_alphabetic)
            .take(4)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if prefix.len() < 2 {
            prefix = "CL".into();
        }
        let counter = self.code_counters.entry(prefix.clone()).or_insert(0);
        *counter += 1;
        format!("{prefix}{:03}", *counter)
    }

    fn date_between(&mut self, from_year: i32, to_year: i32) -> Date {
        let from = Date::from_calendar_date(from_year, Month::January, 1).expect("valid date");
        let days = (to_year - from_year + 1) as i64 * 365;
        from + Duration::days(self.rng.gen_range(0..days))
    }

    fn make_client(&mut self, index: usize) -> Client {
        let country = if self.rng.gen_bool(self.spec.nz_share) {
            Country::Nz
        } else {
            Country::Au
        };
        let kind = self.kind(country);
        let person = self.person();
        let uuid = self.uuid();
        let name = self.entity_name(kind, country, &person);
        let slug = slug_of(&name, index);
        let (nz, au) = (country == Country::Nz, country == Country::Au);
        let individual = matches!(kind, Kind::Individual);
        let mut d = ClientDetails {
            name: name.clone(),
            ..ClientDetails::default()
        };

        if individual {
            if self.pct(70) {
                let title = if person.female {
                    self.pick(&["Mrs", "Ms", "Miss", "Dr"])
                } else {
                    self.pick(&["Mr", "Dr"])
                };
                d.title = Some(title.to_string());
            }
            if self.pct(60) {
                d.gender = Some(if person.female { "Female" } else { "Male" }.into());
            }
            d.first_name = Some(person.given.0.into());
            d.last_name = Some(person.family.0.into());
            if self.pct(15) {
                d.other_name = Some(self.pick(FIRST_NAMES_MALE).0.into());
            }
            if self.pct(8) {
                d.middle_name = Some(self.pick(FIRST_NAMES_FEMALE).0.into());
            }
            if self.pct(70) {
                d.date_of_birth = Some(self.date_between(1940, 2005));
            }
        }

        let domain = if nz { "example.co.nz" } else { "example.com.au" };
        if individual && self.pct(80) {
            d.email = Some(format!("{}.{}@{domain}", person.given.1, person.family.1));
        } else if !individual && self.pct(75) {
            d.email = Some(format!("accounts@{slug}.{domain}"));
        }

        let places = if nz { NZ_PLACES } else { AU_PLACES };
        let (city, region, post_code) = self.pick(places);
        let country_name = if nz { "New Zealand" } else { "Australia" };
        let postal_roll = self.rng.gen_range(0..100);
        if postal_roll >= 5 {
            let number = self.rng.gen_range(1..400);
            let street = self.pick(STREETS);
            d.address = Some(if self.pct(15) {
                format!("Unit {}, {number} {street}", self.rng.gen_range(1..30))
            } else {
                format!("{number} {street}")
            });
            d.city = Some(city.into());
            d.region = Some(region.into());
            d.post_code = Some(post_code.into());
            if self.pct(60) {
                d.country = Some(country_name.into());
            }
        }
        if postal_roll < 40 {
            d.postal_address = Some(format!("PO Box {}", self.rng.gen_range(1..9999)));
        } else if postal_roll < 60 {
            let street = self.pick(STREETS);
            d.postal_address = Some(format!(
                "Level {}\n{} {street}\n{city} Central",
                self.rng.gen_range(1..40),
                self.rng.gen_range(1..400)
            ));
        }
        if d.postal_address.is_some() {
            d.postal_city = Some(city.into());
            if self.pct(50) {
                d.postal_region = Some(region.into());
            }
            d.postal_post_code = Some(post_code.into());
            if self.pct(40) {
                d.postal_country = Some(country_name.into());
            }
        }
        if self.pct(80) {
            d.phone = Some(self.landline(country));
        }
        if self.pct(5) {
            d.fax = Some(self.landline(country));
        }
        if !individual && self.pct(40) {
            d.website = Some(format!("www.{slug}.{domain}"));
        }

        if self.pct(30) {
            d.referral_source = Some(self.pick(REFERRAL_SOURCES).into());
        }
        if self.pct(20) {
            d.export_code = Some(format!("EXP{:05}", index + 1));
        }
        match self.rng.gen_range(0..100) {
            0..=2 => d.is_deleted = true,
            3..=8 => d.is_archived = true,
            9..=13 => d.is_prospect = true,
            _ => {}
        }
        if self.pct(90) {
            d.client_code = Some(self.client_code(&slug));
        }
        if self.pct(95) {
            d.web_url = Some(format!(
                "https://practicemanager.xero.com/Client/{}/Detail",
                1_000_000 + index * 7
            ));
        }
        if self.pct(90) {
            d.account_manager = Some(self.pick_staff());
        }
        if self.pct(70) {
            d.job_manager = Some(self.pick_staff());
        }
        if self.pct(85) {
            d.billing_type = Some(match self.rng.gen_range(0..3) {
                0 => billing("Monthly Client", "0.00", "DayOfMonth", "20"),
                1 => billing("Standard", "0.00", "WithinDays", "14"),
                _ => billing("Annual Fixed Fee", "10.00", "DayOfMonth", "1"),
            });
        }

        self.tax_fields(&mut d, kind, country);
        if au {
            self.au_fields(&mut d, kind);
        } else {
            self.nz_fields(&mut d, kind);
        }
        long_tail::fill(
            &mut d,
            long_tail::Who {
                seed: self.spec.seed,
                index,
                individual,
                au,
            },
        );

        let modified = MODIFIED_FROM + Duration::seconds(self.rng.gen_range(0..MODIFIED_SPAN_SECONDS));
        d.notes = self.notes(modified);
        if self.pct(32) {
            let g = self.rng.gen_range(0..self.groups.len());
            d.groups.push(self.groups[g].uuid.clone());
            if self.pct(22) {
                let h = self.rng.gen_range(0..self.groups.len());
                if h != g {
                    d.groups.push(self.groups[h].uuid.clone());
                }
            }
        }

        self.kinds.push((kind, country));
        self.people.push(individual.then_some(person));
        Client {
            uuid,
            modified,
            details: d,
            contacts: Vec::new(),
            relationships: Vec::new(),
        }
    }

    fn pick_staff(&mut self) -> String {
        let i = self.rng.gen_range(0..self.staff.len());
        self.staff[i].uuid.clone()
    }

    fn landline(&mut self, country: Country) -> String {
        match country {
            Country::Nz => format!(
                "(0{}) {} {}",
                self.pick(&[3, 4, 6, 7, 9]),
                self.digits(3),
                self.digits(4)
            ),
            Country::Au => format!(
                "(0{}) {} {}",
                self.pick(&[2, 3, 7, 8]),
                self.digits(4),
                self.digits(4)
            ),
        }
    }

    fn mobile(&mut self, country: Country) -> String {
        match country {
            Country::Nz => format!(
                "02{} {} {}",
                self.pick(&[1, 2, 7]),
                self.digits(3),
                self.digits(4)
            ),
            Country::Au => format!("04{} {} {}", self.digits(2), self.digits(3), self.digits(3)),
        }
    }

    fn tax_fields(&mut self, d: &mut ClientDetails, kind: Kind, country: Country) {
        if self.pct(95) {
            d.business_structure = Some(kind.business_structure().into());
        }
        if self.pct(85) {
            // XPM shows only the last three digits of a tax number (TFN or IRD).
            let hidden = if country == Country::Au {
                6
            } else {
                5 + self.rng.gen_range(0..2)
            };
            d.tax_number = Some(format!("{}{}", "*".repeat(hidden), self.digits(3)));
        }
        let month = if self.pct(85) {
            if country == Country::Nz {
                "March"
            } else {
                "June"
            }
        } else {
            self.pick(&["January", "April", "September", "December"])
        };
        d.balance_month = Some(month.into());
        let registered = if kind.is_entity() || kind == Kind::SoleTrader {
            self.pct(70)
        } else {
            self.pct(15)
        };
        d.gst_registered = Some(registered);
        if registered {
            d.prepare_gst = Some(self.pct(80));
            d.gst_period = Some(
                match country {
                    Country::Nz => self.pick(&["Monthly", "Two Monthly", "Six Monthly"]),
                    Country::Au => self.pick(&["Monthly", "Quarterly", "Annually"]),
                }
                .into(),
            );
            d.gst_basis = Some(
                match country {
                    Country::Nz => self.pick(&["Invoice", "Payments", "Hybrid"]),
                    Country::Au => self.pick(&["Cash", "Accrual"]),
                }
                .into(),
            );
        } else if self.pct(50) {
            d.prepare_gst = Some(false);
        }
    }

    fn nz_fields(&mut self, d: &mut ClientDetails, kind: Kind) {
        if kind == Kind::Company {
            d.company_number = Some(self.digits(7));
            if self.pct(60) {
                d.business_number = Some(format!("9429{}", self.digits(9)));
            }
        }
        if self.pct(50) {
            let basis = self.pick(&["Standard", "Estimation", "Ratio", "AIM"]);
            d.provisional_tax_basis = Some(basis.into());
            if basis == "Ratio" {
                d.provisional_tax_ratio = Some(format!(
                    "{}.{}",
                    self.rng.gen_range(1..15),
                    self.rng.gen_range(0..10)
                ));
            }
        }
        if self.pct(70) {
            d.signed_tax_authority = Some(self.pct(80));
        }
        if self.pct(50) {
            d.tax_agent = Some(self.pick(&["Primary agent", "Secondary agent"]).into());
            d.agency_status = Some(self.pick(&["Linked", "Pending", "Unlinked"]).into());
        }
        d.return_type = Some(
            match kind {
                Kind::Individual | Kind::SoleTrader => "IR3",
                Kind::Company => "IR4",
                Kind::Trust | Kind::SuperFund => "IR6",
                Kind::Partnership => "IR7",
            }
            .into(),
        );
    }

    fn au_fields(&mut self, d: &mut ClientDetails, kind: Kind) {
        if kind == Kind::Company {
            d.company_number = Some(format!(
                "{} {} {}",
                self.digits(3),
                self.digits(3),
                self.digits(3)
            ));
        }
        if kind != Kind::Individual && self.pct(70) {
            d.business_number = Some(format!(
                "{} {} {} {}",
                self.digits(2),
                self.digits(3),
                self.digits(3),
                self.digits(3)
            ));
        }
        d.prepare_activity_statement = Some(d.gst_registered == Some(true));
        if self.pct(90) {
            d.prepare_tax_return = Some(self.pct(85));
        }
        if kind == Kind::Company && self.pct(20) {
            d.branch_number = Some("001".into());
        }
        if self.pct(80) {
            d.active_ato_client = Some(self.pct(90));
        }
        if self.pct(30) {
            d.auto_bas_opt_in_criteria = Some(
                self.pick(&["All activity statements", "Nil activity statements only"])
                    .into(),
            );
        }
    }

    fn notes(&mut self, modified: PrimitiveDateTime) -> Vec<Note> {
        let count = match self.rng.gen_range(0..100) {
            0..=39 => 0,
            40..=74 => 1,
            75..=92 => 2,
            _ => 3,
        };
        (0..count)
            .map(|_| {
                let sentences = self.rng.gen_range(1..4);
                let text = (0..sentences)
                    .map(|_| self.pick(NOTE_SENTENCES))
                    .collect::<Vec<_>>()
                    .join(if self.pct(30) { "\n" } else { " " });
                let age = Duration::seconds(self.rng.gen_range(0..400 * 86_400));
                let created_by = self.pct(90).then(|| self.pick(STAFF).to_string());
                Note {
                    title: self.pick(NOTE_TITLES).into(),
                    text,
                    folder: self.pct(70).then(|| self.pick(NOTE_FOLDERS).to_string()),
                    date: modified - age,
                    created_by,
                }
            })
            .collect()
    }

    /// Links entities to people, written on both clients with the same UUID.
    fn make_relationships(&mut self) {
        let individuals: Vec<usize> = (0..self.clients.len())
            .filter(|&i| self.kinds[i].0 == Kind::Individual)
            .collect();
        if individuals.len() < 2 {
            return;
        }
        for entity in 0..self.clients.len() {
            let kind = self.kinds[entity].0;
            if kind == Kind::Individual {
                if self.pct(8) {
                    let other = self.pick(&individuals);
                    if other != entity {
                        self.relate(entity, other, ("Spouse", "Spouse"), None, None);
                    }
                }
                continue;
            }
            if !kind.is_entity() || !self.pct(55) {
                continue;
            }
            let people = self.rng.gen_range(1..4);
            for _ in 0..people {
                let person = self.pick(&individuals);
                if self.clients[entity]
                    .relationships
                    .iter()
                    .any(|r| r.related_client == self.clients[person].uuid)
                {
                    continue;
                }
                match kind {
                    Kind::Company => {
                        self.relate(entity, person, ("Director", "Director of"), None, None);
                        if self.pct(50) {
                            let shares = self.rng.gen_range(1..100) * 10;
                            let pct = format!("{}.00", self.rng.gen_range(1..101));
                            self.relate(
                                entity,
                                person,
                                ("Shareholder", "Shareholder of"),
                                Some(shares.to_string()),
                                Some(pct),
                            );
                        }
                    }
                    Kind::Trust => {
                        let labels = match self.rng.gen_range(0..10) {
                            0..=4 => ("Trustee", "Trustee of"),
                            5..=8 => ("Beneficiary", "Beneficiary of"),
                            _ => ("Settlor", "Settlor of"),
                        };
                        self.relate(entity, person, labels, None, None);
                    }
                    Kind::Partnership => {
                        let pct = format!("{}.00", self.rng.gen_range(10..60));
                        self.relate(entity, person, ("Partner", "Partner of"), None, Some(pct));
                    }
                    Kind::SuperFund => self.relate(entity, person, ("Member", "Member of"), None, None),
                    Kind::Individual | Kind::SoleTrader => {}
                }
            }
        }
    }

    fn relate(
        &mut self,
        a: usize,
        b: usize,
        (label_on_a, label_on_b): (&str, &str),
        number_of_shares: Option<String>,
        percentage: Option<String>,
    ) {
        let uuid = self.uuid();
        let start_date = self.pct(60).then(|| self.date_between(2000, 2024));
        let end_date = match start_date {
            Some(start) if self.pct(8) => Some(start + Duration::days(self.rng.gen_range(30..3000))),
            _ => None,
        };
        let side = |label: &str, other: &Client| Relationship {
            uuid: uuid.clone(),
            relationship_type: label.into(),
            related_client: other.uuid.clone(),
            number_of_shares: number_of_shares.clone(),
            percentage: percentage.clone(),
            start_date,
            end_date,
        };
        let on_a = side(label_on_a, &self.clients[b]);
        let on_b = side(label_on_b, &self.clients[a]);
        self.clients[a].relationships.push(on_a);
        self.clients[b].relationships.push(on_b);
    }

    /// Some people's fees are billed to the entity they direct, some to another client.
    fn make_billing_clients(&mut self) {
        for i in 0..self.clients.len() {
            if !self.pct(8) {
                continue;
            }
            let related = self.clients[i]
                .relationships
                .first()
                .map(|r| r.related_client.clone());
            let target = match related {
                Some(related) if self.pct(70) => Some(related),
                _ => {
                    let j = self.rng.gen_range(0..self.clients.len());
                    (j != i).then(|| self.clients[j].uuid.clone())
                }
            };
            self.clients[i].details.billing_client = target;
        }
    }

    fn make_contacts(&mut self) {
        for i in 0..self.clients.len() {
            let count = match self.rng.gen_range(0..100) {
                0..=7 => 0,
                8..=47 => 1,
                48..=77 => 2,
                78..=92 => 3,
                _ => 4,
            };
            let (kind, country) = self.kinds[i];
            let mut links: Vec<ContactLink> = Vec::with_capacity(count);
            for slot in 0..count {
                let shared = !self.contacts.is_empty() && self.pct(12);
                let contact_uuid = if shared {
                    let recent = self.contacts.len().saturating_sub(300);
                    let j = self.rng.gen_range(recent..self.contacts.len());
                    self.contacts[j].uuid.clone()
                } else if slot == 0 && kind == Kind::Individual && self.pct(70) {
                    let person = self.people[i].take();
                    let name = self.clients[i].details.name.clone();
                    let contact = self.contact_for(person.as_ref(), country, Some(&name));
                    self.people[i] = person;
                    contact
                } else {
                    self.contact_for(None, country, None)
                };
                if links.iter().any(|l| l.contact == contact_uuid) {
                    continue;
                }
                let position = match kind {
                    Kind::Individual if slot == 0 => None,
                    _ if self.pct(60) => Some(self.pick(POSITIONS).to_string()),
                    _ => None,
                };
                links.push(ContactLink {
                    contact: contact_uuid,
                    is_primary: false,
                    position,
                });
            }
            if !links.is_empty() {
                let primary = if links.len() > 1 && self.pct(15) {
                    self.rng.gen_range(1..links.len())
                } else {
                    0
                };
                links[primary].is_primary = true;
            }
            self.clients[i].contacts = links;
        }
    }

    /// Creates a contact (for the client's own person when given) and returns its UUID.
    fn contact_for(&mut self, person: Option<&Person>, country: Country, name: Option<&String>) -> String {
        let generated;
        let person = match person {
            Some(p) => p,
            None => {
                generated = self.person();
                &generated
            }
        };
        let name = name.cloned().unwrap_or_else(|| person.display());
        let domain = if country == Country::Nz {
            "example.co.nz"
        } else {
            "example.com.au"
        };
        let details = ContactDetails {
            salutation: self.pct(80).then(|| person.given.0.to_string()),
            addressee: self.pct(60).then(|| name.clone()),
            mobile: self.pct(70).then(|| self.mobile(country)),
            email: self
                .pct(75)
                .then(|| format!("{}.{}@{domain}", person.given.1, person.family.1)),
            phone: self.pct(40).then(|| self.landline(country)),
            name,
        };
        let contact = Contact {
            uuid: self.uuid(),
            details,
            is_deleted: false,
        };
        let uuid = contact.uuid.clone();
        self.contacts.push(contact);
        uuid
    }
}

fn billing(name: &str, markup: &str, term: &str, day: &str) -> BillingType {
    BillingType {
        name: name.into(),
        cost_markup: Some(markup.into()),
        payment_term: Some(term.into()),
        payment_day: Some(day.into()),
    }
}

/// A lowercase ASCII handle for e-mail domains and client codes; names without ASCII letters
/// (北京饭店) fall back to a numbered one.
fn slug_of(name: &str, index: usize) -> String {
    let slug: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(24)
        .collect();
    if slug.chars().filter(char::is_ascii_alphabetic).count() < 2 {
        format!("client{}", index + 1)
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
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
            |s: &'static str| move |c: &Client| c.details.business_structure.as_deref() == Some(s);
        for kind in ["Individual", "Company", "Trust", "Partnership"] {
            assert!(any(&structure(kind)), "no {kind}");
        }
        assert!(any(&|c| c.details.is_prospect));
        assert!(any(&|c| c.details.is_archived));
        assert!(any(&|c| c.details.is_deleted));
        assert!(any(&|c| c.details.client_code.is_none()));
        assert!(any(&|c| c.details.country.as_deref() == Some("New Zealand")));
        assert!(any(&|c| c.details.country.as_deref() == Some("Australia")));
        assert!(any(&|c| c
            .details
            .postal_address
            .as_deref()
            .is_some_and(|a| a.contains('\n'))));
        for needle in ["&", "<", "\"", "é", "ā", "王", "🌿"] {
            assert!(
                any(&|c| c.details.name.contains(needle)),
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
        assert!(any(&|c| !c.details.notes.is_empty()));
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
                    .find(|m| m.uuid == r.uuid && m.related_client == c.uuid)
                    .expect("the other side lists it");
                if r.relationship_type == "Director" {
                    assert_eq!(mirror.relationship_type, "Director of");
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
}
