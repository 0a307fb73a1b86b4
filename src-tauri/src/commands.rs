//! The window's commands: each a few lines over the engine (through [`AppCore`]). Declared in
//! build.rs and granted to the main window in capabilities/main.json.

use std::path::PathBuf;
use std::sync::Arc;

use hownow_sync::connect::RedirectKind;
use hownow_sync::{ClientSummaryPage, CodeReport, CsvValues, RunKind, RunView};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::core::AppCore;
use crate::desktop_settings::DesktopSettings;
use crate::error::{CommandError, CommandResult};
use crate::export;
use crate::tray::Refresh;
use crate::views::{
    AppInfo, ConnectionView, ContactView, CsvExport, DisconnectView, FullSyncEstimate, LoginView,
    PrivilegeView, SchedulerView, XERO_DAY_LIMIT,
};

type Core<'a> = State<'a, Arc<AppCore>>;

/// Runs a blocking engine call off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CommandResult<T> + Send + 'static,
) -> CommandResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CommandError::internal(format!("a background task failed: {e}")))?
}

fn engine(core: &AppCore) -> Arc<hownow_sync::engine::Engine> {
    core.backend().engine.clone()
}

/// `utc_offset_minutes` and `time_zone` (an IANA name): the window's; the daily full sync hour is
/// local time, kept across DST when the zone is known.
#[tauri::command]
pub async fn app_info(
    core: Core<'_>,
    utc_offset_minutes: Option<i32>,
    time_zone: Option<String>,
) -> CommandResult<AppInfo> {
    // The page's first request: the window is up and its script runs.
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| tracing::info!(ms = crate::millis_since_start(), "window ready"));
    // What the page says of its zone is taken when it is valid; the engine checks it again.
    if let Some(offset) =
        utc_offset_minutes.filter(|o| o.abs() <= hownow_sync::SyncSettings::MAX_UTC_OFFSET_MINUTES)
    {
        core.update_sync_settings(move |s| s.utc_offset_minutes = offset)
            .await?;
    }
    if let Some(zone) = time_zone.filter(|z| hownow_sync::schedule::is_known_zone(z)) {
        core.update_sync_settings(move |s| s.time_zone = Some(zone.trim().to_string()))
            .await?;
    }
    let connections = core.connections().await?;
    let user_name = connections
        .iter()
        .find_map(|c| c.authorised_by.name.clone())
        .or_else(|| std::env::var("USER").or_else(|_| std::env::var("USERNAME")).ok())
        .unwrap_or_default();
    Ok(AppInfo {
        user_name,
        demo: core.backend().is_demo(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        privilege: PrivilegeView::default(),
    })
}

/// Who runs the scheduled syncs, when it is not this app: the connections page's line
/// ("Syncs are run by the HowNow service on this machine (pid 1234)").
#[tauri::command]
pub async fn scheduler_status(core: Core<'_>) -> CommandResult<SchedulerView> {
    let core = core.inner().clone();
    blocking(move || {
        let elsewhere = crate::scheduler::scheduled_elsewhere(&core);
        Ok(SchedulerView {
            scheduled_here: elsewhere.is_none(),
            message: elsewhere.map(|h| format!("{}.", h.describe())),
        })
    })
    .await
}

#[tauri::command]
pub async fn connections_list(core: Core<'_>) -> CommandResult<Vec<ConnectionView>> {
    core.connections().await
}

#[tauri::command]
pub async fn connection_disconnect(
    core: Core<'_>,
    connection_id: i64,
    keep_data: bool,
) -> CommandResult<DisconnectView> {
    if core.is_running(connection_id) {
        return Err(CommandError::busy(
            "wait for the running sync to finish, then disconnect",
        ));
    }
    let report = engine(&core).disconnect(connection_id, keep_data).await?;
    core.notify_connections_changed();
    Ok(DisconnectView {
        tenant_name: report.tenant_name,
        data_kept: report.data_kept,
        warnings: report.warnings,
    })
}

