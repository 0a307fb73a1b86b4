//! The switches that make the sandbox behave like a difficult day at Xero.
//!
//! Set them at start-up ([`crate::SandboxConfig::switches`], the `hownow sandbox` flags) or while
//! it runs (`POST /admin/switches`, [`crate::practice::PracticeHandle::update_switches`]).

use std::collections::BTreeMap;

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
/// Longest first-byte delay accepted (30 minutes): XPM takes minutes to prepare a large
/// detailed list, and a client's list timeout is 15 minutes.
pub const MAX_FIRST_BYTE_DELAY_MS: u64 = 30 * 60 * 1000;
/// The XPM endpoints, as the keys of [`Switches::first_byte_delay_ms`] name them: the path after
/// `/practicemanager/3.1/`, without the identifier of a single record.
pub const XPM_ENDPOINTS: [&str; 7] = [
    "client.api/list",
    "client.api/paged-list",
    "client.api/get",
    "client.api/contacts",
    "client.api/contact",
    "clientgroup.api/list",
    "clientgroup.api/get",
];

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
    /// Calls per tenant within any one second beyond which a call gets a minute 429 (waited
    /// out in about a second), though the minute's budget is not spent: Xero is observed to
    /// refuse bursts well inside its 60 a minute, and integrators pace at about one call a
    /// second. Xero publishes no figure, so `None` (the default) keeps to the documented budgets.
    pub rate_limit_burst: Option<u32>,
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
    /// Milliseconds before the response headers of one endpoint, keyed by endpoint (one of
    /// [`XPM_ENDPOINTS`], e.g. `"client.api/list"`): XPM preparing a large list before it sends
    /// anything. Up to [`MAX_FIRST_BYTE_DELAY_MS`]; applies after `latency_ms`, to calls that pass
    /// the gateway, the budgets and the injected failures. A call already waiting keeps the delay
    /// it started with; stopping the sandbox ends the wait.
    pub first_byte_delay_ms: BTreeMap<String, u64>,
    /// `client.api/list` sends this many bytes of its document (counted before any gzip), then
    /// holds the rest until this switch is cleared (`null`), then sends the rest. Applies to every
    /// list started while it is set; stopping the sandbox breaks a held response off.
    pub hold_list_after_bytes: Option<u64>,
    /// XPM's answers are gzip-compressed when the request accepts it (`Accept-Encoding: gzip`),
    /// as Xero's are. The throttle and the truncation then shape the compressed bytes, as the
    /// network would. On by default.
    pub gzip: bool,
    /// Response bodies are sent at most this many bytes per second.
    pub throttle_bytes_per_sec: Option<u64>,
    /// Response bodies end after this many bytes, mid-document.
    pub truncate_after_bytes: Option<u64>,
    /// XML bodies carry a broken end tag after their first record.
    pub malformed_xml: bool,
    /// Every Nth client (in the practice's order; 0: none) carries odd but real values, as real
    /// practices hold: a DateOfBirth with a UTC offset (`…T00:00:00+13:00`), `True`/`False` in
    /// IsProspect, and its first note's date as `dd/mm/yyyy HH:mm`, whose day and month order
    /// no reader can be sure of.
    pub odd_values: u32,
    /// Injected failures carry XPM's XML `ERROR` envelope instead of a JSON problem, as XPM's
    /// own 5xx answers do.
    pub fail_with_xml_error: bool,
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
            rate_limit_burst: None,
            ignore_page: false,
            fail_next: 0,
            fail_every: 0,
            fail_status: 503,
            latency_ms: 0,
            first_byte_delay_ms: BTreeMap::new(),
            hold_list_after_bytes: None,
            gzip: true,
            throttle_bytes_per_sec: None,
            truncate_after_bytes: None,
            malformed_xml: false,
            odd_values: 0,
            fail_with_xml_error: false,
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
        if self.rate_limit_burst == Some(0) {
            return Err("rate_limit_burst must be at least 1 (null: no burst limit)".into());
        }
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(format!(
                "latency_ms must be at most {MAX_LATENCY_MS}, not {}",
                self.latency_ms
            ));
        }
        for (endpoint, delay) in &self.first_byte_delay_ms {
            if !XPM_ENDPOINTS.contains(&endpoint.as_str()) {
                return Err(format!(
                    "first_byte_delay_ms: `{endpoint}` is not an XPM endpoint (one of {})",
                    XPM_ENDPOINTS.join(", ")
                ));
            }
            if *delay > MAX_FIRST_BYTE_DELAY_MS {
                return Err(format!(
                    "first_byte_delay_ms: `{endpoint}` must be at most {MAX_FIRST_BYTE_DELAY_MS}, not {delay}"
                ));
            }
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

    /// The first-byte delay of `endpoint` (one of [`XPM_ENDPOINTS`]), if any.
    pub(crate) fn first_byte_delay(&self, endpoint: &str) -> Option<std::time::Duration> {
        self.first_byte_delay_ms
            .get(endpoint)
            .filter(|ms| **ms > 0)
            .map(|ms| std::time::Duration::from_millis(*ms))
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
    fn first_byte_delays_name_real_endpoints_and_stay_under_half_an_hour() {
        let with = |endpoint: &str, ms: u64| Switches {
            first_byte_delay_ms: BTreeMap::from([(endpoint.to_string(), ms)]),
            ..Switches::default()
        };
        // A 150-second first byte, as a large practice's detailed list can take.
        let list = with("client.api/list", 150_000);
        assert!(list.validate().is_ok());
        assert_eq!(
            list.first_byte_delay("client.api/list"),
            Some(std::time::Duration::from_secs(150))
        );
        assert_eq!(list.first_byte_delay("client.api/get"), None);
        assert!(with("client.api/get", MAX_FIRST_BYTE_DELAY_MS).validate().is_ok());
        assert!(with("client.api/get", MAX_FIRST_BYTE_DELAY_MS + 1)
            .validate()
            .is_err());
        let unknown = with("client.api/search", 1).validate().unwrap_err();
        assert!(unknown.contains("client.api/search"), "{unknown}");
        let json: Switches = serde_json::from_str(
            r#"{"first_byte_delay_ms": {"client.api/contacts": 2500}, "hold_list_after_bytes": 100}"#,
        )
        .unwrap();
        assert_eq!(json.first_byte_delay_ms["client.api/contacts"], 2500);
        assert_eq!(json.hold_list_after_bytes, Some(100));
        assert!(json.gzip);
    }

    #[test]
    fn partial_json_keeps_other_values() {
        let s: Switches = serde_json::from_str(r#"{"ignore_page": true}"#).unwrap();
        assert!(s.ignore_page && s.defect);
        assert!(serde_json::from_str::<Switches>(r#"{"ignore_pages": true}"#).is_err());
    }
}
