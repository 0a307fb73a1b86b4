//! `hownow service run`: the engine's scheduler in the foreground, without a window, for an
//! always-on machine (started by hand, or by the unit `hownow service install` writes).
//!
//! * One line per run on stdout (`--json`: one JSON object per line, every scheduler event but
//!   progress), and the same in the data dir's `service.log`.
//! * One scheduler per data dir: while the desktop app schedules, this waits, says so once, and
//!   takes over when the app quits.
//! * SIGTERM or SIGINT stops it within seconds with exit 0: a running sync is dropped before its
//!   commit (its transaction rolls back, the run is recorded as interrupted) or, if its commit
//!   already ran, reported done.

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use hownow_sync::engine::Engine;
use hownow_sync::scheduler::{
    CancellationToken, EventSink, FinishedRun, Scheduler, SchedulerEvent, SchedulerHost, SchedulerLock,
    TokioWaiter,
};
use hownow_sync::{Clock, HoldReason};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use hownow_sync::engine::resolve_data_dir;
use hownow_sync::logs::{self, LogConfig, WorkerGuard};

use super::super::common::{self, Global};

/// How often a waiting service looks whether the app has let go of the schedule.
const TAKE_OVER_POLL: Duration = Duration::from_secs(2);

#[derive(clap::Args, Debug)]
pub struct Args {
    /// One JSON object per line (structured logs) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let _log = log_to_file_and_stderr(global);
    let engine = Arc::new(common::open_engine(global)?);
    let rt = common::runtime()?;
    let out = Arc::new(Lines {
        json: args.json,
        clock: engine.clock(),
    });
    let result = rt.block_on(serve(engine, out));
    // A blocking task still finishing (a SQLite read) must not hold the exit past the deadline.
    rt.shutdown_timeout(Duration::from_secs(2));
    result
}

/// The data dir's `service.log` (everything at `HOWNOW_LOG`'s level, `info` by default) and
/// warnings on stderr (the journal, under systemd). A log file that cannot be opened is said on
/// stderr and does not stop the service.
fn log_to_file_and_stderr(global: &Global) -> Option<WorkerGuard> {
    let filter = || EnvFilter::try_from_env("HOWNOW_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file = resolve_data_dir(global.data_dir.as_deref()).ok().and_then(|dir| {
        // The data dir is private before anything is put in it.
        let opened = hownow_sync::private::private_dir(&dir)
            .and_then(|()| logs::file_writer(&dir, &LogConfig::new("service")));
        opened
            .map_err(|e| eprintln!("warning: no log file in {}: {e}", logs::log_dir(&dir).display()))
            .ok()
    });
    let (layer, guard) = match file {
        Some((writer, guard, _)) => (
            Some(
                fmt::layer()
                    .with_ansi(false)
                    .with_writer(writer)
                    .with_filter(filter()),
            ),
            Some(guard),
        ),
        None => (None, None),
    };
    let console = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::filter::LevelFilter::WARN);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(console)
        .try_init();
    guard
}

async fn serve(engine: Arc<Engine>, out: Arc<Lines>) -> anyhow::Result<ExitCode> {
    let stop = CancellationToken::new();
    tokio::spawn(stop_on_signal(stop.clone(), out.clone()));

    let mut waited = false;
    let _lock = loop {
        match SchedulerLock::try_acquire(engine.data_dir(), SchedulerHost::Service)? {
            Ok(lock) => break lock,
            Err(holder) => {
                if !waited {
                    out.lifecycle(
                        "service_waiting",
                        &format!("{}; this service takes over when it stops", holder.describe()),
                        json!({ "holder": holder }),
                    );
                    waited = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(TAKE_OVER_POLL) => {}
                    _ = stop.cancelled() => {
                        out.lifecycle("service_stopped", "stopped", json!({}));
                        return Ok(ExitCode::SUCCESS);
                    }
                }
            }
        }
    };
    let connections = engine.connections()?.len();
    out.lifecycle(
        if waited {
            "service_took_over"
        } else {
            "service_started"
        },
        &format!(
            "{} syncs of {} ({connections} connection{}, pid {})",
            if waited {
                "took over the schedule: scheduling"
            } else {
                "scheduling"
            },
            engine.data_dir().display(),
            common::plural(connections as u64),
            std::process::id()
        ),
        json!({ "data_dir": engine.data_dir(), "connections": connections, "pid": std::process::id() }),
    );
    let scheduler = Scheduler::new(engine.clone(), out.clone());
    scheduler.run(&TokioWaiter::default(), &stop).await;
    out.lifecycle("service_stopped", "stopped", json!({}));
    Ok(ExitCode::SUCCESS)
}

