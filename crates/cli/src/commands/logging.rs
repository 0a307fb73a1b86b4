//! The log file of a `hownow` process in the data dir (`logs/cli.log`, or `logs/service.log` for
//! `hownow service run`): what support asks for, size-capped and 0600 (see `hownow_sync::logs`).
//! `HOWNOW_LOG` sets the filter (`info` by default; `hownow_sync=debug` for more).

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

use hownow_sync::engine::resolve_data_dir;
use hownow_sync::logs::{self, LogConfig, WorkerGuard};

use super::common::Global;

/// Keep it until the process ends: dropping it writes out what is still queued.
pub struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

pub fn filter() -> EnvFilter {
    EnvFilter::try_from_env("HOWNOW_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// A layer that writes to the data dir's `<name>.log`, for a host that adds its own console
/// layer beside it; `None` (and a warning on stderr) when the file cannot be opened: a missing
/// log never stops a sync.
pub fn file_layer(
    global: &Global,
    name: &str,
) -> Option<(Box<dyn Layer<Registry> + Send + Sync>, WorkerGuard)> {
    let data_dir = resolve_data_dir(global.data_dir.as_deref()).ok()?;
    // The data dir is private before anything is put in it.
    let opened = hownow_sync::private::private_dir(&data_dir)
        .and_then(|()| logs::file_writer(&data_dir, &LogConfig::new(name)));
    match opened {
        Ok((writer, guard, _path)) => {
            let layer = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter())
                .boxed();
            Some((layer, guard))
        }
        Err(e) => {
            eprintln!(
                "warning: no log file in {}: {e}",
                logs::log_dir(&data_dir).display()
            );
            None
        }
    }
}

/// Installs the process's subscriber with the data dir's `<name>.log` only.
pub fn init(global: &Global, name: &str) -> LogGuard {
    match file_layer(global, name) {
        Some((layer, guard)) => {
            let _ = tracing_subscriber::registry().with(layer).try_init();
            LogGuard(Some(guard))
        }
        None => LogGuard(None),
    }
}
