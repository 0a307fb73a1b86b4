//! `hownow status`: each connection, its last and next syncs, and Xero's quota left.

use std::process::ExitCode;

use hownow_sync::scheduler::{SchedulerHolder, SchedulerLock};
use hownow_sync::{ConnectionOverview, ConnectionStatus, RunView};
use serde::Serialize;

use super::common::{self, Global};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct StatusView<'a> {
    data_dir: String,
    credential_storage: String,
    /// Who runs the schedule of this data dir now (the service or the app), if anyone.
    scheduler: Option<SchedulerHolder>,
    connections: Vec<ConnectionView<'a>>,
}

#[derive(Serialize)]
struct ConnectionView<'a> {
    id: i64,
    tenant_id: &'a str,
    tenant_name: &'a str,
    status: &'a str,
    status_reason: Option<&'a str>,
    authorised_by_name: Option<&'a str>,
    authorised_by_email: Option<&'a str>,
    /// The Xero identity service the connection's tokens belong to.
    issuer: Option<&'a str>,
    clients: u64,
    archived: u64,
    removed: u64,
    contacts: u64,
    last_run: Option<RunView>,
    last_success: Option<RunView>,
    next_changes_at: Option<String>,
    next_full_at: Option<String>,
    paused: bool,
    running_pid: Option<u32>,
    day_calls_left: Option<u64>,
    minute_calls_left: Option<u32>,
    full_sync_estimated_calls: u64,
}

impl<'a> ConnectionView<'a> {
    fn of(o: &'a ConnectionOverview) -> Self {
        let c = &o.connection;
        ConnectionView {
            id: c.id,
            tenant_id: &c.tenant_id,
            tenant_name: &c.tenant_name,
            status: c.status.as_str(),
            status_reason: c.status_reason.as_deref(),
            authorised_by_name: c.authorised_by_name.as_deref(),
            authorised_by_email: c.authorised_by_email.as_deref(),
            issuer: c.xero.as_ref().map(|x| x.issuer.as_str()),
            clients: o.counts.clients,
            archived: o.counts.archived,
            removed: o.counts.removed,
            contacts: o.counts.contacts,
            last_run: o.last_run.as_ref().map(RunView::from),
            last_success: o.last_success.as_ref().map(RunView::from),
            next_changes_at: common::opt_rfc3339(o.plan.next_changes_at),
            next_full_at: common::opt_rfc3339(o.plan.next_full_at),
            paused: o.plan.paused.is_some(),
            running_pid: o.running_pid,
            day_calls_left: o.day_calls_left,
            minute_calls_left: c.quota.min_remaining,
            full_sync_estimated_calls: o.full_sync_estimate.api_calls,
        }
    }
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let engine = common::open_engine(global)?;
    let overviews = engine.status()?;
    let scheduler = SchedulerLock::holder(engine.data_dir())?;
    if args.json {
        common::print_json(&StatusView {
            data_dir: engine.data_dir().display().to_string(),
            credential_storage: engine.credential_storage_description(),
            scheduler,
            connections: overviews.iter().map(ConnectionView::of).collect(),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("Data dir: {}", engine.data_dir().display());
    println!("Tokens: {}", engine.credential_storage_description());
    match &scheduler {
        Some(holder) => println!("{}.", holder.describe()),
        None => println!(
            "No scheduled syncs run now: open HowNow Admin, or run `hownow service run` (or install it with `hownow service install`)."
        ),
    }
    if overviews.is_empty() {
        println!("No practice is connected yet: run `hownow connect`.");
    }
    for o in &overviews {
        print_overview(o);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_overview(o: &ConnectionOverview) {
    let c = &o.connection;
    let status = match c.status {
        ConnectionStatus::Connected => "connected".to_string(),
        ConnectionStatus::Syncing => "syncing".to_string(),
        ConnectionStatus::NeedsReauth => format!(
            "needs reauthorisation ({}): run `hownow connect` again",
            c.status_reason
                .as_deref()
                .unwrap_or("the refresh token is no longer valid")
        ),
        ConnectionStatus::Disconnected => "disconnected (data kept)".to_string(),
    };
    println!();
    println!("{} ({status})", c.tenant_name);
    if let Some(who) = c
        .authorised_by_name
        .as_deref()
        .or(c.authorised_by_email.as_deref())
    {
        println!("  Authorised by:  {who}");
    }
    if let Some(xero) = &c.xero {
        println!("  Xero:           {}", xero.issuer);
    }
    println!(
        "  Directory:      {} clients ({} archived), {} contacts, {} removed",
        o.counts.clients, o.counts.archived, o.counts.contacts, o.counts.removed
    );
    match &o.last_run {
        Some(run) => println!(
            "  Last sync:      {} {} at {}: {}{}",
            run.kind,
            run.outcome,
            common::when(run.started_at),
            run.counts.fetched,
            match &run.error {
                Some(e) => format!(" clients received; {e}"),
                None => " clients received".to_string(),
            }
        ),
        None => println!("  Last sync:      never"),
    }
    if let Some(pid) = o.running_pid {
        println!("  Running now:    a sync (pid {pid})");
    }
    if o.plan.paused.is_none() {
        let next =
            |t: Option<time::OffsetDateTime>| t.map(common::when).unwrap_or_else(|| "not scheduled".into());
        println!("  Next changes:   {}", next(o.plan.next_changes_at));
        println!("  Next full sync: {}", next(o.plan.next_full_at));
    }
    match o.day_calls_left {
        Some(left) => println!("  Xero calls left today: {left}"),
        None => println!("  Xero calls left today: unknown (no recent answer from Xero)"),
    }
    println!(
        "  Re-sync ALL would take about {} API call{}.",
        o.full_sync_estimate.api_calls,
        common::plural(o.full_sync_estimate.api_calls)
    );
}
