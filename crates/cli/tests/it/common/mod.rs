//! What the process tests of `hownow` share: the built binary, how long one of its runs may take,
//! the command line the engine tests start from, and a sandbox that consents for the test's
//! browser.

#![allow(dead_code)] // service_run, one of the users, is Unix-only

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use hownow_sandbox::identity::IdentityConfig;
use hownow_sandbox::{Sandbox, SandboxConfig, Switches};
use tokio::process::Command;

/// The `hownow` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_hownow");
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A practice of `clients` clients without rate limits, whose login consents on its own.
pub async fn sandbox(clients: usize) -> Sandbox {
    Sandbox::start(SandboxConfig {
        clients,
        identity: IdentityConfig {
            auto_consent: true,
            ..IdentityConfig::default()
        },
        switches: Switches::unlimited(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

/// `hownow ARGS --data-dir DATA_DIR --insecure-storage`, deaf to the environment's HOWNOW_*
/// settings, with no stdin, killed when dropped.
pub fn command(data_dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--insecure-storage")
        .env_remove("HOWNOW_DATA_DIR")
        .env_remove("HOWNOW_XERO_CLIENT_ID")
        .env_remove("HOWNOW_XERO_ISSUER")
        .env_remove("HOWNOW_XERO_API_BASE")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}
