//! The switches that make the sandbox behave like a difficult day at Xero.
//!
//! Set them at start-up ([`crate::SandboxConfig::switches`], the `hownow sandbox` flags) or while
//! it runs (`POST /admin/switches`, [`crate::practice::PracticeHandle::update_switches`]).

use serde::{Deserialize, Serialize};

/// Xero's per-tenant budgets.
pub const XERO_MINUTE_LIMIT: u32 = 60;
pub const XERO_DAY_LIMIT: u32 = 5_000;
/// Xero's app-wide budget per minute (across every tenant).
pub const XERO_APP_MINUTE_LIMIT: u32 = 10_000;
/// The length of Xero's rolling "minute", in seconds.
pub const XERO_MINUTE_WINDOW_SECS: u64 = 60;
/// Longest `latency_ms` accepted: more would only look like a hung server.
pub const MAX_LATENCY_MS: u64 = 60_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Switches {
    /// Calls per tenant per rolling minute; `None` lifts the limit. Xero: 60.
    pub rate_limit_minute: Option<u32>,
    /// Calls per tenant per day; `None` lifts the limit. Xero: 5,000.
    pub rate_limit_day: Option<u32>,
    /// Length in seconds of the rolling window `rate_limit_minute` counts over. Xero: 60. A
    /// shorter window lets a test watch a client wait out a minute 429 in a second or two
    /// (`Retry-After` stays in whole seconds).
    pub rate_limit_window_secs: u64,
    /// `client.api/list` ignores `page` and `pagesize` and returns the whole list every time,
    /// as some practices are observed to do.
    pub ignore_page: bool,
    /// The next N XPM calls answer with `fail_status` (counts down as they are served).
    pub fail_next: u32,
    /// Every Nth XPM call answers with `fail_status` (0: never).
    pub fail_every: u32,
    /// The status of injected failures (500–599).
    pub fail_status: u16,
    /// Milliseconds XPM "thinks" before answering each call (0: at once). Keeps a run going for
    /// a known time whatever the response sizes, e.g. to ask for a second sync meanwhile.
    pub latency_ms: u64,
    /// Response bodies are sent at most this many bytes per second.
    pub throttle_bytes_per_sec: Option<u64>,
    /// Response bodies end after this many bytes, mid-document.
    pub truncate_after_bytes: Option<u64>,
    /// XML bodies carry a broken end tag after their first record.
    pub malformed_xml: bool,
    /// XPM's defect: editing a contact or moving a client's primary contact does not change the
    /// client's modified time, so `modifiedsince` misses it. On by default, as in XPM.
    pub defect: bool,
}

impl Default for Switches {
    fn default() -> Self {
        Switches {
            rate_limit_minute: Some(XERO_MINUTE_LIMIT),
            rate_limit_day: Some(XERO_DAY_LIMIT),
            rate_limit_window_secs: XERO_MINUTE_WINDOW_SECS,
            ignore_page: false,
            fail_next: 0,
            fail_every: 0,
            fail_status: 503,
            latency_ms: 0,
            throttle_bytes_per_sec: None,
            truncate_after_bytes: None,
            malformed_xml: false,
            defect: true,
        }
    }
}

impl Switches {
    /// Xero's behaviour without its rate limits: for tests that make many calls quickly.
    pub fn unlimited() -> Self {
        Switches {
            rate_limit_minute: None,
            rate_limit_day: None,
            ..Switches::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(500..=599).contains(&self.fail_status) {
            return Err(format!("fail_status must be 500–599, not {}", self.fail_status));
        }
        if self.rate_limit_window_secs == 0 {
            return Err("rate_limit_window_secs must be at least 1".into());
        }
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(format!(
                "latency_ms must be at most {MAX_LATENCY_MS}, not {}",
                self.latency_ms
            ));
        }
        if self.throttle_bytes_per_sec == Some(0) {
            return Err("throttle_bytes_per_sec must be at least 1 (or null for no throttle)".into());
        }
        Ok(())
    }

    /// Whether this call (the `call_number`th, from 1) gets an injected failure; counts
    /// `fail_next` down.
    pub(crate) fn take_failure(&mut self, call_number: u64) -> bool {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return true;
        }
        self.fail_every > 0 && call_number % u64::from(self.fail_every) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_xeros() {
        let s = Switches::default();
        assert_eq!(s.rate_limit_minute, Some(60));
        assert_eq!(s.rate_limit_day, Some(5000));
        assert_eq!(s.rate_limit_window_secs, 60);
        assert!(s.defect);
        assert!(s.validate().is_ok());
    }

    #[test]
    fn failures_count_down_then_follow_the_rate() {
        let mut s = Switches {
            fail_next: 2,
            fail_every: 3,
            ..Switches::default()
        };
        let failed: Vec<bool> = (1..=8).map(|n| s.take_failure(n)).collect();
        assert_eq!(failed, [true, true, true, false, false, true, false, false]);
        assert_eq!(s.fail_next, 0);
    }

    #[test]
    fn partial_json_keeps_other_values() {
        let s: Switches = serde_json::from_str(r#"{"ignore_page": true}"#).unwrap();
        assert!(s.ignore_page && s.defect);
        assert!(serde_json::from_str::<Switches>(r#"{"ignore_pages": true}"#).is_err());
    }
}