async fn stop_on_signal(stop: CancellationToken, out: Arc<Lines>) {
    let name = signal().await;
    out.lifecycle(
        "service_stopping",
        &format!("{name}: stopping (a running sync is rolled back)"),
        json!({ "signal": name }),
    );
    stop.cancel();
}

#[cfg(unix)]
async fn signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        tracing::warn!("cannot listen for SIGTERM and SIGINT: stop this service with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl+C"
}

/// The service's output: a line per run and per thing worth knowing, text or JSON.
struct Lines {
    json: bool,
    clock: Arc<dyn Clock>,
}

impl Lines {
    fn write(&self, text: &str, value: serde_json::Value) {
        let now = self.clock.now();
        let line = if self.json {
            let mut value = value;
            if let Some(map) = value.as_object_mut() {
                map.insert("ts".into(), json!(common::rfc3339(now)));
            }
            value.to_string()
        } else {
            format!("{}  {text}", common::when(now))
        };
        tracing::info!(target: "hownow::service", "{text}");
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = stdout.flush();
    }

    fn lifecycle(&self, event: &str, text: &str, mut value: serde_json::Value) {
        if let Some(map) = value.as_object_mut() {
            map.insert("event".into(), json!(event));
            map.insert("message".into(), json!(text));
        }
        self.write(text, value);
    }
}

fn finished_text(f: &FinishedRun) -> String {
    let took = common::duration(time::Duration::milliseconds(
        f.elapsed_ms.min(i64::MAX as u64) as i64
    ));
    let what = match (&f.report, &f.error) {
        (Some(report), _) => {
            let c = &report.counts;
            format!(
                "done in {took}: {} client{} received ({} added, {} updated); {} archived, {} removed; {} API call{}",
                c.fetched,
                common::plural(c.fetched),
                c.added,
                c.updated,
                c.archived,
                c.removed,
                c.api_calls,
                common::plural(c.api_calls)
            )
        }
        (None, Some(error)) => format!("failed after {took}: {error}"),
        (None, None) => format!("ended after {took}"),
    };
    let next = match (f.next_at, f.next_kind) {
        (Some(at), Some(kind)) => format!("; next: {kind} at {}", common::when(at)),
        _ => String::new(),
    };
    format!("{}: {} sync ({}) {what}{next}", f.tenant_name, f.kind, f.trigger)
}

impl EventSink for Lines {
    fn event(&self, event: &SchedulerEvent) {
        let text = match event {
            // Too many for a log; the run's line says what it did.
            SchedulerEvent::Progress { .. } => return,
            SchedulerEvent::Started {
                tenant_name,
                kind,
                trigger,
                ..
            } => {
                // Text: one line per run, written when it ends. JSON: the start too.
                if !self.json {
                    return;
                }
                format!("{tenant_name}: {kind} sync ({trigger}) started")
            }
            SchedulerEvent::Finished(f) => finished_text(f),
            SchedulerEvent::Stopped {
                tenant_name, kind, ..
            } => {
                format!("{tenant_name}: {kind} sync stopped before it committed; nothing of it was kept")
            }
            SchedulerEvent::NeedsAttention {
                tenant_name, reason, ..
            } => {
                format!("{tenant_name} needs attention, its syncs are paused: {reason}")
            }
            SchedulerEvent::TokenRefreshed { tenant_name, .. } => {
                format!("{tenant_name}: Xero sign-in refreshed while idle")
            }
            SchedulerEvent::Held {
                tenant_name,
                until,
                reason,
                ..
            } => {
                let why = match reason {
                    HoldReason::Backoff => "backing off after failed runs",
                    HoldReason::DayLimit => "Xero's daily API limit is used up",
                    HoldReason::Budget => "the day's API calls left cannot pay for a sync",
                };
                format!("{tenant_name}: syncs held until {} ({why})", common::when(*until))
            }
            SchedulerEvent::ClockJumped { by_seconds, .. } => format!(
                "the clock moved {} more than this machine ran (it slept, or the clock was set): re-planning",
                common::duration(time::Duration::seconds(*by_seconds))
            ),
        };
        let mut value = serde_json::to_value(event).unwrap_or_else(|_| json!({}));
        if let Some(map) = value.as_object_mut() {
            map.insert("message".into(), json!(text));
        }
        self.write(&text, value);
    }
}
