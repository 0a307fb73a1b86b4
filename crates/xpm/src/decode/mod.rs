//! Streaming decoder for XPM's XML responses.
//!
//! API contract (other crates code against it):
//! * [`Decoder::new`] over any `BufRead` (a file, a byte slice, or the async-to-sync body bridge
//!   the HTTP client uses);
//! * [`Decoder::next_item`] yields records in document order, one at a time, and `Ok(None)` once
//!   `</Response>` closed a well-formed document;
//! * `<Status>ERROR</Status>` ends in `Err(XpmError::Api { description })`; anything that is not
//!   a complete XPM document ends in `Err(XpmError::Decode(DecodeError { position, .. }))`;
//!   an I/O failure of the reader ends in `XpmError::Transport` (or `Timeout`);
//! * a value that cannot be read (`Maybe` in a Yes/No field, `01/03/2024` as a date) is left
//!   absent and yielded as an [`Item::Warning`] (a [`DataWarning`]) after the record it belongs
//!   to is read; the document goes on. Only faults of the document's structure are errors.
//!
//! Memory stays flat whatever the document size: the decoder holds one event buffer, one text
//! buffer and the record being built, never the document.
//!
//! Shapes understood, whatever the order of elements:
//! `<Response><Status/><Clients><Client>…` (lists), `<Response><Status/><Client>…<WebUrl/>`
//! (a single client; a `<WebUrl>` beside it belongs to it), `<Contacts><Contact>…`,
//! `<Contact>`, `<Groups><Group>…`, `<Group>`, and `<Pagination><Links><First/><Next/>`.

mod pull;
mod read;
mod records;
mod values;

use std::collections::VecDeque;
use std::io::BufRead;

use serde::Serialize;

use crate::{Client, Contact, DataWarning, DecodeError, Group, Pagination, XpmError};

use pull::{Pull, Tok};

/// One record of a response, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Client(Box<Client>),
    Contact(Contact),
    Group(Group),
    Pagination(Pagination),
    /// A value of the record read just before (or, for a single client, of that client) that
    /// could not be read and was left absent.
    Warning(DataWarning),
}

/// Pulls the records of one XPM response out of `reader`, one at a time.
pub struct Decoder<R: BufRead> {
    pull: Pull<R>,
    phase: Phase,
    /// The envelope list the decoder is inside, if any.
    list: Option<List>,
    status: Option<Status>,
    error_description: Option<String>,
    /// `get/{uuid}` puts the client directly under `<Response>`, and Xero's example puts its
    /// `<WebUrl>` beside it: the client is held back until `</Response>` to receive it.
    single_client: Option<Box<Client>>,
    response_web_url: Option<String>,
    seen: Seen,
    /// Filled while a record is read.
    warnings: read::Warnings,
    /// Warnings of records already read, handed out before anything else.
    pending: VecDeque<DataWarning>,
}

enum Phase {
    /// Before the root element.
    Prolog,
    /// Inside `<Response>`.
    Body,
    Finished(Outcome),
}

enum Outcome {
    Complete,
    /// What the decoder answered; repeated on later calls so a caller cannot mistake a failed
    /// document for a complete one.
    Failed(Failure),
}

enum Failure {
    Decode(DecodeError),
    Api(String),
    Transport(String),
    Timeout(String),
}

impl Failure {
    fn remember(e: &XpmError) -> Self {
        match e {
            XpmError::Decode(d) => Failure::Decode(d.clone()),
            XpmError::Api { description } => Failure::Api(description.clone()),
            XpmError::Timeout(m) => Failure::Timeout(m.clone()),
            other => Failure::Transport(other.to_string()),
        }
    }

    fn to_error(&self) -> XpmError {
        match self {
            Failure::Decode(d) => XpmError::Decode(d.clone()),
            Failure::Api(d) => XpmError::Api {
                description: d.clone(),
            },
            Failure::Transport(m) => XpmError::Transport(m.clone()),
            Failure::Timeout(m) => XpmError::Timeout(m.clone()),
        }
    }
}

enum Status {
    Ok,
    /// Anything but `OK`; XPM sends `ERROR`.
    Error(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Clients,
    Contacts,
    Groups,
}

impl List {
    fn item(self) -> &'static [u8] {
        match self {
            List::Clients => b"Client",
            List::Contacts => b"Contact",
            List::Groups => b"Group",
        }
    }

    fn container(self) -> &'static str {
        match self {
            List::Clients => "<Clients>",
            List::Contacts => "<Contacts>",
            List::Groups => "<Groups>",
        }
    }
}

/// Which kinds of record the document carried (a list element counts even when empty).
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    clients: bool,
    contacts: bool,
    groups: bool,
}

/// A child of `<Response>`.
enum EnvelopeChild {
    Status,
    ErrorDescription,
    List(List),
    Client,
    Contact,
    Group,
    Pagination,
    WebUrl,
    Other,
}

