//! A deterministic generator of realistic practices of any size.
//!
//! Everything comes from one ChaCha stream seeded by [`PracticeSpec::seed`] (never the thread
//! RNG, never a `HashMap`'s order, never the clock), so the same spec gives the same practice,
//! byte for byte, on every machine and every run.

mod fields;
mod links;
mod long_tail;
mod words;

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::macros::datetime;
use time::{Date, Duration, Month, PrimitiveDateTime};

use super::data::PracticeData;
use hownow_xpm::BillingType;

use super::model::{calendar, Client, ClientDetails, Contact, Group, Staff};
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
        let mut d = hownow_xpm::Client {
            name: Some(name.clone()),
            ..hownow_xpm::Client::default()
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
                d.date_of_birth = Some(calendar(self.date_between(1940, 2005)));
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
        let state = self.rng.gen_range(0..100);
        d.is_deleted = Some(state <= 2);
        d.is_archived = Some((3..=8).contains(&state));
        d.is_prospect = Some((9..=13).contains(&state));
        if self.pct(90) {
            d.client_code = Some(self.client_code(&slug));
        }
        if self.pct(95) {
            d.web_url = Some(format!(
                "https://practicemanager.xero.com/Client/{}/Detail",
                1_000_000 + index * 7
            ));
        }
        let account_manager = self.pct(90).then(|| self.pick_staff());
        let job_manager = self.pct(70).then(|| self.pick_staff());
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
        let mut groups = Vec::new();
        if self.pct(32) {
            let g = self.rng.gen_range(0..self.groups.len());
            groups.push(self.groups[g].uuid.clone());
            if self.pct(22) {
                let h = self.rng.gen_range(0..self.groups.len());
                if h != g {
                    groups.push(self.groups[h].uuid.clone());
                }
            }
        }

        self.kinds.push((kind, country));
        self.people.push(individual.then_some(person));
        Client {
            uuid,
            modified,
            details: ClientDetails {
                values: d.into(),
                account_manager,
                job_manager,
                billing_client: None,
                groups,
            },
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
}

fn billing(name: &str, markup: &str, term: &str, day: &str) -> BillingType {
    BillingType {
        name: Some(name.into()),
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
mod tests;
