//! The Demo practice (offline): with no Xero client id configured, the sandbox runs inside the
//! app on loopback and the engine works against it, so the whole wizard can be tried without a
//! Xero account. Its data dir is separate from the real one and starts fresh at every launch, so
//! nothing of the demo (settings, tokens, clients) can leak into a real connection.

use std::path::Path;
use std::sync::Arc;

use hownow_sandbox::{Sandbox, SandboxConfig};
use hownow_sync::connect::RedirectKind;
use hownow_sync::engine::{CredentialStorage, Engine, EngineOptions, XeroSettings};
use hownow_sync::Clock;

/// The client id the demo logs in with (the sandbox accepts any).
const DEMO_CLIENT_ID: &str = "hownow-admin-demo";
/// Sub-folder of the data dir holding the demo's throwaway directory.
const DEMO_DIR: &str = "demo";

pub struct DemoPractice {
    pub engine: Arc<Engine>,
    /// Held so the server keeps running; dropping it stops the sandbox.
    pub sandbox: Sandbox,
}

/// The engine's clock, as the sandbox's identity server reads time.
struct SameClock(Arc<dyn Clock>);

impl hownow_sandbox::identity::Clock for SameClock {
    fn now(&self) -> time::OffsetDateTime {
        self.0.now()
    }
}

pub async fn start(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<DemoPractice, String> {
    let dir = data_dir.join(DEMO_DIR);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("could not reset the demo data in {}: {e}", dir.display()))?;
    }
    // The demo's Xero keeps the app's time, as a real Xero's clock agrees with a computer's.
    let sandbox = Sandbox::start_with_clock(SandboxConfig::default(), Arc::new(SameClock(clock.clone())))
        .await
        .map_err(|e| format!("the demo practice could not start: {e}"))?;
    let mut options = EngineOptions::new(&dir);
    options.storage = Some(CredentialStorage::Memory);
    options.use_env = false;
    options.clock = clock;
    let engine = Engine::open(options).map_err(|e| e.to_string())?;
    engine.set_xero_settings(XeroSettings {
        issuer: sandbox.issuer().to_string(),
        api_base: sandbox.api_base().to_string(),
        client_id: Some(DEMO_CLIENT_ID.to_string()),
        redirect: RedirectKind::Deeplink,
        // The demo's Xero runs on this computer: pacing requests a second apart, as for the
        // real one, would only make the demo slow.
        min_request_spacing_ms: Some(0),
        ..XeroSettings::default()
    });
    tracing::info!(issuer = sandbox.issuer(), "demo practice running");
    Ok(DemoPractice {
        engine: Arc::new(engine),
        sandbox,
    })
}
