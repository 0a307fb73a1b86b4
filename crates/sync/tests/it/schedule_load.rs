//! What the schedule reads from a real directory: when Xero's last reported day calls cannot pay
//! for a scheduled run, runs are held until that figure expires, instead of recording a failed
//! run at every back-off step.

use crate::common;

use hownow_sync::{
    plan, HoldReason, MemorySource, Quota, RunKind, RunTrigger, ScheduleInput, SyncRequest, SyncSettings,
};
use time::Duration;

#[tokio::test]
async fn a_spent_day_budget_holds_scheduled_runs_until_xero_s_figure_expires() {
    // Changes syncs only, so no daily full hour (the time of day) comes into it.
    let mut fx = common::Fixture::with_settings(SyncSettings {
        daily_full_sync: false,
        ..SyncSettings::default()
    });
    let id = fx.connection.id;
    let source = MemorySource::with_clients(common::practice(10));
    fx.sync_with(&source, SyncRequest::new(RunKind::Full, RunTrigger::Initial))
        .await
        .unwrap();
    let observed = fx.store.now();
    let later = observed + Duration::hours(7);

    // Plenty left: the overdue run is due.
    let quota = |left| Quota {
        min_remaining: Some(60),
        day_remaining: Some(left),
        observed_at: Some(observed),
    };
    fx.store.record_quota(id, &quota(4000)).unwrap();
    let p = plan(&ScheduleInput::load(&fx.store, id, later).unwrap());
    assert!(p.due_now.is_some(), "{p:?}");
    assert_eq!(p.held, None);

    // One call left: less than any scheduled run costs.
    fx.store.record_quota(id, &quota(1)).unwrap();
    let p = plan(&ScheduleInput::load(&fx.store, id, later).unwrap());
    assert_eq!(p.due_now, None, "{p:?}");
    let held = p.held.expect("held");
    assert_eq!(held.reason, HoldReason::Budget);
    assert_eq!(held.until, observed + Duration::hours(24));
    assert_eq!(p.next_changes_at, Some(held.until), "{p:?}");

    // A day after Xero said so, the figure is stale: the run goes ahead.
    let p = plan(&ScheduleInput::load(&fx.store, id, held.until).unwrap());
    assert!(p.due_now.is_some(), "{p:?}");
    assert_eq!(p.held, None);
}
