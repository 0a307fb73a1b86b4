//! A practice's records as the sandbox keeps them: the state behind XPM's answers.
//!
//! These are the server's own types, not the product's (`hownow-xpm` decodes what XPM *says*;
//! this is what XPM *knows*): references are stored by UUID and resolved to names when written,
//! a contact exists once however many clients it belongs to, and each client carries the
//! modified time that `modifiedsince` filters on (XPM does not show it). Field names follow the
//! snake_case of XPM's element names so a field is found under the same name everywhere, and the
//! JSON of these types is what the admin API reads and writes.

use serde::{Deserialize, Serialize};
use time::{Date, PrimitiveDateTime};

/// A member of the practice's staff (account and job managers, note authors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub uuid: String,
    pub name: String,
}

/// `<Type>`: the client's billing terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingType {
    pub name: String,
    #[serde(default)]
    pub cost_markup: Option<String>,
    #[serde(default)]
    pub payment_term: Option<String>,
    #[serde(default)]
    pub payment_day: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub folder: Option<String>,
    #[serde(with = "xpm_datetime")]
    pub date: PrimitiveDateTime,
    #[serde(default)]
    pub created_by: Option<String>,
}

/// One side of a relationship between two clients. XPM shows the same relationship on both
/// clients, with the same UUID and a label read from each side ("Director" on the company,
/// "Director of" on the person); the generator and the store keep both sides in step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    pub uuid: String,
    #[serde(rename = "type")]
    pub relationship_type: String,
    /// The other client's UUID; its name is looked up when the XML is written.
    pub related_client: String,
    pub number_of_shares: Option<String>,
    pub percentage: Option<String>,
    #[serde(with = "opt_xpm_date")]
    pub start_date: Option<Date>,
    #[serde(with = "opt_xpm_date")]
    pub end_date: Option<Date>,
}

/// A contact's link to one client: whether it is that client's primary contact, and its
/// position there. A contact linked to three clients has three links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactLink {
    pub contact: String,
    pub is_primary: bool,
    pub position: Option<String>,
}

/// Everything about a client that staff can edit in XPM (and the admin API can change).
///
/// `account_manager` and `job_manager` hold a staff UUID, `billing_client` a client UUID and
/// `groups` group UUIDs: names are resolved when the XML is written, as XPM does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientDetails {
    pub name: String,
    // Person
    pub title: Option<String>,
    pub gender: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub other_name: Option<String>,
    pub middle_name: Option<String>,
    #[serde(with = "opt_xpm_date")]
    pub date_of_birth: Option<Date>,
    /// XPM 3.1's place of birth, split into a city and an ISO 3166 country code.
    pub place_of_birth_city: Option<String>,
    pub place_of_birth_country_code: Option<String>,
    // Contact details and addresses
    pub email: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub post_code: Option<String>,
    pub country: Option<String>,
    /// Lines separated by `\n`; XPM indents every line after the first when it writes them.
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
    pub is_prospect: bool,
    pub is_archived: bool,
    pub is_deleted: bool,
    pub client_code: Option<String>,
    pub web_url: Option<String>,
    // References
    pub account_manager: Option<String>,
    pub job_manager: Option<String>,
    pub billing_client: Option<String>,
    #[serde(rename = "type")]
    pub billing_type: Option<BillingType>,
    // Practice-management fields (detailed only)
    pub tax_number: Option<String>,
    pub company_number: Option<String>,
    pub business_number: Option<String>,
    pub business_structure: Option<String>,
    pub industry: Option<String>,
    /// The bank account as XPM shows it through the API: masked but for the last digits.
    pub bank_account_name: Option<String>,
    pub bank_account_number: Option<String>,
    pub bank_bsb: Option<String>,
    pub balance_month: Option<String>,
    pub prepare_gst: Option<bool>,
    pub gst_registered: Option<bool>,
    pub gst_period: Option<String>,
    pub gst_basis: Option<String>,
    pub provisional_tax_basis: Option<String>,
    pub provisional_tax_ratio: Option<String>,
    // New Zealand
    pub signed_tax_authority: Option<bool>,
    pub tax_agent: Option<String>,
    pub agency_status: Option<String>,
    pub return_type: Option<String>,
    // Australia
    pub prepare_activity_statement: Option<bool>,
    pub prepare_tax_return: Option<bool>,
    pub branch_number: Option<String>,
    pub active_ato_client: Option<bool>,
    pub auto_bas_opt_in_criteria: Option<String>,
    // Collections staff edit on the client itself
    pub notes: Vec<Note>,
    pub groups: Vec<String>,
}

/// One client of the practice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub uuid: String,
    /// When XPM last counted this client as changed (UTC); drives `modifiedsince`.
    #[serde(with = "xpm_datetime")]
    pub modified: PrimitiveDateTime,
    #[serde(flatten)]
    pub details: ClientDetails,
    /// In the order XPM lists them; exactly one is primary when there are any.
    pub contacts: Vec<ContactLink>,
    pub relationships: Vec<Relationship>,
}

impl Client {
    pub fn primary_contact(&self) -> Option<&ContactLink> {
        self.contacts.iter().find(|l| l.is_primary)
    }
}

/// What staff can edit on a contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContactDetails {
    pub name: String,
    pub salutation: Option<String>,
    pub addressee: Option<String>,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A person linked to one or more clients. Deleted contacts stay (XPM keeps them) but are
/// unlinked from every client and left out of `client.api/contacts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub uuid: String,
    #[serde(flatten)]
    pub details: ContactDetails,
    pub is_deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub uuid: String,
    pub name: String,
    pub taxable: bool,
}

/// `yyyy-MM-ddTHH:mm:ss`, XPM's date-time form (no zone), for JSON and XML alike.
pub(crate) fn format_datetime(dt: PrimitiveDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

pub(crate) fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) fn parse_datetime(s: &str) -> Option<PrimitiveDateTime> {
    use time::macros::format_description;
    PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    )
    .ok()
}

pub(crate) fn parse_date(s: &str) -> Option<Date> {
    use time::macros::format_description;
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

mod xpm_datetime {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::PrimitiveDateTime;

    pub fn serialize<S: Serializer>(v: &PrimitiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&super::format_datetime(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PrimitiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_datetime(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not yyyy-MM-ddTHH:mm:ss")))
    }
}

mod opt_xpm_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub fn serialize<S: Serializer>(v: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(d) => s.collect_str(&super::format_date(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse_date(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not yyyy-MM-dd"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_json_round_trips_with_xpm_date_forms() {
        let client = Client {
            uuid: "u".into(),
            modified: parse_datetime("2024-02-03T04:05:06").unwrap(),
            details: ClientDetails {
                name: "A & B".into(),
                date_of_birth: parse_date("1980-01-31"),
                ..Default::default()
            },
            contacts: vec![],
            relationships: vec![],
        };
        let json = serde_json::to_value(&client).unwrap();
        assert_eq!(json["modified"], "2024-02-03T04:05:06");
        assert_eq!(json["date_of_birth"], "1980-01-31");
        assert_eq!(json["name"], "A & B");
        let back: Client = serde_json::from_value(json).unwrap();
        assert_eq!(back, client);
    }

    #[test]
    fn details_refuse_unknown_fields() {
        let err = serde_json::from_str::<ClientDetails>(r#"{"nmae":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("nmae"), "{err}");
    }
}
