//! The error a command returns to the window: a kind the UI can branch on and one sentence for
//! the administrator. Built from the engine's typed errors; never carries a token.

use hownow_sync::engine::EngineError;
use hownow_sync::SyncError;
use serde::Serialize;

/// What kind of failure a command had: what the window may branch on. Serialised in snake case;
/// `ui/js/kinds.js` lists the same values (checked by a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A sync of this connection is running (here or in another process).
    Busy,
    /// Xero wants the administrator to log in again.
    NeedsReauth,
    /// The request cannot be done as asked (bad settings, a paused connection, a name taken).
    Invalid,
    NotFound,
    /// The Xero login failed or was refused.
    Login,
    /// A scheduled sync failed (the tray and notifications say why).
    SyncFailed,
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Busy,
        ErrorKind::NeedsReauth,
        ErrorKind::Invalid,
        ErrorKind::NotFound,
        ErrorKind::Login,
        ErrorKind::SyncFailed,
        ErrorKind::Internal,
    ];
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CommandError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CommandError {
            kind,
            message: capitalise(message.into()),
        }
    }

    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Busy, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
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
            SyncError::AlreadyRunning { .. } => ErrorKind::Busy,
            SyncError::NeedsReauth { .. } | SyncError::Xpm(hownow_xpm::XpmError::NeedsReauth { .. }) => {
                ErrorKind::NeedsReauth
            }
            SyncError::UnknownConnection(_) => ErrorKind::NotFound,
            SyncError::Disconnected(_) | SyncError::OverBudget { .. } | SyncError::MassRemoval { .. } => {
                ErrorKind::Invalid
            }
            _ => ErrorKind::Internal,
        };
        CommandError::new(kind, e.to_string())
    }
}

impl From<EngineError> for CommandError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Sync(e) => e.into(),
            EngineError::Connect(e) => CommandError::new(ErrorKind::Login, e.to_string()),
            e if e.is_usage() => CommandError::invalid(e.to_string()),
            EngineError::NotConnected | EngineError::NoSuchConnection(_) => {
                CommandError::new(ErrorKind::NotFound, e.to_string())
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
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.message, "There is no connection with id 7.");
    }

    #[test]
    fn a_running_sync_is_reported_as_busy() {
        let e = CommandError::from(EngineError::Sync(SyncError::AlreadyRunning {
            pid: Some(42),
            started_at: None,
        }));
        assert_eq!(e.kind, ErrorKind::Busy);
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
