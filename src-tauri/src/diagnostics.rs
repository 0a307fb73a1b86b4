//! The window's "Save diagnostics…": the support bundle `hownow support-bundle` writes (built by
//! the engine), saved in the export folder (Downloads) so the window can show it in its folder.

use hownow_sync::engine::{BundleHost, BundleReport, EngineError};

use crate::core::AppCore;
use crate::desktop_settings::DesktopSettings;

pub fn save(core: &AppCore) -> Result<BundleReport, EngineError> {
    let folder = core.export_dir().to_path_buf();
    std::fs::create_dir_all(&folder).map_err(|source| EngineError::Io {
        path: folder.clone(),
        source,
    })?;
    let out = folder.join(core.backend().engine.support_bundle_name());
    let desktop = serde_json::to_vec_pretty(&DesktopSettings::load(core.data_dir())).expect("serialises");
    let host = BundleHost {
        name: "HowNow Admin".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        extra: vec![("desktop.json".into(), desktop)],
        logs_in: Some(core.data_dir().to_path_buf()),
    };
    let report = core.backend().engine.write_support_bundle(&out, &host)?;
    core.remember_export(report.path.clone());
    Ok(report)
}
