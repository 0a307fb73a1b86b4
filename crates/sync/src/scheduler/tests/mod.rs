//! The loop on a hand-moved clock against a fake directory: no Xero, no real sleeps, no
//! dependence on when or where the test runs. The fake keeps what the policy reads (last
//! successes, failures, holds) and the real [`crate::schedule::plan`] decides.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tokio_util::sync::CancellationToken;

use super::*;

mod zones;
use crate::engine::EngineError;
use crate::schedule::{plan, HoldReason, Plan, ScheduleInput};
use crate::settings::SyncSettings;
use crate::store::{RunCounts, RunTrigger};
use crate::sync::{ProgressSink, SyncReport};

/// The wall clock and the machine's running time, moved together by the test except when the
/// computer "sleeps" (the wall clock only).
#[derive(Debug)]
struct ManualClock {
    wall: Mutex<OffsetDateTime>,
    running: Mutex<StdDuration>,
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *lock(&self.wall)
    }
}

impl ManualClock {
    fn advance(&self, by: Duration) {
        *lock(&self.wall) += by;
        *lock(&self.running) += StdDuration::try_from(by).unwrap();
    }

    fn suspend(&self, by: Duration) {
        *lock(&self.wall) += by;
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Ok,
    Fail,
    /// Xero's day limit, reset at the given time.
    DayLimit(OffsetDateTime),
    NeedsReauth,
    /// Fails before a run begins (Xero unreachable): nothing recorded.
    Unrecorded,
    /// Never ends (until the future is dropped).
    Hang,
}

struct FakeConnection {
    input: ScheduleInput,
    outcomes: VecDeque<Outcome>,
}

#[derive(Debug, Clone, PartialEq)]
struct Ran {
    id: i64,
    at: OffsetDateTime,
    kind: RunKind,
    trigger: RunTrigger,
}

struct FakeWork {
    clock: Arc<ManualClock>,
    connections: Mutex<HashMap<i64, FakeConnection>>,
    runs: Mutex<Vec<Ran>>,
    refreshes: AtomicUsize,
    dropped: Mutex<Vec<i64>>,
    /// How long a run takes on the clock.
    run_takes: Duration,
}

impl FakeWork {
    fn new(start: OffsetDateTime) -> Arc<FakeWork> {
        Arc::new(FakeWork {
            clock: Arc::new(ManualClock {
                wall: Mutex::new(start),
                running: Mutex::new(StdDuration::ZERO),
            }),
            connections: Mutex::new(HashMap::new()),
            runs: Mutex::new(Vec::new()),
            refreshes: AtomicUsize::new(0),
            dropped: Mutex::new(Vec::new()),
            run_takes: Duration::minutes(2),
        })
    }

    /// A connection whose last full sync (and token refresh) was at `last_full`.
    fn add(&self, id: i64, last_full: OffsetDateTime, settings: SyncSettings) {
        let input = ScheduleInput {
            now: last_full,
            settings,
            status: ConnectionStatus::Connected,
            created_at: last_full - Duration::days(30),
            last_full_ok: Some(last_full),
            last_changes_ok: None,
            consecutive_failures: 0,
            last_failure_at: None,
            retry_not_before: None,
            full_requested_at: None,
            full_awaits_confirmation: false,
            token_refreshed_at: Some(last_full),
            budget_hold_until: None,
        };
        lock(&self.connections).insert(
            id,
            FakeConnection {
                input,
                outcomes: VecDeque::new(),
            },
        );
    }

    fn edit(&self, id: i64, f: impl FnOnce(&mut FakeConnection)) {
        f(lock(&self.connections).get_mut(&id).unwrap());
    }

    fn runs(&self) -> Vec<Ran> {
        lock(&self.runs).clone()
    }
}

impl ScheduledWork for FakeWork {
    fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    fn connections(&self) -> Result<Vec<Scheduled>, EngineError> {
        let mut all: Vec<Scheduled> = lock(&self.connections)
            .iter()
            .map(|(id, c)| Scheduled {
                id: *id,
                tenant_name: format!("Practice {id}"),
                status: c.input.status,
                status_reason: None,
            })
            .collect();
        all.sort_by_key(|c| c.id);
        Ok(all)
    }

    fn plan(&self, connection_id: i64) -> Result<Plan, EngineError> {
        let mut input = lock(&self.connections)[&connection_id].input.clone();
        input.now = self.clock.now();
        Ok(plan(&input))
    }

