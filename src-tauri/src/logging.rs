//! The app's log: stderr as before, and `logs/app.log` in the data dir, size-capped and 0600
//! (`hownow_sync::logs`), for the support bundle. `HOWNOW_LOG` sets the filter (`info`).

use std::sync::OnceLock;

use hownow_sync::logs::{self, LogConfig, WorkerGuard};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{fmt, EnvFilter, Layer as _};

/// Kept for the life of the process so queued lines reach the file.
static GUARD: OnceLock<WorkerGuard> = OnceLock::new();

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("HOWNOW_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

pub fn init() {
    let console = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(filter());
    let file = hownow_sync::engine::resolve_data_dir(None)
        .map_err(|e| e.to_string())
        .and_then(|dir| {
            hownow_sync::private::private_dir(&dir)
                .and_then(|()| logs::file_writer(&dir, &LogConfig::new("app")))
                .map_err(|e| format!("{}: {e}", logs::log_dir(&dir).display()))
        });
    let file = match file {
        Ok((writer, guard, _path)) => {
            let _ = GUARD.set(guard);
            Some(
                fmt::layer()
                    .with_ansi(false)
                    .with_writer(writer)
                    .with_filter(filter()),
            )
        }
        Err(e) => {
            eprintln!("HowNow Admin: no log file ({e})");
            None
        }
    };
    tracing_subscriber::registry().with(console).with(file).init();
}
