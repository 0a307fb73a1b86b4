use super::*;
use time::macros::{datetime, offset};

const T0: OffsetDateTime = datetime!(2024-05-01 00:30 UTC);

fn input(now: OffsetDateTime) -> ScheduleInput {
    ScheduleInput {
        now,
        settings: SyncSettings::default(),
        status: ConnectionStatus::Connected,
        created_at: T0,
        last_full_ok: Some(T0),
        last_changes_ok: None,
        consecutive_failures: 0,
        last_failure_at: None,
        retry_not_before: None,
        full_requested_at: None,
        full_awaits_confirmation: false,
        token_refreshed_at: Some(T0),
        budget_hold_until: None,
    }
}

fn due(kind: RunKind, trigger: RunTrigger) -> Option<Due> {
    Some(Due { kind, trigger })
}

#[test]
fn zones_are_known_by_their_iana_names() {
    assert!(is_known_zone("Australia/Sydney"));
    assert!(is_known_zone("Pacific/Auckland"));
    assert!(!is_known_zone("Mars/Olympus_Mons"));
    assert!(!is_known_zone(""));
}

#[test]
fn next_local_hour_is_strictly_after() {
    assert_eq!(
        next_local_hour(T0, 2, UtcOffset::UTC),
        datetime!(2024-05-01 02:00 UTC)
    );
    assert_eq!(
        next_local_hour(datetime!(2024-05-01 02:00 UTC), 2, UtcOffset::UTC),
        datetime!(2024-05-02 02:00 UTC)
    );
    // 02:00 in Sydney (+10) is 16:00 UTC the day before.
    assert_eq!(
        next_local_hour(T0, 2, offset!(+10)),
        datetime!(2024-05-02 02:00 +10)
    );
    assert_eq!(
        next_local_hour(T0, 2, offset!(+10)),
        datetime!(2024-05-01 16:00 UTC)
    );
}

#[test]
fn table() {
    struct Case {
        name: &'static str,
        setup: fn(&mut ScheduleInput),
        now: OffsetDateTime,
        due: Option<Due>,
        refresh: bool,
    }
    let cases = [
        Case {
            name: "never synced: initial full at once",
            setup: |i| i.last_full_ok = None,
            now: T0,
            due: due(RunKind::Full, RunTrigger::Initial),
            refresh: false,
        },
        Case {
            name: "just synced: nothing due",
            setup: |_| {},
            now: T0 + Duration::minutes(10),
            due: None,
            refresh: false,
        },
        Case {
            name: "6 h after the full sync: changes",
            setup: |i| i.settings.daily_full_sync = false,
            now: T0 + Duration::hours(6),
            due: due(RunKind::Changes, RunTrigger::Schedule),
            refresh: false,
        },
        Case {
            name: "5 h 59 after: not yet",
            setup: |i| i.settings.daily_full_sync = false,
            now: T0 + Duration::minutes(359),
            due: None,
            refresh: false,
        },
        Case {
            name: "changes count from the last changes sync",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.last_changes_ok = Some(T0 + Duration::hours(6));
            },
            now: T0 + Duration::hours(11),
            due: None,
            refresh: false,
        },
        Case {
            name: "daily full at 02:00",
            setup: |i| i.last_full_ok = Some(datetime!(2024-04-30 02:00 UTC)),
            now: datetime!(2024-05-01 02:00 UTC),
            due: due(RunKind::Full, RunTrigger::DailyFull),
            refresh: false,
        },
        Case {
            name: "a full 1 h 30 before the hour stands for that night's",
            setup: |_| {},
            now: datetime!(2024-05-01 02:00 UTC),
            due: None,
            refresh: false,
        },
        Case {
            name: "day budget spent: held",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.budget_hold_until = Some(T0 + Duration::hours(7));
            },
            now: T0 + Duration::hours(6),
            due: None,
            refresh: false,
        },
        Case {
            name: "day budget: runs when Xero's figure expires",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.budget_hold_until = Some(T0 + Duration::hours(7));
            },
            now: T0 + Duration::hours(7),
            due: due(RunKind::Changes, RunTrigger::Schedule),
            refresh: false,
        },
        Case {
            name: "daily full is once a day",
            setup: |i| i.last_full_ok = Some(datetime!(2024-05-01 02:00 UTC)),
            now: datetime!(2024-05-01 03:00 UTC),
            due: None,
            refresh: false,
        },
        Case {
            name: "full supersedes changes",
            setup: |i| i.last_full_ok = Some(datetime!(2024-04-30 02:00 UTC)),
            now: datetime!(2024-05-01 09:00 UTC),
            due: due(RunKind::Full, RunTrigger::DailyFull),
            refresh: false,
        },
        Case {
            name: "catch-up after 3 days closed: one full",
            setup: |i| i.last_full_ok = Some(datetime!(2024-04-27 02:00 UTC)),
            now: T0 + Duration::days(3),
            due: due(RunKind::Full, RunTrigger::DailyFull),
            refresh: false,
        },
        Case {
            name: "catch-up with daily full off: one changes",
            setup: |i| i.settings.daily_full_sync = false,
            now: T0 + Duration::days(3),
            due: due(RunKind::Changes, RunTrigger::Schedule),
            refresh: false,
        },
        Case {
            name: "sweep asked for a full sync",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.full_requested_at = Some(T0 + Duration::hours(1));
            },
            now: T0 + Duration::hours(1),
            due: due(RunKind::Full, RunTrigger::Schedule),
            refresh: false,
        },
        Case {
            name: "needs_reauth pauses everything",
            setup: |i| i.status = ConnectionStatus::NeedsReauth,
            now: T0 + Duration::days(3),
            due: None,
            refresh: false,
        },
        Case {
            name: "disconnected pauses everything",
            setup: |i| i.status = ConnectionStatus::Disconnected,
            now: T0 + Duration::days(3),
            due: None,
            refresh: false,
        },
        Case {
            name: "a running sync: nothing new",
            setup: |i| i.status = ConnectionStatus::Syncing,
            now: T0 + Duration::days(1),
            due: None,
            refresh: false,
        },
        Case {
            name: "back-off after 1 failure: 5 min",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.consecutive_failures = 1;
                i.last_failure_at = Some(T0 + Duration::hours(6));
            },
            now: T0 + Duration::hours(6) + Duration::minutes(4),
            due: None,
            refresh: false,
        },
        Case {
            name: "back-off after 1 failure: runs at 5 min",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.consecutive_failures = 1;
                i.last_failure_at = Some(T0 + Duration::hours(6));
            },
            now: T0 + Duration::hours(6) + Duration::minutes(5),
            due: due(RunKind::Changes, RunTrigger::Schedule),
            refresh: false,
        },
        Case {
            name: "back-off doubles: 4 failures = 40 min",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.consecutive_failures = 4;
                i.last_failure_at = Some(T0 + Duration::hours(6));
            },
            now: T0 + Duration::hours(6) + Duration::minutes(39),
            due: None,
            refresh: false,
        },
        Case {
            name: "back-off is capped at 6 h",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.consecutive_failures = 40;
                i.last_failure_at = Some(T0 + Duration::hours(6));
            },
            now: T0 + Duration::hours(12),
            due: due(RunKind::Changes, RunTrigger::Schedule),
            refresh: false,
        },
        Case {
            name: "day limit: wait for the reset",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.retry_not_before = Some(T0 + Duration::hours(20));
            },
            now: T0 + Duration::hours(19),
            due: None,
            refresh: true,
        },
        Case {
            name: "day limit: run after the reset",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.retry_not_before = Some(T0 + Duration::hours(20));
            },
            now: T0 + Duration::hours(20),
            due: due(RunKind::Changes, RunTrigger::Schedule),
            refresh: false,
        },
        Case {
            name: "mass removal awaits confirmation: changes only",
            setup: |i| i.full_awaits_confirmation = true,
            now: datetime!(2024-05-02 09:00 UTC),
            due: due(RunKind::Changes, RunTrigger::Schedule),
            refresh: false,
        },
        Case {
            name: "idle token refresh after 12 h",
            setup: |i| {
                i.status = ConnectionStatus::Syncing;
            },
            now: T0 + Duration::hours(13),
            due: None,
            refresh: false,
        },
        Case {
            name: "idle token refresh due when nothing runs",
            setup: |i| {
                i.settings.daily_full_sync = false;
                i.settings.changes_interval_minutes = 24 * 60;
            },
            now: T0 + Duration::hours(12),
            due: None,
            refresh: true,
        },
    ];
    for case in cases {
        let mut i = input(case.now);
        (case.setup)(&mut i);
        let p = plan(&i);
        assert_eq!(p.due_now, case.due, "{}", case.name);
        assert_eq!(p.refresh_token_now, case.refresh, "{}", case.name);
    }
}