    async fn sync(
        &self,
        connection_id: i64,
        request: SyncRequest,
        _progress: &dyn ProgressSink,
    ) -> Result<SyncReport, EngineError> {
        {
            let started = self.clock.now();
            lock(&self.runs).push(Ran {
                id: connection_id,
                at: started,
                kind: request.kind,
                trigger: request.trigger,
            });
            let outcome = lock(&self.connections)
                .get_mut(&connection_id)
                .unwrap()
                .outcomes
                .pop_front()
                .unwrap_or(Outcome::Ok);
            if outcome == Outcome::Hang {
                std::future::pending::<()>().await;
            }
            tokio::task::yield_now().await;
            self.clock.advance(self.run_takes);
            let ended = self.clock.now();
            let mut connections = lock(&self.connections);
            let input = &mut connections.get_mut(&connection_id).unwrap().input;
            let failed = |input: &mut ScheduleInput| {
                input.consecutive_failures += 1;
                input.last_failure_at = Some(ended);
            };
            match outcome {
                Outcome::Ok => {
                    match request.kind {
                        RunKind::Full => input.last_full_ok = Some(started),
                        _ => input.last_changes_ok = Some(started),
                    }
                    input.consecutive_failures = 0;
                    input.last_failure_at = None;
                    input.retry_not_before = None;
                    Ok(SyncReport {
                        run_id: 1,
                        connection_id,
                        kind: request.kind,
                        trigger: request.trigger,
                        counts: RunCounts::default(),
                        watermark: Some(started),
                        full_sync_requested: false,
                        started_at: started,
                        ended_at: ended,
                    })
                }
                Outcome::Fail => {
                    failed(input);
                    Err(EngineError::Config("XPM answered 503".into()))
                }
                Outcome::DayLimit(retry_at) => {
                    failed(input);
                    input.retry_not_before = Some(retry_at);
                    Err(SyncError::DayLimit { retry_at }.into())
                }
                Outcome::NeedsReauth => {
                    input.status = ConnectionStatus::NeedsReauth;
                    Err(SyncError::NeedsReauth {
                        id: connection_id,
                        reason: "the refresh token is no longer valid".into(),
                    }
                    .into())
                }
                Outcome::Unrecorded => Err(EngineError::Config("identity.xero.com is unreachable".into())),
                Outcome::Hang => unreachable!(),
            }
        }
    }

    async fn refresh_token(&self, connection_id: i64) -> Result<(), EngineError> {
        {
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            let now = self.clock.now();
            self.edit(connection_id, |c| c.input.token_refreshed_at = Some(now));
            Ok(())
        }
    }

    fn run_dropped(&self, connection_id: i64) -> Result<(), EngineError> {
        lock(&self.dropped).push(connection_id);
        Ok(())
    }
}

/// Sleeps by moving the clock and the running time together; a scripted sleep of the computer
/// moves the clock only. Stops the loop when the clock reaches `end`.
struct ManualWaiter {
    clock: Arc<ManualClock>,
    end: OffsetDateTime,
    stop: CancellationToken,
    /// After the sleep starting at or after this time, the computer slept this long.
    suspend: Mutex<Option<(OffsetDateTime, Duration)>>,
    waits: Mutex<Vec<StdDuration>>,
}

impl ManualWaiter {
    fn new(work: &FakeWork, end: OffsetDateTime) -> ManualWaiter {
        ManualWaiter {
            clock: work.clock.clone(),
            end,
            stop: CancellationToken::new(),
            suspend: Mutex::new(None),
            waits: Mutex::new(Vec::new()),
        }
    }
}

impl Waiter for ManualWaiter {
    fn monotonic(&self) -> StdDuration {
        *lock(&self.clock.running)
    }

