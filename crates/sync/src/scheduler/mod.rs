//! The one scheduler (SPEC 5.3): the loop that runs the schedule policy ([`crate::schedule`])
//! for every connection of a data dir. The desktop app and `hownow service run` both host it;
//! neither keeps schedule rules of its own.
//!
//! * It wakes at the next due time, and at least every [`MAX_WAIT`]: timers do not run while
//!   the computer sleeps, so a laptop waking at 09:00 catches up within a minute.
//! * It catches up after downtime (whatever fell due runs once, see the policy) and notices
//!   wall-clock jumps: between two passes the wall clock should move as the machine's running
//!   time does; when it moves more (the computer slept, the clock was set), it says so
//!   ([`SchedulerEvent::ClockJumped`]) and re-plans at once.
//! * Idle token refreshes, back-off after failures, the hold after Xero's day limit or when the
//!   day budget is spent, and leaving paused connections alone are the policy's answers; the loop
//!   carries them out and reports holds and connections that need attention once.
//! * Runs go one at a time, each under its connection's sync lock, so a manual Refresh (or the
//!   CLI) and the schedule never run one connection twice.
//! * Stopping ([`CancellationToken`]) drops a running sync's future: its transaction rolls back
//!   and the run is recorded as interrupted. A run is never half applied: its commit happens
//!   within one poll, so it is either done or not begun when the drop comes.
//!
//! Time comes only from the engine's [`Clock`]; waiting goes through a [`Waiter`], so tests move
//! both by hand. [`SchedulerLock`] keeps it to one scheduler per data dir.

mod events;
mod lock;
#[cfg(test)]
mod tests;
mod work;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::engine::EngineError;
use crate::error::SyncError;
use crate::schedule::{Hold, HoldReason};
use crate::store::{ConnectionStatus, RunKind};
use crate::sync::{Progress, SyncRequest};

pub use events::{EventSink, FinishedRun, SchedulerEvent};
pub use lock::{SchedulerHolder, SchedulerHost, SchedulerLock};
/// Stops [`Scheduler::run`]; re-exported so hosts need no tokio-util of their own.
pub use tokio_util::sync::CancellationToken;
pub use work::{Scheduled, ScheduledWork};

/// Re-plan at least this often: timers do not run while the computer sleeps.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// ... and not more often than this, so a failing plan cannot spin.
pub const MIN_WAIT: Duration = Duration::from_secs(2);
/// A failure the directory has no record of (Xero unreachable before a run could begin, a failed
/// idle token refresh) gets its own back-off: this, doubling per failure up to
/// [`UNRECORDED_BACKOFF_CAP`], so an offline machine does not retry every pass.
pub const UNRECORDED_BACKOFF: time::Duration = time::Duration::minutes(5);
pub const UNRECORDED_BACKOFF_CAP: time::Duration = time::Duration::hours(6);
/// Wall-clock moves beyond the machine's running time by more than this count as a jump (timer
/// lateness on a busy machine stays well below it).
pub const JUMP_TOLERANCE: time::Duration = time::Duration::seconds(90);

