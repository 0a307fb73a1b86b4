//! Body faults and transfer: a bandwidth throttle (XPM's minutes-long responses), a body cut
//! short, a list held in the middle until a switch is cleared, and gzip compression. Each wraps
//! the response body as a stream, so they apply to every answer alike and cost no memory beyond
//! one chunk.
//!
//! The order is: hold (counted in document bytes), gzip, truncation, throttle; so the truncation
//! and the throttle shape the bytes on the wire, compressed or not.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

use super::Closed;

type DataStream = Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>;

/// Resolves when a held body may go on (`Ok`), or must break off because the sandbox stops.
pub(crate) type Release = Pin<Box<dyn Future<Output = Result<(), Closed>> + Send>>;

struct Hold {
    inner: DataStream,
    /// Bytes still to send before the hold; `None` once held and released.
    left: Option<u64>,
    release: Option<Release>,
    pending: Bytes,
    done: bool,
}

/// Sends the first `after` bytes of `body`, waits for `release`, then sends the rest. If the
/// sandbox stops while held, the body breaks off with an error (the connection is dropped).
pub(crate) fn hold_after(body: Body, after: u64, release: Release) -> Body {
    let state = Hold {
        inner: Box::pin(body.into_data_stream()),
        left: Some(after),
        release: Some(release),
        pending: Bytes::new(),
        done: false,
    };
    Body::from_stream(futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        if st.left == Some(0) {
            st.left = None;
            if let Some(release) = st.release.take() {
                if release.await.is_err() {
                    st.done = true;
                    let stopped = std::io::Error::other("the sandbox stopped while the list was held");
                    return Some((Err(axum::Error::new(stopped)), st));
                }
            }
        }
        let mut chunk = if st.pending.is_empty() {
            loop {
                match st.inner.next().await? {
                    Ok(chunk) if chunk.is_empty() => continue,
                    Ok(chunk) => break chunk,
                    Err(e) => {
                        st.done = true;
                        return Some((Err(e), st));
                    }
                }
            }
        } else {
            std::mem::take(&mut st.pending)
        };
        if let Some(left) = st.left.as_mut() {
            if chunk.len() as u64 > *left {
                st.pending = chunk.split_off(*left as usize);
            }
            *left -= chunk.len() as u64;
        }
        Some((Ok(chunk), st))
    }))
}

/// Compresses `body` with gzip as it streams. Each piece of the document is flushed (a sync
/// flush) as soon as it is compressed, so what the handler produced is on the wire at once: the
/// first byte is as prompt as without gzip, and a held list has really sent what it holds after.
pub(crate) fn gzip(body: Body) -> Body {
    let inner: DataStream = Box::pin(body.into_data_stream());
    // Fast: a 50 MB list must not cost the demo's two cores seconds; the generated XML still
    // shrinks about 4×.
    let encoder = GzEncoder::new(Vec::new(), Compression::fast());
    Body::from_stream(futures_util::stream::unfold(
        (inner, Some(encoder)),
        |(mut inner, encoder)| async move {
            let mut encoder = encoder?;
            loop {
                let result = match inner.next().await {
                    Some(Ok(chunk)) if chunk.is_empty() => continue,
                    Some(Ok(chunk)) => encoder.write_all(&chunk).and_then(|()| encoder.flush()),
                    Some(Err(e)) => return Some((Err(e), (inner, None))),
                    None => {
                        return Some(match encoder.finish() {
                            Ok(rest) => (Ok(Bytes::from(rest)), (inner, None)),
                            Err(e) => (Err(axum::Error::new(e)), (inner, None)),
                        })
                    }
                };
                if let Err(e) = result {
                    return Some((Err(axum::Error::new(e)), (inner, None)));
                }
                let out = std::mem::take(encoder.get_mut());
                if !out.is_empty() {
                    return Some((Ok(Bytes::from(out)), (inner, Some(encoder))));
                }
            }
        },
    ))
}

/// Applies the truncation, then the throttle (so the throttle paces what is really sent).
pub(crate) fn shape_body(body: Body, truncate_after: Option<u64>, bytes_per_sec: Option<u64>) -> Body {
    if truncate_after.is_none() && bytes_per_sec.is_none() {
        return body;
    }
    let mut stream: DataStream = Box::pin(body.into_data_stream());
    if let Some(limit) = truncate_after {
        stream = Box::pin(truncate(stream, limit));
    }
    if let Some(rate) = bytes_per_sec {
        stream = Box::pin(throttle(stream, rate.max(1)));
    }
    Body::from_stream(stream)
}

/// Ends the body cleanly after `limit` bytes: the client sees a well-framed but incomplete
/// document, as when XPM's gateway gives up mid-response.
fn truncate(inner: DataStream, limit: u64) -> impl Stream<Item = Result<Bytes, axum::Error>> + Send {
    futures_util::stream::unfold((inner, limit), |(mut inner, left)| async move {
        if left == 0 {
            return None;
        }
        match inner.next().await? {
            Ok(mut chunk) => {
                if chunk.len() as u64 > left {
                    chunk.truncate(left as usize);
                }
                let left = left - chunk.len() as u64;
                Some((Ok(chunk), (inner, left)))
            }
            Err(e) => Some((Err(e), (inner, 0))),
        }
    })
}

