//! XPM 3.1's less common client fields: place of birth (city and country code), industry and
//! the masked bank account. They draw on a stream of their own, seeded by the practice's seed and
//! the client's position, so adding them left every other generated value as it was (tests and
//! benchmarks that name generated clients or counts still see the same practice).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use hownow_xpm::Client;

/// Places of birth as XPM stores them: a city and an ISO 3166 alpha-2 code.
const BIRTHPLACES: &[(&str, &str)] = &[
    ("Auckland", "NZ"),
    ("Christchurch", "NZ"),
    ("Dunedin", "NZ"),
    ("Sydney", "AU"),
    ("Melbourne", "AU"),
    ("Brisbane", "AU"),
    ("Apia", "WS"),
    ("Nuku'alofa", "TO"),
    ("Suva", "FJ"),
    ("London", "GB"),
    ("Manila", "PH"),
    ("Mumbai", "IN"),
    ("Shanghai", "CN"),
];

/// ANZSIC divisions, as practices label their clients' industries.
const INDUSTRIES: &[&str] = &[
    "Agriculture, Forestry and Fishing",
    "Construction",
    "Manufacturing",
    "Retail Trade",
    "Accommodation and Food Services",
    "Professional, Scientific and Technical Services",
    "Rental, Hiring and Real Estate Services",
    "Health Care and Social Assistance",
];

/// The client the fields are for.
pub(super) struct Who {
    pub seed: u64,
    pub index: usize,
    pub individual: bool,
    pub au: bool,
}

pub(super) fn fill(d: &mut Client, who: Who) {
    // Another stream per client: a fixed odd multiplier spreads neighbouring positions apart.
    let mut rng =
        ChaCha8Rng::seed_from_u64(who.seed ^ (who.index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let digits = |rng: &mut ChaCha8Rng, n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    if who.individual && rng.gen_ratio(40, 100) {
        let (city, code) = *BIRTHPLACES.choose(&mut rng).expect("places");
        // Some records hold only the country.
        if rng.gen_ratio(85, 100) {
            d.place_of_birth_city = Some(city.into());
        }
        d.place_of_birth_country_code = Some(code.into());
    }
    if !who.individual && rng.gen_ratio(60, 100) {
        d.industry = Some((*INDUSTRIES.choose(&mut rng).expect("industries")).into());
    }
    if rng.gen_ratio(30, 100) {
        d.bank_account_name = d.name.clone();
        // Masked as XPM masks a tax number: only the last digits show.
        if who.au {
            d.bank_bsb = Some(format!("***-{}", digits(&mut rng, 3)));
            d.bank_account_number = Some(format!("******{}", digits(&mut rng, 3)));
        } else {
            d.bank_account_number = Some(format!("**-****-****{}-00", digits(&mut rng, 3)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{generate, PracticeSpec};
    use crate::practice::xml::{write_client, ClientShape, OddValues};

    #[test]
    fn some_clients_carry_each_field_and_the_detailed_xml_sends_them() {
        let data = generate(&PracticeSpec {
            clients: 400,
            seed: 3,
            nz_share: 0.5,
        });
        let count = |f: fn(&hownow_xpm::Client) -> bool| {
            data.clients().iter().filter(|c| f(&c.details.values)).count()
        };
        let birth_city = count(|d| d.place_of_birth_city.is_some());
        let birth_country = count(|d| d.place_of_birth_country_code.is_some());
        let industry = count(|d| d.industry.is_some());
        let bank = count(|d| d.bank_account_number.is_some());
        let bsb = count(|d| d.bank_bsb.is_some());
        for (what, n) in [
            ("city of birth", birth_city),
            ("industry", industry),
            ("bank account", bank),
            ("BSB", bsb),
        ] {
            assert!(n > 10 && n < 300, "{what}: {n} of 400");
        }
        assert!(birth_country > birth_city, "some carry only the country");
        // Masked, as XPM sends them.
        for c in data.clients() {
            if let Some(number) = &c.details.values.bank_account_number {
                assert!(number.starts_with('*'), "{number}");
            }
        }
        let with_all = data
            .clients()
            .iter()
            .find(|c| {
                c.details.values.place_of_birth_city.is_some()
                    && c.details.values.bank_account_number.is_some()
            })
            .expect("a person with both");
        let mut detailed = String::new();
        write_client(
            &mut detailed,
            0,
            &data,
            with_all,
            ClientShape::Detailed,
            OddValues::default(),
        );
        let d = &with_all.details.values;
        for (name, value) in [
            ("PlaceOfBirthCity", &d.place_of_birth_city),
            ("PlaceOfBirthCountryCode", &d.place_of_birth_country_code),
            ("BankAccountNumber", &d.bank_account_number),
        ] {
            let element = format!("<{name}>{}</{name}>", value.as_deref().unwrap());
            assert!(detailed.contains(&element), "{element} not in {detailed}");
        }
    }

    #[test]
    fn a_clients_long_tail_depends_only_on_the_seed_and_its_position() {
        // A practice of another size holds the same first clients, long tail included.
        let data = generate(&PracticeSpec {
            clients: 50,
            seed: 9,
            nz_share: 0.5,
        });
        let again = generate(&PracticeSpec {
            clients: 60,
            seed: 9,
            nz_share: 0.5,
        });
        for (a, b) in data.clients().iter().zip(again.clients()) {
            assert_eq!(a.uuid, b.uuid);
            let tail = |d: &hownow_xpm::Client| {
                (
                    d.place_of_birth_city.clone(),
                    d.place_of_birth_country_code.clone(),
                    d.industry.clone(),
                    d.bank_account_name.clone(),
                    d.bank_account_number.clone(),
                    d.bank_bsb.clone(),
                )
            };
            assert_eq!(tail(&a.details.values), tail(&b.details.values));
        }
    }
}
