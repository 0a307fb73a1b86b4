// The app's commands are declared here so Tauri generates an `allow-<command>` permission for each
// and refuses any command a capability in capabilities/ does not grant to the calling window.

const COMMANDS: &[&str] = &[
    "app_info",
    "scheduler_status",
    "connections_list",
    "connection_disconnect",
    "connection_rename",
    "login_start",
    "login_open_again",
    "login_cancel",
    "login_state",
    "login_choose_tenant",
    "sync_start",
    "sync_estimate_full",
    "history_list",
    "history_codes",
    "clients_search",
    "clients_contacts",
    "clients_export_csv",
    "reveal_file",
    "diagnostics_save",
    "settings_get",
    "settings_save",
];

fn main() {
    // The package is the workspace root: tauri.conf.json, capabilities/ and ui/ are found there.
    println!("cargo:rerun-if-changed=capabilities");
    println!("cargo:rerun-if-changed=ui");
    let attributes =
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}
