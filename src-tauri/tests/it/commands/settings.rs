//! Settings and the schedule: the next sync at every hour of the day, start at login,
//! validation and saving, and the window's start-up call announcing nothing.

use hownow_sync::{RunKind, RunOutcome};
use serde_json::json;

use crate::harness::{tomorrow_at, Harness};

/// The next sync the card shows, after a full sync at each hour of a day: whichever of the
/// changes sync (six hours on) and the daily full sync (02:00, the default, at least 3 hours
/// after the last full one) comes first. Run at every hour so a time-of-day assumption cannot
/// hide in a test that passes only by day.
#[test]
fn next_sync_is_right_at_every_hour_of_the_day() {
    let h = Harness::at(tomorrow_at(0));
    let id = h.connect()["id"].as_i64().unwrap();
    h.ok("app_info", json!({"utcOffsetMinutes": 0}));
    let day = tomorrow_at(0) + time::Duration::days(1);
    for hour in 0..24u8 {
        h.clock.set(day + time::Duration::hours(i64::from(hour)));
        let before = h.finished_runs();
        h.ok("sync_start", json!({"connectionId": id, "kind": "full"}));
        h.wait_for("the full sync", || h.finished_runs() == before + 1);
        let run = h.last_run();
        assert_eq!(
            (run.kind, run.outcome),
            (RunKind::Full, RunOutcome::Ok),
            "at {hour}:00"
        );
        let next = h.ok("connections_list", json!({}))[0]["nextSync"].clone();
        let at = time::OffsetDateTime::parse(
            next["at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        // Hours from this run to the first 02:00 more than 3 hours after it (the engine's
        // MIN_FULL_GAP: a full sync stands for a night's full sync that close).
        let to_daily = match (2 + 24 - i64::from(hour)) % 24 {
            0 => 24,
            n if n <= 3 => n + 24,
            n => n,
        };
        if to_daily <= 6 {
            assert_eq!(next["kind"], "full", "at {hour}:00: {next}");
            assert_eq!(
                at,
                day + time::Duration::hours(i64::from(hour) + to_daily),
                "at {hour}:00"
            );
        } else {
            assert_eq!(next["kind"], "changes", "at {hour}:00: {next}");
            assert_eq!(at - run.started_at, time::Duration::hours(6), "at {hour}:00");
        }
    }
}

#[test]
fn start_at_login_is_off_for_the_demo_and_follows_the_settings() {
    let h = Harness::new();
    let entry = h.dir.path().join("autostart/hownow-admin.desktop");
    h.connect();
    h.core.apply_start_at_login().unwrap();
    let mut settings = h.ok("settings_get", json!({}));
    assert_eq!(
        settings["startAtLogin"], false,
        "a demo connection does not turn it on"
    );
    assert!(!entry.exists());

    settings["startAtLogin"] = json!(true);
    let saved = h.ok("settings_save", json!({ "settings": settings.clone() }));
    assert_eq!(saved["startAtLogin"], true);
    let written = std::fs::read_to_string(&entry).unwrap();
    assert!(
        written.contains("\nExec=\"/opt/hownow/hownow-admin\" --minimized\n"),
        "{written}"
    );
    // Saving other settings keeps the choice.
    settings["intervalHours"] = json!(2);
    assert_eq!(
        h.ok("settings_save", json!({ "settings": settings.clone() }))["startAtLogin"],
        true
    );
    assert!(entry.exists());

    settings["startAtLogin"] = json!(false);
    h.ok("settings_save", json!({ "settings": settings }));
    assert!(!entry.exists());
}

#[test]
fn settings_are_validated_and_saved() {
    let h = Harness::new();
    let id = h.connect()["id"].as_i64().unwrap();
    let mut settings = h.ok("settings_get", json!({}));
    assert_eq!(settings["scheduleAvailable"], true);
    settings["dailyFullHour"] = json!(24);
    let err = h.err("settings_save", json!({ "settings": settings.clone() }));
    assert_eq!(err["kind"], "invalid");
    settings["dailyFullHour"] = json!(23);
    settings["intervalHours"] = json!(0);
    assert_eq!(
        h.err("settings_save", json!({ "settings": settings.clone() }))["kind"],
        "invalid"
    );
    settings["intervalHours"] = json!(3);
    settings["loginMode"] = json!("loopback");
    let saved = h.ok("settings_save", json!({ "settings": settings }));
    assert_eq!(
        (saved["intervalHours"].as_u64(), saved["dailyFullHour"].as_u64()),
        (Some(3), Some(23))
    );
    assert_eq!(saved["loginMode"], "loopback");
    assert_eq!(saved["xeroClientId"], "");
    assert_eq!(
        h.ok("app_info", json!({}))["demo"],
        true,
        "no client id: still the demo"
    );
    let next = h.ok("connections_list", json!({}))[0]["nextSync"].clone();
    assert_eq!(next["kind"], "changes", "{next}");
    // The daily full sync hour is local time: the window says where it is.
    h.ok("app_info", json!({"utcOffsetMinutes": 780}));
    let engine = h.core.backend().engine.clone();
    let stored = engine.store().unwrap().connection(id).unwrap().settings;
    assert_eq!(
        (
            stored.changes_interval_minutes,
            stored.daily_full_hour,
            stored.utc_offset_minutes
        ),
        (180, 23, 780)
    );
    assert!(std::fs::read_to_string(h.dir.path().join("data/desktop.json"))
        .unwrap()
        .contains("loopback"));
}

#[test]
fn the_window_start_up_call_changes_nothing_twice() {
    // The window asks for app_info at every start and whenever connections change: that call must
    // not itself announce a change, or the two would chase each other.
    let h = Harness::new();
    h.connect();
    let changes = || h.ui.changed.load(std::sync::atomic::Ordering::SeqCst);
    h.ok("app_info", json!({"utcOffsetMinutes": 600}));
    let after_first = changes();
    h.ok("app_info", json!({"utcOffsetMinutes": 600}));
    h.ok("app_info", json!({}));
    assert_eq!(changes(), after_first, "unchanged settings announce nothing");
}
