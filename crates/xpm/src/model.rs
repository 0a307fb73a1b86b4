//! The values Xero Practice Manager returns, typed.
//!
//! Field names are the snake_case of XPM's XML element names (`PostalPostCode` →
//! `postal_post_code`, `PrepareGST` → `prepare_gst`), and serialise under those names: the
//! `hownow xpm decode` JSON is these types as they are. Every field XPM may omit or leave empty is
//! an `Option` (or an empty `Vec`): XPM uses "absent" and "empty" interchangeably for "no value".
//! Numeric-looking fields that XPM documents loosely (shares, percentages, markups) stay strings so
//! a practice's odd value never fails a whole sync.

use serde::{Deserialize, Serialize};

use std::fmt;
use time::{Date, PrimitiveDateTime};

/// A date as XPM sends it: with or without a time of day, always without a zone.
///
/// XPM writes `yyyy-MM-ddTHH:mm:ss`, `yyyy-MM-dd` or `yyyyMMdd`; the precision it chose is kept
/// (a date of birth stays a date). Serialises as ISO 8601 without a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum XpmDate {
    Date(Date),
    DateTime(PrimitiveDateTime),
}

impl XpmDate {
    /// The calendar day, whatever the precision.
    pub fn date(&self) -> Date {
        match self {
            XpmDate::Date(d) => *d,
            XpmDate::DateTime(dt) => dt.date(),
        }
    }
}

impl fmt::Display for XpmDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XpmDate::Date(d) => write!(f, "{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            XpmDate::DateTime(dt) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second()
            ),
        }
    }
}

impl std::str::FromStr for XpmDate {
    type Err = String;

    /// Parses the three forms XPM uses. A trailing fraction of a second is tolerated and dropped,
    /// and so is a zone (`Z`, `+13:00`, `-0500`): XPM's other dates carry none and are the
    /// practice's wall-clock time, which the written date-time already is (converting a date of
    /// birth written at `+13:00` to UTC would move it to the day before).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        use time::macros::format_description;
        let s = s.trim();
        let err = || format!("`{s}` is not a date (expected yyyy-MM-ddTHH:mm:ss, yyyy-MM-dd or yyyyMMdd)");
        if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Date::parse(s, format_description!("[year][month][day]"))
                .map(XpmDate::Date)
                .map_err(|_| err());
        }
        if s.len() == 10 {
            return Date::parse(s, format_description!("[year]-[month]-[day]"))
                .map(XpmDate::Date)
                .map_err(|_| err());
        }
        let main = s.get(..19).ok_or_else(err)?;
        let mut rest = &s[19..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err());
            }
            rest = &fraction[digits..];
        }
        if !(rest.is_empty() || rest == "Z" || is_utc_offset(rest)) {
            return Err(err());
        }
        PrimitiveDateTime::parse(
            main,
            format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        )
        .map(XpmDate::DateTime)
        .map_err(|_| err())
    }
}

/// `+13:00`, `-05:00`, `+1300`: a zone offset within ±14 hours.
fn is_utc_offset(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    let (hours, minutes) = match b {
        [b'+' | b'-', h @ ..] if h.len() == 5 && h[2] == b':' => (&h[..2], &h[3..]),
        [b'+' | b'-', h @ ..] if h.len() == 4 => (&h[..2], &h[2..]),
        _ => return false,
    };
    if !(digits(hours) && digits(minutes)) {
        return false;
    }
    let n = |d: &[u8]| u32::from(d[0] - b'0') * 10 + u32::from(d[1] - b'0');
    n(hours) <= 14 && n(minutes) < 60
}

impl Serialize for XpmDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for XpmDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A reference to another record by UUID and display name (`<AccountManager>`, `<BillingClient>`,
/// `<RelatedClient>`, a group's member client, a client's group).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub uuid: Option<String>,
    pub name: Option<String>,
}

