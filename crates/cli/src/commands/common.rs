//! What the engine commands share: the global options, opening the engine, the tokio runtime,
//! usage errors (exit 2), progress display and the plain-text/JSON views of engine results.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use hownow_sync::engine::{resolve_data_dir, CredentialStorage, Engine, EngineOptions};
use hownow_sync::{Phase, Progress, ProgressSink, RunView, SyncReport};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Options every engine command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// The data dir (directory database, settings, locks); default: the OS app data dir, shared
    /// with the desktop app.
    #[arg(long, global = true, env = "HOWNOW_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep the Xero refresh token in a file readable only by you (0600) instead of the OS
    /// keychain, for headless servers without one. Anyone who can read your files can read it.
    #[arg(long, global = true)]
    pub insecure_storage: bool,
}

/// A command line that asks for something impossible: exit code 2, like clap's own errors.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Opens the engine of the chosen data dir, warning on stderr when tokens go to a file.
pub fn open_engine(global: &Global) -> anyhow::Result<Engine> {
    let data_dir = resolve_data_dir(global.data_dir.as_deref())?;
    let mut options = EngineOptions::new(data_dir);
    if global.insecure_storage {
        options.storage = Some(CredentialStorage::File);
    }
    let engine = Engine::open(options)?;
    if engine.credential_storage() == CredentialStorage::File {
        eprintln!(
            "warning: the Xero refresh token is kept in {}, not in the OS keychain: anyone who can read your files can read it",
            engine.credential_storage_description()
        );
    }
    Ok(engine)
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Asks a yes/no question on the terminal; `false` unless the answer starts with y.
pub fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && answer.trim().to_lowercase().starts_with('y')
}

pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

// ---- times -------------------------------------------------------------------------------

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

pub fn opt_rfc3339(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(rfc3339)
}

/// `2024-05-01 14:03 UTC`: short and unambiguous for people.
pub fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

pub fn duration(d: time::Duration) -> String {
    let ms = d.whole_milliseconds().max(0);
    if ms < 10_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 120_000 {
        format!("{} s", ms / 1000)
    } else {
        format!("{} min", ms / 60_000)
    }
}

// ---- runs ----------------------------------------------------------------------------------

/// The few lines that say what a committed run did.
pub fn summary_lines(report: &SyncReport) -> Vec<String> {
    let c = &report.counts;
    let label = match report.kind.as_str() {
        "full" => "Full sync",
        "changes" => "Changes sync",
        _ => "Contact sweep",
    };
    let mut lines = vec![format!(
        "{label} done in {}: {} client{} received ({} added, {} updated, {} unchanged); {} archived, {} removed; {} API call{}.",
        duration(report.ended_at - report.started_at),
        c.fetched,
        plural(c.fetched),
        c.added,
        c.updated,
        c.unchanged,
        c.archived,
        c.removed,
        c.api_calls,
        plural(c.api_calls),
    )];
    if report.kind.as_str() != "full" {
        lines.push(format!(
            "Contact sweep: {} contact{} checked, {} changed without XPM flagging the client, {} new; {} client{} re-fetched.",
            c.contacts_fetched,
            plural(c.contacts_fetched),
            c.contacts_changed,
            c.contacts_unknown,
            c.refetched,
            plural(c.refetched),
        ));
    }
    // At XPM's pace: what the list cost in waiting and on the wire.
    if c.list_wait_ms >= 10_000 || c.list_timeouts > 0 {
        lines.push(format!(
            "XPM took {} to start sending the client list{}.",
            duration(time::Duration::milliseconds(
                c.list_wait_ms.min(i64::MAX as u64) as i64
            )),
            match c.list_timeouts {
                0 => String::new(),
                n => format!(" ({n} tr{} timed out first)", if n == 1 { "y" } else { "ies" }),
            }
        ));
    }
    if c.bytes >= 1_000_000 && c.bytes_on_wire > 0 && c.bytes_on_wire < c.bytes {
        lines.push(format!(
            "Received {:.1} MB compressed ({:.1} MB of XML).",
            c.bytes_on_wire as f64 / 1e6,
            c.bytes as f64 / 1e6
        ));
    }
    if let Some(missed) = c.missed_by_incremental {
        lines.push(format!(
            "Missed by incremental: {missed} client{} had changed without XPM reporting it as modified.",
            plural(missed)
        ));
    }
    if report.full_sync_requested {
        lines.push("A full sync was requested to place new contacts; it runs next.".into());
    }
    lines
}

