//! Hosts the engine's scheduler ([`hownow_sync::scheduler`]) while the app runs, in the tray
//! too. The schedule's rules are all in the engine; this only takes the data dir's scheduler
//! lock (unless the HowNow service holds it: then the app schedules nothing and the window says
//! who does), wakes the scheduler when connections or settings change, and forwards its events to
//! the window, the tray and notifications through [`AppCore`].

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use hownow_sync::engine::Engine;
use hownow_sync::scheduler::{
    CancellationToken, EventSink, Pass, Scheduler, SchedulerEvent, SchedulerHolder, SchedulerHost,
    SchedulerLock, TokioWaiter,
};

use crate::core::AppCore;
use crate::error::{CommandError, ErrorKind};

/// How often the app looks whether the service has let go of the schedule.
const TAKE_OVER_POLL: Duration = Duration::from_secs(5);

/// The scheduler this app hosts, with the lock that makes it the data dir's only one.
struct Hosted {
    engine: Arc<Engine>,
    scheduler: Arc<Scheduler<Engine>>,
    _lock: SchedulerLock,
}

/// The app's side of the schedule: kept in [`AppCore`].
#[derive(Default)]
pub struct Hosting {
    hosted: Mutex<Option<Arc<Hosted>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The scheduler of the current backend's data dir, taking its lock if free; who holds it
/// otherwise.
fn hosted(core: &Arc<AppCore>) -> Result<Arc<Hosted>, Option<SchedulerHolder>> {
    let engine = core.backend().engine.clone();
    let mut hosted = lock(&core.hosting.hosted);
    if let Some(h) = hosted.as_ref().filter(|h| Arc::ptr_eq(&h.engine, &engine)) {
        return Ok(h.clone());
    }
    // Another backend (the demo gave way to the firm's Xero): its lock goes with it.
    *hosted = None;
    match SchedulerLock::try_acquire(engine.data_dir(), SchedulerHost::App) {
        Ok(Ok(scheduler_lock)) => {
            let events: Arc<dyn EventSink> = Arc::new(Forward(Arc::downgrade(core)));
            let h = Arc::new(Hosted {
                scheduler: Arc::new(Scheduler::new(engine.clone(), events)),
                engine,
                _lock: scheduler_lock,
            });
            *hosted = Some(h.clone());
            Ok(h)
        }
        Ok(Err(holder)) => Err(Some(holder)),
        Err(e) => {
            tracing::warn!(error = %e, "could not use the scheduler lock");
            Err(None)
        }
    }
}

/// Who schedules this data dir's syncs when it is not this app: for the window's line.
pub fn scheduled_elsewhere(core: &AppCore) -> Option<SchedulerHolder> {
    let engine = core.backend().engine.clone();
    let here = lock(&core.hosting.hosted)
        .as_ref()
        .is_some_and(|h| Arc::ptr_eq(&h.engine, &engine));
    if here {
        return None;
    }
    SchedulerLock::holder(engine.data_dir()).ok().flatten()
}

/// The app's scheduling, for its whole life: hosts the scheduler while it holds the lock, and
/// waits to take over while the service holds it.
pub async fn run(core: Arc<AppCore>) {
    let mut told = false;
    loop {
        let h = match hosted(&core) {
            Ok(h) => h,
            Err(holder) => {
                if let Some(holder) = holder.filter(|_| !told) {
                    tracing::info!("{}; this app schedules nothing meanwhile", holder.describe());
                    told = true;
                    core.notify_connections_changed();
                }
                tokio::select! {
                    _ = tokio::time::sleep(TAKE_OVER_POLL) => {}
                    _ = core.schedule_changed.notified() => {}
                }
                continue;
            }
        };
        if told {
            tracing::info!("the HowNow service stopped: this app schedules the syncs now");
            told = false;
            core.notify_connections_changed();
        }
        let stop = CancellationToken::new();
        let waiter = TokioWaiter::default();
        let scheduled = h.scheduler.run(&waiter, &stop);
        tokio::pin!(scheduled);
        loop {
            tokio::select! {
                _ = &mut scheduled => break,
                _ = core.schedule_changed.notified() => {
                    if !Arc::ptr_eq(&core.backend().engine, &h.engine) {
                        // The backend changed: host the new one's scheduler instead.
                        stop.cancel();
                    } else {
                        h.scheduler.wake();
                    }
                }
            }
        }
    }
}

/// One pass of the scheduler, for tests that step it without waiting: `None` when another
/// host (the service) schedules this data dir.
pub async fn pass(core: &Arc<AppCore>) -> Option<Pass> {
    let h = hosted(core).ok()?;
    Some(
        h.scheduler
            .pass(&TokioWaiter::default(), &CancellationToken::new())
            .await,
    )
}

/// The scheduler's events, to the window, the tray and notifications. Weak: the core keeps the
/// scheduler, which must not keep the core alive.
struct Forward(Weak<AppCore>);

impl EventSink for Forward {
    fn event(&self, event: &SchedulerEvent) {
        let Some(core) = self.0.upgrade() else {
            return;
        };
        match event {
            SchedulerEvent::Started {
                connection_id, kind, ..
            } => core.scheduled_run_started(*connection_id, *kind),
            SchedulerEvent::Progress {
                connection_id,
                kind,
                progress,
            } => core.scheduled_run_progress(*connection_id, *kind, progress),
            SchedulerEvent::Finished(finished) => {
                // A paused connection gets its own notification (NeedsAttention follows).
                let error = finished
                    .error
                    .as_ref()
                    .filter(|_| !finished.needs_attention)
                    .map(|e| CommandError::new(ErrorKind::SyncFailed, e.clone()));
                core.scheduled_run_ended(finished.connection_id, error);
            }
            SchedulerEvent::Stopped { connection_id, .. } => core.scheduled_run_ended(*connection_id, None),
            SchedulerEvent::NeedsAttention { tenant_name, .. } => {
                core.needs_attention(tenant_name);
            }
            SchedulerEvent::TokenRefreshed { connection_id, .. } => {
                tracing::info!(connection = connection_id, "idle token refresh");
            }
            SchedulerEvent::Held {
                connection_id,
                until,
                reason,
                ..
            } => tracing::info!(connection = connection_id, %until, ?reason, "scheduled syncs held"),
            SchedulerEvent::ClockJumped { by_seconds, .. } => {
                tracing::info!(
                    by_seconds,
                    "the clock jumped (sleep or a clock change): re-planned"
                );
            }
        }
    }
}
