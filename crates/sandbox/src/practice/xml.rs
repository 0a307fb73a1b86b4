//! Answers as XPM 3.1 writes them. A record becomes what XPM shows of it, in the product's types
//! (references resolved to names, the client's contacts with their links, every date with a
//! time of day, the three flags always stated), and `hownow_xpm`'s encoder writes that. What
//! XPM varies from record to record is decided by the record's UUID, so a decoder sees every
//! variation and the same record always looks the same: whether value-less elements are written
//! empty (`<Title />`), left out or both in turn, and whether `ClientCode` comes early.

use hownow_xpm::encode::{Absent, Encoder, Layout};
use hownow_xpm::{Pagination, Reference, XpmDate};

use super::data::PracticeData;
use super::model::{with_time, Client, Contact, ContactLink, Group, Relationship};

pub(crate) use hownow_xpm::encode::{close_response, error_document, open_response, ClientShape};

/// Markup no XML parser accepts: an end tag that does not match its start tag.
pub(crate) const MALFORMED_MARKUP: &str = "<Client><UUID>00000000-0000-0000-0000-000000000000</Name>";

/// The layout of one client's or contact's element.
fn layout_of(uuid: &str) -> Layout {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = uuid.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Layout {
        absent: match hash % 3 {
            0 => Absent::Empty,
            1 => Absent::Omit,
            _ => Absent::Alternate,
        },
        // Element order varies between XPM's endpoints and versions; some clients get the code early.
        client_code_first: uuid.as_bytes().last().is_some_and(|b| *b % 5 == 0),
    }
}

pub(crate) fn write_client(
    out: &mut String,
    depth: usize,
    data: &PracticeData,
    client: &Client,
    shape: ClientShape,
    odd: OddValues,
) {
    let start = out.len();
    Encoder::new(out, depth, layout_of(&client.uuid)).client(&shown_client(data, client, shape), shape);
    if odd.0 {
        write_odd_values(out, start, client, shape);
    }
}

/// What XPM shows of a client through `shape`'s endpoint.
fn shown_client(data: &PracticeData, client: &Client, shape: ClientShape) -> hownow_xpm::Client {
    let d = &client.details;
    let staff = |uuid: &Option<String>| {
        uuid.as_ref().map(|u| Reference {
            uuid: Some(u.clone()),
            name: data.staff_member(u).map(|s| s.name.clone()),
        })
    };
    let detailed = matches!(shape, ClientShape::Detailed | ClientShape::Single);
    let mut shown = hownow_xpm::Client {
        uuid: Some(client.uuid.clone()),
        // XPM states the three flags on every client.
        is_prospect: Some(d.is_prospect()),
        is_archived: Some(d.is_archived()),
        is_deleted: Some(d.is_deleted()),
        date_of_birth: d.values.date_of_birth.map(with_time),
        date_of_death: d.values.date_of_death.map(with_time),
        account_manager: staff(&d.account_manager),
        job_manager: staff(&d.job_manager),
        billing_client: d.billing_client.as_deref().map(|u| client_reference(data, u)),
        contacts: match shape {
            ClientShape::Paged => Vec::new(),
            _ => data
                .contacts_of(client)
                .map(|(link, contact)| shown_contact(contact, Some(link)))
                .collect(),
        },
        groups: if detailed {
            d.groups
                .iter()
                .map(|uuid| Reference {
                    uuid: Some(uuid.clone()),
                    name: data.group(uuid).map(|g| g.name.clone()),
                })
                .collect()
        } else {
            Vec::new()
        },
        relationships: if detailed {
            client
                .relationships
                .iter()
                .map(|r| shown_relationship(data, r))
                .collect()
        } else {
            Vec::new()
        },
        ..hownow_xpm::Client::clone(&d.values)
    };
    for note in &mut shown.notes {
        note.date = note.date.map(with_time);
    }
    shown
}

fn client_reference(data: &PracticeData, uuid: &str) -> Reference {
    Reference {
        uuid: Some(uuid.to_owned()),
        name: data.client(uuid).and_then(|c| c.details.values.name.clone()),
    }
}

fn shown_relationship(data: &PracticeData, r: &Relationship) -> hownow_xpm::Relationship {
    hownow_xpm::Relationship {
        related_client: Some(client_reference(data, &r.related_client)),
        start_date: r.values.start_date.map(with_time),
        end_date: r.values.end_date.map(with_time),
        ..hownow_xpm::Relationship::clone(&r.values)
    }
}

