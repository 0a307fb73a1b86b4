//! Sending requests to Xero: timeouts, retries with backoff, classification of failed responses
//! into [`XpmError`], and the rate-limit headers every response carries.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, RETRY_AFTER};
use reqwest::StatusCode;
use time::OffsetDateTime;
use url::Url;

use crate::{RateLimitKind, XpmError};

/// Timeouts and identification shared by every request this crate sends.
///
/// Timeouts come per kind of request: the detailed client list (`client.api/list`), which XPM
/// computes in full before it answers and which then downloads for minutes, and every other
/// request (one client, a page of clients or contacts, the groups, `/connections`, the identity
/// service), which is small. All are plain [`Duration`]s so the engine can take them from its
/// settings; build with `..HttpConfig::default()` to set only some.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Sent as `User-Agent`; Xero asks integrations to name themselves.
    pub user_agent: String,
    /// Time allowed to open a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Small requests (everything but the detailed client list): time allowed between sending the
    /// request and receiving the response headers.
    pub response_timeout: Duration,
    /// Small requests: longest silence allowed while a body is arriving. A body that stalls longer
    /// fails with [`XpmError::Timeout`].
    pub idle_timeout: Duration,
    /// The detailed client list: time allowed between sending `client.api/list` and its response
    /// headers. XPM builds the whole list before it sends a byte, which takes minutes for a large
    /// practice: 15 minutes by default.
    pub list_response_timeout: Duration,
    /// The detailed client list: longest silence allowed between two pieces of its body (5 minutes
    /// by default). There is no limit on the total download time.
    pub list_idle_timeout: Duration,
    /// The detailed client list that timed out (no first byte, or a stall before the first client
    /// was handed out) is tried once more after this pause, and only once (30 s by default).
    pub list_timeout_retry_pause: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            user_agent: concat!("HowNowAdmin/", env!("CARGO_PKG_VERSION"), " (hownow-xpm)").to_string(),
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(60),
            list_response_timeout: Duration::from_secs(15 * 60),
            list_idle_timeout: Duration::from_secs(5 * 60),
            list_timeout_retry_pause: Duration::from_secs(30),
        }
    }
}

impl HttpConfig {
    /// A reqwest client with these settings. Redirects are not followed: neither Xero's identity
    /// service nor its API redirects, and following one could send a bearer token elsewhere.
    pub(crate) fn build_client(&self) -> Result<reqwest::Client, XpmError> {
        reqwest::Client::builder()
            .user_agent(self.user_agent.clone())
            .connect_timeout(self.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Bodies are decompressed by this crate (`body.rs`), which counts the bytes on the
            // wire as well as the decoded ones; reqwest must hand them over untouched even if
            // another crate of the build turns its gzip feature on.
            .no_gzip()
            .build()
            .map_err(|e| XpmError::Config(format!("cannot build the HTTP client: {}", error_chain(&e))))
    }
}

/// How failed requests are retried.
///
/// 5xx answers, dropped connections and timeouts are retried with exponential backoff and jitter;
/// a 429 for the per-minute limit (or another short-lived one, such as the app-wide minute limit)
/// waits Xero's `Retry-After` (when it is at most `max_rate_limit_wait`) and tries again; a 429
/// for the day limit and everything else is returned at once.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries in total, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff before the second try; doubles with each further try.
    pub base_delay: Duration,
    /// Upper bound of one backoff delay.
    pub max_delay: Duration,
    /// Longest `Retry-After` worth waiting for inside a call. A longer one is returned to the caller
    /// as [`XpmError::RateLimited`] so it can reschedule instead of hanging. Also the wait used when
    /// a minute 429 carries no `Retry-After`.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before trying again after `error` on try number `attempt` (1-based), or
    /// `None` when the error is final.
    pub(crate) fn delay_before_retry(&self, error: &XpmError, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        match error {
            // Only the day limit is long-lived; minute, app-minute and concurrency breaches clear
            // within Retry-After.
            XpmError::RateLimited { kind, retry_after } if *kind != RateLimitKind::Day => {
                let wait = retry_after.unwrap_or(self.max_rate_limit_wait);
                (wait <= self.max_rate_limit_wait).then_some(wait)
            }
            e if e.is_transient() => Some(self.backoff(attempt)),
            _ => None,
        }
    }

    /// Exponential backoff with "equal jitter": half the delay is fixed, half random, so parallel
    /// workers that failed together do not retry in lockstep.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX));
        let delay = exp.min(self.max_delay);
        let half = delay / 2;
        let jitter_ns = rand::thread_rng().gen_range(0..=half.as_nanos().min(u64::MAX as u128) as u64);
        half + Duration::from_nanos(jitter_ns)
    }
}

