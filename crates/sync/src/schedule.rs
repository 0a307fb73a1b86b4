//! The schedule policy (SPEC 5.3) as a pure function: given the time, the settings and what
//! happened so far, what is due now and when each thing is due next. No clock, no I/O: the
//! desktop app's timer and the CLI call [`plan`] with a [`ScheduleInput`] built by
//! [`ScheduleInput::load`] and persist the result with [`Store::save_plan`].
//!
//! Rules:
//! * a connection that never synced gets its initial full sync at once;
//! * changes since last sync every `changes_interval` after the last successful sync (full or
//!   changes: both move the watermark);
//! * a daily full sync at `daily_full_hour` in the firm's time zone (an IANA zone such as
//!   `Australia/Sydney` when the window reported one, so the hour stays put across DST; else the
//!   fixed `utc_offset_minutes`): the first such hour at least [`MIN_FULL_GAP`] after the last
//!   successful full sync, so that a zone change (a DST shift reported as a new offset, a laptop
//!   carried to another zone) cannot bring two fulls an hour apart; a full sync requested by the
//!   contact sweep is due at once;
//! * catch-up: whatever fell due while the app was closed is due now, once (the next times are
//!   computed from the last success, not counted per missed slot);
//! * a due full sync supersedes a due changes sync;
//! * back-off: after `n` consecutive failures nothing runs before `last failure + base × 2^(n−1)`
//!   (capped); after a `day` 429 nothing runs before Xero's reset;
//! * budget hold: when Xero's last reported day calls cannot pay for the cheapest scheduled run,
//!   nothing runs before that figure expires (a day after Xero reported it);
//! * a full sync stopped by the mass-removal guard is not retried automatically: it waits for
//!   the admin's confirmation (changes syncs go on);
//! * the token is refreshed at least every `token_refresh_interval` while idle;
//! * `needs_reauth` and `disconnected` pause everything.

use serde::Serialize;
use time::{Duration, OffsetDateTime, Time, UtcOffset};

use crate::budget;
use crate::error::Result;
use crate::settings::SyncSettings;
use crate::store::{ConnectionStatus, RunKind, RunOutcome, RunTrigger, Store};

/// A daily full sync is never due sooner than this after the previous full one. Longer than any
/// DST shift (at most two hours anywhere), short enough that an evening catch-up is still
/// followed by the night's full sync.
pub const MIN_FULL_GAP: Duration = Duration::hours(3);

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleInput {
    pub now: OffsetDateTime,
    pub settings: SyncSettings,
    pub status: ConnectionStatus,
    pub created_at: OffsetDateTime,
    /// Start of the last successful full sync.
    pub last_full_ok: Option<OffsetDateTime>,
    /// Start of the last successful changes sync.
    pub last_changes_ok: Option<OffsetDateTime>,
    /// Failed runs since the last success, and when the latest of them ended.
    pub consecutive_failures: u32,
    pub last_failure_at: Option<OffsetDateTime>,
    /// Xero's reset time after a `day` 429.
    pub retry_not_before: Option<OffsetDateTime>,
    /// The contact sweep asked for a full sync.
    pub full_requested_at: Option<OffsetDateTime>,
    /// The last full sync stopped at the mass-removal guard and awaits confirmation.
    pub full_awaits_confirmation: bool,
    pub token_refreshed_at: Option<OffsetDateTime>,
    /// Xero's last reported day calls cannot pay for a scheduled run: hold until then.
    pub budget_hold_until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    pub kind: RunKind,
    pub trigger: RunTrigger,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Paused {
    NeedsReauth,
    Disconnected,
}

/// Why nothing runs before [`Hold::until`] although a run is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// Failed runs: waiting out the back-off.
    Backoff,
    /// Xero answered 429 for the day: waiting for its reset.
    DayLimit,
    /// The day calls Xero reported left cannot pay for the run.
    Budget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub until: OffsetDateTime,
    pub reason: HoldReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The run to start now, if any.
    pub due_now: Option<Due>,
    /// Refresh the token now (idle refresh).
    pub refresh_token_now: bool,
    /// When the next changes sync is due (back-off applied).
    pub next_changes_at: Option<OffsetDateTime>,
    /// When the next full sync is due (back-off applied); `None` when daily full syncs are off
    /// and none was requested.
    pub next_full_at: Option<OffsetDateTime>,
    pub next_token_refresh_at: Option<OffsetDateTime>,
    /// When to call [`plan`] again: the earliest of the above (`None` when paused).
    pub wake_at: Option<OffsetDateTime>,
    pub paused: Option<Paused>,
    /// Runs are held back (back-off, Xero's day limit, the day budget) until then.
    pub held: Option<Hold>,
}

