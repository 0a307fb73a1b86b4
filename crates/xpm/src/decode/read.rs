//! Reads one record element into its model type by following the record's [`Slot`] table.

use std::io::BufRead;

use crate::{BillingType, Reference, XpmError};

use super::pull::{Pull, Tok};
use super::records::{PaginationLinks, Record, Slot};
use super::values;

/// Reads the children of the element just opened into `record`, up to the element's end tag.
pub(crate) fn read_into<R: BufRead, T: Record>(pull: &mut Pull<R>, record: &mut T) -> Result<(), XpmError> {
    loop {
        match pull.next_tag()? {
            Tok::Open => {
                let slot = record.slot(&pull.name);
                fill(pull, slot)?;
            }
            // `<Title />` means "no value"; a repeated element replaces the earlier one.
            Tok::Empty => clear(record.slot(&pull.name)),
            Tok::Close => return Ok(()),
            Tok::Eof => return Err(pull.truncated(T::ELEMENT)),
        }
    }
}

/// Reads the element just opened (a value, a nested record or a list) into `slot`.
fn fill<R: BufRead>(pull: &mut Pull<R>, slot: Slot<'_>) -> Result<(), XpmError> {
    match slot {
        Slot::Text(out) => *out = values::text(pull.leaf_text()?),
        Slot::Lines(out) => *out = values::lines(pull.leaf_text()?),
        Slot::Bool(out) => {
            let at = pull.position();
            match values::boolean(pull.leaf_text()?) {
                Ok(v) => *out = v,
                Err(problem) => return Err(value_error(pull, at, problem)),
            }
        }
        Slot::Date(out) => {
            let at = pull.position();
            match values::date(pull.leaf_text()?) {
                Ok(v) => *out = v,
                Err(problem) => return Err(value_error(pull, at, problem)),
            }
        }
        Slot::Flattened(out) => *out = values::text(&pull.flattened_text()?),
        Slot::Reference(out) => *out = optional_record::<R, Reference>(pull)?,
        Slot::BillingType(out) => *out = optional_record::<R, BillingType>(pull)?,
        Slot::Contacts(list) => read_list(pull, b"Contact", "<Contacts>", list)?,
        Slot::Notes(list) => read_list(pull, b"Note", "<Notes>", list)?,
        Slot::GroupRefs(list) => read_list(pull, b"Group", "<Groups>", list)?,
        Slot::Relationships(list) => read_list(pull, b"Relationship", "<Relationships>", list)?,
        Slot::ClientRefs(list) => read_list(pull, b"Client", "<Clients>", list)?,
        Slot::Links(pagination) => {
            let mut links = PaginationLinks(std::mem::take(pagination));
            read_into(pull, &mut links)?;
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
fn optional_record<R: BufRead, T: Record>(pull: &mut Pull<R>) -> Result<Option<T>, XpmError> {
    let mut record = T::default();
    read_into(pull, &mut record)?;
    Ok((!record.is_blank()).then_some(record))
}

/// Reads `<Items><Item>…</Item>…</Items>`, skipping children of another name.
fn read_list<R: BufRead, T: Record>(
    pull: &mut Pull<R>,
    item: &[u8],
    container: &str,
    list: &mut Vec<T>,
) -> Result<(), XpmError> {
    loop {
        match pull.next_tag()? {
            Tok::Open if pull.name == item => {
                if let Some(record) = optional_record::<R, T>(pull)? {
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

fn value_error<R: BufRead>(pull: &Pull<R>, at: u64, problem: String) -> XpmError {
    pull.error(at, format!("<{}>: {problem}", pull.name_lossy()))
}
