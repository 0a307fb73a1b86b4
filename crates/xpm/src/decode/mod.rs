//! Streaming decoder for XPM's XML responses.
//!
//! API contract (other crates code against it):
//! * [`Decoder::new`] over any `BufRead` (a file, a byte slice, or the async-to-sync body bridge
//!   the HTTP client uses);
//! * [`Decoder::next_item`] yields records in document order, one at a time, and `Ok(None)` once
//!   `</Response>` closed a well-formed document;
//! * `<Status>ERROR</Status>` ends in `Err(XpmError::Api { description })`; anything that is not
//!   a complete XPM document ends in `Err(XpmError::Decode(DecodeError { position, .. }))`.

use std::io::BufRead;

use crate::{Client, Contact, Group, Pagination, XpmError};

/// One record of a response, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Client(Box<Client>),
    Contact(Contact),
    Group(Group),
    Pagination(Pagination),
}

pub struct Decoder<R: BufRead> {
    _reader: R,
}

impl<R: BufRead> Decoder<R> {
    pub fn new(reader: R) -> Self {
        Decoder { _reader: reader }
    }

    pub fn next_item(&mut self) -> Result<Option<Item>, XpmError> {
        todo!("streaming decoder")
    }

    /// Byte offset reached in the input.
    pub fn position(&self) -> u64 {
        0
    }
}
