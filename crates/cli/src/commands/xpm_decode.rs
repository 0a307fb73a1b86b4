use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The saved response (client list, paged list, single client, contacts page or error).
    pub file: PathBuf,
    /// Print JSON (the only format; accepted for scripts that pass it).
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not implemented yet")
}
