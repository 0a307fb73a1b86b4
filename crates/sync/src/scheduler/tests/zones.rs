//! The daily full sync's hour across DST in a named zone, and across a change of fixed offset.

use time::macros::datetime;
use time::{OffsetDateTime, UtcOffset};

use super::{run_until, run_with, FakeWork, ManualWaiter};
use crate::settings::SyncSettings;
use crate::store::RunKind;

/// Fulls of a run, as local times in `zone`.
fn full_local_times(work: &FakeWork, zone: &jiff::tz::TimeZone) -> Vec<String> {
    work.runs()
        .iter()
        .filter(|r| r.kind == RunKind::Full)
        .map(|r| {
            jiff::Timestamp::from_second(r.at.unix_timestamp())
                .unwrap()
                .to_zoned(zone.clone())
                .strftime("%F %H:%M %Z")
                .to_string()
        })
        .collect()
}

#[test]
fn the_daily_full_keeps_its_local_hour_across_dst_in_a_named_zone() {
    let sydney = jiff::tz::TimeZone::get("Australia/Sydney").unwrap();
    let settings = SyncSettings {
        time_zone: Some("Australia/Sydney".into()),
        // What the window last reported: must not matter when the zone is named.
        utc_offset_minutes: 600,
        changes_interval_minutes: 24 * 60,
        ..SyncSettings::default()
    };
    // Sydney moves to daylight time at 02:00 on Sunday 5 October 2031 (02:00 → 03:00).
    let start = datetime!(2031-10-02 20:00 UTC);
    let work = FakeWork::new(start);
    work.add(1, datetime!(2031-10-02 16:00 UTC), settings.clone());
    run_until(&work, datetime!(2031-10-07 12:00 UTC));
    assert_eq!(
        full_local_times(&work, &sydney),
        vec![
            "2031-10-04 02:00 AEST",
            // 02:00 does not exist that night: the first instant after the gap.
            "2031-10-05 03:00 AEDT",
            "2031-10-06 02:00 AEDT",
            "2031-10-07 02:00 AEDT",
        ]
    );

    // Back to standard time at 03:00 on Sunday 4 April 2032 (03:00 → 02:00): 02:00 happens
    // twice that night, and the full runs once, at the first.
    let start = datetime!(2032-04-01 20:00 UTC);
    let work = FakeWork::new(start);
    work.add(1, datetime!(2032-04-01 15:00 UTC), settings);
    run_until(&work, datetime!(2032-04-06 12:00 UTC));
    assert_eq!(
        full_local_times(&work, &sydney),
        vec![
            "2032-04-03 02:00 AEDT",
            "2032-04-04 02:00 AEDT",
            "2032-04-05 02:00 AEST",
            "2032-04-06 02:00 AEST",
        ]
    );
}

#[test]
fn a_new_utc_offset_moves_the_daily_full_without_running_it_twice_a_night() {
    // The window reports a fixed offset; on the morning after the DST change it reports +10
    // instead of +11, an hour after the night's full ran at 02:00 +11 (= 01:00 +10).
    let start = datetime!(2031-04-06 14:00 UTC);
    let settings = SyncSettings {
        utc_offset_minutes: 11 * 60,
        changes_interval_minutes: 24 * 60,
        ..SyncSettings::default()
    };
    let work = FakeWork::new(start);
    work.add(1, datetime!(2031-04-05 15:00 UTC), settings);
    let waiter = ManualWaiter::new(&work, datetime!(2031-04-06 15:30 UTC));
    run_with(&work, waiter);
    assert_eq!(work.runs().len(), 1);
    assert_eq!(work.runs()[0].at, datetime!(2031-04-06 15:00 UTC)); // 02:00 +11
    work.edit(1, |c| c.input.settings.utc_offset_minutes = 10 * 60);
    run_until(&work, datetime!(2031-04-08 20:00 UTC));
    let fulls: Vec<OffsetDateTime> = work
        .runs()
        .iter()
        .filter(|r| r.kind == RunKind::Full)
        .map(|r| r.at.to_offset(UtcOffset::from_hms(10, 0, 0).unwrap()))
        .collect();
    // Not again at 02:00 +10 an hour later; then 02:00 +10 each night.
    assert_eq!(
        fulls,
        vec![
            datetime!(2031-04-07 01:00 +10),
            datetime!(2031-04-08 02:00 +10),
            datetime!(2031-04-09 02:00 +10),
        ]
    );
}
