//! The CLI's words for what the engine asks of the administrator: the engine's messages say
//! what to do ("give HowNow Admin its client id"); here each gets the flag that does it. The
//! window words the same errors with its own controls.

use hownow_sync::engine::{EngineError, ENV_CLIENT_ID, ENV_DATA_DIR};
use hownow_sync::secrets::SecretError;
use hownow_sync::SyncError;

/// The flag (or variable) that answers `e`, when one does.
pub fn flag_hint(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|cause| {
        if let Some(engine) = cause.downcast_ref::<EngineError>() {
            return engine_hint(engine);
        }
        if let Some(sync) = cause.downcast_ref::<SyncError>() {
            return sync_hint(sync);
        }
        cause.downcast_ref::<SecretError>().and_then(secret_hint)
    })
}

fn engine_hint(e: &EngineError) -> Option<String> {
    match e {
        EngineError::MissingClientId => Some(format!("pass --client-id ID, or set {ENV_CLIENT_ID}")),
        EngineError::NoDataDir => Some(format!("pass --data-dir DIR, or set {ENV_DATA_DIR}")),
        EngineError::Sync(sync) => sync_hint(sync),
        _ => None,
    }
}

fn sync_hint(e: &SyncError) -> Option<String> {
    match e {
        SyncError::MassRemoval { .. } => Some("to confirm: hownow sync --all --force".to_string()),
        SyncError::Secrets(secret) => secret_hint(secret),
        _ => None,
    }
}

fn secret_hint(e: &SecretError) -> Option<String> {
    match e {
        SecretError::NoKeychain { .. } => Some("pass --insecure-storage (it is remembered)".to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_of_the_engine_gets_its_flag() {
        let hint = |e: EngineError| flag_hint(&anyhow::Error::from(e)).unwrap_or_default();
        assert!(hint(EngineError::MissingClientId).starts_with("pass --client-id ID"));
        assert!(hint(EngineError::NoDataDir).starts_with("pass --data-dir DIR"));
        let secret = SecretError::NoKeychain {
            detail: "no D-Bus".into(),
        };
        assert!(hint(EngineError::Sync(SyncError::Secrets(secret))).contains("--insecure-storage"));
        let removal = SyncError::MassRemoval {
            would_remove: 900,
            live: 1000,
            threshold: 0.2,
        };
        assert_eq!(
            hint(EngineError::Sync(removal)),
            "to confirm: hownow sync --all --force"
        );
        assert_eq!(flag_hint(&anyhow::anyhow!("anything else")), None);
        // Wrapped in context, the engine's error is still found.
        let wrapped = anyhow::Error::from(EngineError::MissingClientId).context("connecting");
        assert!(flag_hint(&wrapped).is_some());
    }
}
