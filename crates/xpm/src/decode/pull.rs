//! The event layer under the decoder: quick-xml's pull reader reduced to the few tokens an XPM
//! document needs, with one reused event buffer and one reused text buffer.
//!
//! Everything XPM may sprinkle between elements (comments, processing instructions,
//! whitespace, stray text) is dropped here; everything that makes a document unsafe or
//! incomplete (`<!DOCTYPE`, unknown entities, end of input inside an element) becomes a
//! [`DecodeError`] with the byte offset where it was found.

use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::{DecodeError, XpmError};

/// The longest run of bytes between two `<`/`>` (a text node, a CDATA section, a comment) a
/// document may hold: XPM's longest values (notes) are kilobytes. Without a cap a body with no
/// markup would be gathered into memory whole.
pub const MAX_TEXT_RUN: usize = 1024 * 1024;
/// The deepest element nesting a document may have: XPM's are about eight deep. Without a cap,
/// a body of opening tags would grow the reader's stack of open names.
pub const MAX_DEPTH: usize = 64;

/// What [`Pull::next_tag`] found. The element's local name is in [`Pull::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `<Name …>`: its content follows.
    Open,
    /// `<Name … />`: no content.
    Empty,
    /// The end tag of the element the caller is in.
    Close,
    /// End of input.
    Eof,
}

pub(crate) struct Pull<R: BufRead> {
    reader: Reader<Capped<R>>,
    /// Elements open around the current position.
    depth: usize,
    /// Holds the bytes of one event at a time; reused so decoding allocates per value, not per event.
    buf: Vec<u8>,
    /// Local name of the element of the last `Open`/`Empty` token.
    pub(crate) name: Vec<u8>,
    /// Escaped text gathered by [`Pull::leaf_text`].
    raw: Vec<u8>,
    /// Text decoded by [`Pull::leaf_text`] when it needed decoding.
    text: String,
    /// Offset of the start of the last token, for error messages.
    token_start: u64,
}

/// XML's whitespace (space, tab, CR, LF). Unicode spaces such as NBSP are content.
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

impl<R: BufRead> Pull<R> {
    pub(crate) fn new(input: R) -> Self {
        let mut reader = Reader::from_reader(Capped::new(input));
        let config = reader.config_mut();
        // A mismatched end tag means the document is not what XPM sent; refuse it.
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text(false);
        Pull {
            reader,
            depth: 0,
            buf: Vec::with_capacity(4096),
            name: Vec::with_capacity(64),
            raw: Vec::with_capacity(256),
            text: String::with_capacity(256),
            token_start: 0,
        }
    }

    /// Bytes of input consumed so far.
    pub(crate) fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    /// Where the last token started.
    pub(crate) fn token_start(&self) -> u64 {
        self.token_start
    }

    pub(crate) fn error(&self, position: u64, message: impl Into<String>) -> XpmError {
        XpmError::Decode(DecodeError {
            position,
            message: message.into(),
        })
    }

    /// The local name of the current element, for messages.
    pub(crate) fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// End of input inside `what` (such as `<Client>`): the document was cut short.
    pub(crate) fn truncated(&self, what: &str) -> XpmError {
        self.error(
            self.position(),
            format!("the document ends inside {what}: it is truncated"),
        )
    }

    /// End of input inside the element named in [`Pull::name`].
    fn truncated_here(&self) -> XpmError {
        self.truncated(&format!("<{}>", self.name_lossy()))
    }

    /// The next element boundary inside the root element; text, comments and processing
    /// instructions between elements are skipped.
    pub(crate) fn next_tag(&mut self) -> Result<Tok, XpmError> {
        self.next(false)
    }

    /// The next element boundary outside the root element, where only whitespace, comments,
    /// processing instructions and the XML declaration may appear: any other text means the
    /// input is not an XML document (a JSON error body, an HTML page).
    pub(crate) fn next_tag_outside_root(&mut self) -> Result<Tok, XpmError> {
        self.next(true)
    }

