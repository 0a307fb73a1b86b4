//! Which engine the app runs on: the firm's real data dir, or the in-process Demo practice when no
//! Xero client id is configured.

use super::*;

/// The engine for the real data dir, or the demo when no client id is configured.
/// `client_id`: `Some(change)` to save a new client id first.
pub(super) async fn open_backend(
    data_dir: &Path,
    client_id: Option<Option<String>>,
    clock: Arc<dyn Clock>,
) -> Result<Backend, String> {
    let dir = data_dir.to_path_buf();
    let engine_clock = clock.clone();
    let engine = tokio::task::spawn_blocking(move || -> Result<Engine, EngineError> {
        let engine = Engine::open(EngineOptions {
            clock: engine_clock,
            ..EngineOptions::new(dir)
        })?;
        if let Some(client_id) = client_id {
            let mut xero = engine.settings().xero;
            xero.client_id = client_id;
            engine.set_xero_settings(xero);
            engine.save_settings()?;
        }
        Ok(engine)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    if configured_client_id(&engine.settings()).is_some() {
        return Ok(Backend {
            engine: Arc::new(engine),
            demo: None,
        });
    }
    drop(engine);
    let demo = demo::start(data_dir, clock).await?;
    Ok(Backend {
        engine: demo.engine.clone(),
        demo: Some(demo),
    })
}
