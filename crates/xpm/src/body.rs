//! Decodes a response body while it downloads.
//!
//! The decoder is synchronous (`BufRead`), the body is an async byte stream. A pump task reads the
//! body into a channel bounded by bytes; a blocking thread reads that channel as a `BufRead`, runs
//! the [`Decoder`], and sends items into a second, short channel. So memory stays about
//! [`BODY_BUFFER_BYTES`] plus a few records whatever the response size, the download only waits for
//! the decoder when the decoder is behind, and a caller that stops reading stops the download.
//!
//! **gzip.** Requests to XPM say `Accept-Encoding: gzip`, and this module decompresses a
//! `Content-Encoding: gzip` body itself, with `flate2`, on the blocking thread between the
//! channel and the XML decoder (reqwest's own gzip support is left off: it would hide the size on
//! the wire). The channel carries compressed bytes, so the bound above holds for them, and the
//! decompressor adds its 32 KiB window and one read buffer. Both sizes are counted as they grow:
//! bytes on the wire by the pump, decoded bytes by the reader in front of the XML decoder. A gzip
//! stream that is corrupt or ends early is a [`DecodeError`], like a truncated document.

use std::io::{self, BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use flate2::bufread::GzDecoder;
use reqwest::header::CONTENT_ENCODING;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::decode::{Decoder, Item};
use crate::limiter::Permit;
use crate::{DecodeError, XpmError};

/// Body bytes buffered between the download and the decoder. Bounded by bytes, not chunks:
/// hyper's adaptive reads hand out chunks from a few KiB up to ~400 KiB.
const BODY_BUFFER_BYTES: usize = 1024 * 1024;
/// Slots in the chunk channel; [`BODY_BUFFER_BYTES`] is the real bound.
const CHUNK_SLOTS: usize = 64;
/// Decoded records buffered between the decoder and the caller.
const ITEM_BUFFER: usize = 64;
/// The read buffer between the gzip decompressor and the XML decoder.
const INFLATED_BUFFER_BYTES: usize = 64 * 1024;

/// The items of one response, in document order, as they are decoded.
///
/// Yields `Ok` items, then either ends (`None`) after a complete, well-formed document, or yields
/// one `Err` and then ends. An interrupted download, a stalled body or a truncated document is
/// always an `Err`, never a silent end.
#[derive(Debug)]
pub(crate) struct ItemStream {
    items: mpsc::Receiver<Result<Item, XpmError>>,
    peeked: Option<Result<Item, XpmError>>,
    finished: bool,
    counts: Arc<ByteCounts>,
}

/// Bytes of one body, counted as they arrive.
#[derive(Debug, Default)]
struct ByteCounts {
    /// Read from the connection (compressed, when the body is).
    wire: AtomicU64,
    /// Handed to the XML decoder (decompressed).
    decoded: AtomicU64,
}

/// How the body is encoded (`Content-Encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
}

impl Encoding {
    fn of(response: &reqwest::Response) -> Result<Encoding, String> {
        let Some(value) = response.headers().get(CONTENT_ENCODING) else {
            return Ok(Encoding::Identity);
        };
        let value = value.to_str().unwrap_or("").trim();
        if value.is_empty() || value.eq_ignore_ascii_case("identity") {
            Ok(Encoding::Identity)
        } else if value.eq_ignore_ascii_case("gzip") || value.eq_ignore_ascii_case("x-gzip") {
            Ok(Encoding::Gzip)
        } else {
            Err(format!(
                "Xero sent the body with Content-Encoding `{value}`, which was not asked for"
            ))
        }
    }
}

/// Starts downloading and decoding `response`. `permit` (the tenant's in-flight slot) is released
/// when the body has been read to the end or abandoned.
pub(crate) fn decode_body(
    response: reqwest::Response,
    permit: Option<Permit>,
    idle_timeout: Duration,
) -> ItemStream {
    let (item_tx, item_rx) = mpsc::channel(ITEM_BUFFER);
    let counts = Arc::new(ByteCounts::default());
    let stream = ItemStream {
        items: item_rx,
        peeked: None,
        finished: false,
        counts: Arc::clone(&counts),
    };
    let encoding = match Encoding::of(&response) {
        Ok(encoding) => encoding,
        Err(message) => {
            item_tx
                .try_send(Err(XpmError::Decode(DecodeError { position: 0, message })))
                .expect("a fresh channel has room");
            return stream;
        }
    };
    let (chunk_tx, chunk_rx) = mpsc::channel(CHUNK_SLOTS);
    let failure = Arc::new(Mutex::new(None));

    tokio::spawn(pump(
        response,
        chunk_tx,
        idle_timeout,
        Arc::clone(&counts),
        encoding == Encoding::Identity,
        permit,
    ));
    let reader = BodyReader {
        chunks: chunk_rx,
        current: Bytes::new(),
        current_budget: None,
        failure: Arc::clone(&failure),
        failed: None,
        finished: false,
    };
    tokio::task::spawn_blocking(move || match encoding {
        Encoding::Identity => decode_into(Decoder::new(reader), failure, item_tx),
        Encoding::Gzip => {
            let inflated = Inflated {
                inner: GzDecoder::new(reader),
                counts,
                failure: Arc::clone(&failure),
            };
            let reader = BufReader::with_capacity(INFLATED_BUFFER_BYTES, inflated);
            decode_into(Decoder::new(reader), failure, item_tx)
        }
    });
    stream
}

