//! Reads one record element into its model type by following the record's [`Slot`] table.

use std::io::BufRead;

use crate::{BillingType, DataWarning, Reference, XpmError};

use super::pull::{Pull, Tok};
use super::records::{PaginationLinks, Record, Slot};
use super::values;

/// Values that could not be read while reading one top-level record, with where they were.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    pub(crate) list: Vec<DataWarning>,
    /// The elements open between the top-level record and the value (`Notes/Note/`).
    path: String,
}

impl Warnings {
    fn push(&mut self, element: &str, raw: &str, reason: String) {
        self.list.push(DataWarning {
            client_uuid: None,
            field: format!("{}{element}", self.path),
            raw_value: values::shorten(raw.trim_matches(super::pull::is_xml_space)),
            reason,
        });
    }

    /// Adds `element/` to the path; gives the length to go back to.
    fn enter(&mut self, element: &[u8]) -> usize {
        let len = self.path.len();
        self.path.push_str(&String::from_utf8_lossy(element));
        self.path.push('/');
        len
    }
}

/// Reads the children of the element just opened into `record`, up to the element's end tag.
/// A value that cannot be read is left absent and noted in `warnings`.
pub(crate) fn read_into<R: BufRead, T: Record>(
    pull: &mut Pull<R>,
    record: &mut T,
    warnings: &mut Warnings,
) -> Result<(), XpmError> {
    loop {
        match pull.next_tag()? {
            Tok::Open => {
                let slot = record.slot(&pull.name);
                fill(pull, slot, warnings)?;
            }
            // `<Title />` means "no value"; a repeated element replaces the earlier one.
            Tok::Empty => clear(record.slot(&pull.name)),
            Tok::Close => return Ok(()),
            Tok::Eof => return Err(pull.truncated(T::ELEMENT)),
        }
    }
}

/// Reads the element just opened (a value, a nested record or a list) into `slot`.
fn fill<R: BufRead>(pull: &mut Pull<R>, slot: Slot<'_>, warnings: &mut Warnings) -> Result<(), XpmError> {
    match slot {
        Slot::Text(out) => *out = values::text(pull.leaf_text()?),
        Slot::Lines(out) => *out = values::lines(pull.leaf_text()?),
        Slot::Bool(out) => {
            let raw = pull.leaf_text()?;
            *out = match values::boolean(raw) {
                Ok(value) => value,
                Err(reason) => {
                    let raw = raw.to_owned();
                    warnings.push(&pull.name_lossy(), &raw, reason);
                    None
                }
            };
        }
        Slot::Date(out) => {
            let raw = pull.leaf_text()?;
            *out = match values::date(raw) {
                Ok(value) => value,
                Err(reason) => {
                    let raw = raw.to_owned();
                    warnings.push(&pull.name_lossy(), &raw, reason);
                    None
                }
            };
        }
        Slot::Flattened(out) => *out = values::text(&pull.flattened_text()?),
        Slot::Reference(out) => *out = optional_record::<R, Reference>(pull, warnings)?,
        Slot::BillingType(out) => *out = optional_record::<R, BillingType>(pull, warnings)?,
        Slot::Contacts(list) => read_list(pull, b"Contact", "<Contacts>", list, warnings)?,
        Slot::Notes(list) => read_list(pull, b"Note", "<Notes>", list, warnings)?,
        Slot::GroupRefs(list) => read_list(pull, b"Group", "<Groups>", list, warnings)?,
        Slot::Relationships(list) => read_list(pull, b"Relationship", "<Relationships>", list, warnings)?,
        Slot::ClientRefs(list) => read_list(pull, b"Client", "<Clients>", list, warnings)?,
        Slot::Links(pagination) => {
            let mut links = PaginationLinks(std::mem::take(pagination));
            read_into(pull, &mut links, warnings)?;
            *pagination = links.0;
        }
        Slot::Unknown => pull.skip_subtree()?,
    }
    Ok(())
}

/// What a self-closing element means for a slot: no value (lists and unknown elements: nothing).
fn clear(slot: Slot<'_>) {
    match slot {
        Slot::Text(out) | Slot::Lines(out) | Slot::Flattened(out) => *out = None,
        Slot::Bool(out) => *out = None,
        Slot::Date(out) => *out = None,
        Slot::Reference(out) => *out = None,
        Slot::BillingType(out) => *out = None,
        Slot::Contacts(_)
        | Slot::Notes(_)
        | Slot::GroupRefs(_)
        | Slot::Relationships(_)
        | Slot::ClientRefs(_)
        | Slot::Links(_)
        | Slot::Unknown => {}
    }
}

/// A nested record that reads as `None` when it holds nothing (`<BillingClient>\n</BillingClient>`).
fn optional_record<R: BufRead, T: Record>(
    pull: &mut Pull<R>,
    warnings: &mut Warnings,
) -> Result<Option<T>, XpmError> {
    let mut record = T::default();
    let len = warnings.enter(&pull.name);
    let result = read_into(pull, &mut record, warnings);
    warnings.path.truncate(len);
    result?;
    Ok((!record.is_blank()).then_some(record))
}

/// Reads `<Items><Item>…</Item>…</Items>`, skipping children of another name.
fn read_list<R: BufRead, T: Record>(
    pull: &mut Pull<R>,
    item: &[u8],
    container: &str,
    list: &mut Vec<T>,
    warnings: &mut Warnings,
) -> Result<(), XpmError> {
    let len = warnings.enter(&pull.name);
    let result = read_items(pull, item, container, list, warnings);
    warnings.path.truncate(len);
    result
}

fn read_items<R: BufRead, T: Record>(
    pull: &mut Pull<R>,
    item: &[u8],
    container: &str,
    list: &mut Vec<T>,
    warnings: &mut Warnings,
) -> Result<(), XpmError> {
    loop {
        match pull.next_tag()? {
            Tok::Open if pull.name == item => {
                if let Some(record) = optional_record::<R, T>(pull, warnings)? {
                    list.push(record);
                }
            }
            Tok::Open => pull.skip_subtree()?,
            Tok::Empty => {}
            Tok::Close => return Ok(()),
            Tok::Eof => return Err(pull.truncated(container)),
        }
    }
}
