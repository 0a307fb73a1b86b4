//! Xero's API budgets: per tenant a rolling minute and a day, and app-wide a rolling minute.
//! Every XPM answer reports what is left; a call over budget gets 429 with the problem and how
//! long to wait. The tenant's "minute" window can be shortened (a switch) so tests need not wait
//! a real minute; the app-wide minute stays 60 s. A burst limit (calls within one second) models
//! the 429s integrators observe on bursts; it is off unless switched on.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::switches::XERO_APP_MINUTE_LIMIT;

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);
/// The window of the burst limit.
const SECOND: Duration = Duration::from_secs(1);

/// Which budget a refused call broke (`X-Rate-Limit-Problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitProblem {
    Minute,
    Day,
}

impl LimitProblem {
    pub fn as_header(self) -> &'static str {
        match self {
            LimitProblem::Minute => "minute",
            LimitProblem::Day => "day",
        }
    }
}

/// What a call may report in `X-MinLimit-Remaining`, `X-DayLimit-Remaining` and
/// `X-AppMinLimit-Remaining`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remaining {
    pub minute: u32,
    pub day: u32,
    pub app_minute: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allowed(Remaining),
    Refused {
        problem: LimitProblem,
        retry_after: Duration,
        remaining: Remaining,
    },
}

#[derive(Debug, Default)]
struct TenantBudget {
    minute: VecDeque<Instant>,
    /// The calls of the last second (kept only while a burst limit is on).
    second: VecDeque<Instant>,
    day_started: Option<Instant>,
    day_count: u32,
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    state: Mutex<LimiterState>,
    /// 429s answered per tenant since the sandbox started; unlike the budgets, never reset, so
    /// a test can ask how many calls a run had refused.
    refused: Mutex<HashMap<String, u64>>,
}

/// The budgets of one call, as [`RateLimiter::check`] takes them.
#[derive(Debug, Clone, Copy)]
struct Limits {
    minute_limit: Option<u32>,
    day_limit: Option<u32>,
    minute_window: Duration,
    burst_limit: Option<u32>,
}

#[derive(Debug, Default)]
struct LimiterState {
    tenants: HashMap<String, TenantBudget>,
    app_minute: VecDeque<Instant>,
}

fn expire(window: &mut VecDeque<Instant>, length: Duration, now: Instant) {
    while window.front().is_some_and(|t| now.duration_since(*t) >= length) {
        window.pop_front();
    }
}

/// Seconds to wait, rounded up, never zero (a client that waits `Retry-After` must succeed).
fn wait_until(deadline: Instant, now: Instant) -> Duration {
    let secs = deadline
        .saturating_duration_since(now)
        .as_secs_f64()
        .ceil()
        .max(1.0);
    Duration::from_secs(secs as u64)
}

impl RateLimiter {
    /// Counts a call for `tenant` unless a budget is spent. A `None` limit never refuses, and
    /// its header reports `u32::MAX` left. `minute_limit` counts over `minute_window` (Xero: 60 s);
    /// `burst_limit` over one second.
    pub fn check(
        &self,
        tenant: &str,
        minute_limit: Option<u32>,
        day_limit: Option<u32>,
        minute_window: Duration,
        burst_limit: Option<u32>,
        now: Instant,
    ) -> Decision {
        let limits = Limits {
            minute_limit,
            day_limit,
            minute_window,
            burst_limit,
        };
        let decision = self.decide(tenant, limits, now);
        if matches!(decision, Decision::Refused { .. }) {
            *self
                .refused
                .lock()
                .expect("refusal count lock")
                .entry(tenant.to_string())
                .or_default() += 1;
        }
        decision
    }

    /// 429s answered to `tenant` so far.
    pub fn refused(&self, tenant: &str) -> u64 {
        let refused = self.refused.lock().expect("refusal count lock");
        refused.get(tenant).copied().unwrap_or(0)
    }

    fn decide(&self, tenant: &str, limits: Limits, now: Instant) -> Decision {
        let Limits {
            minute_limit,
            day_limit,
            minute_window,
            burst_limit,
        } = limits;
        let mut state = self.state.lock().expect("rate limiter lock");
        let LimiterState { tenants, app_minute } = &mut *state;
        expire(app_minute, MINUTE, now);
        let budget = tenants.entry(tenant.to_string()).or_default();
        expire(&mut budget.minute, minute_window, now);
        expire(&mut budget.second, SECOND, now);
        if budget
            .day_started
            .is_some_and(|start| now.duration_since(start) >= DAY)
        {
            budget.day_started = None;
            budget.day_count = 0;
        }
        let minute_cap = minute_limit.unwrap_or(u32::MAX);
        let day_cap = day_limit.unwrap_or(u32::MAX);
        let remaining = |budget: &TenantBudget, app: &VecDeque<Instant>| Remaining {
            minute: minute_limit.map_or(u32::MAX, |l| l.saturating_sub(budget.minute.len() as u32)),
            day: day_limit.map_or(u32::MAX, |l| l.saturating_sub(budget.day_count)),
            app_minute: XERO_APP_MINUTE_LIMIT.saturating_sub(app.len() as u32),
        };
        if budget.day_count >= day_cap {
            let start = budget.day_started.unwrap_or(now);
            return Decision::Refused {
                problem: LimitProblem::Day,
                retry_after: wait_until(start + DAY, now),
                remaining: remaining(budget, app_minute),
            };
        }
        if budget.minute.len() as u64 >= u64::from(minute_cap) {
            let oldest = budget.minute.front().copied().unwrap_or(now);
            return Decision::Refused {
                problem: LimitProblem::Minute,
                retry_after: wait_until(oldest + minute_window, now),
                remaining: remaining(budget, app_minute),
            };
        }
        if burst_limit.is_some_and(|b| budget.second.len() as u64 >= u64::from(b)) {
            let oldest = budget.second.front().copied().unwrap_or(now);
            return Decision::Refused {
                problem: LimitProblem::Minute,
                retry_after: wait_until(oldest + SECOND, now),
                remaining: remaining(budget, app_minute),
            };
        }
        if app_minute.len() as u32 >= XERO_APP_MINUTE_LIMIT {
            let oldest = app_minute.front().copied().unwrap_or(now);
            return Decision::Refused {
                problem: LimitProblem::Minute,
                retry_after: wait_until(oldest + MINUTE, now),
                remaining: remaining(budget, app_minute),
            };
        }
        budget.minute.push_back(now);
        if burst_limit.is_some() {
            budget.second.push_back(now);
        }
        budget.day_started.get_or_insert(now);
        budget.day_count += 1;
        app_minute.push_back(now);
        Decision::Allowed(remaining(budget, app_minute))
    }