    fn next(&mut self, outside_root: bool) -> Result<Tok, XpmError> {
        loop {
            self.buf.clear();
            self.token_start = self.reader.buffer_position();
            match self.reader.read_event_into(&mut self.buf) {
                Ok(Event::Start(e)) => {
                    self.name.clear();
                    self.name.extend_from_slice(e.local_name().as_ref());
                    self.enter()?;
                    return Ok(Tok::Open);
                }
                Ok(Event::Empty(e)) => {
                    self.name.clear();
                    self.name.extend_from_slice(e.local_name().as_ref());
                    return Ok(Tok::Empty);
                }
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Tok::Close);
                }
                Ok(Event::Eof) => return Ok(Tok::Eof),
                Ok(Event::Text(t)) => {
                    if outside_root && !t.iter().all(u8::is_ascii_whitespace) {
                        let message = outside_root_text_message(&t);
                        return Err(self.error(self.token_start, message));
                    }
                }
                Ok(Event::CData(_)) => {
                    if outside_root {
                        let start = self.token_start;
                        return Err(self.error(
                            start,
                            "CDATA outside the root element: this is not an XML document",
                        ));
                    }
                }
                Ok(Event::Comment(_) | Event::PI(_) | Event::Decl(_)) => {}
                Ok(Event::DocType(_)) => return Err(self.doctype_refused()),
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    /// Reads the text content of the element just opened, up to and including its end tag, and
    /// returns it with XML's line-end normalisation applied and escapes resolved. Elements nested
    /// inside (which XPM does not send in a value) are skipped with their content.
    pub(crate) fn leaf_text(&mut self) -> Result<&str, XpmError> {
        // The escaped bytes of the text pieces are gathered in `raw` and validated and unescaped
        // once at the end tag, usually without a copy. Only a CDATA section, whose content must
        // not be unescaped, makes the pieces be decoded into `text` one by one.
        self.raw.clear();
        self.text.clear();
        let mut decoded = false;
        let mut nested = 0usize;
        loop {
            self.buf.clear();
            match self.reader.read_event_into(&mut self.buf) {
                Ok(Event::Text(t)) if nested == 0 => {
                    if !decoded {
                        self.raw.extend_from_slice(&t);
                    } else if let Err(message) = push_unescaped(&mut self.text, &t) {
                        let at = self.reader.buffer_position();
                        return Err(self.error(at, message));
                    }
                }
                Ok(Event::CData(c)) if nested == 0 => {
                    if !decoded {
                        decoded = true;
                        if let Err(message) = push_unescaped(&mut self.text, &self.raw) {
                            let at = self.reader.buffer_position();
                            return Err(self.error(at, message));
                        }
                    }
                    match std::str::from_utf8(&c) {
                        Ok(s) => push_normalised(&mut self.text, s),
                        Err(_) => {
                            let at = self.reader.buffer_position();
                            return Err(self.error(at, "CDATA section is not valid UTF-8"));
                        }
                    }
                }
                Ok(Event::Start(_)) => {
                    nested += 1;
                    self.enter()?;
                }
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    if nested == 0 {
                        break;
                    }
                    nested -= 1;
                }
                Ok(Event::DocType(_)) => return Err(self.doctype_refused()),
                Ok(Event::Eof) => return Err(self.truncated_here()),
                Ok(_) => {}
                Err(e) => return Err(self.xml_error(e)),
            }
        }
        if decoded {
            return Ok(&self.text);
        }
        let Ok(plain) = std::str::from_utf8(&self.raw) else {
            return Err(self.error(self.token_start, "text is not valid UTF-8"));
        };
        if !plain.bytes().any(|b| b == b'&' || b == b'\r') {
            return Ok(plain);
        }
        if let Err(message) = push_unescaped(&mut self.text, &self.raw) {
            return Err(self.error(self.token_start, message));
        }
        Ok(&self.text)
    }