/// Runs `attempt_once(n)` for n = 1, 2, … until it succeeds or fails for good under `policy`.
pub(crate) async fn with_retries<T, F, Fut>(policy: &RetryPolicy, mut attempt_once: F) -> Result<T, XpmError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, XpmError>>,
{
    let mut attempt = 1;
    loop {
        let error = match attempt_once(attempt).await {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        let Some(wait) = policy.delay_before_retry(&error, attempt) else {
            return Err(error);
        };
        tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %error, "retrying Xero request");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// What Xero said about a response besides its body: the server clock and the remaining budget.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseMeta {
    /// HTTP status of the response that was used (the last try).
    pub status: u16,
    /// The `Date` header: Xero's clock when it answered. The sync engine uses it for its watermark
    /// so a skewed local clock cannot make `modifiedsince` skip changes.
    pub date: Option<OffsetDateTime>,
    /// `X-MinLimit-Remaining`: calls left this minute for this tenant.
    pub min_limit_remaining: Option<u32>,
    /// `X-DayLimit-Remaining`: calls left today for this tenant.
    pub day_limit_remaining: Option<u32>,
    /// `X-AppMinLimit-Remaining`: calls left this minute for the whole app.
    pub app_min_limit_remaining: Option<u32>,
    /// Body bytes received, after content decoding (gzip): the size of the document.
    pub bytes_received: u64,
    /// Tries it took, 1 when the first one worked; tries that timed out included.
    pub attempts: u32,
    /// How many of those tries timed out (no response headers in time, or a body that stalled
    /// before anything was handed out).
    pub timeouts: u32,
    /// Time from sending the try that worked until its response headers arrived (local monotonic
    /// clock). `date - elapsed` is when the request left, by Xero's clock: for the detailed list
    /// that can be many minutes before `date`.
    pub elapsed: Duration,
    /// Body bytes read from the connection, before content decoding: equal to `bytes_received`
    /// for an uncompressed body, smaller for a gzip one.
    pub bytes_on_wire: u64,
}

impl ResponseMeta {
    pub(crate) fn from_response(status: StatusCode, headers: &HeaderMap, attempt: u32) -> Self {
        ResponseMeta {
            status: status.as_u16(),
            date: header_str(headers, reqwest::header::DATE.as_str()).and_then(parse_http_date),
            min_limit_remaining: header_u32(headers, "x-minlimit-remaining"),
            day_limit_remaining: header_u32(headers, "x-daylimit-remaining"),
            app_min_limit_remaining: header_u32(headers, "x-appminlimit-remaining"),
            bytes_received: 0,
            attempts: attempt,
            timeouts: 0,
            elapsed: Duration::ZERO,
            bytes_on_wire: 0,
        }
    }

    /// When the request that gave this response left, by Xero's clock: `date - elapsed`.
    pub fn sent_at(&self) -> Option<OffsetDateTime> {
        self.date.map(|date| date - self.elapsed)
    }
}

/// How many tries a request took and how many of them timed out; known whether the request
/// succeeded or not (see [`crate::PracticeClient::list_clients_counted`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attempts {
    pub attempts: u32,
    pub timeouts: u32,
}

/// A decoded answer together with the response's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched<T> {
    pub value: T,
    pub meta: ResponseMeta,
    /// Values of the answer that could not be read and were left absent in `value`.
    pub warnings: Vec<crate::DataWarning>,
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn header_u32(headers: &HeaderMap, name: &str) -> Option<u32> {
    header_str(headers, name)?.parse().ok()
}

/// Parses an HTTP date in the IMF-fixdate form every current server sends
/// (`Sun, 06 Nov 1994 08:49:37 GMT`). The obsolete RFC 850 and asctime forms are not accepted.
pub fn parse_http_date(value: &str) -> Option<OffsetDateTime> {
    use time::macros::format_description;
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(value.trim(), fmt)
        .ok()
        .map(|dt| dt.assume_utc())
}

/// `Retry-After` as seconds or as an HTTP date (relative to the response's own `Date`, or now).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = header_str(headers, RETRY_AFTER.as_str())?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    let now = header_str(headers, "date")
        .and_then(parse_http_date)
        .unwrap_or_else(OffsetDateTime::now_utc);
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

fn rate_limit_kind(headers: &HeaderMap) -> RateLimitKind {
    match header_str(headers, "x-rate-limit-problem")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("minute") => RateLimitKind::Minute,
        Some("day") | Some("daily") => RateLimitKind::Day,
        _ => RateLimitKind::Other,
    }
}

/// The message of an error and all its causes; reqwest's top-level message alone ("error sending
/// request") does not say what went wrong.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

/// Maps a reqwest failure to a transport or timeout error.
/// The most read of an answer that is read whole (discovery, tokens, `/connections`,
/// revocation): real ones are a few kilobytes, and a hostile or broken server must not make the
/// app hold an unbounded body in memory.
pub const MAX_SMALL_BODY: usize = 1024 * 1024;

