//! `hownow service`: the scheduler without a window, and its registration with the OS's service
//! manager (a systemd unit, a LaunchAgent, a Task Scheduler task).

pub mod manage;
pub mod run;
pub mod units;

use std::process::ExitCode;

use clap::Subcommand;

use super::common::Global;

#[derive(Subcommand, Debug)]
pub enum ServiceCommand {
    /// Run the schedule in the foreground, without a window: a line per sync (--json: JSON
    /// lines); catches up at once; SIGTERM or SIGINT stops it (a running sync rolls back).
    Run(run::Args),
    /// Register `hownow service run` with the OS so syncs run without the window: a systemd
    /// unit (Linux), a LaunchAgent (macOS) or a logon task (Windows); enabled and started when
    /// the service manager is running.
    Install(manage::Scope),
    /// Stop, disable and remove what `install` registered (the data dir is kept).
    Uninstall(manage::Scope),
    /// Whether the service is installed, where, and what its manager says of it.
    Status(manage::Scope),
}

pub fn run(global: &Global, command: ServiceCommand) -> anyhow::Result<ExitCode> {
    match command {
        ServiceCommand::Run(args) => run::run(global, args),
        ServiceCommand::Install(scope) => manage::install(global, scope),
        ServiceCommand::Uninstall(scope) => manage::uninstall(global, scope),
        ServiceCommand::Status(scope) => manage::status(global, scope),
    }
}