impl EnvelopeChild {
    fn of(name: &[u8]) -> Self {
        match name {
            b"Status" => EnvelopeChild::Status,
            b"ErrorDescription" => EnvelopeChild::ErrorDescription,
            b"Clients" => EnvelopeChild::List(List::Clients),
            b"Contacts" => EnvelopeChild::List(List::Contacts),
            b"Groups" => EnvelopeChild::List(List::Groups),
            b"Client" => EnvelopeChild::Client,
            b"Contact" => EnvelopeChild::Contact,
            b"Group" => EnvelopeChild::Group,
            b"Pagination" => EnvelopeChild::Pagination,
            b"WebUrl" | b"WebURL" => EnvelopeChild::WebUrl,
            _ => EnvelopeChild::Other,
        }
    }
}

impl<R: BufRead> Decoder<R> {
    pub fn new(reader: R) -> Self {
        Decoder {
            pull: Pull::new(reader),
            phase: Phase::Prolog,
            list: None,
            status: None,
            error_description: None,
            single_client: None,
            response_web_url: None,
            seen: Seen::default(),
            warnings: read::Warnings::default(),
            pending: VecDeque::new(),
        }
    }

    /// The next record, `Ok(None)` at the end of a complete document. After an error every
    /// later call returns the same error.
    pub fn next_item(&mut self) -> Result<Option<Item>, XpmError> {
        if let Some(warning) = self.pending.pop_front() {
            return Ok(Some(Item::Warning(warning)));
        }
        match &self.phase {
            Phase::Finished(Outcome::Complete) => return Ok(None),
            Phase::Finished(Outcome::Failed(failure)) => return Err(failure.to_error()),
            Phase::Prolog | Phase::Body => {}
        }
        self.step()
            .inspect_err(|e| self.phase = Phase::Finished(Outcome::Failed(Failure::remember(e))))
    }

    /// Byte offset reached in the input.
    pub fn position(&self) -> u64 {
        self.pull.position()
    }

    fn step(&mut self) -> Result<Option<Item>, XpmError> {
        if let Phase::Prolog = self.phase {
            self.open_root()?;
        }
        if let Phase::Body = self.phase {
            return self.body();
        }
        Ok(None)
    }

    fn open_root(&mut self) -> Result<(), XpmError> {
        let tok = self.pull.next_tag_outside_root()?;
        let start = self.pull.token_start();
        match tok {
            Tok::Open | Tok::Empty if self.pull.name == b"Response" => {
                self.phase = Phase::Body;
                if tok == Tok::Empty {
                    // `<Response/>`: nothing inside, not even a status; finish() says so.
                    self.finish()?;
                }
                Ok(())
            }
            Tok::Open | Tok::Empty => Err(self.pull.error(
                start,
                format!(
                    "the root element is <{}>, not <Response>: this is not an XPM response",
                    self.pull.name_lossy()
                ),
            )),
            Tok::Close => Err(self.pull.error(start, "an end tag before any element")),
            Tok::Eof if self.pull.position() == 0 => Err(self.pull.error(0, "the document is empty")),
            Tok::Eof => Err(self.pull.error(
                self.pull.position(),
                "the document has no root element: this is not an XPM response",
            )),
        }
    }

    /// Reads inside `<Response>` until a record is complete or the envelope closes.
    fn body(&mut self) -> Result<Option<Item>, XpmError> {
        loop {
            let tok = self.pull.next_tag()?;
            if let Some(list) = self.list {
                match tok {
                    Tok::Open if self.pull.name == list.item() && !self.failed_status() => {
                        return self.read_listed(list).map(Some);
                    }
                    Tok::Open => self.pull.skip_subtree()?,
                    Tok::Empty => {}
                    Tok::Close => self.list = None,
                    Tok::Eof => return Err(self.pull.truncated(list.container())),
                }
                continue;
            }
            match tok {
                Tok::Open => {
                    if let Some(item) = self.envelope_child()? {
                        return Ok(Some(item));
                    }
                }
                Tok::Empty => match EnvelopeChild::of(&self.pull.name) {
                    EnvelopeChild::List(list) => self.mark_seen(list),
                    EnvelopeChild::Client => self.seen.clients = true,
                    EnvelopeChild::Contact => self.seen.contacts = true,
                    EnvelopeChild::Group => self.seen.groups = true,
                    _ => {}
                },
                Tok::Close => return self.finish(),
                Tok::Eof => return Err(self.pull.truncated("<Response>")),
            }
        }
    }