    /// Reads an element that may hold either text or child elements with text (integrations
    /// show `<AutoBasOptInCriteria>` both as a value and as `<Annually>`, `<Quarterly>`, … children)
    /// and flattens it to one string: the text itself, or `Child: value` pairs joined with `; `
    /// for the children that have a value.
    pub(crate) fn flattened_text(&mut self) -> Result<String, XpmError> {
        let element = format!("<{}>", self.name_lossy());
        let mut own = String::new();
        let mut fields: Vec<String> = Vec::new();
        loop {
            self.buf.clear();
            match self.reader.read_event_into(&mut self.buf) {
                Ok(Event::Text(t)) => {
                    if let Err(message) = push_unescaped(&mut own, &t) {
                        let at = self.reader.buffer_position();
                        return Err(self.error(at, message));
                    }
                }
                Ok(Event::CData(c)) => push_normalised(&mut own, &String::from_utf8_lossy(&c)),
                Ok(Event::Start(e)) => {
                    self.name.clear();
                    self.name.extend_from_slice(e.local_name().as_ref());
                    self.enter()?;
                    let child = self.name_lossy();
                    let value = self.leaf_text()?.trim_matches(is_xml_space);
                    if !value.is_empty() {
                        fields.push(format!("{child}: {value}"));
                    }
                }
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    break;
                }
                Ok(Event::DocType(_)) => return Err(self.doctype_refused()),
                Ok(Event::Eof) => return Err(self.truncated(&element)),
                Ok(_) => {}
                Err(e) => return Err(self.xml_error(e)),
            }
        }
        if fields.is_empty() {
            Ok(own)
        } else {
            Ok(fields.join("; "))
        }
    }

    /// Skips the element just opened with everything inside it.
    pub(crate) fn skip_subtree(&mut self) -> Result<(), XpmError> {
        let mut depth = 0usize;
        loop {
            self.buf.clear();
            match self.reader.read_event_into(&mut self.buf) {
                Ok(Event::Start(_)) => {
                    depth += 1;
                    self.enter()?;
                }
                Ok(Event::End(_)) => {
                    self.depth = self.depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                    depth -= 1;
                }
                Ok(Event::DocType(_)) => return Err(self.doctype_refused()),
                Ok(Event::Eof) => return Err(self.truncated_here()),
                // Unknown content is not validated beyond well-formedness: escapes and UTF-8
                // inside it are never looked at.
                Ok(_) => {}
                Err(e) => return Err(self.xml_error(e)),
            }
        }
    }

    /// Reads whatever follows the root element's end tag: only whitespace, comments and
    /// processing instructions may.
    pub(crate) fn expect_end_of_document(&mut self) -> Result<(), XpmError> {
        match self.next_tag_outside_root()? {
            Tok::Eof => Ok(()),
            Tok::Open | Tok::Empty => {
                let start = self.token_start;
                Err(self.error(
                    start,
                    format!(
                        "a second root element <{}> follows </Response>",
                        self.name_lossy()
                    ),
                ))
            }
            // quick-xml reports an unmatched end tag as an error before we would see it.
            Tok::Close => {
                let start = self.token_start;
                Err(self.error(start, "an end tag follows </Response>"))
            }
        }
    }

    /// One element deeper; refused past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), XpmError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                self.token_start.max(self.reader.buffer_position().saturating_sub(1)),
                format!("elements nest more than {MAX_DEPTH} deep: refused (XPM's documents are a few levels deep)"),
            ));
        }
        Ok(())
    }

    fn doctype_refused(&self) -> XpmError {
        self.error(
            self.token_start,
            "<!DOCTYPE> is refused: XPM never sends one, and it could declare entities to expand",
        )
    }

    fn xml_error(&self, e: quick_xml::Error) -> XpmError {
        use quick_xml::Error as E;
        match e {
            // The body stopped arriving: a transport failure, not a malformed document.
            E::Io(io) if io.get_ref().is_some_and(|e| e.is::<TextTooLong>()) => self.error(
                self.reader.buffer_position(),
                format!(
                    "more than {} KB of text without markup: refused (no XPM value is that long)",
                    MAX_TEXT_RUN / 1024
                ),
            ),
            E::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => XpmError::Timeout(io.to_string()),
            E::Io(io) => XpmError::Transport(io.to_string()),
            E::Escape(ref esc) => self.error(
                self.reader.error_position().max(self.token_start),
                format!("{esc} (only XML's predefined entities and character references are accepted)"),
            ),
            // Every syntax error but a bad `<!` means the input ended inside markup.
            E::Syntax(syntax) if syntax != quick_xml::errors::SyntaxError::InvalidBangMarkup => self.error(
                self.reader.error_position(),
                format!("the document ends inside markup: it is truncated ({syntax})"),
            ),
            other => self.error(self.reader.error_position(), format!("malformed XML: {other}")),
        }
    }
}