#[test]
fn next_times_and_wake() {
    let p = plan(&input(T0 + Duration::minutes(10)));
    // The full at 00:30 stands for that night's: the next daily one is the night after.
    assert_eq!(p.next_full_at, Some(datetime!(2024-05-02 02:00 UTC)));
    assert_eq!(p.next_changes_at, Some(T0 + Duration::hours(6)));
    assert_eq!(p.next_token_refresh_at, Some(T0 + Duration::hours(12)));
    assert_eq!(p.wake_at, Some(T0 + Duration::hours(6)));
    assert_eq!(p.next_run(), Some((T0 + Duration::hours(6), RunKind::Changes)));
    assert_eq!(p.held, None);
    let mut failing = input(T0 + Duration::hours(6));
    failing.consecutive_failures = 2;
    failing.last_failure_at = Some(T0 + Duration::hours(6));
    failing.retry_not_before = Some(T0 + Duration::hours(6) + Duration::minutes(3));
    // The later of the two holds is the one that counts.
    assert_eq!(
        plan(&failing).held,
        Some(Hold {
            until: T0 + Duration::hours(6) + Duration::minutes(10),
            reason: HoldReason::Backoff
        })
    );
    let mut paused = input(T0);
    paused.status = ConnectionStatus::NeedsReauth;
    let p = plan(&paused);
    assert_eq!((p.wake_at, p.paused), (None, Some(Paused::NeedsReauth)));
}

/// A fake clock walks a week: the policy runs one full sync a day and changes syncs in
/// between, never two runs for one slot, and never more than one at a time.
#[test]
fn a_simulated_week() {
    let mut i = input(T0);
    i.last_full_ok = None;
    let mut fulls = 0;
    let mut changes = 0;
    let mut now = T0;
    let end = T0 + Duration::days(7);
    while now < end {
        i.now = now;
        let p = plan(&i);
        if let Some(d) = p.due_now {
            match d.kind {
                RunKind::Full => {
                    fulls += 1;
                    i.last_full_ok = Some(now);
                }
                _ => {
                    changes += 1;
                    i.last_changes_ok = Some(now);
                }
            }
            continue; // re-plan at the same instant: nothing else may be due
        }
        if p.refresh_token_now {
            i.token_refreshed_at = Some(now);
        }
        now = p.wake_at.expect("not paused").max(now + Duration::seconds(1));
    }
    // Initial + one per day (02:00 on days 2..=7: the first night's comes 1 h 30 after
    // the initial one, which stands for it).
    assert_eq!(fulls, 1 + 6);
    // Between 02:00 fulls: changes at +6 h, +12 h, +18 h; the 24 h slot is the full.
    assert!((18..=22).contains(&changes), "{changes}");
}
