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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an offline Xero (identity, connections, Practice Manager 3.1) on loopback.
    Sandbox(commands::sandbox::Args),
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
    let result = match cli.command {
        Command::Sandbox(args) => commands::sandbox::run(args),
        Command::Xpm {
            command: XpmCommand::Decode(args),
        } => commands::xpm_decode::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
