//! The schedule settings the administrator edits (interval, daily full sync and its hour, the
//! firm's time zone): checked once here, for the window and the CLI alike, and saved for every
//! live connection (the Settings page edits them together).

use super::{Engine, Result};
use crate::settings::SyncSettings;
use crate::store::ConnectionStatus;

impl Engine {
    /// Applies `change` to every live connection's settings and saves those it changed;
    /// `Ok(true)` when any did. A change that leaves a setting out of range is refused before
    /// anything is saved, even with no connection yet.
    pub fn update_sync_settings(&self, change: impl Fn(&mut SyncSettings)) -> Result<bool> {
        let mut probe = SyncSettings::default();
        change(&mut probe);
        probe.validate()?;
        let mut store = self.store()?;
        let mut changed = false;
        for connection in store.connections()? {
            if connection.status == ConnectionStatus::Disconnected {
                continue;
            }
            let mut settings = connection.settings.clone();
            change(&mut settings);
            if settings != connection.settings {
                settings.validate()?;
                store.update_settings(connection.id, &settings)?;
                changed = true;
            }
        }
        Ok(changed)
    }
}