impl Plan {
    /// The next sync the schedule will start and when: the earlier of the next full and the
    /// next changes sync (a full one at the same time wins, as it brings everything).
    pub fn next_run(&self) -> Option<(OffsetDateTime, RunKind)> {
        match (self.next_changes_at, self.next_full_at) {
            (Some(changes), Some(full)) if full <= changes => Some((full, RunKind::Full)),
            (Some(changes), _) => Some((changes, RunKind::Changes)),
            (None, Some(full)) => Some((full, RunKind::Full)),
            (None, None) => None,
        }
    }
}

/// Where the daily full sync's hour is read: a named zone follows its DST rules; a fixed offset
/// is what older settings (and a window that could not name its zone) give.
#[derive(Debug, Clone)]
pub enum FirmZone {
    Named(jiff::tz::TimeZone),
    Fixed(UtcOffset),
}

impl FirmZone {
    /// The zone `settings` name, if it is known to the bundled time-zone database; else their
    /// fixed offset.
    pub fn of(settings: &SyncSettings) -> FirmZone {
        let named = settings
            .time_zone
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .and_then(|n| jiff::tz::TimeZone::get(n).ok());
        match named {
            Some(tz) => FirmZone::Named(tz),
            None => FirmZone::Fixed(
                UtcOffset::from_whole_seconds(
                    settings.utc_offset_minutes.clamp(
                        -SyncSettings::MAX_UTC_OFFSET_MINUTES,
                        SyncSettings::MAX_UTC_OFFSET_MINUTES,
                    ) * 60,
                )
                .unwrap_or(UtcOffset::UTC),
            ),
        }
    }

    /// The first `hour:00` local time strictly after `after`. In a named zone, an hour skipped
    /// by a spring-forward shift becomes the first instant after the gap, and an hour repeated
    /// by a fall-back shift is its first occurrence (the "compatible" choice).
    pub fn next_hour(&self, after: OffsetDateTime, hour: u8) -> OffsetDateTime {
        match self {
            FirmZone::Fixed(offset) => next_local_hour(after, hour, *offset),
            FirmZone::Named(tz) => next_zoned_hour(after, hour, tz).unwrap_or_else(|| {
                // Outside the representable range only: fall back to the current offset.
                let offset = tz.to_offset(to_jiff(after).unwrap_or_default());
                let offset = UtcOffset::from_whole_seconds(offset.seconds()).unwrap_or(UtcOffset::UTC);
                next_local_hour(after, hour, offset)
            }),
        }
    }
}

/// Whether `name` is a time zone the schedule knows (an IANA name such as `Europe/London`).
pub fn is_known_zone(name: &str) -> bool {
    jiff::tz::TimeZone::get(name.trim()).is_ok()
}

fn to_jiff(t: OffsetDateTime) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_nanosecond(t.unix_timestamp_nanos()).ok()
}

fn next_zoned_hour(after: OffsetDateTime, hour: u8, tz: &jiff::tz::TimeZone) -> Option<OffsetDateTime> {
    let at = to_jiff(after)?;
    let mut date = at.to_zoned(tz.clone()).date();
    // Today's hour or tomorrow's; a third day only if a zone skipped a whole day.
    for _ in 0..3 {
        let candidate = date
            .at(hour.min(23) as i8, 0, 0, 0)
            .to_zoned(tz.clone())
            .ok()?
            .timestamp();
        if candidate > at {
            return OffsetDateTime::from_unix_timestamp_nanos(candidate.as_nanosecond()).ok();
        }
        date = date.tomorrow().ok()?;
    }
    None
}

