//! `hownow`: HowNow Admin's engine without a window. Each command is a thin adapter over the
//! library crates; argument parsing lives here, behaviour lives in the crates.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hownow",
    version,
    about = "Keep a firm's HowNow client directory in step with Xero Practice Manager"
)]
struct Cli {
    #[command(flatten)]
    global: commands::common::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Log in to Xero, choose the practice, and run the initial full sync.
    Connect(commands::connect::Args),
    /// Sync now: changes since the last sync, or all client data.
    Sync(commands::sync::Args),
    /// Each connection, its last and next syncs, and Xero's quota left.
    Status(commands::status::Args),
    /// The client directory: search, contacts, JSON or CSV export.
    Clients(commands::clients::Args),
    /// The sync history.
    History(commands::history::Args),
    /// Remove the connection at Xero and forget its token; keep or delete the local data.
    Disconnect(commands::disconnect::Args),
    /// Give a practice your own name (kept locally), or go back to Xero's.
    Rename(commands::rename::Args),
    /// The whole journey, headless, against an in-process sandbox.
    Demo(commands::demo::Args),
    /// Run an offline Xero (identity, connections, Practice Manager 3.1) on loopback.
    Sandbox(commands::sandbox::Args),
    /// Run the schedule without the window, and register it with the OS's service manager.
    Service {
        #[command(subcommand)]
        command: commands::service::ServiceCommand,
    },
    /// Write a zip for support: recent logs, settings without secrets, the last runs, versions.
    SupportBundle(commands::support_bundle::Args),
    /// Tools for Xero Practice Manager responses.
    Xpm {
        #[command(subcommand)]
        command: XpmCommand,
    },
}

#[derive(Subcommand)]
enum XpmCommand {
    /// Decode a saved XPM response and print it as one JSON document.
    Decode(commands::xpm_decode::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = cli.global;
    // Commands that reach Xero or change the directory leave a trace in the data dir's log.
    let _log = match &cli.command {
        Command::Connect(_) | Command::Sync(_) | Command::Disconnect(_) => {
            Some(commands::logging::init(&global, "cli"))
        }
        _ => None,
    };
    let result = match cli.command {
        Command::Connect(args) => commands::connect::run(&global, args),
        Command::Sync(args) => commands::sync::run(&global, args),
        Command::Status(args) => commands::status::run(&global, args),
        Command::Clients(args) => commands::clients::run(&global, args),
        Command::History(args) => commands::history::run(&global, args),
        Command::Disconnect(args) => commands::disconnect::run(&global, args),
        Command::Rename(args) => commands::rename::run(&global, args),
        Command::Demo(args) => commands::demo::run(&global, args),
        Command::Sandbox(args) => commands::sandbox::run(args),
        Command::Service { command } => commands::service::run(&global, command),
        Command::SupportBundle(args) => commands::support_bundle::run(&global, args),
        Command::Xpm {
            command: XpmCommand::Decode(args),
        } => commands::xpm_decode::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => report(&e),
    }
}

/// One sentence on stderr; exit 2 for a command line that asks for the impossible, 1 otherwise.
fn report(e: &anyhow::Error) -> ExitCode {
    if let Some(usage) = e.downcast_ref::<commands::common::UsageError>() {
        eprintln!("error: {usage}");
        return ExitCode::from(2);
    }
    let hint = commands::hints::flag_hint(e);
    let hint = || hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default();
    if let Some(engine) = e.downcast_ref::<hownow_sync::EngineError>() {
        eprintln!("error: {engine}{}", hint());
        return if engine.is_usage() {
            ExitCode::from(2)
        } else {
            ExitCode::FAILURE
        };
    }
    eprintln!("error: {e:#}{}", hint());
    ExitCode::FAILURE
}
