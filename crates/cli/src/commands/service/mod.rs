//! `hownow service`: the scheduler without a window, and its registration with the OS's service
//! manager (a systemd unit, a LaunchAgent, a Task Scheduler task).

pub mod run;

use std::process::ExitCode;

use clap::Subcommand;

use super::common::Global;

#[derive(Subcommand, Debug)]
pub enum ServiceCommand {
    /// Run the schedule in the foreground, without a window: a line per sync (--json: JSON
    /// lines); catches up at once; SIGTERM or SIGINT stops it (a running sync rolls back).
    Run(run::Args),
}

pub fn run(global: &Global, command: ServiceCommand) -> anyhow::Result<ExitCode> {
    match command {
        ServiceCommand::Run(args) => run::run(global, args),
    }
}
