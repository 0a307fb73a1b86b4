//! The settings the window edits: the desktop's own (login mode, start at login), the Xero
//! client id (which switches between the firm's Xero and the demo), and each connection's sync
//! settings.

use super::*;

impl AppCore {
    pub fn desktop_settings(&self) -> DesktopSettings {
        lock(&self.desktop).clone()
    }

    pub fn save_desktop_settings(&self, settings: DesktopSettings) -> CommandResult<()> {
        settings
            .save(&self.data_dir)
            .map_err(|e| CommandError::internal(format!("could not save the settings: {e}")))?;
        *lock(&self.desktop) = settings;
        Ok(())
    }

    /// Whether the app starts at login: the administrator's choice, else on once a real practice
    /// is connected (never for the demo alone).
    pub fn start_at_login(&self) -> bool {
        let backend = self.backend();
        let real_connection = !backend.is_demo()
            && backend
                .engine
                .connections()
                .map(|all| all.iter().any(|c| c.status != ConnectionStatus::Disconnected))
                .unwrap_or(false);
        self.desktop_settings().effective_start_at_login(real_connection)
    }

    /// Makes the OS's autostart entry match [`AppCore::start_at_login`]. Called at start, after
    /// the settings change and when connections change (the first real one turns it on).
    pub fn apply_start_at_login(&self) -> CommandResult<()> {
        let Some(autostart) = &self.autostart else {
            return Ok(());
        };
        let wanted = self.start_at_login();
        if autostart.is_enabled() == wanted {
            return Ok(());
        }
        autostart.set(wanted).map_err(|e| {
            CommandError::internal(format!(
                "could not {} the start-at-login entry: {e}",
                if wanted { "write" } else { "remove" }
            ))
        })?;
        tracing::info!(enabled = wanted, "start at login updated");
        Ok(())
    }

    /// The Xero client id saved for the real data dir (or set in the environment).
    pub fn real_client_id(&self) -> Option<String> {
        let backend = self.backend();
        if backend.is_demo() {
            let mut settings = EngineSettings::load(&self.data_dir).unwrap_or_default();
            settings.apply_env();
            configured_client_id(&settings)
        } else {
            configured_client_id(&backend.engine.settings())
        }
    }

    /// Saves a new Xero client id; switches between the demo and the real engine when it
    /// appears or disappears. Refused while a sync runs.
    pub async fn set_client_id(&self, client_id: Option<String>) -> CommandResult<()> {
        let client_id = client_id.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
        if let Some(id) = &client_id {
            if id.chars().any(char::is_whitespace) || id.len() > 200 {
                return Err(CommandError::invalid(
                    "a Xero client id is one word of letters and digits",
                ));
            }
        }
        if client_id == self.real_client_id() {
            return Ok(());
        }
        if !lock(&self.running).is_empty() {
            return Err(CommandError::busy(
                "wait for the running sync to finish before changing the Xero client id",
            ));
        }
        self.cancel_login();
        let backend = open_backend(&self.data_dir, Some(client_id), self.clock.clone())
            .await
            .map_err(CommandError::internal)?;
        *self.backend.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(backend);
        self.ui.connections_changed();
        self.schedule_changed.notify_one();
        Ok(())
    }

    /// Changes every live connection's schedule settings through the engine (which checks them);
    /// the scheduler and the window hear of it when anything changed.
    pub async fn update_sync_settings(
        &self,
        change: impl Fn(&mut SyncSettings) + Send + 'static,
    ) -> CommandResult<()> {
        let engine = self.backend().engine.clone();
        let changed = blocking(move || engine.update_sync_settings(change)).await?;
        if changed {
            self.schedule_changed.notify_one();
            self.ui.connections_changed();
        }
        Ok(())
    }

    /// The first live connection's schedule settings (the Settings page edits all at once).
    pub async fn sync_settings(&self) -> CommandResult<Option<SyncSettings>> {
        let engine = self.backend().engine.clone();
        blocking(move || {
            Ok(engine
                .connections()?
                .into_iter()
                .find(|c| c.status != ConnectionStatus::Disconnected)
                .map(|c| c.settings))
        })
        .await
    }
}