/// `<Type>`: the client's billing terms (not the kind of entity; that is `business_structure`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingType {
    pub name: Option<String>,
    pub cost_markup: Option<String>,
    pub payment_term: Option<String>,
    pub payment_day: Option<String>,
}

/// A person linked to a client. Since 2023 a contact can belong to several clients; `is_primary`
/// and `position` describe the link to the client it was listed under (absent in
/// `client.api/contacts`, which lists contacts without their clients).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub salutation: Option<String>,
    pub addressee: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub is_primary: Option<bool>,
    pub is_deleted: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub title: Option<String>,
    pub text: Option<String>,
    pub folder: Option<String>,
    pub date: Option<XpmDate>,
    pub created_by: Option<String>,
}

/// A relationship between two clients; XPM lists it on both, labelled from each side
/// ("Director" on the company, "Director of" on the person).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    pub uuid: Option<String>,
    #[serde(rename = "type")]
    pub relationship_type: Option<String>,
    pub related_client: Option<Reference>,
    pub number_of_shares: Option<String>,
    pub percentage: Option<String>,
    pub start_date: Option<XpmDate>,
    pub end_date: Option<XpmDate>,
}

/// A client group from `clientgroup.api` (`clients` only on `get/{uuid}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub taxable: Option<bool>,
    pub clients: Vec<Reference>,
}

/// One XPM client with every element XPM documents. `contacts`, `notes`, `groups` and
/// `relationships` are filled only by the detailed list and `get/{uuid}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub uuid: Option<String>,
    pub name: Option<String>,
    // Person
    pub title: Option<String>,
    pub gender: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub other_name: Option<String>,
    pub middle_name: Option<String>,
    pub date_of_birth: Option<XpmDate>,
    pub date_of_death: Option<XpmDate>,
    /// `PlaceOfBirth`, which XPM 3.1 does not send (it splits the place into the two fields
    /// below); still read in case an older practice does.
    pub place_of_birth: Option<String>,
    // The fields from here to `// Contact details` and those marked `skip_serializing_if` below
    // came after the directory's first release: left out of the JSON when absent, so a client
    // without them serialises, and hashes, exactly as before (an upgrade rewrites no row).
    /// City of birth (`PlaceOfBirthCity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_birth_city: Option<String>,
    /// Country of birth as XPM sends it (`PlaceOfBirthCountryCode`: an ISO 3166 code, kept as
    /// sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_birth_country_code: Option<String>,
    // Contact details and addresses
    pub email: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub post_code: Option<String>,
    pub country: Option<String>,
    pub postal_address: Option<String>,
    pub postal_city: Option<String>,
    pub postal_region: Option<String>,
    pub postal_post_code: Option<String>,
    pub postal_country: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub website: Option<String>,
    // Flags and codes
    pub referral_source: Option<String>,
    pub export_code: Option<String>,
    pub is_prospect: Option<bool>,
    pub is_archived: Option<bool>,
    pub is_deleted: Option<bool>,
    pub client_code: Option<String>,
    pub web_url: Option<String>,
    // References
    pub account_manager: Option<Reference>,
    pub job_manager: Option<Reference>,
    pub billing_client: Option<Reference>,
    #[serde(rename = "type")]
    pub billing_type: Option<BillingType>,
    // Practice-management fields
    pub tax_number: Option<String>,
    pub company_number: Option<String>,
    pub business_number: Option<String>,
    pub business_structure: Option<String>,
    /// The client's industry, as the practice classified it (`Industry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    pub balance_month: Option<String>,
    pub prepare_gst: Option<bool>,
    pub gst_registered: Option<bool>,
    pub gst_period: Option<String>,
    pub gst_basis: Option<String>,
    pub provisional_tax_basis: Option<String>,
    pub provisional_tax_ratio: Option<String>,
    // NZ
    pub signed_tax_authority: Option<bool>,
    pub tax_agent: Option<String>,
    pub agency_status: Option<String>,
    pub return_type: Option<String>,
    // AU
    pub prepare_activity_statement: Option<bool>,
    pub prepare_tax_return: Option<bool>,
    pub branch_number: Option<String>,
    pub active_ato_client: Option<bool>,
    pub auto_bas_opt_in_criteria: Option<String>,
    // Bank account, as the masked text XPM sends (like `TaxNumber`: `*****6789`), never
    // unmasked here.
    /// `BankAccountName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_account_name: Option<String>,
    /// `BankAccountNumber`, masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_account_number: Option<String>,
    /// The bank and branch number (`BankBSB`; AU's BSB), masked or not as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_bsb: Option<String>,
    // Collections
    pub contacts: Vec<Contact>,
    pub notes: Vec<Note>,
    pub groups: Vec<Reference>,
    pub relationships: Vec<Relationship>,
}