    fn sleep(&self, duration: StdDuration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        lock(&self.waits).push(duration);
        self.clock.advance(Duration::try_from(duration).unwrap());
        let mut suspend = lock(&self.suspend);
        if let Some((after, slept)) = *suspend {
            if self.clock.now() >= after {
                self.clock.suspend(slept);
                *suspend = None;
            }
        }
        if self.clock.now() >= self.end {
            self.stop.cancel();
        }
        Box::pin(std::future::ready(()))
    }
}

fn events() -> (Arc<Mutex<Vec<SchedulerEvent>>>, Arc<dyn EventSink>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let sink: Arc<dyn EventSink> = Arc::new(move |e: &SchedulerEvent| {
        if !matches!(e, SchedulerEvent::Progress { .. }) {
            lock(&sink).push(e.clone());
        }
    });
    (seen, sink)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

/// Runs the loop from the work's clock until `end`.
fn run_until(work: &Arc<FakeWork>, end: OffsetDateTime) -> (Vec<SchedulerEvent>, ManualWaiter) {
    let waiter = ManualWaiter::new(work, end);
    run_with(work, waiter)
}

fn run_with(work: &Arc<FakeWork>, waiter: ManualWaiter) -> (Vec<SchedulerEvent>, ManualWaiter) {
    let (seen, sink) = events();
    let scheduler = Scheduler::new(work.clone(), sink);
    runtime().block_on(scheduler.run(&waiter, &waiter.stop.clone()));
    let seen = lock(&seen).clone();
    (seen, waiter)
}

fn no_daily_full() -> SyncSettings {
    SyncSettings {
        daily_full_sync: false,
        ..SyncSettings::default()
    }
}

const START: OffsetDateTime = datetime!(2031-03-04 10:00 UTC);

#[test]
fn an_overdue_sync_runs_at_once_then_every_six_hours_never_twice_for_a_slot() {
    let work = FakeWork::new(START);
    // Closed for 7 hours since the last sync.
    work.add(1, START - Duration::hours(7), no_daily_full());
    let (events, waiter) = run_until(&work, START + Duration::hours(19));
    let runs = work.runs();
    let times: Vec<OffsetDateTime> = runs.iter().map(|r| r.at).collect();
    assert_eq!(
        times,
        vec![
            START,
            START + Duration::hours(6),
            START + Duration::hours(12),
            START + Duration::hours(18)
        ],
        "caught up at once, then every 6 h from the catch-up"
    );
    assert!(runs
        .iter()
        .all(|r| (r.kind, r.trigger) == (RunKind::Changes, RunTrigger::Schedule)));
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, SchedulerEvent::Finished(f) if f.error.is_none()))
            .count(),
        4
    );
    // It woke at least every minute (timers do not run while a computer sleeps), and the
    // idle refresh kept the token younger than 12 hours.
    assert!(lock(&waiter.waits)
        .iter()
        .all(|w| *w <= MAX_WAIT && *w >= MIN_WAIT));
    assert!(!events
        .iter()
        .any(|e| matches!(e, SchedulerEvent::ClockJumped { .. })));
}

#[test]
fn a_computer_asleep_through_the_slot_catches_up_on_waking_and_says_the_clock_jumped() {
    let work = FakeWork::new(START);
    work.add(1, START, no_daily_full());
    let waiter = ManualWaiter::new(&work, START + Duration::hours(12));
    // Asleep from +1 h for 8 h: the 6 h slot passes in its sleep.
    *lock(&waiter.suspend) = Some((START + Duration::hours(1), Duration::hours(8)));
    let (events, _) = run_with(&work, waiter);
    let jumps: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            SchedulerEvent::ClockJumped { by_seconds, .. } => Some(*by_seconds),
            _ => None,
        })
        .collect();
    assert_eq!(jumps, vec![8 * 3600], "one jump, of the time asleep");
    let runs = work.runs();
    assert_eq!(runs.len(), 1, "one catch-up run for the missed slot: {runs:?}");
    // It woke 9 h after START (plus under a minute of timer); the run started in that pass.
    let woke = START + Duration::hours(9);
    assert!(
        runs[0].at >= woke && runs[0].at - woke <= Duration::minutes(1),
        "{:?}",
        runs[0]
    );
    let jumped_at = events
        .iter()
        .position(|e| matches!(e, SchedulerEvent::ClockJumped { .. }));
    let started_at = events
        .iter()
        .position(|e| matches!(e, SchedulerEvent::Started { .. }));
    assert!(jumped_at < started_at, "{events:?}");
}

#[test]
fn failures_back_off_doubling_and_the_hold_is_told_once_each() {
    let work = FakeWork::new(START);
    work.add(1, START - Duration::hours(6), no_daily_full());
    work.edit(1, |c| {
        c.outcomes.extend([Outcome::Fail, Outcome::Fail, Outcome::Fail])
    });
    let (events, _) = run_until(&work, START + Duration::hours(2));
    let offsets: Vec<i64> = work
        .runs()
        .iter()
        .map(|r| (r.at - START).whole_minutes())
        .collect();
    // Each run takes 2 min; waits of 5, 10 and 20 min after the failures' ends.
    assert_eq!(offsets, vec![0, 2 + 5, 9 + 10, 21 + 20]);
    let holds: Vec<(HoldReason, i64)> = events
        .iter()
        .filter_map(|e| match e {
            SchedulerEvent::Held { reason, until, .. } => Some((*reason, (*until - START).whole_minutes())),
            _ => None,
        })
        .collect();
    assert_eq!(
        holds,
        vec![
            (HoldReason::Backoff, 7),
            (HoldReason::Backoff, 19),
            (HoldReason::Backoff, 41)
        ]
    );
}

