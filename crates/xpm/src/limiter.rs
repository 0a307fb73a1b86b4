//! Keeps one tenant's requests inside Xero's limits: at most N in flight and M per sliding window.
//!
//! Staying under the limits is cheaper than hitting them: a 429 parks a worker for up to a minute,
//! and every 429 still counts against the day's 5,000 calls.

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
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            max_in_flight: 5,
            max_per_window: 60,
            window: Duration::from_secs(60),
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
    /// Start times of the requests inside the current window, oldest first.
    started: VecDeque<Instant>,
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
        if min_limit_remaining == Some(0) {
            // Xero does not say when its minute window rolls over; a full window from now is the
            // earliest time it has certainly freed calls again.
            self.pause_for(self.limits.window);
        }
    }
}

impl Pacing {
    /// `None` if a request may start at `now`, else the earliest instant to look again.
    fn next_start(&mut self, now: Instant, limits: &RateLimits) -> Option<Instant> {
        while self
            .started
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= limits.window)
        {
            self.started.pop_front();
        }
        let mut wait_until = self.paused_until.filter(|&p| p > now);
        if wait_until.is_none() {
            self.paused_until = None;
        }
        if self.started.len() >= limits.max_per_window.max(1) as usize {
            let frees_at = self.started[0] + limits.window;
            wait_until = Some(wait_until.map_or(frees_at, |w| w.max(frees_at)));
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
        }
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
    async fn pause_keeps_the_later_deadline() {
        let limiter = TenantLimiter::new(limits(5, 60, 500));
        let t0 = Instant::now();
        limiter.pause_for(Duration::from_millis(300));
        limiter.pause_for(Duration::from_millis(100));
        drop(limiter.acquire().await);
        assert_eq!((Instant::now() - t0).as_millis(), 300);
    }
}
