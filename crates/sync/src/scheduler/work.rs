//! What the scheduler asks of the engine, as a trait so that its loop can be tested against a
//! fake directory on a hand-moved clock (no Xero, no sleeps); [`Engine`] is the real one.

use std::future::Future;
use std::sync::Arc;

use crate::clock::Clock;
use crate::engine::{Engine, EngineError};
use crate::lock::SyncLock;
use crate::schedule::Plan;
use crate::store::{Connection, ConnectionStatus};
use crate::sync::{ProgressSink, SyncReport, SyncRequest};

/// A connection as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub id: i64,
    pub tenant_name: String,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
}

impl From<Connection> for Scheduled {
    fn from(c: Connection) -> Self {
        Scheduled {
            id: c.id,
            tenant_name: c.tenant_name,
            status: c.status,
            status_reason: c.status_reason,
        }
    }
}

/// The engine as the scheduler drives it.
pub trait ScheduledWork: Send + Sync + 'static {
    fn clock(&self) -> Arc<dyn Clock>;

    /// Every connection (disconnected ones included: the scheduler skips them).
    fn connections(&self) -> Result<Vec<Scheduled>, EngineError>;

    /// The schedule policy for a connection now (the engine also saves its next-due times).
    fn plan(&self, connection_id: i64) -> Result<Plan, EngineError>;

    /// One run under the connection's sync lock. Dropping the future before it completes drops
    /// the run's open transaction: nothing of it is kept.
    fn sync<'a>(
        &'a self,
        connection_id: i64,
        request: SyncRequest,
        progress: &'a dyn ProgressSink,
    ) -> impl Future<Output = Result<SyncReport, EngineError>> + Send + 'a;

    /// The idle refresh that keeps the refresh token alive.
    fn refresh_token(&self, connection_id: i64) -> impl Future<Output = Result<(), EngineError>> + Send + '_;

    /// A run of this connection was dropped (the host is stopping): record it as interrupted
    /// and put the connection back to `connected`, rather than leave that to the next run.
    fn run_dropped(&self, connection_id: i64) -> Result<(), EngineError>;
}

impl ScheduledWork for Engine {
    fn clock(&self) -> Arc<dyn Clock> {
        Engine::clock(self)
    }

    fn connections(&self) -> Result<Vec<Scheduled>, EngineError> {
        Ok(Engine::connections(self)?
            .into_iter()
            .map(Scheduled::from)
            .collect())
    }

    fn plan(&self, connection_id: i64) -> Result<Plan, EngineError> {
        Engine::plan(self, connection_id)
    }

    fn sync<'a>(
        &'a self,
        connection_id: i64,
        request: SyncRequest,
        progress: &'a dyn ProgressSink,
    ) -> impl Future<Output = Result<SyncReport, EngineError>> + Send + 'a {
        Engine::sync(self, connection_id, request, progress)
    }

    fn refresh_token(&self, connection_id: i64) -> impl Future<Output = Result<(), EngineError>> + Send + '_ {
        Engine::refresh_token(self, connection_id)
    }

    fn run_dropped(&self, connection_id: i64) -> Result<(), EngineError> {
        let mut store = self.store()?;
        // Someone else may already run it again (a manual sync): their run marks ours.
        let Ok(_lock) = SyncLock::try_acquire(&store.lock_dir(), connection_id) else {
            return Ok(());
        };
        store.interrupt_runs(
            connection_id,
            "stopped when HowNow was shut down; nothing of it was kept",
        )?;
        Ok(())
    }
}
