//! `hownow disconnect`: remove the connection at Xero, forget the token, keep or delete the
//! local directory.

use std::process::ExitCode;

use super::common::{self, Global};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Keep the synced clients and history (the connection is marked disconnected).
    #[arg(long)]
    pub keep_data: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// The practice, by name or tenant id, when several are connected.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub tenant: Option<String>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let engine = common::open_engine(global)?;
    let connection = engine.connection(args.tenant.as_deref())?;
    let report = common::runtime()?.block_on(engine.disconnect(connection.id, args.keep_data))?;
    if args.json {
        common::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    let at_xero = match (report.xero_connection_removed, report.token_revoked) {
        (true, true) => "removed at Xero and its token revoked",
        (true, false) => "removed at Xero",
        (false, true) => "token revoked at Xero",
        (false, false) => "not removed at Xero (remove HowNow Admin under Xero's connected apps)",
    };
    let local = if report.data_kept {
        "its clients and history are kept"
    } else {
        "its clients and history were deleted"
    };
    println!("Disconnected {}: {at_xero}; {local}.", report.tenant_name);
    Ok(ExitCode::SUCCESS)
}
