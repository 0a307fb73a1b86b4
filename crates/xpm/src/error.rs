//! Failures of a call to Xero, typed by what the caller should do about them.

use std::time::Duration;

/// Which of Xero's per-tenant limits a 429 hit (`X-Rate-Limit-Problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitKind {
    /// 60 calls a minute: wait `Retry-After` and go on.
    Minute,
    /// 5,000 calls a day: stop until the reset.
    Day,
    /// The app-wide limit or a value Xero did not name.
    Other,
}

impl std::fmt::Display for RateLimitKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RateLimitKind::Minute => "minute",
            RateLimitKind::Day => "day",
            RateLimitKind::Other => "app",
        })
    }
}

/// A response body that is not the XML XPM should send. `position` is the byte offset in the
/// body where decoding stopped, so support can find the spot in a saved response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not decode XPM's response at byte {position}: {message}")]
pub struct DecodeError {
    pub position: u64,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum XpmError {
    /// The refresh token is dead or revoked (`invalid_grant`): someone must log in to Xero again.
    /// Nothing local should be deleted because of this. A Practice Manager call answered 401 is
    /// [`XpmError::AccessTokenRefused`] instead (only `/connections` still reports its 401 here).
    #[error("Xero needs you to authorise HowNow Admin again ({reason})")]
    NeedsReauth { reason: String },

    /// A Practice Manager call was answered 401 with `tokens` access tokens in a row (the first,
    /// and each fresh one the token source gave after a refusal; see
    /// [`crate::practice::MAX_TOKEN_RENEWALS`]). `reason` is Xero's detail of the last refusal.
    /// Not a sign that the sign-in is gone (the refresh token worked, or the source would have
    /// said [`XpmError::NeedsReauth`]); not retried within the call: try again later.
    #[error("Xero refused {tokens} access token{} in a row for this request ({reason})", if *tokens == 1 { "" } else { "s" })]
    AccessTokenRefused { tokens: u32, reason: String },

    /// 403: the token is fine but not for this tenant (connection removed, privilege withdrawn,
    /// stale tenant id).
    #[error("Xero refused access to this Practice Manager tenant ({detail}); reconnect with a user who has the \"Authorise 3rd Party Full Access\" privilege")]
    Forbidden { detail: String },

    /// 429. `retry_after` is Xero's `Retry-After`, when it sent one.
    #[error("Xero's {kind} rate limit was reached{}", retry_after.map(|d| format!("; retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        kind: RateLimitKind,
        retry_after: Option<Duration>,
    },

    /// `<Status>ERROR</Status>`, whatever the HTTP status.
    #[error("Xero Practice Manager reported an error: {description}")]
    Api { description: String },

    #[error(transparent)]
    Decode(#[from] DecodeError),

    /// An HTTP status the other variants do not cover (after retries, for 5xx).
    #[error("Xero answered HTTP {status}: {body}")]
    Http { status: u16, body: String },

    /// The OAuth server refused a request for a reason other than `invalid_grant`
    /// (e.g. `invalid_client`, a wrong redirect URI).
    #[error("Xero's identity service refused the request: {error}{}", description.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
    OAuth {
        error: String,
        description: Option<String>,
    },

    /// Could not connect, the connection broke, or the body stopped mid-way.
    #[error("could not reach Xero: {0}")]
    Transport(String),

    #[error("Xero did not answer in time: {0}")]
    Timeout(String),

    /// An answer that should be a few kilobytes (discovery, tokens, `/connections`, revocation)
    /// went past [`crate::http::MAX_SMALL_BODY`]: refused rather than read into memory.
    #[error("Xero's answer to {what} is larger than {} KB; it was refused", limit / 1024)]
    TooLarge { what: String, limit: usize },

    /// The id token of a login failed a check (signature, issuer, audience, expiry, nonce): the
    /// login is not believed. Says which check, never the token.
    #[error("Xero's sign-in answer could not be trusted: {0}")]
    InvalidIdToken(String),

    /// A caller-side mistake, such as a malformed issuer URL.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl XpmError {
    /// Whether retrying the same request may succeed (5xx, dropped connections, timeouts).
    /// XPM says the record asked for does not exist: HTTP 404, or its `Invalid client identifier`
    /// envelope (sent with HTTP 200 for a client UUID it does not know). Any other API error is
    /// not a verdict on the record.
    pub fn is_not_found(&self) -> bool {
        match self {
            XpmError::Http { status, .. } => *status == 404,
            XpmError::Api { description } => description
                .trim()
                .trim_end_matches('.')
                .eq_ignore_ascii_case("Invalid client identifier"),
            _ => false,
        }
    }

    pub fn is_transient(&self) -> bool {
        match self {
            XpmError::Transport(_) | XpmError::Timeout(_) => true,
            XpmError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}