    /// Handles an element opened directly inside `<Response>`.
    fn envelope_child(&mut self) -> Result<Option<Item>, XpmError> {
        let child = EnvelopeChild::of(&self.pull.name);
        if self.failed_status() && !matches!(child, EnvelopeChild::Status | EnvelopeChild::ErrorDescription) {
            // Only the description matters now; records after an ERROR status are not trusted.
            self.pull.skip_subtree()?;
            return Ok(None);
        }
        match child {
            EnvelopeChild::Status => {
                let text = self.pull.leaf_text()?.trim_matches(pull::is_xml_space);
                self.status = Some(if text.eq_ignore_ascii_case("OK") {
                    Status::Ok
                } else {
                    Status::Error(text.to_owned())
                });
            }
            EnvelopeChild::ErrorDescription => {
                self.error_description = values::text(self.pull.leaf_text()?);
            }
            EnvelopeChild::List(list) => {
                self.mark_seen(list);
                self.list = Some(list);
            }
            EnvelopeChild::Client => {
                self.seen.clients = true;
                let client = self.read_client()?;
                if let Some(previous) = self.single_client.replace(client) {
                    return Ok(Some(Item::Client(previous)));
                }
            }
            EnvelopeChild::Contact => {
                self.seen.contacts = true;
                return self.read_listed(List::Contacts).map(Some);
            }
            EnvelopeChild::Group => {
                self.seen.groups = true;
                return self.read_listed(List::Groups).map(Some);
            }
            EnvelopeChild::Pagination => {
                let mut pagination = Pagination::default();
                read::read_into(&mut self.pull, &mut pagination, &mut self.warnings)?;
                return Ok(Some(Item::Pagination(pagination)));
            }
            EnvelopeChild::WebUrl => self.response_web_url = values::text(self.pull.leaf_text()?),
            EnvelopeChild::Other => self.pull.skip_subtree()?,
        }
        Ok(None)
    }

    fn read_listed(&mut self, list: List) -> Result<Item, XpmError> {
        Ok(match list {
            List::Clients => Item::Client(self.read_client()?),
            List::Contacts => {
                let mut contact = Contact::default();
                read::read_into(&mut self.pull, &mut contact, &mut self.warnings)?;
                self.queue_warnings(None);
                Item::Contact(contact)
            }
            List::Groups => {
                let mut group = Group::default();
                read::read_into(&mut self.pull, &mut group, &mut self.warnings)?;
                self.queue_warnings(None);
                Item::Group(group)
            }
        })
    }

    fn read_client(&mut self) -> Result<Box<Client>, XpmError> {
        // Built in place: a client is over a kilobyte of fields.
        let mut client = Box::<Client>::default();
        read::read_into(&mut self.pull, client.as_mut(), &mut self.warnings)?;
        self.queue_warnings(client.uuid.as_deref());
        Ok(client)
    }

    /// Hands the record's warnings out next, each with the client it belongs to.
    fn queue_warnings(&mut self, client_uuid: Option<&str>) {
        for mut warning in self.warnings.list.drain(..) {
            warning.client_uuid = client_uuid.map(str::to_owned);
            self.pending.push_back(warning);
        }
    }

    /// `</Response>`: checks nothing but comments follow, then reports the status.
    fn finish(&mut self) -> Result<Option<Item>, XpmError> {
        self.pull.expect_end_of_document()?;
        match self.status.take() {
            Some(Status::Ok) => {}
            Some(Status::Error(status)) => {
                let description = self
                    .error_description
                    .take()
                    .unwrap_or_else(|| format!("status {status:?} without an <ErrorDescription>"));
                return Err(XpmError::Api { description });
            }
            None => {
                return Err(self.pull.error(
                    self.pull.position(),
                    "the response has no <Status>: this is not an XPM response",
                ))
            }
        }
        self.phase = Phase::Finished(Outcome::Complete);
        Ok(self.single_client.take().map(|mut client| {
            if client.web_url.is_none() {
                client.web_url = self.response_web_url.take();
            }
            Item::Client(client)
        }))
    }

    fn failed_status(&self) -> bool {
        matches!(self.status, Some(Status::Error(_)))
    }

    fn mark_seen(&mut self, list: List) {
        match list {
            List::Clients => self.seen.clients = true,
            List::Contacts => self.seen.contacts = true,
            List::Groups => self.seen.groups = true,
        }
    }
}

/// Yields each record, then stops; an error is yielded once and ends the iteration.
impl<R: BufRead> Iterator for Decoder<R> {
    type Item = Result<Item, XpmError>;

    fn next(&mut self) -> Option<Self::Item> {
        if matches!(self.phase, Phase::Finished(_)) && self.pending.is_empty() {
            return None;
        }
        self.next_item().transpose()
    }
}

/// A whole response decoded: for callers that want every record at once (the CLI, tests).
/// A collection is `Some` when the document carried that kind of record, even an empty list.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decoded {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<Client>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<Contact>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Group>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// Values that could not be read (left absent in the records above).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<DataWarning>,
}

/// Decodes a whole response. Still streams the input; only the records are kept.
pub fn decode_all(reader: impl BufRead) -> Result<Decoded, XpmError> {
    let mut decoder = Decoder::new(reader);
    let (mut clients, mut contacts, mut groups) = (Vec::new(), Vec::new(), Vec::new());
    let mut pagination = None;
    let mut warnings = Vec::new();
    while let Some(item) = decoder.next_item()? {
        match item {
            Item::Client(c) => clients.push(*c),
            Item::Contact(c) => contacts.push(c),
            Item::Group(g) => groups.push(g),
            Item::Pagination(p) => pagination = Some(p),
            Item::Warning(w) => warnings.push(w),
        }
    }
    let seen = decoder.seen;
    Ok(Decoded {
        clients: seen.clients.then_some(clients),
        contacts: seen.contacts.then_some(contacts),
        groups: seen.groups.then_some(groups),
        pagination,
        warnings,
    })
}

#[cfg(test)]
mod tests;