#[test]
fn failures_with_no_run_recorded_back_off_too() {
    let work = FakeWork::new(START);
    work.add(1, START - Duration::hours(6), no_daily_full());
    work.edit(1, |c| {
        c.outcomes
            .extend([Outcome::Unrecorded, Outcome::Unrecorded, Outcome::Unrecorded])
    });
    let (events, waiter) = run_until(&work, START + Duration::hours(2));
    let offsets: Vec<i64> = work
        .runs()
        .iter()
        .map(|r| (r.at - START).whole_minutes())
        .collect();
    // Not a retry every pass: 5, 10, 20 min after each failure's end, then it succeeds.
    assert_eq!(offsets, vec![0, 2 + 5, 9 + 10, 21 + 20]);
    let holds = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                SchedulerEvent::Held {
                    reason: HoldReason::Backoff,
                    ..
                }
            )
        })
        .count();
    assert_eq!(holds, 3);
    assert!(lock(&waiter.waits).iter().all(|w| *w >= MIN_WAIT));
}

#[test]
fn a_spent_day_budget_or_day_limit_holds_runs_until_the_reset() {
    let work = FakeWork::new(START);
    work.add(1, START - Duration::hours(6), no_daily_full());
    // Xero's last figure could not pay for a run: held until it expires, 3 h from now.
    work.edit(1, |c| {
        c.input.budget_hold_until = Some(START + Duration::hours(3))
    });
    let (events, _) = run_until(&work, START + Duration::hours(4));
    let runs = work.runs();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let late = runs[0].at - (START + Duration::hours(3));
    assert!(late >= Duration::ZERO && late <= Duration::minutes(1), "{late}");
    assert!(events.iter().any(|e| matches!(
        e,
        SchedulerEvent::Held {
            reason: HoldReason::Budget,
            ..
        }
    )));

    // A day 429 mid-run: nothing before Xero's reset, then one run.
    let work = FakeWork::new(START);
    work.add(1, START - Duration::hours(6), no_daily_full());
    let reset = START + Duration::hours(5);
    work.edit(1, |c| c.outcomes.push_back(Outcome::DayLimit(reset)));
    let (events, _) = run_until(&work, START + Duration::hours(6));
    let times: Vec<OffsetDateTime> = work.runs().iter().map(|r| r.at).collect();
    assert_eq!(times.len(), 2, "{times:?}");
    assert_eq!(times[0], START);
    assert!(times[1] >= reset && times[1] - reset <= Duration::minutes(1));
    assert!(events.iter().any(|e| matches!(
        e,
        SchedulerEvent::Held { reason: HoldReason::DayLimit, until, .. } if *until == reset
    )));
}

#[test]
fn paused_connections_are_left_alone_and_told_once() {
    let work = FakeWork::new(START);
    work.add(1, START - Duration::days(2), no_daily_full());
    work.edit(1, |c| c.input.status = ConnectionStatus::NeedsReauth);
    work.add(2, START - Duration::hours(6), no_daily_full());
    work.edit(2, |c| c.outcomes.push_back(Outcome::NeedsReauth));
    let (events, _) = run_until(&work, START + Duration::days(1));
    let runs = work.runs();
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![2],
        "only the live one ran, once, until Xero refused its sign-in"
    );
    let attention: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            SchedulerEvent::NeedsAttention { connection_id, .. } => Some(*connection_id),
            _ => None,
        })
        .collect();
    assert_eq!(attention, vec![1, 2]);
    assert_eq!(
        work.refreshes.load(Ordering::SeqCst),
        0,
        "no refresh for paused ones"
    );
}

#[test]
fn an_idle_token_is_refreshed_every_twelve_hours() {
    let work = FakeWork::new(START);
    let settings = SyncSettings {
        changes_interval_minutes: 7 * 24 * 60,
        ..no_daily_full()
    };
    work.add(1, START, settings);
    let (events, _) = run_until(&work, START + Duration::hours(49));
    assert!(work.runs().is_empty());
    assert_eq!(work.refreshes.load(Ordering::SeqCst), 4);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, SchedulerEvent::TokenRefreshed { .. }))
            .count(),
        4
    );
}

#[test]
fn stopping_drops_a_running_sync_and_records_it() {
    let work = FakeWork::new(START);
    work.add(1, START - Duration::hours(7), no_daily_full());
    work.edit(1, |c| c.outcomes.push_back(Outcome::Hang));
    let (seen, sink) = events();
    let scheduler = Scheduler::new(work.clone(), sink);
    let waiter = ManualWaiter::new(&work, START + Duration::days(1));
    let stop = waiter.stop.clone();
    let rt = runtime();
    rt.block_on(async {
        let stopper = stop.clone();
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            stopper.cancel();
        });
        scheduler.run(&waiter, &stop).await;
    });
    assert_eq!(work.runs().len(), 1);
    assert_eq!(*lock(&work.dropped), vec![1]);
    let seen = lock(&seen);
    assert!(
        matches!(
            seen.last(),
            Some(SchedulerEvent::Stopped { connection_id: 1, .. })
        ),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|e| matches!(e, SchedulerEvent::Finished(_))));
}