/// The first `hour:00` (at `offset`) strictly after `after`.
pub fn next_local_hour(after: OffsetDateTime, hour: u8, offset: UtcOffset) -> OffsetDateTime {
    let local = after.to_offset(offset);
    let at = Time::from_hms(hour.min(23), 0, 0).expect("valid hour");
    let candidate = local.replace_time(at);
    if candidate > local {
        candidate
    } else {
        candidate + Duration::days(1)
    }
}

fn backoff(settings: &SyncSettings, failures: u32) -> Duration {
    let base = Duration::minutes(i64::from(settings.backoff_base_minutes.max(1)));
    let cap = Duration::minutes(i64::from(
        settings
            .backoff_cap_minutes
            .max(settings.backoff_base_minutes)
            .max(1),
    ));
    let exp = failures.saturating_sub(1).min(30);
    let wait = base.checked_mul(1i32 << exp.min(30)).unwrap_or(cap);
    wait.min(cap)
}

pub fn plan(input: &ScheduleInput) -> Plan {
    let s = &input.settings;
    let paused = match input.status {
        ConnectionStatus::NeedsReauth => Some(Paused::NeedsReauth),
        ConnectionStatus::Disconnected => Some(Paused::Disconnected),
        _ => None,
    };
    if paused.is_some() {
        return Plan {
            due_now: None,
            refresh_token_now: false,
            next_changes_at: None,
            next_full_at: None,
            next_token_refresh_at: None,
            wake_at: None,
            paused,
            held: None,
        };
    }

    // Nothing runs before this (back-off, day limit, day budget): the latest of them.
    let mut held: Option<Hold> = None;
    let mut hold_until = |until: Option<OffsetDateTime>, reason: HoldReason| {
        if let Some(until) = until.filter(|u| *u > input.now) {
            if held.is_none_or(|h| until > h.until) {
                held = Some(Hold { until, reason });
            }
        }
    };
    hold_until(input.retry_not_before, HoldReason::DayLimit);
    if input.consecutive_failures > 0 {
        hold_until(
            input
                .last_failure_at
                .map(|failed| failed + backoff(s, input.consecutive_failures)),
            HoldReason::Backoff,
        );
    }
    hold_until(input.budget_hold_until, HoldReason::Budget);
    let not_before = held.map(|h| h.until);
    let hold = |t: OffsetDateTime| not_before.map_or(t, |nb| t.max(nb));

    let never_synced = input.last_full_ok.is_none() && input.last_changes_ok.is_none();
    let zone = FirmZone::of(s);

    // Full sync: initial, requested, or daily.
    let (full_at, full_trigger) = if never_synced {
        (Some(input.created_at.min(input.now)), RunTrigger::Initial)
    } else if input.full_awaits_confirmation {
        (None, RunTrigger::Schedule)
    } else {
        let daily = s.daily_full_sync.then(|| {
            zone.next_hour(
                input.last_full_ok.unwrap_or(input.created_at) + MIN_FULL_GAP,
                s.daily_full_hour,
            )
        });
        match (input.full_requested_at, daily) {
            (Some(req), Some(d)) if req < d => (Some(req), RunTrigger::Schedule),
            (Some(req), None) => (Some(req), RunTrigger::Schedule),
            (_, Some(d)) => (Some(d), RunTrigger::DailyFull),
            (None, None) => (None, RunTrigger::Schedule),
        }
    };
    let full_at = full_at.map(hold);

    let last_ok = input.last_full_ok.max(input.last_changes_ok);
    let changes_at = if never_synced {
        None
    } else {
        last_ok.map(|t| hold(t + s.changes_interval()))
    };

    let token_at = input.token_refreshed_at.unwrap_or(input.created_at) + s.token_refresh_interval();

    let running = input.status == ConnectionStatus::Syncing;
    let due_now = if running {
        None
    } else if full_at.is_some_and(|t| t <= input.now) {
        Some(Due {
            kind: RunKind::Full,
            trigger: full_trigger,
        })
    } else if changes_at.is_some_and(|t| t <= input.now) {
        Some(Due {
            kind: RunKind::Changes,
            trigger: RunTrigger::Schedule,
        })
    } else {
        None
    };
    // A sync refreshes the token anyway; an idle refresh is only for when nothing runs.
    let refresh_token_now = due_now.is_none() && !running && token_at <= input.now;

    let wake_at = [full_at, changes_at, Some(token_at)].into_iter().flatten().min();
    Plan {
        due_now,
        refresh_token_now,
        next_changes_at: changes_at,
        next_full_at: full_at,
        next_token_refresh_at: Some(token_at),
        wake_at,
        paused: None,
        held,
    }
}

