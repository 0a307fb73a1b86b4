//! What the scheduler tells its host: the desktop app forwards these to the window, the tray and
//! notifications; `hownow service run` writes them as log lines (or JSON lines).

use serde::Serialize;
use time::OffsetDateTime;

use crate::schedule::HoldReason;
use crate::store::{RunKind, RunTrigger};
use crate::sync::{Progress, SyncReport};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinishedRun {
    pub connection_id: i64,
    pub tenant_name: String,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    /// The committed run; `None` when it failed (see `error`; its history row says more).
    pub report: Option<SyncReport>,
    pub error: Option<String>,
    /// The failure paused the connection (a [`SchedulerEvent::NeedsAttention`] follows).
    pub needs_attention: bool,
    pub elapsed_ms: u64,
    /// What the schedule runs next for this connection, and when.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_at: Option<OffsetDateTime>,
    pub next_kind: Option<RunKind>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SchedulerEvent {
    /// A scheduled sync started.
    Started {
        connection_id: i64,
        tenant_name: String,
        kind: RunKind,
        trigger: RunTrigger,
    },
    Progress {
        connection_id: i64,
        kind: RunKind,
        progress: Progress,
    },
    /// A scheduled sync ended, committed or failed (and recorded in the history either way).
    Finished(Box<FinishedRun>),
    /// A running sync was dropped because the host is stopping: nothing of it was kept.
    Stopped {
        connection_id: i64,
        tenant_name: String,
        kind: RunKind,
    },
    /// The connection's syncs are paused until someone acts (reauthorise, reconnect). Told once
    /// per pause.
    NeedsAttention {
        connection_id: i64,
        tenant_name: String,
        reason: String,
    },
    TokenRefreshed {
        connection_id: i64,
        tenant_name: String,
    },
    /// Due runs wait until `until` (back-off, Xero's day limit, the day budget). Told once per
    /// hold.
    Held {
        connection_id: i64,
        tenant_name: String,
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
        reason: HoldReason,
    },
    /// The wall clock moved `by_seconds` more than the machine ran since the last pass (the
    /// computer slept, or the clock was set): the schedule was re-planned at once.
    ClockJumped {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        by_seconds: i64,
    },
}

/// Where the scheduler's events go. Called on the scheduler's task: keep it quick.
pub trait EventSink: Send + Sync {
    fn event(&self, event: &SchedulerEvent);
}

impl<F: Fn(&SchedulerEvent) + Send + Sync> EventSink for F {
    fn event(&self, event: &SchedulerEvent) {
        self(event)
    }
}

/// A channel for hosts that consume events on another task.
impl EventSink for tokio::sync::mpsc::UnboundedSender<SchedulerEvent> {
    fn event(&self, event: &SchedulerEvent) {
        let _ = self.send(event.clone());
    }
}