/// Reads a whole small body, at most [`MAX_SMALL_BODY`] bytes, each piece within `idle`.
pub(crate) async fn read_small_body(
    mut response: reqwest::Response,
    idle: Duration,
    what: &str,
) -> Result<Vec<u8>, XpmError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_SMALL_BODY as u64)
    {
        return Err(too_large(what));
    }
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout(idle, response.chunk()).await {
            Err(_) => {
                return Err(XpmError::Timeout(format!(
                    "{what} stalled for {} s",
                    idle.as_secs_f32()
                )))
            }
            Ok(Err(e)) => return Err(transport_error(&e)),
            Ok(Ok(None)) => return Ok(body),
            Ok(Ok(Some(chunk))) => {
                if body.len() + chunk.len() > MAX_SMALL_BODY {
                    return Err(too_large(what));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

fn too_large(what: &str) -> XpmError {
    XpmError::TooLarge {
        what: what.to_string(),
        limit: MAX_SMALL_BODY,
    }
}

pub(crate) fn transport_error(error: &reqwest::Error) -> XpmError {
    if error.is_timeout() {
        XpmError::Timeout(error_chain(error))
    } else {
        XpmError::Transport(error_chain(error))
    }
}

/// Sends `request` and waits for the response headers at most `timeout`.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    what: &str,
) -> Result<reqwest::Response, XpmError> {
    match tokio::time::timeout(timeout, request.send()).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(transport_error(&e)),
        Err(_) => Err(XpmError::Timeout(format!(
            "no response to {what} within {} s",
            timeout.as_secs_f32()
        ))),
    }
}

/// Error bodies are read for their message only; this much is plenty and bounds memory.
const ERROR_BODY_LIMIT: usize = 16 * 1024;
/// How much of an unexpected body goes into an error message.
const ERROR_SNIPPET_CHARS: usize = 300;

/// Turns a non-2xx response into the matching [`XpmError`]; 2xx responses pass through.
pub(crate) async fn check_status(
    response: reqwest::Response,
    idle_timeout: Duration,
) -> Result<reqwest::Response, XpmError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(XpmError::RateLimited {
            kind: rate_limit_kind(&headers),
            retry_after: retry_after(&headers),
        });
    }
    let body = read_error_body(response, idle_timeout).await;
    Err(match status {
        StatusCode::UNAUTHORIZED => XpmError::NeedsReauth {
            reason: problem_detail(&body).unwrap_or_else(|| "HTTP 401 Unauthorized".to_string()),
        },
        StatusCode::FORBIDDEN => XpmError::Forbidden {
            detail: problem_detail(&body).unwrap_or_else(|| "HTTP 403 Forbidden".to_string()),
        },
        // A 5xx is XPM failing, transient whatever the body says (XPM wraps some in its XML
        // envelope), and a 404 says the record is gone: both keep their status, with the
        // envelope's description when there is one. Other 4xx envelopes are API errors.
        _ if status.is_server_error() || status == StatusCode::NOT_FOUND => XpmError::Http {
            status: status.as_u16(),
            body: match xpm_error_envelope(&body) {
                Some(XpmError::Api { description }) => description,
                _ => snippet(&body),
            },
        },
        _ => xpm_error_envelope(&body).unwrap_or_else(|| XpmError::Http {
            status: status.as_u16(),
            body: snippet(&body),
        }),
    })
}

/// Reads at most [`ERROR_BODY_LIMIT`] bytes of an error body; a body that fails or stalls just
/// ends early, since the status already says what happened.
async fn read_error_body(mut response: reqwest::Response, idle_timeout: Duration) -> String {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match tokio::time::timeout(idle_timeout, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(ERROR_BODY_LIMIT);
    String::from_utf8_lossy(&body).into_owned()
}

/// The `Detail` (or `Title`) of Xero's JSON problem objects:
/// `{"Title":"Unauthorized","Status":401,"Detail":"TokenExpired: …"}`.
fn problem_detail(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let object = value.as_object()?;
    ["Detail", "detail", "Title", "title", "error_description", "error"]
        .iter()
        .find_map(|key| object.get(*key)?.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// XPM sometimes answers a 4xx or 5xx with its own XML envelope; its `ErrorDescription` says more
/// than the status does.
fn xpm_error_envelope(body: &str) -> Option<XpmError> {
    if !body.contains("<Status>") {
        return None;
    }
    let mut decoder = crate::decode::Decoder::new(body.as_bytes());
    loop {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decoder.next_item())) {
            Ok(Ok(Some(_))) => continue,
            Ok(Err(e @ XpmError::Api { .. })) => return Some(e),
            _ => return None,
        }
    }
}

fn snippet(body: &str) -> String {
    let trimmed = body.trim();
    if trimmed.chars().count() <= ERROR_SNIPPET_CHARS {
        trimmed.to_string()
    } else {
        let cut: String = trimmed.chars().take(ERROR_SNIPPET_CHARS).collect();
        format!("{cut}…")
    }
}

/// `base` with `segments` appended as path segments (percent-encoded), whatever trailing slash
/// `base` has.
pub(crate) fn join_path(base: &Url, segments: &[&str]) -> Result<Url, XpmError> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|_| XpmError::Config(format!("`{base}` cannot be a base URL")))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

pub(crate) const TENANT_HEADER: HeaderName = HeaderName::from_static("xero-tenant-id");

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
