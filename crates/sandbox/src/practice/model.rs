//! A practice's records as the sandbox keeps them: the state behind XPM's answers.
//!
//! What a record shows (a client's name, addresses, tax fields and notes, a contact's phone, a
//! relationship's shares) is held in the product's own types (`hownow_xpm::Client`, `Contact`,
//! `Relationship`), so every field the product reads is one the sandbox can hold and answer
//! with, and none is listed twice. Around them the sandbox keeps what XPM *knows* and shows
//! otherwise: references by UUID (resolved to names when answering, as XPM does), a contact
//! that exists once however many clients it belongs to, its links to them, each client's
//! modified time (which `modifiedsince` filters on and XPM does not show) and the staff. The JSON
//! of these types is what the admin API reads and writes: flat, with the product's field names.

use std::ops::{Deref, DerefMut};

use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use time::{Date, PrimitiveDateTime};

/// A member of the practice's staff (account and job managers, note authors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub uuid: String,
    pub name: String,
}

/// A product type whose values a sandbox record holds.
pub trait Shown: Serialize + DeserializeOwned + Default {
    /// Its fields that the record keeps its own way (by UUID, per link, beside the values): left
    /// out of the JSON, refused in it, and replaced when the sandbox answers.
    const HELD: &'static [&'static str];
}

impl Shown for hownow_xpm::Client {
    const HELD: &'static [&'static str] = &[
        "uuid",
        "account_manager",
        "job_manager",
        "billing_client",
        "contacts",
        "groups",
        "relationships",
    ];
}

impl Shown for hownow_xpm::Contact {
    const HELD: &'static [&'static str] = &["uuid", "is_primary", "position", "is_deleted"];
}

impl Shown for hownow_xpm::Relationship {
    const HELD: &'static [&'static str] = &["related_client"];
}

/// The values of a record, in the product's type. Its JSON is the product type's without the
/// [`Shown::HELD`] fields; a field missing from the JSON keeps its default, and a field the type
/// does not have is refused (a misspelt admin edit fails instead of doing nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values<T>(pub T);

impl<T> Deref for Values<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Values<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> From<T> for Values<T> {
    fn from(value: T) -> Self {
        Values(value)
    }
}

impl<T: Shown> Serialize for Values<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let Value::Object(mut map) = serde_json::to_value(&self.0).map_err(S::Error::custom)? else {
            return Err(S::Error::custom("the values are not a JSON object"));
        };
        for held in T::HELD {
            map.remove(*held);
        }
        map.serialize(serializer)
    }
}

impl<'de, T: Shown> Deserialize<'de> for Values<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let given = Map::<String, Value>::deserialize(deserializer)?;
        let fields = field_names::<T>();
        let Value::Object(mut map) = serde_json::to_value(T::default()).map_err(D::Error::custom)? else {
            return Err(D::Error::custom("the values are not a JSON object"));
        };
        for (key, value) in given {
            if T::HELD.contains(&key.as_str()) || !fields.contains(&key.as_str()) {
                return Err(D::Error::custom(format!("unknown field `{key}`")));
            }
            map.insert(key, value);
        }
        serde_json::from_value(Value::Object(map))
            .map(Values)
            .map_err(D::Error::custom)
    }
}