/// How the scheduler waits, and the machine's running time it measures jumps against.
pub trait Waiter: Send + Sync {
    /// Time since some fixed start that does not follow wall-clock changes.
    fn monotonic(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The real waiter: tokio's timer (monotonic; it does not advance while the computer sleeps).
#[derive(Debug)]
pub struct TokioWaiter {
    start: tokio::time::Instant,
}

impl Default for TokioWaiter {
    fn default() -> Self {
        TokioWaiter {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Waiter for TokioWaiter {
    fn monotonic(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// How long until the next pass is due (0: at once, something ran).
    pub wake_in: Duration,
    /// Syncs started in this pass.
    pub runs: usize,
    /// The pass was stopped by the cancellation token.
    pub stopped: bool,
}

/// The scheduler over one data dir's engine (or any [`ScheduledWork`]).
pub struct Scheduler<W: ScheduledWork> {
    work: Arc<W>,
    events: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    /// The wall clock and the running time at the previous pass, to notice jumps.
    last_seen: Mutex<Option<(OffsetDateTime, Duration)>>,
    /// What was last said about each connection, so holds and pauses are told once.
    told_holds: Mutex<HashMap<i64, Hold>>,
    told_paused: Mutex<HashSet<i64>>,
    /// Unrecorded failures per connection, and when to try again.
    retries: Mutex<HashMap<i64, (u32, OffsetDateTime)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn until(from: OffsetDateTime, to: OffsetDateTime) -> Duration {
    Duration::try_from(to - from).unwrap_or(Duration::ZERO)
}

/// Progress of the running sync, as events.
struct Relay<'a> {
    events: &'a dyn EventSink,
    connection_id: i64,
    kind: RunKind,
}

impl crate::sync::ProgressSink for Relay<'_> {
    fn progress(&self, progress: &Progress) {
        self.events.event(&SchedulerEvent::Progress {
            connection_id: self.connection_id,
            kind: self.kind,
            progress: *progress,
        });
    }
}

impl<W: ScheduledWork> Scheduler<W> {
    pub fn new(work: Arc<W>, events: Arc<dyn EventSink>) -> Scheduler<W> {
        Scheduler {
            clock: work.clock(),
            work,
            events,
            wake: Arc::new(Notify::new()),
            last_seen: Mutex::new(None),
            told_holds: Mutex::new(HashMap::new()),
            told_paused: Mutex::new(HashSet::new()),
            retries: Mutex::new(HashMap::new()),
        }
    }

    /// Call when connections or settings changed: the sleeping loop re-plans at once.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The loop: a pass, then sleep until the next due time (at most [`MAX_WAIT`]), until
    /// `stop` is cancelled. A sync running when `stop` comes is dropped (rolled back).
    pub async fn run(&self, waiter: &dyn Waiter, stop: &CancellationToken) {
        loop {
            if stop.is_cancelled() {
                return;
            }
            let pass = self.pass(waiter, stop).await;
            if pass.stopped {
                return;
            }
            if pass.runs > 0 {
                continue;
            }
            let wait = pass.wake_in.clamp(MIN_WAIT, MAX_WAIT);
            tokio::select! {
                _ = waiter.sleep(wait) => {}
                _ = self.wake.notified() => {}
                _ = stop.cancelled() => return,
            }
        }
    }

    /// One pass: notices a clock jump, then for each connection starts what is due now (one run
    /// at a time) or refreshes an idle token; returns when the next pass is due.
    pub async fn pass(&self, waiter: &dyn Waiter, stop: &CancellationToken) -> Pass {
        let now = self.clock.now();
        self.notice_jump(now, waiter.monotonic());
        let mut pass = Pass {
            wake_in: MAX_WAIT,
            runs: 0,
            stopped: false,
        };
        let connections = match self.work.connections() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the connections to schedule");
                return pass;
            }
        };
        for connection in connections {
            if connection.status == ConnectionStatus::Disconnected {
                continue;
            }
            let id = connection.id;
            let plan = match self.work.plan(id) {
                Ok(plan) => plan,
                Err(e) => {
                    tracing::warn!(connection = id, error = %e, "could not plan");
                    continue;
                }
            };
            if plan.paused.is_some() {
                if lock(&self.told_paused).insert(id) {
                    self.events.event(&SchedulerEvent::NeedsAttention {
                        connection_id: id,
                        tenant_name: connection.tenant_name.clone(),
                        reason: connection
                            .status_reason
                            .clone()
                            .unwrap_or_else(|| "reconnect it to Xero to resume its syncs".into()),
                    });
                }
                continue;
            }
            lock(&self.told_paused).remove(&id);
            self.tell_hold(id, &connection.tenant_name, plan.held);
            let now = self.clock.now();
            let retry_at = lock(&self.retries).get(&id).map(|(_, at)| *at);
            if let Some(at) = retry_at.filter(|at| *at > now) {
                pass.wake_in = pass.wake_in.min(until(now, at));
                continue;
            }
            if let Some(due) = plan.due_now {
                pass.runs += 1;
                let request = SyncRequest::new(due.kind, due.trigger);
                if !self.run_one(id, &connection.tenant_name, request, stop).await {
                    pass.stopped = true;
                    return pass;
                }
            } else if plan.refresh_token_now {
                let refreshed = tokio::select! {
                    r = self.work.refresh_token(id) => r,
                    _ = stop.cancelled() => {
                        pass.stopped = true;
                        return pass;
                    }
                };
                match refreshed {
                    Ok(()) => {
                        lock(&self.retries).remove(&id);
                        self.events.event(&SchedulerEvent::TokenRefreshed {
                            connection_id: id,
                            tenant_name: connection.tenant_name.clone(),
                        });
                    }
                    Err(e) => {
                        self.on_error(id, &connection.tenant_name, &e, "idle token refresh failed");
                        if !matches!(e, EngineError::Sync(SyncError::NeedsReauth { .. })) {
                            self.retry_later(id, &connection.tenant_name);
                        }
                    }
                }
            }
            if let Some(at) = plan.wake_at {
                pass.wake_in = pass.wake_in.min(until(self.clock.now(), at));
            }
        }
        if pass.runs > 0 {
            pass.wake_in = Duration::ZERO;
        }
        pass
    }

    /// Runs one sync; `false` when `stop` dropped it.
    async fn run_one(
        &self,
        id: i64,
        tenant_name: &str,
        request: SyncRequest,
        stop: &CancellationToken,
    ) -> bool {
        self.events.event(&SchedulerEvent::Started {
            connection_id: id,
            tenant_name: tenant_name.to_string(),
            kind: request.kind,
            trigger: request.trigger,
        });
        let relay = Relay {
            events: self.events.as_ref(),
            connection_id: id,
            kind: request.kind,
        };
        let started = self.clock.now();
        // `biased`: a run that completes in the same poll as the stop is reported as completed.
        let result = tokio::select! {
            biased;
            r = self.work.sync(id, request, &relay) => r,
            _ = stop.cancelled() => {
                if let Err(e) = self.work.run_dropped(id) {
                    tracing::warn!(connection = id, error = %e, "could not record the stopped run");
                }
                self.events.event(&SchedulerEvent::Stopped {
                    connection_id: id,
                    tenant_name: tenant_name.to_string(),
                    kind: request.kind,
                });
                return false;
            }
        };
        // Another process or a manual Refresh took the connection between plan and start:
        // that run is theirs to report.
        if let Err(EngineError::Sync(SyncError::AlreadyRunning { .. })) = &result {
            return true;
        }
        let elapsed = self.clock.now() - started;
        let error = result.as_ref().err().map(|e| e.to_string());
        let needs_attention = matches!(&result, Err(EngineError::Sync(SyncError::NeedsReauth { .. })));
        let after = self.work.plan(id).ok();
        let next = after.as_ref().and_then(|p| p.next_run());
        // A failure the run's history records is the policy's to back off from; one it does not
        // (the run never began) would otherwise be due again at once.
        if result.is_ok() {
            lock(&self.retries).remove(&id);
        } else if !needs_attention && after.as_ref().is_some_and(|p| p.due_now.is_some()) {
            self.retry_later(id, tenant_name);
        }
        self.events.event(&SchedulerEvent::Finished(Box::new(FinishedRun {
            connection_id: id,
            tenant_name: tenant_name.to_string(),
            kind: request.kind,
            trigger: request.trigger,
            report: result.as_ref().ok().cloned(),
            error,
            needs_attention,
            elapsed_ms: elapsed.whole_milliseconds().max(0) as u64,
            next_at: next.map(|(at, _)| at),
            next_kind: next.map(|(_, kind)| kind),
        })));
        if let Err(e) = &result {
            if needs_attention {
                self.on_error(id, tenant_name, e, "sync failed");
            }
        }
        true
    }

    fn on_error(&self, id: i64, tenant_name: &str, e: &EngineError, what: &str) {
        tracing::warn!(connection = id, error = %e, "{what}");
        if let EngineError::Sync(SyncError::NeedsReauth { reason, .. }) = e {
            lock(&self.told_paused).insert(id);
            self.events.event(&SchedulerEvent::NeedsAttention {
                connection_id: id,
                tenant_name: tenant_name.to_string(),
                reason: reason.clone(),
            });
        }
    }

    fn retry_later(&self, id: i64, tenant_name: &str) {
        let now = self.clock.now();
        let at = {
            let mut retries = lock(&self.retries);
            let entry = retries.entry(id).or_insert((0, now));
            entry.0 += 1;
            let wait = UNRECORDED_BACKOFF
                .checked_mul(1 << (entry.0 - 1).min(20))
                .unwrap_or(UNRECORDED_BACKOFF_CAP)
                .min(UNRECORDED_BACKOFF_CAP);
            entry.1 = now + wait;
            entry.1
        };
        self.events.event(&SchedulerEvent::Held {
            connection_id: id,
            tenant_name: tenant_name.to_string(),
            until: at,
            reason: HoldReason::Backoff,
        });
    }

    fn tell_hold(&self, id: i64, tenant_name: &str, held: Option<Hold>) {
        let mut told = lock(&self.told_holds);
        match held {
            Some(hold) if told.get(&id) != Some(&hold) => {
                told.insert(id, hold);
                self.events.event(&SchedulerEvent::Held {
                    connection_id: id,
                    tenant_name: tenant_name.to_string(),
                    until: hold.until,
                    reason: hold.reason,
                });
            }
            Some(_) => {}
            None => {
                told.remove(&id);
            }
        }
    }

    fn notice_jump(&self, now: OffsetDateTime, running: Duration) {
        let previous = lock(&self.last_seen).replace((now, running));
        let Some((then, ran_then)) = previous else {
            return;
        };
        let ran = time::Duration::try_from(running.saturating_sub(ran_then)).unwrap_or(time::Duration::ZERO);
        let jump = (now - then) - ran;
        if jump.abs() > JUMP_TOLERANCE {
            self.events.event(&SchedulerEvent::ClockJumped {
                at: now,
                by_seconds: jump.whole_seconds(),
            });
        }
    }
}
