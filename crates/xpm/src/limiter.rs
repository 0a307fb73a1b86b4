//! Keeps one tenant's requests inside Xero's limits: at most N in flight, M per sliding window,
//! and starts at least a minimum spacing apart.
//!
//! Staying under the limits is cheaper than hitting them: a 429 parks a worker for up to a minute,
//! and every 429 still counts against the day's 5,000 calls. The spacing is there because Xero
//! is observed to answer bursts with 429s even inside the 60 a minute; integrators pace
//! themselves at about one request a second.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Per-tenant limits. Xero allows 5 concurrent requests and 60 a minute per tenant.
#[derive(Debug, Clone)]
pub struct RateLimits {
    /// Requests in flight at once (a streaming list counts until its body is fully read).
    pub max_in_flight: usize,
    /// Requests started per `window`.
    pub max_per_window: u32,
    /// The sliding window `max_per_window` applies to; also how long to hold off after Xero says
    /// `X-MinLimit-Remaining: 0`.
    pub window: Duration,
    /// The least time between two request starts of the tenant (retries included); zero turns
    /// the spacing off. One second by default: 60 a minute spread evenly, never a burst.
    pub min_spacing: Duration,
}

/// The spacing integrators settled on to avoid Xero's 429s on bursts.
pub(crate) const DEFAULT_MIN_SPACING: Duration = Duration::from_secs(1);

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            max_in_flight: 5,
            max_per_window: 60,
            window: Duration::from_secs(60),
            min_spacing: DEFAULT_MIN_SPACING,
        }
    }
}

/// The limiter of one tenant; shared by every client of that tenant in the process.
#[derive(Debug)]
pub(crate) struct TenantLimiter {
    limits: RateLimits,
    in_flight: Arc<Semaphore>,
    pacing: Mutex<Pacing>,
}

#[derive(Debug, Default)]
struct Pacing {
    /// Start times of the requests of the last window and [`ARRIVAL_MARGIN`], oldest first:
    /// Xero counts a request on arrival, so it may count one a little longer than we would.
    started: VecDeque<Instant>,
    /// The latest start, kept even when the window no longer holds it (a window shorter than
    /// the spacing).
    last_start: Option<Instant>,
    /// No request starts before this (Xero said the minute budget is spent).
    paused_until: Option<Instant>,
}

/// Held while a request is in flight; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct Permit {
    _slot: OwnedSemaphorePermit,
}

impl TenantLimiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        TenantLimiter {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            limits,
            pacing: Mutex::new(Pacing::default()),
        }
    }

    /// Waits for a free in-flight slot and for room in the window, then records the start.
    pub(crate) async fn acquire(&self) -> Permit {
        let slot = Arc::clone(&self.in_flight)
            .acquire_owned()
            .await
            .expect("the limiter never closes its semaphore");
        loop {
            let ready_at = {
                let mut pacing = self.pacing.lock().expect("limiter lock");
                let now = Instant::now();
                match pacing.next_start(now, &self.limits) {
                    None => {
                        pacing.started.push_back(now);
                        pacing.last_start = Some(now);
                        break;
                    }
                    Some(at) => at,
                }
            };
            tokio::time::sleep_until(ready_at).await;
        }
        Permit { _slot: slot }
    }

    /// Holds back every request of this tenant for `duration` (a minute 429, or Xero reporting no
    /// calls left this minute).
    pub(crate) fn pause_for(&self, duration: Duration) {
        let until = Instant::now() + duration;
        let mut pacing = self.pacing.lock().expect("limiter lock");
        pacing.paused_until = Some(pacing.paused_until.map_or(until, |p| p.max(until)));
    }

    /// Reacts to the budget Xero reported on a response.
    pub(crate) fn observe(&self, min_limit_remaining: Option<u32>) {
        if min_limit_remaining != Some(0) {
            return;
        }
        let now = Instant::now();
        let mut pacing = self.pacing.lock().expect("limiter lock");
        pacing.expire(now, &self.limits);
        // When this process made the whole minute's calls itself (a paced run reaches exactly
        // 60 in 60 s), Xero frees one as the oldest of those leaves its minute: Xero counted it
        // on arrival, a little after we started it, hence the margin. Otherwise others spent the
        // budget, and Xero does not say when its window rolls over: a full window from now is
        // the earliest time it has certainly freed calls again.
        let max = self.limits.max_per_window.max(1) as usize;
        let until = match pacing.started.len().checked_sub(max) {
            Some(first_counted) => pacing.started[first_counted] + self.limits.window + ARRIVAL_MARGIN,
            None => now + self.limits.window,
        };
        pacing.paused_until = Some(pacing.paused_until.map_or(until, |p| p.max(until)));
    }
}