impl ScheduleInput {
    /// Everything [`plan`] needs about a connection, from the directory and the sync lock in
    /// [`Store::lock_dir`].
    pub fn load(store: &Store, connection_id: i64, now: OffsetDateTime) -> Result<ScheduleInput> {
        let c = store.connection(connection_id)?;
        let last_full_ok = store.last_run(connection_id, Some(RunKind::Full), Some(RunOutcome::Ok))?;
        let last_changes_ok = store.last_run(connection_id, Some(RunKind::Changes), Some(RunOutcome::Ok))?;
        let last_failed = store.last_run(connection_id, None, Some(RunOutcome::Failed))?;
        let consecutive_failures = store.failures_since_success(connection_id)?;
        let last_full = store.last_run(connection_id, Some(RunKind::Full), None)?;
        let full_awaits_confirmation = last_full.is_some_and(|r| r.outcome == RunOutcome::NeedsConfirmation);
        // `syncing` is written when a run starts; a run whose process died leaves it behind.
        // The lock is the truth: no holder means nothing runs.
        let running = crate::lock::SyncLock::holder(&store.lock_dir(), connection_id)?.is_some();
        // The cheapest run the schedule could start: if Xero's last figure cannot pay for it,
        // knocking would only record a failed run per back-off step.
        let budget_hold_until = budget::day_remaining(&c.quota, now).and_then(|left| {
            let counts = store.counts(connection_id).ok()?;
            let cheapest = [RunKind::Full, RunKind::Changes]
                .map(|k| budget::estimate(k, &counts, &c.settings).api_calls)
                .into_iter()
                .min()?;
            (left < cheapest)
                .then(|| budget::day_figure_expires(&c.quota))
                .flatten()
        });
        let status = match c.status {
            ConnectionStatus::Syncing if !running => ConnectionStatus::Connected,
            ConnectionStatus::Connected if running => ConnectionStatus::Syncing,
            other => other,
        };
        Ok(ScheduleInput {
            now,
            settings: c.settings.clone(),
            status,
            created_at: c.created_at,
            last_full_ok: last_full_ok.map(|r| r.started_at),
            last_changes_ok: last_changes_ok.map(|r| r.started_at),
            consecutive_failures,
            last_failure_at: last_failed
                .as_ref()
                .filter(|_| consecutive_failures > 0)
                .and_then(|r| r.ended_at),
            retry_not_before: last_failed
                .filter(|_| consecutive_failures > 0)
                .and_then(|r| r.retry_after_at)
                .filter(|t| *t > now),
            full_requested_at: c.full_requested_at,
            full_awaits_confirmation,
            token_refreshed_at: c.token_refreshed_at,
            budget_hold_until,
        })
    }
}

impl Store {
    /// Persists a plan's next-due times on the connection.
    pub fn save_plan(&mut self, connection_id: i64, plan: &Plan) -> Result<()> {
        self.save_next_due(
            connection_id,
            plan.next_changes_at,
            plan.next_full_at,
            plan.next_token_refresh_at,
        )
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