/// A contact, with `IsPrimary` and `Position` when shown as one of a client's.
fn shown_contact(contact: &Contact, link: Option<&ContactLink>) -> hownow_xpm::Contact {
    hownow_xpm::Contact {
        uuid: Some(contact.uuid.clone()),
        is_primary: link.map(|l| l.is_primary),
        position: link.and_then(|l| l.position.clone()),
        is_deleted: Some(contact.is_deleted),
        ..hownow_xpm::Contact::clone(&contact.details)
    }
}

/// Whether a client is written with the odd but real values of the `odd_values` switch: a date of
/// birth with a UTC offset, `True`/`False` for IsProspect, and its first note's date as
/// `dd/mm/yyyy HH:mm`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OddValues(pub(crate) bool);

impl OddValues {
    /// Every `every`th client of the practice's order (`position` from 0); 0 never.
    pub(crate) fn at(every: u32, position: usize) -> Self {
        OddValues(every > 0 && (position + 1) % every as usize == 0)
    }
}

/// Writes the odd values over the client just encoded from `start`: no model type holds them, as
/// no reader can be sure of them. Element text is escaped, so `<Name>` found in it is markup.
fn write_odd_values(out: &mut String, start: usize, client: &Client, shape: ClientShape) {
    // Real XPM data: a date of birth with the practice's UTC offset.
    rewrite_text(out, start, "DateOfBirth", |date| Some(format!("{date}+13:00")));
    // `True`/`False` where XPM documents Yes/No.
    rewrite_text(out, start, "IsProspect", |flag| {
        Some(if flag == "Yes" { "True" } else { "False" }.to_owned())
    });
    // A note date in a locale's day/month order: the first `<Date>` is the first note's when it
    // has one (nothing before the notes is called Date).
    let detailed = matches!(shape, ClientShape::Detailed | ClientShape::Single);
    let first_note_dated = client
        .details
        .values
        .notes
        .first()
        .is_some_and(|n| n.date.is_some());
    if detailed && first_note_dated {
        rewrite_text(out, start, "Date", |date| {
            let XpmDate::DateTime(at) = date.parse::<XpmDate>().ok()? else {
                return None;
            };
            Some(format!(
                "{:02}/{:02}/{:04} {:02}:{:02}",
                at.day(),
                u8::from(at.month()),
                at.year(),
                at.hour(),
                at.minute()
            ))
        });
    }
}

/// Replaces the text of the first `<element>…</element>` at or after `from` with what `rewrite`
/// makes of it (nothing when it gives `None`, or when the element is absent or empty).
fn rewrite_text(out: &mut String, from: usize, element: &str, rewrite: impl FnOnce(&str) -> Option<String>) {
    let open = format!("<{element}>");
    let Some(at) = out[from..].find(&open).map(|i| from + i + open.len()) else {
        return;
    };
    let Some(end) = out[at..].find(&format!("</{element}>")).map(|i| at + i) else {
        return;
    };
    if let Some(text) = rewrite(&out[at..end]) {
        out.replace_range(at..end, &text);
    }
}

/// A contact as `client.api/contacts` lists it (no link), or as `contact/{uuid}?clientUuid=`
/// shows it (with `IsPrimary` and `Position` of that link).
pub(crate) fn write_contact(out: &mut String, depth: usize, contact: &Contact, link: Option<&ContactLink>) {
    Encoder::new(out, depth, layout_of(&contact.uuid)).contact(&shown_contact(contact, link));
}

/// A group as `clientgroup.api/list` lists it, or with its member clients as `get/{uuid}` shows it.
pub(crate) fn write_group(
    out: &mut String,
    depth: usize,
    data: &PracticeData,
    group: &Group,
    with_members: bool,
) {
    let clients = if with_members {
        data.group_members(&group.uuid)
            .map(|c| Reference {
                uuid: Some(c.uuid.clone()),
                name: c.details.values.name.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let shown = hownow_xpm::Group {
        uuid: Some(group.uuid.clone()),
        name: Some(group.name.clone()),
        taxable: Some(group.taxable),
        clients,
    };
    Encoder::new(out, depth, Layout::default()).group(&shown, with_members);
}

/// `<Pagination><Links><First>…</First><Next>…</Next></Links></Pagination>`, no `Next` on the
/// last page.
pub(crate) fn write_pagination(out: &mut String, first: &str, next: Option<&str>) {
    let pagination = Pagination {
        first: Some(first.to_owned()),
        next: next.map(str::to_owned),
    };
    Encoder::new(out, 1, Layout::default()).pagination(&pagination);
}

#[cfg(test)]
#[path = "xml_tests.rs"]
mod tests;