/// How much later than our start Xero may count a call (the request's way to Xero).
const ARRIVAL_MARGIN: Duration = Duration::from_secs(1);

impl Pacing {
    /// `None` if a request may start at `now`, else the earliest instant to look again.
    /// Forgets the starts Xero can no longer be counting.
    fn expire(&mut self, now: Instant, limits: &RateLimits) {
        while self
            .started
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= limits.window + ARRIVAL_MARGIN)
        {
            self.started.pop_front();
        }
    }

    fn next_start(&mut self, now: Instant, limits: &RateLimits) -> Option<Instant> {
        self.expire(now, limits);
        // Our own count: the starts of the last window (sorted, so a suffix).
        let in_window = self
            .started
            .iter()
            .rev()
            .take_while(|&&t| now.saturating_duration_since(t) < limits.window)
            .count();
        let mut wait_until = self.paused_until.filter(|&p| p > now);
        if wait_until.is_none() {
            self.paused_until = None;
        }
        if in_window >= limits.max_per_window.max(1) as usize {
            let frees_at = self.started[self.started.len() - in_window] + limits.window;
            wait_until = Some(wait_until.map_or(frees_at, |w| w.max(frees_at)));
        }
        if let Some(spaced_at) = self
            .last_start
            .map(|last| last + limits.min_spacing)
            .filter(|&at| at > now)
        {
            wait_until = Some(wait_until.map_or(spaced_at, |w| w.max(spaced_at)));
        }
        wait_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn limits(in_flight: usize, per_window: u32, window_ms: u64) -> RateLimits {
        RateLimits {
            max_in_flight: in_flight,
            max_per_window: per_window,
            window: Duration::from_millis(window_ms),
            min_spacing: Duration::ZERO,
        }
    }

    fn spaced(in_flight: usize, per_window: u32, window_ms: u64, spacing_ms: u64) -> RateLimits {
        RateLimits {
            min_spacing: Duration::from_millis(spacing_ms),
            ..limits(in_flight, per_window, window_ms)
        }
    }

    /// Milliseconds after `t0` at which each of `n` concurrent tasks got its permit; each holds
    /// it `hold_ms`.
    async fn start_times(limiter: TenantLimiter, n: usize, hold_ms: u64) -> Vec<u128> {
        let limiter = Arc::new(limiter);
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    let _permit = limiter.acquire().await;
                    let at = (Instant::now() - t0).as_millis();
                    tokio::time::sleep(Duration::from_millis(hold_ms)).await;
                    at
                })
            })
            .collect();
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.unwrap());
        }
        starts.sort_unstable();
        starts
    }

    #[tokio::test(start_paused = true)]
    async fn paces_starts_to_the_window() {
        let limiter = TenantLimiter::new(limits(10, 3, 1000));
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..7 {
            drop(limiter.acquire().await);
            starts.push(Instant::now() - t0);
        }
        let ms: Vec<u128> = starts.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![0, 0, 0, 1000, 1000, 1000, 2000]);
    }

    #[tokio::test(start_paused = true)]
    async fn limits_requests_in_flight() {
        let limiter = Arc::new(TenantLimiter::new(limits(2, 100, 1000)));
        let current = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (limiter, current, peak) = (limiter.clone(), current.clone(), peak.clone());
                tokio::spawn(async move {
                    let _permit = limiter.acquire().await;
                    let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    current.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        let t0 = Instant::now();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert_eq!(
            (Instant::now() - t0).as_millis(),
            200,
            "8 requests, 2 at a time, 50 ms each"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_calls_left_this_minute_pauses_for_a_window() {
        let limiter = TenantLimiter::new(limits(5, 60, 500));
        let t0 = Instant::now();
        drop(limiter.acquire().await);
        limiter.observe(Some(3));
        drop(limiter.acquire().await);
        assert_eq!(Instant::now() - t0, Duration::ZERO);
        limiter.observe(Some(0));
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t0).as_millis(), 500);
    }

    #[tokio::test(start_paused = true)]
    async fn no_calls_left_after_our_own_full_minute_waits_for_our_oldest_to_leave_it() {
        // Xero's real shape: 60 a minute, a second apart. After the 60th start (at 59 s) Xero
        // says none are left; the first start leaves the minute at 60 s, so the 61st goes at
        // 61 s (the margin), not a whole minute after the 60th.
        let limiter = TenantLimiter::new(RateLimits::default());
        let t0 = Instant::now();
        for _ in 0..60 {
            drop(limiter.acquire().await);
        }
        assert_eq!((Instant::now() - t0).as_secs(), 59);
        limiter.observe(Some(0));
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t0).as_secs(), 61);
        // Then a second apart. Xero may still count the start at 1 s when the one at 61 s
        // arrives (it counts on arrival): told none are left, wait for that one (62 s).
        limiter.observe(Some(0));
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t0).as_secs(), 62);
        limiter.observe(Some(0));
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t0).as_secs(), 63);
        // Told so with fewer starts of ours than the budget: others spent it, wait a window.
        let other = TenantLimiter::new(RateLimits::default());
        let t1 = Instant::now();
        drop(other.acquire().await);
        other.observe(Some(0));
        drop(other.acquire().await);
        assert_eq!((Instant::now() - t1).as_secs(), 60);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_keeps_the_later_deadline() {
        let limiter = TenantLimiter::new(limits(5, 60, 500));
        let t0 = Instant::now();
        limiter.pause_for(Duration::from_millis(300));
        limiter.pause_for(Duration::from_millis(100));
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t0).as_millis(), 300);
    }

    #[tokio::test(start_paused = true)]
    async fn the_default_spaces_starts_a_second_apart() {
        assert_eq!(RateLimits::default().min_spacing, Duration::from_secs(1));
        // Five slots free and 60 left in the window: without the spacing all eight would start
        // at once (five of them at 0 ms).
        let starts = start_times(TenantLimiter::new(RateLimits::default()), 8, 10).await;
        assert_eq!(starts, vec![0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]);
    }

    #[tokio::test(start_paused = true)]
    async fn zero_spacing_lets_a_burst_through() {
        let starts = start_times(TenantLimiter::new(limits(5, 60, 60_000)), 5, 10).await;
        assert_eq!(starts, vec![0, 0, 0, 0, 0]);
    }

    #[tokio::test(start_paused = true)]
    async fn spacing_counts_from_the_start_not_the_end() {
        // Each request takes 300 ms; the next may start 250 ms after the previous STARTED, but
        // only two are allowed in flight.
        let starts = start_times(TenantLimiter::new(spaced(2, 100, 60_000, 250)), 4, 300).await;
        assert_eq!(starts, vec![0, 250, 500, 750]);
        // One in flight: each waits for the previous to finish, which is later than the spacing.
        let starts = start_times(TenantLimiter::new(spaced(1, 100, 60_000, 250)), 3, 300).await;
        assert_eq!(starts, vec![0, 300, 600]);
    }

    #[tokio::test(start_paused = true)]
    async fn spacing_and_window_both_hold() {
        // Three a second, at least 200 ms apart: 0, 200, 400, then the window is full until
        // 1000, then 1200, 1400, then 2000.
        let limiter = TenantLimiter::new(spaced(10, 3, 1000, 200));
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..7 {
            drop(limiter.acquire().await);
            starts.push((Instant::now() - t0).as_millis());
        }
        assert_eq!(starts, vec![0, 200, 400, 1000, 1200, 1400, 2000]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_spell_costs_no_wait() {
        let limiter = TenantLimiter::new(spaced(5, 60, 60_000, 1000));
        drop(limiter.acquire().await);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let t1 = Instant::now();
        drop(limiter.acquire().await);
        assert_eq!(Instant::now() - t1, Duration::ZERO);
        // ... and the next waits a full spacing after that start.
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t1).as_millis(), 1000);
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_and_the_spacing_take_the_later() {
        let limiter = TenantLimiter::new(spaced(5, 60, 60_000, 1000));
        let t0 = Instant::now();
        drop(limiter.acquire().await);
        limiter.pause_for(Duration::from_millis(300));
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t0).as_millis(), 1000, "the spacing is later");
        limiter.pause_for(Duration::from_millis(2500));
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t0).as_millis(), 3500, "the pause is later");
    }
}
