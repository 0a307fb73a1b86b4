//! `hownow sync --changes | --all`: run a sync now, with progress and a summary.

use std::process::ExitCode;

use hownow_sync::{RunKind, RunTrigger, SyncRequest};

use super::common::{self, Global};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("kind").required(true).args(["changes", "all"])))]
pub struct Args {
    /// Changes since the last sync, with the contact sweep (quick; recommended).
    #[arg(long)]
    pub changes: bool,
    /// Re-sync ALL client data (slow and API-hungry: the estimated calls are shown first).
    #[arg(long)]
    pub all: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not ask before a full re-sync.
    #[arg(long)]
    pub yes: bool,
    /// Go past the mass-removal guard (when XPM really lost that many clients).
    #[arg(long)]
    pub force: bool,
    /// The practice, by name or tenant id, when several are connected.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub tenant: Option<String>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let engine = common::open_engine(global)?;
    let connection = engine.connection(args.tenant.as_deref())?;
    let kind = if args.all { RunKind::Full } else { RunKind::Changes };
    if kind == RunKind::Full {
        let estimate = engine.estimate(connection.id, kind)?;
        eprintln!(
            "Re-sync ALL client data of {}: about {} API call{} and {:.1} MB to download.",
            connection.tenant_name,
            estimate.api_calls,
            common::plural(estimate.api_calls),
            estimate.bytes as f64 / 1_000_000.0
        );
        if !args.yes && common::stdin_is_terminal() && !common::confirm("Start it?") {
            eprintln!("Nothing was synced.");
            return Ok(ExitCode::FAILURE);
        }
    }
    let request = SyncRequest {
        force: args.force,
        ..SyncRequest::new(kind, RunTrigger::Manual)
    };
    common::runtime()?.block_on(common::sync_and_report(
        &engine,
        connection.id,
        request,
        args.json,
    ))?;
    Ok(ExitCode::SUCCESS)
}
