//! Writes the model as XPM 3.1 writes it: the inverse of [`crate::decode`].
//!
//! The product only reads XPM; this is for what has to answer as XPM does (the sandbox) and for
//! tests, hence behind the `encode` feature. Decoding what it wrote gives the same values back,
//! for every value the format can carry (XML cannot carry surrounding whitespace, and an empty
//! text is no value).
//!
//! The layout is XPM's: two-space indentation with each element on a line of its own, `Yes`/`No`,
//! `PrepareGST`'s acronym casing, `<BillingClient />` for no billing client, multi-line addresses
//! whose continuation lines carry the indentation, the fields XPM 3.1 added written only when
//! they hold a value, and the element order of XPM's answers. What XPM varies between records
//! (whether a value-less element is written empty or left out, where `ClientCode` goes) is the
//! caller's [`Layout`]; what varies between endpoints is the [`ClientShape`].

mod records;

use std::fmt::Write as _;

/// How an element without a value is written. XPM does both, even within one answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Absent {
    /// `<Title />`
    #[default]
    Empty,
    /// Left out.
    Omit,
    /// Empty and left out in turn, starting with empty.
    Alternate,
}

/// What a client element carries, by endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientShape {
    /// `client.api/paged-list`: the client's own fields, no collections.
    Paged,
    /// `client.api/list` without `detailed`: adds the contacts.
    Light,
    /// `client.api/list?detailed=true`: adds notes, groups, relationships and the
    /// practice-management (tax) fields.
    Detailed,
    /// `client.api/get/{uuid}`: detailed, with `<WebUrl>` beside the client rather than in it,
    /// as Xero's documented example has it.
    Single,
}

/// What XPM varies from one record to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout {
    pub absent: Absent,
    /// `ClientCode` right after `Name` instead of just before `WebUrl`.
    pub client_code_first: bool,
}

/// Writes elements into a `String`, each on a new line indented two spaces per level.
pub struct Encoder<'a> {
    out: &'a mut String,
    depth: usize,
    layout: Layout,
    /// For [`Absent::Alternate`]: whether the next value-less element is written empty.
    next_empty: bool,
}

impl<'a> Encoder<'a> {
    /// Writes at `depth` levels of indentation (1 for a record directly inside `<Response>`).
    pub fn new(out: &'a mut String, depth: usize, layout: Layout) -> Self {
        Encoder {
            out,
            depth,
            layout,
            next_empty: true,
        }
    }

    fn line(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// `<name>`, its children one level deeper until [`Encoder::close`].
    fn open(&mut self, name: &str) {
        self.line();
        let _ = write!(self.out, "<{name}>");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.line();
        let _ = write!(self.out, "</{name}>");
    }

    /// `<name>text</name>`, escaped.
    fn text(&mut self, name: &str, value: &str) {
        self.line();
        let _ = write!(self.out, "<{name}>");
        escape_into(self.out, value);
        let _ = write!(self.out, "</{name}>");
    }

    fn empty_element(&mut self, name: &str) {
        self.line();
        let _ = write!(self.out, "<{name} />");
    }

    /// A value-less element, as the layout says.
    fn absent(&mut self, name: &str) {
        let empty = match self.layout.absent {
            Absent::Empty => true,
            Absent::Omit => false,
            Absent::Alternate => {
                let empty = self.next_empty;
                self.next_empty = !empty;
                empty
            }
        };
        if empty {
            self.empty_element(name);
        }
    }

    fn opt(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => self.text(name, v),
            None => self.absent(name),
        }
    }

    /// Only when there is a value: the elements XPM 3.1 added, which older answers lack.
    fn if_some(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(name, v);
        }
    }

    fn flag(&mut self, name: &str, value: Option<bool>) {
        self.opt(name, value.map(yes_no));
    }

    fn date(&mut self, name: &str, value: Option<crate::XpmDate>) {
        match value {
            Some(d) => self.text(name, &d.to_string()),
            None => self.absent(name),
        }
    }

    /// Continuation lines carry the element's indentation, as XPM's pretty-printer leaves them.
    fn lines(&mut self, name: &str, value: Option<&str>) {
        let Some(value) = value else {
            return self.absent(name);
        };
        self.line();
        let _ = write!(self.out, "<{name}>");
        for (i, line) in value.split('\n').enumerate() {
            if i > 0 {
                self.out.push('\n');
                for _ in 0..=self.depth {
                    self.out.push_str("  ");
                }
            }
            escape_into(self.out, line);
        }
        let _ = write!(self.out, "</{name}>");
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "Yes"
    } else {
        "No"
    }
}

/// Appends escaped character data: `&`, `<` and `>` as entities, as .NET's writer does, and a
/// carriage return as `&#13;` (a literal one would read back as a line feed).
pub fn escape_into(out: &mut String, text: &str) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\r' => "&#13;",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(entity);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

/// `<Response api-method="…">` (a method name of XPM's: `List`, `Get`) and the OK status;
/// records follow at depth 1.
pub fn open_response(out: &mut String, api_method: &str) {
    let _ = write!(
        out,
        "<Response api-method=\"{api_method}\">\n  <Status>OK</Status>"
    );
}

pub fn close_response(out: &mut String) {
    out.push_str("\n</Response>\n");
}

/// XPM's error envelope (which XPM serves with HTTP 200).
pub fn error_document(description: &str) -> String {
    let mut out = String::from("<Response>\n  <Status>ERROR</Status>\n  <ErrorDescription>");
    escape_into(&mut out, description);
    out.push_str("</ErrorDescription>\n</Response>\n");
    out
}

#[cfg(test)]
mod tests;
