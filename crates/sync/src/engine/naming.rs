//! Which connection a command means, and the administrator's own names for practices.
//!
//! Xero may name a Practice Manager tenant nothing at all (see
//! [`crate::connect::nameless_practice`]), so a practice can be renamed locally. The name lives
//! in the state file, beside the sync settings: renaming never waits on a running sync, and it
//! outlives a reconnect, which rewrites the directory's row from Xero's answer.

use super::{Engine, EngineError, Result};
use crate::connect::is_id_prefix;
use crate::store::{Connection, ConnectionStatus};

/// Longest name the card and the CLI's tables show without truncation.
pub const MAX_NAME_CHARS: usize = 100;

impl Engine {
    /// The live connection `selector` names: its number, its tenant id, its name (the local one
    /// when renamed; case-insensitive) or a unique prefix of its tenant id (at least
    /// [`crate::connect::MIN_ID_PREFIX`] characters). Without a selector, the only live one.
    pub fn connection(&self, selector: Option<&str>) -> Result<Connection> {
        let live = self.live_connections()?;
        let Some(wanted) = selector.map(str::trim).filter(|s| !s.is_empty()) else {
            return match live.len() {
                0 => Err(EngineError::NotConnected),
                1 => Ok(live.into_iter().next().expect("one")),
                _ => Err(EngineError::WhichConnection {
                    names: live.into_iter().map(|c| c.tenant_name).collect(),
                }),
            };
        };
        let lower = wanted.to_lowercase();
        let exact = live.iter().position(|c| {
            c.id.to_string() == wanted
                || c.tenant_id.eq_ignore_ascii_case(wanted)
                || c.tenant_name.to_lowercase() == lower
        });
        if let Some(i) = exact {
            return Ok(live.into_iter().nth(i).expect("found"));
        }
        let mut by_prefix: Vec<Connection> = live
            .into_iter()
            .filter(|c| is_id_prefix(&c.tenant_id, wanted))
            .collect();
        match by_prefix.len() {
            1 => Ok(by_prefix.remove(0)),
            0 => Err(EngineError::NoSuchConnection(wanted.to_string())),
            _ => Err(EngineError::AmbiguousConnection {
                wanted: wanted.to_string(),
                names: by_prefix.into_iter().map(|c| c.tenant_name).collect(),
            }),
        }
    }

    /// Gives a practice the administrator's own name, shown everywhere instead of Xero's and
    /// accepted by `--tenant`. `None` or a blank name goes back to Xero's name.
    pub fn rename_connection(&self, connection_id: i64, name: Option<&str>) -> Result<Connection> {
        let connection = self.reader()?.connection(connection_id)?;
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        if let Some(name) = name {
            check_name(name)?;
            let lower = name.to_lowercase();
            if let Some(other) = self
                .live_connections()?
                .into_iter()
                .find(|c| c.id != connection_id && c.tenant_name.to_lowercase() == lower)
            {
                return Err(EngineError::InvalidName(format!(
                    "another connected practice is already called \"{}\"",
                    other.tenant_name
                )));
            }
        }
        let store = self.store()?;
        store.state()?.set_local_name(connection.id, name, store.now())?;
        tracing::info!(
            connection = connection_id,
            renamed = name.is_some(),
            "practice name changed"
        );
        Ok(self.reader()?.connection(connection_id)?)
    }

    fn live_connections(&self) -> Result<Vec<Connection>> {
        Ok(self
            .connections()?
            .into_iter()
            .filter(|c| c.status != ConnectionStatus::Disconnected)
            .collect())
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(EngineError::InvalidName(format!(
            "a practice's name can be at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(EngineError::InvalidName(
            "a practice's name cannot contain line breaks or control characters".to_string(),
        ));
    }
    Ok(())
}
