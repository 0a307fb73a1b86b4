//! The syncs running in this process: starting one (at most one per connection), relaying its
//! progress to the window and the tray, and what happens when it ends.

use super::*;

impl AppCore {
    /// Something outside the core changed connections (a disconnect): refresh views and plans.
    pub fn notify_connections_changed(&self) {
        if let Err(e) = self.apply_start_at_login() {
            tracing::warn!(error = %e.message, "start at login not updated");
        }
        self.ui.connections_changed();
        self.schedule_changed.notify_one();
    }

    /// The schedule policy for a connection, evaluated now (the engine saves its next-due times).
    pub async fn plan(&self, connection_id: i64) -> CommandResult<hownow_sync::Plan> {
        let engine = self.backend().engine.clone();
        blocking(move || engine.plan(connection_id)).await
    }

    /// The engine's scheduler started a sync: shown as running, and a Refresh of it is refused.
    pub(crate) fn scheduled_run_started(&self, connection_id: i64, kind: RunKind) {
        self.mark_running(connection_id, kind);
        self.ui.connections_changed();
    }

    pub(crate) fn scheduled_run_progress(&self, connection_id: i64, kind: RunKind, event: &Progress) {
        self.on_progress(connection_id, kind, event);
    }

    /// The engine's scheduler ended a sync (committed, failed with `error`, or stopped).
    pub(crate) fn scheduled_run_ended(self: &Arc<Self>, connection_id: i64, error: Option<CommandError>) {
        let core = self.clone();
        tokio::spawn(async move { core.after_run(connection_id, error).await });
    }

    /// A connection's syncs are paused until the admin reauthorises it.
    pub(crate) fn needs_attention(&self, tenant_name: &str) {
        self.ui.notify(
            "HowNow Admin needs reauthorisation",
            &format!("Xero no longer accepts the sign-in for {tenant_name}. Open HowNow Admin and choose Reauthorise."),
        );
        self.ui.connections_changed();
    }

    pub fn is_running(&self, connection_id: i64) -> bool {
        lock(&self.running).contains_key(&connection_id)
    }

    pub fn running_progress(&self) -> Option<Option<f64>> {
        let running = lock(&self.running);
        running
            .values()
            .next()
            .map(|r| r.progress.as_ref().and_then(|p| p.percent))
    }

    /// What a running sync waits for, when it waits for XPM to prepare the client list.
    pub fn running_wait(&self) -> Option<String> {
        let running = lock(&self.running);
        running
            .values()
            .filter_map(|r| r.progress.as_ref())
            .find(|p| p.phase == "preparing")
            .map(|p| p.message.clone())
    }

    /// A sync the admin asked for: refused with a clear reason when the connection cannot sync
    /// (unknown, disconnected, needing reauthorisation) or already syncs here.
    pub async fn request_sync(
        self: &Arc<Self>,
        connection_id: i64,
        kind: RunKind,
        force: bool,
    ) -> CommandResult<()> {
        let engine = self.backend().engine.clone();
        let connection = blocking(move || Ok(engine.reader()?.connection(connection_id)?)).await?;
        match connection.status {
            ConnectionStatus::Disconnected => Err(CommandError::invalid(format!(
                "{} is disconnected; reconnect it to sync",
                connection.tenant_name
            ))),
            ConnectionStatus::NeedsReauth => Err(CommandError::new(
                ErrorKind::NeedsReauth,
                format!(
                    "Xero no longer accepts the sign-in for {}; reauthorise it first",
                    connection.tenant_name
                ),
            )),
            _ => self.start_sync(connection_id, kind, RunTrigger::Manual, force),
        }
    }

    /// Starts a sync in the background; refuses when one of this connection already runs here
    /// (another process is told by the engine's cross-process lock when the run starts).
    pub fn start_sync(
        self: &Arc<Self>,
        connection_id: i64,
        kind: RunKind,
        trigger: RunTrigger,
        force: bool,
    ) -> CommandResult<()> {
        if !self.mark_running(connection_id, kind) {
            return Err(CommandError::busy(
                "a sync of this practice is already running; it continues by itself and this request was not queued",
            ));
        }
        self.ui.connections_changed();
        let core = self.clone();
        tokio::spawn(async move { core.run_sync(connection_id, kind, trigger, force).await });
        Ok(())
    }