impl ItemStream {
    /// The next item, `None` at the end of a complete document or after an error was returned.
    pub(crate) async fn next(&mut self) -> Option<Result<Item, XpmError>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    pub(crate) fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Item, XpmError>>> {
        if let Some(item) = self.peeked.take() {
            return Poll::Ready(Some(self.note(item)));
        }
        if self.finished {
            return Poll::Ready(None);
        }
        match self.items.poll_recv(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some(self.note(item))),
            Poll::Ready(None) => {
                self.finished = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn note(&mut self, item: Result<Item, XpmError>) -> Result<Item, XpmError> {
        if item.is_err() {
            self.finished = true;
        }
        item
    }

    /// Waits for the first item without consuming it: an error that happens before anything was
    /// handed out is returned here, so the request can still be retried as a whole.
    pub(crate) async fn wait_for_first(&mut self) -> Result<(), XpmError> {
        match self.next().await {
            Some(Err(e)) => Err(e),
            Some(Ok(item)) => {
                self.peeked = Some(Ok(item));
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Body bytes decoded so far (after gzip).
    pub(crate) fn bytes_received(&self) -> u64 {
        self.counts.decoded.load(Ordering::Relaxed)
    }

    /// Body bytes read from the connection so far (before gzip).
    pub(crate) fn bytes_on_wire(&self) -> u64 {
        self.counts.wire.load(Ordering::Relaxed)
    }

    /// Drains the stream into a vector; any error fails the whole collection. Gives the items,
    /// the decoded bytes and the bytes on the wire.
    pub(crate) async fn collect(mut self) -> Result<(Vec<Item>, u64, u64), XpmError> {
        let mut items = Vec::new();
        while let Some(item) = self.next().await {
            items.push(item?);
        }
        Ok((items, self.bytes_received(), self.bytes_on_wire()))
    }
}

/// Copies the body into the chunk channel. A stall longer than `idle_timeout` or a broken
/// connection is sent as an error so the decoder side can report it. Counts the bytes on the wire,
/// and the decoded bytes too when the body is not compressed (`identity`).
async fn pump(
    mut response: reqwest::Response,
    chunks: mpsc::Sender<Result<Chunk, XpmError>>,
    idle_timeout: Duration,
    counts: Arc<ByteCounts>,
    identity: bool,
    permit: Option<Permit>,
) {
    let budget = Arc::new(Semaphore::new(BODY_BUFFER_BYTES));
    let wire = &counts.wire;
    loop {
        let next = tokio::time::timeout(idle_timeout, response.chunk()).await;
        let message = match next {
            Ok(Ok(Some(bytes))) => {
                wire.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                if identity {
                    counts.decoded.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                }
                let cost = bytes.len().clamp(1, BODY_BUFFER_BYTES) as u32;
                let budget = Arc::clone(&budget)
                    .acquire_many_owned(cost)
                    .await
                    .expect("the budget semaphore is never closed");
                Ok(Chunk { bytes, budget })
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => Err(XpmError::Transport(format!(
                "the response body broke off after {} bytes: {}",
                wire.load(Ordering::Relaxed),
                crate::http::error_chain(&e)
            ))),
            Err(_) => Err(XpmError::Timeout(format!(
                "the response body stalled for {} s after {} bytes",
                idle_timeout.as_secs_f32(),
                wire.load(Ordering::Relaxed)
            ))),
        };
        let failed = message.is_err();
        if chunks.send(message).await.is_err() || failed {
            break;
        }
    }
    drop(permit);
}

/// Runs on a blocking thread: decodes until the end, an error, or the caller going away.
fn decode_into<R: BufRead>(
    mut decoder: Decoder<R>,
    transport_failure: Arc<Mutex<Option<XpmError>>>,
    items: mpsc::Sender<Result<Item, XpmError>>,
) {
    loop {
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decoder.next_item()));
        let message = match next {
            Ok(Ok(Some(item))) => Ok(item),
            // The decoder only ends after `</Response>`, but never let a download failure pass as
            // a clean end.
            Ok(Ok(None)) => match transport_failure.lock().expect("failure slot").take() {
                Some(e) => Err(e),
                None => return,
            },
            // A download failure reaches the decoder as an I/O error; report the download failure
            // itself (timeout or transport), which says what really happened.
            Ok(Err(e)) => Err(transport_failure
                .lock()
                .expect("failure slot")
                .take()
                .unwrap_or(e)),
            Err(_) => Err(XpmError::Decode(DecodeError {
                position: decoder.position(),
                message: "the decoder failed unexpectedly (internal error)".to_string(),
            })),
        };
        let failed = message.is_err();
        if items.blocking_send(message).is_err() || failed {
            return;
        }
    }
}

/// The decompressed body: counts what it hands to the XML decoder, and turns a gzip failure into
/// a [`DecodeError`] (through the failure slot, like a download failure) unless the download itself
/// failed first.
struct Inflated {
    inner: GzDecoder<BodyReader>,
    counts: Arc<ByteCounts>,
    failure: Arc<Mutex<Option<XpmError>>>,
}

impl Read for Inflated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.counts.decoded.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                // The reader below failed with the download's own error: that one stands.
                if self.inner.get_ref().failed.is_none() {
                    let what = if e.kind() == io::ErrorKind::UnexpectedEof {
                        "ends early: it is truncated"
                    } else {
                        "is corrupt"
                    };
                    let mut slot = self.failure.lock().expect("failure slot");
                    slot.get_or_insert(XpmError::Decode(DecodeError {
                        position: self.counts.decoded.load(Ordering::Relaxed),
                        message: format!(
                            "the gzip-compressed body {what} ({e}, after {} compressed bytes)",
                            self.counts.wire.load(Ordering::Relaxed)
                        ),
                    }));
                }
                Err(e)
            }
        }
    }
}