struct Throttle {
    inner: DataStream,
    pending: Bytes,
    sent: u64,
    started: Option<Instant>,
    bytes_per_sec: u64,
}

/// Sends the body in slices of a tenth of a second's worth, each when the average rate since
/// the first byte allows it: the first byte is prompt and the whole takes size / rate.
fn throttle(inner: DataStream, bytes_per_sec: u64) -> impl Stream<Item = Result<Bytes, axum::Error>> + Send {
    let state = Throttle {
        inner,
        pending: Bytes::new(),
        sent: 0,
        started: None,
        bytes_per_sec,
    };
    let slice = (bytes_per_sec / 10).clamp(1, 64 * 1024) as usize;
    futures_util::stream::unfold(state, move |mut st| async move {
        while st.pending.is_empty() {
            match st.inner.next().await? {
                Ok(chunk) => st.pending = chunk,
                Err(e) => return Some((Err(e), st)),
            }
        }
        let started = *st.started.get_or_insert_with(Instant::now);
        let due = started + Duration::from_secs_f64(st.sent as f64 / st.bytes_per_sec as f64);
        tokio::time::sleep_until(due).await;
        let piece = st.pending.split_to(slice.min(st.pending.len()));
        st.sent += piece.len() as u64;
        Some((Ok(piece), st))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    async fn collect(body: Body) -> Vec<u8> {
        let mut out = Vec::new();
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    fn chunks(parts: &[&'static str]) -> Body {
        let items: Vec<Result<Bytes, std::io::Error>> = parts
            .iter()
            .map(|p| Ok(Bytes::from_static(p.as_bytes())))
            .collect();
        Body::from_stream(futures_util::stream::iter(items))
    }

    #[tokio::test]
    async fn truncation_cuts_mid_chunk() {
        let body = shape_body(
            chunks(&["<Response>", "<Status>OK</Status>", "</Response>"]),
            Some(14),
            None,
        );
        assert_eq!(collect(body).await, b"<Response><Sta");
    }

    #[tokio::test]
    async fn untouched_without_faults() {
        let body = shape_body(chunks(&["ab", "cd"]), None, None);
        assert_eq!(collect(body).await, b"abcd");
    }

    fn gunzip(data: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
        out
    }

    #[tokio::test]
    async fn gzip_round_trips_and_flushes_every_piece() {
        let body = gzip(chunks(&["<Response>", "", "<Status>OK</Status>", "</Response>"]));
        let mut stream = body.into_data_stream();
        let mut wire = Vec::new();
        let first = stream.next().await.unwrap().unwrap();
        // The first piece alone decodes to the first piece of the document: nothing waits in
        // the compressor.
        let mut partial = [0u8; 64];
        let n = std::io::Read::read(&mut flate2::read::GzDecoder::new(&first[..]), &mut partial).unwrap();
        assert_eq!(&partial[..n], b"<Response>");
        wire.extend_from_slice(&first);
        while let Some(chunk) = stream.next().await {
            wire.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(gunzip(&wire), b"<Response><Status>OK</Status></Response>");
    }

    #[tokio::test]
    async fn a_held_body_sends_its_first_bytes_then_waits_for_the_release() {
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<Result<(), Closed>>();
        let release: Release = Box::pin(async move { release_rx.await.unwrap_or(Err(Closed)) });
        let body = hold_after(
            chunks(&["<Response>", "<Status>OK</Status>", "</Response>"]),
            14,
            release,
        );
        let mut stream = body.into_data_stream();
        let mut sent = Vec::new();
        while sent.len() < 14 {
            sent.extend_from_slice(&stream.next().await.unwrap().unwrap());
        }
        assert_eq!(sent, b"<Response><Sta");
        // Held: the next piece is not ready until the release.
        assert!(stream.next().now_or_never().is_none(), "held");
        release_tx.send(Ok(())).unwrap();
        while let Some(chunk) = stream.next().await {
            sent.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(sent, b"<Response><Status>OK</Status></Response>");
    }

    #[tokio::test]
    async fn a_held_body_breaks_off_when_the_sandbox_stops() {
        let release: Release = Box::pin(async { Err(Closed) });
        let body = hold_after(chunks(&["abcdef"]), 2, release);
        let mut stream = body.into_data_stream();
        assert_eq!(&stream.next().await.unwrap().unwrap()[..], b"ab");
        assert!(stream.next().await.unwrap().is_err());
        assert!(stream.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn throttle_paces_the_whole_body() {
        let started = Instant::now();
        let body = shape_body(chunks(&["0123456789", "0123456789"]), None, Some(10));
        assert_eq!(collect(body).await.len(), 20);
        // 20 bytes at 10 B/s: the last 1-byte slice leaves at 1.9 s.
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_millis(2100),
            "{took:?}"
        );
    }
}