    /// Records a run of this connection in this app; `false` if one already runs here.
    fn mark_running(&self, connection_id: i64, kind: RunKind) -> bool {
        let mut running = lock(&self.running);
        if running.contains_key(&connection_id) {
            return false;
        }
        running.insert(
            connection_id,
            Running {
                kind,
                hint: SizeHint::default(),
                progress: None,
            },
        );
        true
    }

    async fn run_sync(self: Arc<Self>, connection_id: i64, kind: RunKind, trigger: RunTrigger, force: bool) {
        let backend = self.backend();
        let engine = backend.engine.clone();
        let counts = blocking(move || Ok(engine.reader()?.counts(connection_id)?))
            .await
            .ok();
        if let Some(counts) = counts {
            if let Some(r) = lock(&self.running).get_mut(&connection_id) {
                r.hint = SizeHint {
                    clients: counts.clients + counts.removed,
                    contacts: counts.contacts,
                };
            }
        }
        let relay = Relay {
            core: &self,
            connection_id,
            kind,
        };
        let request = SyncRequest {
            force,
            ..SyncRequest::new(kind, trigger)
        };
        let result = backend.engine.sync(connection_id, request, &relay).await;
        self.after_run(connection_id, result.err().map(CommandError::from))
            .await;
    }

    /// After a run here (manual or scheduled): no longer running; the window, tray and a
    /// notification told how it went.
    async fn after_run(self: &Arc<Self>, connection_id: i64, error: Option<CommandError>) {
        lock(&self.running).remove(&connection_id);
        let engine = self.backend().engine.clone();
        let (run, tenant_name) = blocking(move || {
            let run = engine.history(connection_id, 1)?.into_iter().next();
            let name = engine.reader()?.connection(connection_id)?.tenant_name;
            Ok((run, name))
        })
        .await
        .unwrap_or((None, String::new()));
        if let Some(e) = error {
            tracing::warn!(connection = connection_id, error = %e.message, "sync failed");
            match e.kind {
                ErrorKind::NeedsReauth => self.ui.notify(
                    "HowNow Admin needs reauthorisation",
                    &format!("Xero no longer accepts the sign-in for {tenant_name}. Open HowNow Admin and choose Reauthorise."),
                ),
                // Another process (the CLI) is syncing it: not a failure worth a notification.
                ErrorKind::Busy => {}
                _ => self.ui.notify(&format!("Sync failed: {tenant_name}"), &e.message),
            }
        }
        self.ui.sync_finished(&SyncFinished {
            connection_id,
            tenant_name,
            run: run.as_ref().map(hownow_sync::RunView::from),
        });
        self.ui.connections_changed();
        self.schedule_changed.notify_one();
    }

    fn on_progress(&self, connection_id: i64, kind: RunKind, event: &Progress) {
        let view = {
            let mut running = lock(&self.running);
            let Some(run) = running.get_mut(&connection_id) else {
                return;
            };
            let view = progress::view(connection_id, kind, event, run.hint);
            run.progress = Some(view.clone());
            view
        };
        self.ui.sync_progress(&view);
    }
}

/// What a run shows before its first progress event.
pub(super) fn starting(connection_id: i64, kind: RunKind) -> ProgressView {
    ProgressView {
        connection_id,
        run_kind: kind.as_str(),
        phase: "starting",
        message: "Starting".to_string(),
        done: 0,
        total: None,
        percent: None,
    }
}

struct Relay<'a> {
    core: &'a AppCore,
    connection_id: i64,
    kind: RunKind,
}

impl ProgressSink for Relay<'_> {
    fn progress(&self, event: &Progress) {
        self.core.on_progress(self.connection_id, self.kind, event);
    }
}