/// The input, with a count of the bytes read since the last `<` or `>`: past [`MAX_TEXT_RUN`] it
/// fails instead of handing quick-xml more of the same text node. Each byte is counted once, when
/// `fill_buf` first shows it, searching back from the end for markup: a few comparisons per piece.
struct Capped<R> {
    inner: R,
    /// Bytes since the last `<`/`>` among those counted.
    run: usize,
    /// How much of what `fill_buf` returns has been counted already (not yet consumed).
    counted: usize,
}

impl<R> Capped<R> {
    fn new(inner: R) -> Self {
        Capped {
            inner,
            run: 0,
            counted: 0,
        }
    }
}

#[derive(Debug)]
struct TextTooLong;

impl std::fmt::Display for TextTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {MAX_TEXT_RUN} bytes without markup")
    }
}

impl std::error::Error for TextTooLong {}

fn count_run(run: usize, bytes: &[u8]) -> usize {
    match bytes.iter().rposition(|&b| b == b'<' || b == b'>') {
        Some(at) => bytes.len() - at - 1,
        None => run + bytes.len(),
    }
}

fn too_long() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, TextTooLong)
}

impl<R: BufRead> std::io::Read for Capped<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Capped<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let buf = self.inner.fill_buf()?;
        if buf.len() > self.counted {
            self.run = count_run(self.run, &buf[self.counted..]);
            self.counted = buf.len();
        }
        if self.run > MAX_TEXT_RUN {
            return Err(too_long());
        }
        Ok(buf)
    }

    fn consume(&mut self, amount: usize) {
        self.counted = self.counted.saturating_sub(amount);
        self.inner.consume(amount);
    }
}

fn outside_root_text_message(text: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(text).trim().chars().take(40).collect();
    format!("text `{shown}` outside the root element: this is not an XPM XML document")
}

/// Appends escaped text, resolving XML's predefined entities and character references.
fn push_unescaped(out: &mut String, raw: &[u8]) -> Result<(), String> {
    let raw = std::str::from_utf8(raw).map_err(|_| "text is not valid UTF-8".to_string())?;
    if !raw.contains('&') {
        push_normalised(out, raw);
        return Ok(());
    }
    // Line ends are normalised before unescaping so that `&#13;` stays a carriage return, as XML
    // requires.
    let normalised;
    let raw = if raw.contains('\r') {
        normalised = normalise_line_ends(raw);
        normalised.as_str()
    } else {
        raw
    };
    let unescaped = quick_xml::escape::unescape(raw)
        .map_err(|e| format!("{e} (only XML's predefined entities and character references are accepted)"))?;
    out.push_str(&unescaped);
    Ok(())
}

/// Appends literal text with XML's line-end normalisation (`\r\n` and `\r` read as `\n`).
fn push_normalised(out: &mut String, s: &str) {
    if s.contains('\r') {
        out.push_str(&normalise_line_ends(s));
    } else {
        out.push_str(s);
    }
}

fn normalise_line_ends(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}