/// A piece of body with its share of the byte budget, given back when the decoder is done with it.
struct Chunk {
    bytes: Bytes,
    budget: OwnedSemaphorePermit,
}

/// The chunk channel seen as a blocking `BufRead`.
struct BodyReader {
    chunks: mpsc::Receiver<Result<Chunk, XpmError>>,
    current: Bytes,
    current_budget: Option<OwnedSemaphorePermit>,
    /// Where the real download error goes for [`decode_into`] to pick up.
    failure: Arc<Mutex<Option<XpmError>>>,
    /// The message of that error, repeated if the decoder reads again.
    failed: Option<String>,
    finished: bool,
}

impl BufRead for BodyReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.current.is_empty() && !self.finished {
            if let Some(message) = &self.failed {
                return Err(io::Error::other(message.clone()));
            }
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.current = chunk.bytes;
                    self.current_budget = Some(chunk.budget);
                }
                Some(Err(e)) => {
                    self.failed = Some(e.to_string());
                    *self.failure.lock().expect("failure slot") = Some(e);
                }
                None => self.finished = true,
            }
        }
        Ok(&self.current)
    }

    fn consume(&mut self, amount: usize) {
        self.current.advance(amount.min(self.current.len()));
        if self.current.is_empty() {
            self.current_budget = None;
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(messages: Vec<Result<&'static [u8], XpmError>>) -> (BodyReader, Arc<Mutex<Option<XpmError>>>) {
        let (tx, rx) = mpsc::channel(messages.len().max(1));
        let budget = Arc::new(Semaphore::new(1024));
        for m in messages {
            let chunk = m.map(|b| Chunk {
                bytes: Bytes::from_static(b),
                budget: Arc::clone(&budget).try_acquire_many_owned(1).unwrap(),
            });
            tx.try_send(chunk).unwrap();
        }
        let failure = Arc::new(Mutex::new(None));
        let reader = BodyReader {
            chunks: rx,
            current: Bytes::new(),
            current_budget: None,
            failure: failure.clone(),
            failed: None,
            finished: false,
        };
        (reader, failure)
    }

    #[test]
    fn reads_chunks_in_order_then_eof() {
        let (mut r, _) = reader(vec![Ok(b"<Resp"), Ok(b""), Ok(b"onse/>")]);
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        assert_eq!(out, "<Response/>");
    }

    #[test]
    fn a_download_error_is_an_io_error_and_is_kept() {
        let (mut r, failure) = reader(vec![Ok(b"<Re"), Err(XpmError::Timeout("stalled".into()))]);
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("stalled"));
        assert_eq!(out, b"<Re");
        assert!(r.fill_buf().is_err(), "the error repeats");
        assert!(matches!(
            failure.lock().unwrap().take(),
            Some(XpmError::Timeout(_))
        ));
    }
}
