//! XPM response documents, written lazily: a list is rendered a chunk at a time from a snapshot
//! while the client reads it, so a 50 MB detailed list costs one chunk of memory, and its first
//! byte leaves as soon as the first chunk is rendered.

use std::convert::Infallible;

use axum::body::Body;
use bytes::Bytes;

use super::xml::MALFORMED_MARKUP;

/// Records are rendered until a chunk holds at least this much.
const CHUNK: usize = 32 * 1024;

/// Writes the next record into the buffer; `false` when there are no more.
pub(crate) type RecordWriter = Box<dyn FnMut(&mut String) -> bool + Send>;

/// A response document: a head, records written on demand, a tail.
pub(crate) struct Document {
    head: String,
    records: RecordWriter,
    tail: String,
    /// Break the markup after the first record (the malformed-XML switch).
    malformed: bool,
}

impl Document {
    pub(crate) fn new(head: String, records: RecordWriter, tail: String, malformed: bool) -> Self {
        Document {
            head,
            records,
            tail,
            malformed,
        }
    }

    /// A document whose whole text is already known (single records, errors).
    pub(crate) fn whole(text: String) -> Self {
        Document::new(text, Box::new(|_| false), String::new(), false)
    }

    pub(crate) fn into_body(self) -> Body {
        Body::from_stream(futures_util::stream::iter(Chunks {
            head: Some(self.head),
            records: self.records,
            records_done: false,
            tail: Some(self.tail),
            malformed_pending: self.malformed,
        }))
    }

    /// The whole text at once (tests).
    #[cfg(test)]
    pub(crate) fn render(self) -> String {
        let chunks = Chunks {
            head: Some(self.head),
            records: self.records,
            records_done: false,
            tail: Some(self.tail),
            malformed_pending: self.malformed,
        };
        chunks
            .map(|c| String::from_utf8(c.unwrap().to_vec()).unwrap())
            .collect()
    }
}

struct Chunks {
    head: Option<String>,
    records: RecordWriter,
    records_done: bool,
    tail: Option<String>,
    malformed_pending: bool,
}

impl Chunks {
    fn inject_malformed(&mut self, buf: &mut String) {
        if std::mem::take(&mut self.malformed_pending) {
            buf.push_str("\n    ");
            buf.push_str(MALFORMED_MARKUP);
        }
    }
}

impl Iterator for Chunks {
    type Item = Result<Bytes, Infallible>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = self.head.take().unwrap_or_default();
        buf.reserve(CHUNK + CHUNK / 4);
        while !self.records_done && buf.len() < CHUNK {
            if (self.records)(&mut buf) {
                self.inject_malformed(&mut buf);
            } else {
                self.records_done = true;
            }
        }
        if self.records_done {
            self.inject_malformed(&mut buf);
            if let Some(tail) = self.tail.take() {
                buf.push_str(&tail);
            }
        }
        (!buf.is_empty()).then(|| Ok(Bytes::from(buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting(n: usize) -> RecordWriter {
        let mut i = 0;
        Box::new(move |buf: &mut String| {
            if i == n {
                return false;
            }
            i += 1;
            buf.push_str(&format!("<R>{i}</R>"));
            true
        })
    }

    #[test]
    fn head_records_tail_in_order() {
        let doc = Document::new("<L>".into(), counting(3), "</L>".into(), false);
        assert_eq!(doc.render(), "<L><R>1</R><R>2</R><R>3</R></L>");
    }

    #[test]
    fn malformed_markup_follows_the_first_record_or_the_head() {
        let doc = Document::new("<L>".into(), counting(2), "</L>".into(), true);
        assert_eq!(
            doc.render(),
            format!("<L><R>1</R>\n    {MALFORMED_MARKUP}<R>2</R></L>")
        );
        let empty = Document::new("<L>".into(), counting(0), "</L>".into(), true);
        assert_eq!(empty.render(), format!("<L>\n    {MALFORMED_MARKUP}</L>"));
    }

    #[test]
    fn large_documents_come_in_bounded_chunks() {
        let chunks = Chunks {
            head: Some(String::new()),
            records: counting(100_000),
            records_done: false,
            tail: Some(String::new()),
            malformed_pending: false,
        };
        let sizes: Vec<usize> = chunks.map(|c| c.unwrap().len()).collect();
        assert!(sizes.len() > 10);
        assert!(sizes.iter().all(|&s| s < CHUNK + 64), "{sizes:?}");
    }
}
