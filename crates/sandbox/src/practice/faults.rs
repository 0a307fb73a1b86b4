//! Body faults: a bandwidth throttle (XPM's minutes-long responses) and a body cut short.
//! Both wrap the response body as a stream, so they apply to every answer alike and cost no
//! memory beyond one chunk.

use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

type DataStream = Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>;

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
