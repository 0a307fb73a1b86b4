//! The error a command returns to the window: a kind the UI can branch on and one sentence for
//! the administrator. Built from the engine's typed errors; never carries a token.

use hownow_sync::engine::EngineError;
use hownow_sync::SyncError;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    /// `busy`, `needs_reauth`, `invalid`, `not_found`, `login` or `internal`.
    pub kind: &'static str,
    pub message: String,
}

impl CommandError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        CommandError {
            kind,
            message: capitalise(message.into()),
        }
    }

    pub fn busy(message: impl Into<String>) -> Self {
        Self::new("busy", message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("invalid", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }
}

/// The engine's messages are written to follow "hownow: "; the window shows them on their own.
fn capitalise(mut message: String) -> String {
    if let Some(first) = message.chars().next() {
        if first.is_lowercase() {
            let upper: String = first.to_uppercase().collect();
            message.replace_range(..first.len_utf8(), &upper);
        }
    }
    if !message.ends_with(['.', '!', '?']) {
        message.push('.');
    }
    message
}

impl From<SyncError> for CommandError {
    fn from(e: SyncError) -> Self {
        let kind = match &e {
            SyncError::AlreadyRunning { .. } => "busy",
            SyncError::NeedsReauth { .. } | SyncError::Xpm(hownow_xpm::XpmError::NeedsReauth { .. }) => {
                "needs_reauth"
            }
            SyncError::UnknownConnection(_) => "not_found",
            SyncError::Disconnected(_) | SyncError::OverBudget { .. } | SyncError::MassRemoval { .. } => {
                "invalid"
            }
            _ => "internal",
        };
        CommandError::new(kind, e.to_string())
    }
}

impl From<EngineError> for CommandError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Sync(e) => e.into(),
            EngineError::Connect(e) => CommandError::new("login", e.to_string()),
            e if e.is_usage() => CommandError::invalid(e.to_string()),
            EngineError::NotConnected | EngineError::NoSuchConnection(_) => {
                CommandError::new("not_found", e.to_string())
            }
            e => CommandError::internal(e.to_string()),
        }
    }
}

impl From<tauri::Error> for CommandError {
    fn from(e: tauri::Error) -> Self {
        CommandError::internal(e.to_string())
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_sentences() {
        let e = CommandError::from(SyncError::UnknownConnection(7));
        assert_eq!(e.kind, "not_found");
        assert_eq!(e.message, "There is no connection with id 7.");
    }

    #[test]
    fn a_running_sync_is_reported_as_busy() {
        let e = CommandError::from(EngineError::Sync(SyncError::AlreadyRunning {
            pid: Some(42),
            started_at: None,
        }));
        assert_eq!(e.kind, "busy");
        assert!(e.message.contains("already running"), "{}", e.message);
    }

    #[test]
    fn serialises_as_kind_and_message() {
        let json = serde_json::to_value(CommandError::invalid("bad hour")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "invalid", "message": "Bad hour."})
        );
    }
}
