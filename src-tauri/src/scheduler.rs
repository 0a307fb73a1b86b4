//! Runs the engine's schedule policy while the app is open (in the tray too): changes every six
//! hours, the daily full sync, catch-up after downtime. Plans are re-read at least once a minute,
//! so a computer waking from sleep catches up within a minute, and at once when something changed
//! (a new connection, new settings, a finished run).

use std::sync::Arc;
use std::time::Duration;

use hownow_sync::ConnectionStatus;

use crate::core::AppCore;

/// Re-plan at least this often: timers do not run while the computer sleeps.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// ... and not more often than this, so a failing plan cannot spin.
const MIN_WAIT: Duration = Duration::from_secs(2);

pub async fn run(core: Arc<AppCore>) {
    loop {
        let wait = tick(&core).await.clamp(MIN_WAIT, MAX_WAIT);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = core.schedule_changed.notified() => {}
        }
    }
}

/// One pass of the loop: starts what is due now (at most one run per connection); returns how
/// long until the next plan is due. Public so tests can step the scheduler without waiting.
pub async fn tick(core: &Arc<AppCore>) -> Duration {
    let overviews = match core.overviews().await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e.message, "could not read the schedule");
            return MAX_WAIT;
        }
    };
    let now = core.backend().engine.clock().now();
    let mut wake = MAX_WAIT;
    for overview in overviews {
        let id = overview.connection.id;
        // Paused connections (reauthorisation needed, disconnected) wait for the admin; a
        // connection syncing here or in another process (the CLI) is left alone.
        if overview.connection.status != ConnectionStatus::Connected
            || core.is_running(id)
            || overview.running_pid.is_some()
        {
            continue;
        }
        let plan = match core.plan(id).await {
            Ok(plan) => plan,
            Err(e) => {
                tracing::warn!(connection = id, error = %e.message, "could not plan");
                continue;
            }
        };
        if let Some(due) = plan.due_now {
            tracing::info!(connection = id, kind = %due.kind, trigger = %due.trigger, "scheduled sync due");
            if let Err(e) = core.start_sync(id, due.kind, due.trigger, false) {
                tracing::warn!(connection = id, error = %e.message, "scheduled sync not started");
            }
        } else if plan.refresh_token_now {
            core.refresh_token(id).await;
        }
        if let Some(at) = plan.wake_at {
            let until = (at - now).try_into().unwrap_or(Duration::ZERO);
            wake = wake.min(until);
        }
    }
    wake
}