    /// Forgets every call counted so far (when the limits are changed).
    pub fn reset(&self) {
        *self.state.lock().expect("rate limiter lock") = LimiterState::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(decision: Decision) -> bool {
        matches!(decision, Decision::Allowed(_))
    }

    /// What refused the call and after how long it may be retried, with the budgets left.
    fn refusal(decision: Decision) -> ((LimitProblem, Duration), Remaining) {
        match decision {
            Decision::Refused {
                problem,
                retry_after,
                remaining,
            } => ((problem, retry_after), remaining),
            other => panic!("allowed, not refused: {other:?}"),
        }
    }

    #[test]
    fn minute_budget_refuses_then_recovers() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        let at = |tenant, secs| {
            limiter.check(
                tenant,
                Some(3),
                Some(100),
                MINUTE,
                None,
                t0 + Duration::from_secs(secs),
            )
        };
        for i in 0..3 {
            match at("t", i) {
                Decision::Allowed(r) => assert_eq!(r.minute, 2 - i as u32),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(
            refusal(at("t", 10)).0,
            (LimitProblem::Minute, Duration::from_secs(50))
        );
        // Another tenant has its own budget.
        assert!(allowed(at("u", 0)));
        // The oldest call leaves the window after 60 s.
        assert!(allowed(at("t", 60)));
    }

    #[test]
    fn a_shorter_minute_window_frees_calls_sooner() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        let window = Duration::from_secs(3);
        let at = |after| limiter.check("t", Some(2), None, window, None, t0 + after);
        for i in 0..2 {
            assert!(allowed(at(Duration::from_millis(i * 100))));
        }
        // 2.5 s rounded up to whole seconds.
        assert_eq!(
            refusal(at(Duration::from_millis(500))).0,
            (LimitProblem::Minute, Duration::from_secs(3))
        );
        assert!(allowed(at(window)));
    }

    #[test]
    fn day_budget_refuses_for_the_rest_of_the_day() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        assert!(allowed(limiter.check("t", None, Some(2), MINUTE, None, t0)));
        match limiter.check("t", None, Some(2), MINUTE, None, t0 + Duration::from_secs(1)) {
            Decision::Allowed(r) => assert_eq!(r.day, 0),
            other => panic!("{other:?}"),
        }
        let decision = limiter.check("t", None, Some(2), MINUTE, None, t0 + Duration::from_secs(100));
        assert_eq!(
            refusal(decision).0,
            (LimitProblem::Day, Duration::from_secs(86_300))
        );
        assert!(allowed(limiter.check("t", None, Some(2), MINUTE, None, t0 + DAY)));
    }

    #[test]
    fn refused_calls_do_not_count() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        let at = |after| limiter.check("t", Some(1), None, MINUTE, None, t0 + after);
        assert!(allowed(at(Duration::ZERO)));
        for _ in 0..5 {
            assert!(!allowed(at(Duration::ZERO)));
        }
        assert!(allowed(at(MINUTE)));
    }

    #[test]
    fn a_burst_is_refused_inside_the_minute_and_counted() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        let at = |tenant, burst, ms| {
            limiter.check(
                tenant,
                Some(60),
                None,
                MINUTE,
                burst,
                t0 + Duration::from_millis(ms),
            )
        };
        for ms in [0, 100] {
            assert!(allowed(at("t", Some(2), ms)));
        }
        let (refused, remaining) = refusal(at("t", Some(2), 200));
        assert_eq!(refused, (LimitProblem::Minute, Duration::from_secs(1)));
        assert_eq!(remaining.minute, 58, "the minute's budget is not what refused it");
        assert_eq!(limiter.refused("t"), 1);
        // A call a second apart is never a burst; without the switch, neither is this.
        assert!(allowed(at("t", Some(2), 1000)));
        assert!(allowed(at("u", None, 0)));
        for _ in 0..5 {
            assert!(allowed(at("u", None, 1)));
        }
        assert_eq!(limiter.refused("u"), 0);
        // A reset of the budgets keeps the count of refusals.
        limiter.reset();
        assert_eq!(limiter.refused("t"), 1);
    }
}