/// The administrator's own name for a practice; `None` or blank goes back to Xero's.
#[tauri::command]
pub async fn connection_rename(
    core: Core<'_>,
    connection_id: i64,
    name: Option<String>,
) -> CommandResult<()> {
    // A directory read and a state-file write: off the async workers, like the other commands.
    let engine = engine(&core);
    blocking(move || Ok(engine.rename_connection(connection_id, name.as_deref())?)).await?;
    core.notify_connections_changed();
    Ok(())
}

#[tauri::command]
pub async fn login_start(core: Core<'_>) -> CommandResult<LoginView> {
    core.start_login().await
}

#[tauri::command]
pub async fn login_open_again(core: Core<'_>) -> CommandResult<()> {
    core.open_login_again()
}

#[tauri::command]
pub async fn login_cancel(core: Core<'_>) -> CommandResult<()> {
    core.cancel_login();
    Ok(())
}

#[tauri::command]
pub async fn login_state(core: Core<'_>) -> CommandResult<LoginView> {
    Ok(core.login_view())
}

#[tauri::command]
pub async fn login_choose_tenant(core: Core<'_>, tenant_id: String) -> CommandResult<LoginView> {
    core.choose_tenant(&tenant_id).await
}

/// `force`: go past the mass-removal guard of a full sync (the admin confirmed).
#[tauri::command]
pub async fn sync_start(
    core: Core<'_>,
    connection_id: i64,
    kind: Refresh,
    force: Option<bool>,
) -> CommandResult<()> {
    let kind = match kind {
        Refresh::Changes => RunKind::Changes,
        Refresh::Full => RunKind::Full,
    };
    core.request_sync(connection_id, kind, force.unwrap_or(false))
        .await
}

#[tauri::command]
pub async fn sync_estimate_full(core: Core<'_>, connection_id: i64) -> CommandResult<FullSyncEstimate> {
    let estimate = {
        let engine = engine(&core);
        blocking(move || Ok(engine.estimate(connection_id, RunKind::Full)?)).await?
    };
    let day_remaining = core
        .overviews()
        .await?
        .into_iter()
        .find(|o| o.connection.id == connection_id)
        .and_then(|o| o.day_calls_left);
    Ok(FullSyncEstimate {
        api_calls: estimate.api_calls,
        bytes: estimate.bytes,
        day_remaining,
        day_limit: XERO_DAY_LIMIT,
    })
}

#[tauri::command]
pub async fn history_list(
    core: Core<'_>,
    connection_id: i64,
    limit: Option<u32>,
) -> CommandResult<Vec<RunView>> {
    let engine = engine(&core);
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    blocking(move || Ok(engine.history_views(connection_id, limit)?)).await
}

/// A run's Client Code report: the codes and names it changed and the clients it left without a
/// code (HowNow files by code). Read when the administrator opens it on the history page: it
/// scans the directory, which the list of runs does not.
#[tauri::command]
pub async fn history_codes(core: Core<'_>, run_id: i64) -> CommandResult<CodeReport> {
    let engine = engine(&core);
    blocking(move || Ok(engine.code_report(run_id)?)).await
}

#[tauri::command]
pub async fn clients_search(
    core: Core<'_>,
    connection_id: i64,
    query: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
) -> CommandResult<ClientSummaryPage> {
    let engine = engine(&core);
    let limit = limit.unwrap_or(200).clamp(1, 5000);
    let offset = offset.unwrap_or(0);
    blocking(move || Ok(engine.client_page(connection_id, query.as_deref(), offset, limit)?)).await
}

#[tauri::command]
pub async fn clients_contacts(
    core: Core<'_>,
    connection_id: i64,
    client_uuid: String,
) -> CommandResult<Vec<ContactView>> {
    let engine = engine(&core);
    blocking(move || {
        let contacts = engine
            .client_detail(connection_id, &client_uuid)?
            .map(|detail| detail.client.contacts)
            .unwrap_or_default();
        Ok(contacts
            .iter()
            .filter(|c| c.is_deleted != Some(true))
            .map(ContactView::from)
            .collect())
    })
    .await
}

