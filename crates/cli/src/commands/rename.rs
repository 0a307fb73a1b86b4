//! `hownow rename`: the administrator's own name for a practice, for when Xero names it nothing
//! useful. Kept locally; `--tenant` and every listing use it.

use std::process::ExitCode;

use super::common::{self, Global, UsageError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The new name (at most 100 characters).
    #[arg(value_name = "NAME", required_unless_present = "reset")]
    pub name: Option<String>,
    /// Go back to the name Xero gives.
    #[arg(long, conflicts_with = "name")]
    pub reset: bool,
    /// The practice, by name, tenant id or the start of its id, when several are connected.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub tenant: Option<String>,
    /// Print the renamed connection as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let engine = common::open_engine(global)?;
    let connection = engine.connection(args.tenant.as_deref())?;
    let name = if args.reset {
        None
    } else {
        match args.name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => Some(name),
            _ => return Err(UsageError("give the new name, or --reset for Xero's".into()).into()),
        }
    };
    let renamed = engine.rename_connection(connection.id, name)?;
    if args.json {
        common::print_json(&renamed)?;
        return Ok(ExitCode::SUCCESS);
    }
    match &renamed.renamed_from {
        Some(xero_name) => println!(
            "{} is now called \"{}\" here (Xero calls it \"{xero_name}\").",
            connection.tenant_name, renamed.tenant_name
        ),
        None => println!(
            "The practice is called \"{}\" again, as in Xero.",
            renamed.tenant_name
        ),
    }
    Ok(ExitCode::SUCCESS)
}
