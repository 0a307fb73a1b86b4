//! `hownow history`: the sync runs, newest first, with what each changed and what the contact
//! sweep caught.

use std::process::ExitCode;

use super::common::{self, Global};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// How many runs to show.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: u32,
    /// The practice, by name or tenant id, when several are connected.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub tenant: Option<String>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let engine = common::open_engine(global)?;
    let connection = engine.connection(args.tenant.as_deref())?;
    if args.json {
        let mut views = engine.history_views(connection.id, args.limit)?;
        for view in &mut views {
            view.client_codes = Some(engine.code_report(view.run_id)?);
        }
        common::print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    let runs = engine.history(connection.id, args.limit)?;
    if runs.is_empty() {
        println!("No syncs yet.");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>4}  {:<20}  {:<8}  {:<10}  {:<18}  {:>8}  {:>7}  {:>7}  {:>7}  {:>8}  {:>6}  {:>5}",
        "RUN",
        "STARTED",
        "KIND",
        "TRIGGER",
        "OUTCOME",
        "DURATION",
        "FETCHED",
        "CHANGED",
        "REMOVED",
        "CONTACTS",
        "MISSED",
        "CALLS"
    );
    for run in &runs {
        let c = &run.counts;
        let took = run
            .ended_at
            .map(|end| common::duration(end - run.started_at))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:>4}  {:<20}  {:<8}  {:<10}  {:<18}  {:>8}  {:>7}  {:>7}  {:>7}  {:>8}  {:>6}  {:>5}",
            run.id,
            common::when(run.started_at),
            run.kind.as_str(),
            run.trigger.as_str(),
            run.outcome.as_str(),
            took,
            c.fetched,
            c.added + c.updated,
            c.removed,
            c.contacts_changed,
            c.missed_by_incremental
                .map(|m| m.to_string())
                .unwrap_or_else(|| "-".into()),
            c.api_calls,
        );
        if let Some(error) = &run.error {
            println!("      {error}");
        }
        let codes = engine.code_report(run.id)?;
        if !(codes.code_changed.is_empty() && codes.name_changed.is_empty() && codes.missing_code.is_empty())
        {
            println!(
                "      for HowNow's folders: {} client code{} and {} name{} changed, {} touched client{} without a code",
                codes.code_changed.len(),
                common::plural(codes.code_changed.len() as u64),
                codes.name_changed.len(),
                common::plural(codes.name_changed.len() as u64),
                codes.missing_code.len(),
                common::plural(codes.missing_code.len() as u64),
            );
        }
        if c.data_warnings > 0 {
            println!(
                "      {} value{} XPM sent could not be read (left empty); `hownow history --json` lists them",
                c.data_warnings,
                common::plural(c.data_warnings)
            );
        }
    }
    println!("CONTACTS: contacts the sweep found changed although XPM did not flag their client.");
    println!("MISSED: on full syncs, clients that had changed without XPM reporting them as modified.");
    Ok(ExitCode::SUCCESS)
}