/// Writes the HowNow contact records (SPEC 4.1) of the matching clients to the export folder
/// (the Downloads folder).
#[tauri::command]
pub async fn clients_export_csv(
    core: Core<'_>,
    connection_id: i64,
    query: Option<String>,
    raw: Option<bool>,
) -> CommandResult<CsvExport> {
    let folder = core.export_dir().to_path_buf();
    let engine = engine(&core);
    let values = if raw == Some(true) {
        CsvValues::Raw
    } else {
        CsvValues::Inert
    };
    let written =
        blocking(move || export::write_csv(&engine, connection_id, query.as_deref(), &folder, values))
            .await?;
    core.remember_export(written.0.clone());
    Ok(CsvExport {
        path: written.0.display().to_string(),
        rows: written.1,
    })
}

#[tauri::command]
pub async fn reveal_file<R: Runtime>(app: AppHandle<R>, core: Core<'_>, path: String) -> CommandResult<()> {
    let path = PathBuf::from(path);
    if !core.is_export(&path) {
        return Err(CommandError::invalid(
            "only files exported by HowNow Admin can be shown",
        ));
    }
    app.opener()
        .reveal_item_in_dir(&path)
        .map_err(|e| CommandError::internal(e.to_string()))
}

/// Where "Save diagnostics…" wrote the support bundle.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticsView {
    pub path: String,
    pub bytes: u64,
}

/// "Save diagnostics…": the support bundle, as `hownow support-bundle` writes it, in the export
/// folder (Downloads).
#[tauri::command]
pub async fn diagnostics_save(core: Core<'_>) -> CommandResult<DiagnosticsView> {
    let core = core.inner().clone();
    blocking(move || {
        let report = crate::diagnostics::save(&core)?;
        Ok(DiagnosticsView {
            path: report.path.display().to_string(),
            bytes: report.bytes,
        })
    })
    .await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    pub interval_hours: u32,
    pub daily_full_enabled: bool,
    pub daily_full_hour: u8,
    pub xero_client_id: String,
    pub login_mode: RedirectKind,
    /// Schedule settings belong to connections: there is nothing to set before the first one.
    #[serde(default, skip_deserializing)]
    pub schedule_available: bool,
    /// "Start HowNow Admin when I log in" (minimized, into the tray).
    pub start_at_login: bool,
}

#[tauri::command]
pub async fn settings_get(core: Core<'_>) -> CommandResult<SettingsView> {
    let sync = core.sync_settings().await?;
    let defaults = hownow_sync::SyncSettings::default();
    let s = sync.clone().unwrap_or(defaults);
    Ok(SettingsView {
        interval_hours: (s.changes_interval_minutes / 60).max(1),
        daily_full_enabled: s.daily_full_sync,
        daily_full_hour: s.daily_full_hour,
        xero_client_id: core.real_client_id().unwrap_or_default(),
        login_mode: core.login_mode(),
        schedule_available: sync.is_some(),
        start_at_login: core.start_at_login(),
    })
}

#[tauri::command]
pub async fn settings_save(core: Core<'_>, settings: SettingsView) -> CommandResult<SettingsView> {
    let (interval, daily, hour) = (
        settings.interval_hours,
        settings.daily_full_enabled,
        settings.daily_full_hour,
    );
    core.update_sync_settings(move |s| {
        s.changes_interval_minutes = interval * 60;
        s.daily_full_sync = daily;
        s.daily_full_hour = hour;
    })
    .await?;
    // Only a change is an explicit choice: saving other settings keeps "on once connected".
    let start_at_login = (settings.start_at_login != core.start_at_login())
        .then_some(settings.start_at_login)
        .or(core.desktop_settings().start_at_login);
    core.save_desktop_settings(DesktopSettings {
        login_mode: Some(settings.login_mode),
        start_at_login,
    })?;
    core.apply_start_at_login()?;
    core.set_client_id(Some(settings.xero_client_id)).await?;
    settings_get(core).await
}

/// Every command the window may call, for the builder and the mock-runtime tests.
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_info,
        scheduler_status,
        connections_list,
        connection_disconnect,
        connection_rename,
        login_start,
        login_open_again,
        login_cancel,
        login_state,
        login_choose_tenant,
        sync_start,
        sync_estimate_full,
        history_list,
        history_codes,
        clients_search,
        clients_contacts,
        clients_export_csv,
        reveal_file,
        diagnostics_save,
        settings_get,
        settings_save,
    ]
}