/// The JSON field names a derived `Deserialize` reads: serde hands them to `deserialize_struct`,
/// so the list follows the product type instead of being written out again here.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe(&'static [&'static str]);

    impl<'de> Deserializer<'de> for &mut Probe {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(serde::de::Error::custom("probed"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    let mut probe = Probe(&[]);
    let _ = T::deserialize(&mut probe);
    probe.0
}

/// One side of a relationship between two clients. XPM shows the same relationship on both
/// clients, with the same UUID and a label read from each side ("Director" on the company,
/// "Director of" on the person); the generator and the store keep both sides in step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    #[serde(flatten)]
    pub values: Values<hownow_xpm::Relationship>,
    /// The other client's UUID; its name is looked up when answering.
    pub related_client: String,
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClientDetails {
    /// The client's own values and notes.
    #[serde(flatten)]
    pub values: Values<hownow_xpm::Client>,
    /// A staff member's UUID.
    pub account_manager: Option<String>,
    /// A staff member's UUID.
    pub job_manager: Option<String>,
    /// Another client's UUID.
    pub billing_client: Option<String>,
    /// Group UUIDs.
    pub groups: Vec<String>,
}

impl From<hownow_xpm::Client> for ClientDetails {
    fn from(values: hownow_xpm::Client) -> Self {
        ClientDetails {
            values: values.into(),
            ..ClientDetails::default()
        }
    }
}

impl ClientDetails {
    /// A client with a name and nothing else.
    pub fn named(name: impl Into<String>) -> Self {
        hownow_xpm::Client {
            name: Some(name.into()),
            ..hownow_xpm::Client::default()
        }
        .into()
    }

    pub fn name(&self) -> &str {
        self.values.name.as_deref().unwrap_or_default()
    }

    pub fn is_prospect(&self) -> bool {
        self.values.is_prospect == Some(true)
    }

    pub fn is_archived(&self) -> bool {
        self.values.is_archived == Some(true)
    }

    pub fn is_deleted(&self) -> bool {
        self.values.is_deleted == Some(true)
    }
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
pub type ContactDetails = Values<hownow_xpm::Contact>;

impl ContactDetails {
    /// A contact with a name and nothing else.
    pub fn named(name: impl Into<String>) -> Self {
        Values(hownow_xpm::Contact {
            name: Some(name.into()),
            ..hownow_xpm::Contact::default()
        })
    }
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

impl Contact {
    pub fn name(&self) -> &str {
        self.details.name.as_deref().unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub uuid: String,
    pub name: String,
    pub taxable: bool,
}

/// `yyyy-MM-ddTHH:mm:ss`, XPM's date-time form (no zone).
pub(crate) fn format_datetime(dt: PrimitiveDateTime) -> String {
    hownow_xpm::XpmDate::DateTime(dt).to_string()
}

pub(crate) fn parse_datetime(s: &str) -> Option<PrimitiveDateTime> {
    use time::macros::format_description;
    PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    )
    .ok()
}

/// XPM writes every date with a time of day: a calendar date at midnight.
pub(crate) fn with_time(date: hownow_xpm::XpmDate) -> hownow_xpm::XpmDate {
    match date {
        hownow_xpm::XpmDate::Date(day) => hownow_xpm::XpmDate::DateTime(day.midnight()),
        at => at,
    }
}

/// A calendar date as the records hold one.
pub(crate) fn calendar(date: Date) -> hownow_xpm::XpmDate {
    hownow_xpm::XpmDate::Date(date)
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

#[cfg(test)]
mod tests {
    use super::*;
    use hownow_xpm::XpmDate;

    #[test]
    fn client_json_is_flat_and_round_trips_with_xpm_date_forms() {
        let client = Client {
            uuid: "u".into(),
            modified: parse_datetime("2024-02-03T04:05:06").unwrap(),
            details: ClientDetails {
                values: hownow_xpm::Client {
                    name: Some("A & B".into()),
                    date_of_birth: "1980-01-31".parse::<XpmDate>().ok(),
                    ..Default::default()
                }
                .into(),
                account_manager: Some("staff-1".into()),
                ..Default::default()
            },
            contacts: vec![],
            relationships: vec![],
        };
        let json = serde_json::to_value(&client).unwrap();
        assert_eq!(json["modified"], "2024-02-03T04:05:06");
        assert_eq!(json["date_of_birth"], "1980-01-31");
        assert_eq!(json["name"], "A & B");
        assert_eq!(json["account_manager"], "staff-1");
        assert_eq!(json["uuid"], "u");
        let back: Client = serde_json::from_value(json).unwrap();
        assert_eq!(back, client);
    }

    #[test]
    fn details_refuse_unknown_and_held_fields() {
        let err = serde_json::from_str::<ClientDetails>(r#"{"nmae":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("nmae"), "{err}");
        // The record holds its contacts as links, not as the product's contacts.
        assert!(serde_json::from_str::<ClientDetails>(r#"{"contacts":[]}"#).is_err());
        assert!(serde_json::from_str::<ContactDetails>(r#"{"is_primary":true}"#).is_err());
        let partial: ClientDetails =
            serde_json::from_str(r#"{"name":"x","type":{"name":"Standard"}}"#).unwrap();
        assert_eq!(partial.name(), "x");
        assert_eq!(
            partial.values.billing_type.as_ref().unwrap().name.as_deref(),
            Some("Standard")
        );
    }

    #[test]
    fn held_fields_are_fields_of_the_product_types() {
        fn check<T: Shown>() {
            let fields = field_names::<T>();
            assert!(fields.len() > T::HELD.len(), "{fields:?}");
            for held in T::HELD {
                assert!(fields.contains(held), "{held} is not in {fields:?}");
            }
        }
        check::<hownow_xpm::Client>();
        check::<hownow_xpm::Contact>();
        check::<hownow_xpm::Relationship>();
    }
}