pub fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

// ---- progress ------------------------------------------------------------------------------

fn phase_label(phase: Phase) -> &'static str {
    match phase {
        Phase::Preparing => "waiting for Xero Practice Manager to prepare the client list",
        Phase::Listing => "receiving clients",
        Phase::Removing => "marking removed clients",
        Phase::CheckingMissed => "checking what modifiedsince reports",
        Phase::SweepingContacts => "sweeping contacts",
        Phase::Refetching => "re-fetching clients",
        Phase::Committing => "saving",
    }
}

/// A progress bar on a terminal, plain lines on stderr otherwise, nothing when quiet.
pub enum ProgressView {
    Bar(ProgressBar, Mutex<Option<Phase>>),
    Lines(Mutex<Option<Phase>>),
    Quiet,
}

impl ProgressView {
    pub fn new(quiet: bool) -> Self {
        if quiet {
            ProgressView::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            ProgressView::Bar(bar, Mutex::new(None))
        } else {
            ProgressView::Lines(Mutex::new(None))
        }
    }

    pub fn finish(&self) {
        if let ProgressView::Bar(bar, _) = self {
            bar.finish_and_clear();
        }
    }
}

impl ProgressSink for ProgressView {
    fn progress(&self, event: &Progress) {
        match self {
            ProgressView::Quiet => {}
            ProgressView::Lines(last) => {
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                let label = phase_label(event.phase);
                if let Some(waiting) = event.waiting_message() {
                    // One line when the wait starts, then one a minute: a log, not a ticker.
                    if *last != Some(event.phase) || (event.done > 0 && event.done % 60 == 0) {
                        eprintln!("{waiting}");
                    }
                    *last = Some(event.phase);
                    return;
                }
                match (event.done, event.total) {
                    (_, Some(0)) => {}
                    (0, _) if *last != Some(event.phase) => eprintln!("{label}…"),
                    (0, _) => {}
                    (done, Some(total)) => eprintln!("{label}: {done}/{total}"),
                    (done, None) => eprintln!("{label}: {done}"),
                }
                *last = Some(event.phase);
            }
            ProgressView::Bar(bar, last) => {
                let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(waiting) = event.waiting_message() {
                    if *last != Some(event.phase) {
                        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
                            bar.set_style(style);
                        }
                        *last = Some(event.phase);
                    }
                    bar.set_message(waiting);
                    return;
                }
                if *last != Some(event.phase) {
                    let style = match event.total {
                        Some(_) => ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}"),
                        None => ProgressStyle::with_template("{spinner} {msg}: {pos}"),
                    };
                    if let Ok(style) = style {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar.set_message(phase_label(event.phase));
                    *last = Some(event.phase);
                }
                if let Some(total) = event.total {
                    bar.set_length(total);
                }
                bar.set_position(event.done);
            }
        }
    }
}

/// Runs `request` on `connection_id` with a progress line (unless `json`), then prints the
/// result: the summary, or one JSON document. Shared by `connect` (the initial sync) and `sync`.
pub async fn sync_and_report(
    engine: &hownow_sync::engine::Engine,
    connection_id: i64,
    request: hownow_sync::SyncRequest,
    json: bool,
) -> anyhow::Result<()> {
    let progress = ProgressView::new(json);
    let report = engine.sync(connection_id, request, &progress).await;
    progress.finish();
    let report = report?;
    if json {
        print_json(&RunView::from(&report))?;
    } else {
        for line in summary_lines(&report) {
            println!("{line}");
        }
    }
    Ok(())
}