/// `<Pagination>` of the paged endpoints. `next` is what XPM put in `<Links><Next>` (a URL or a
/// bare token); `None` means this was the last page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pagination {
    pub first: Option<String>,
    pub next: Option<String>,
}

impl Pagination {
    /// The `pageToken` to ask for next: the `pageToken` query parameter when `next` is a URL,
    /// otherwise `next` itself.
    pub fn next_page_token(&self) -> Option<String> {
        let next = self.next.as_deref()?.trim();
        if next.is_empty() {
            return None;
        }
        match url::Url::parse(next) {
            Ok(u) => u
                .query_pairs()
                .find(|(k, _)| k.eq_ignore_ascii_case("pageToken"))
                .map(|(_, v)| v.into_owned())
                .filter(|v| !v.is_empty()),
            Err(_) => Some(next.to_string()),
        }
    }
}

/// A value XPM sent that could not be read: the field is left absent and the rest of the record
/// (and of the response) is kept. Only a fault in the document's structure stops decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataWarning {
    /// The client the value belongs to, when it is one of a client's (and the client has a UUID).
    pub client_uuid: Option<String>,
    /// Where the value was, as XML element names: `DateOfBirth`, `Notes/Note/Date`.
    pub field: String,
    /// The value as sent (trimmed), cut at 80 characters.
    pub raw_value: String,
    /// Why it could not be read: "is not Yes or No", "is an ambiguous date (…)".
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_their_precision() {
        assert_eq!(
            "2021-03-04T05:06:07".parse::<XpmDate>().unwrap().to_string(),
            "2021-03-04T05:06:07"
        );
        assert_eq!("2021-03-04".parse::<XpmDate>().unwrap().to_string(), "2021-03-04");
        assert_eq!("20210304".parse::<XpmDate>().unwrap().to_string(), "2021-03-04");
        assert_eq!(
            "2021-03-04T05:06:07.123".parse::<XpmDate>().unwrap().to_string(),
            "2021-03-04T05:06:07"
        );
        assert!("2021-13-04".parse::<XpmDate>().is_err());
        assert!("yesterday".parse::<XpmDate>().is_err());
        // A zone is read as the wall-clock time written (see `from_str`).
        assert_eq!(
            "2021-03-04T05:06:07Z".parse::<XpmDate>().unwrap().to_string(),
            "2021-03-04T05:06:07"
        );
        assert!("2021-03-04T05:06:07 Z".parse::<XpmDate>().is_err());
    }

    #[test]
    fn next_page_token_from_url_or_bare_token() {
        let url = Pagination {
            first: None,
            next: Some("https://api.example/x?pageSize=5&pageToken=abc".into()),
        };
        assert_eq!(url.next_page_token().as_deref(), Some("abc"));
        let bare = Pagination {
            first: None,
            next: Some(" tok123 ".into()),
        };
        assert_eq!(bare.next_page_token().as_deref(), Some("tok123"));
        assert_eq!(Pagination::default().next_page_token(), None);
    }
}
