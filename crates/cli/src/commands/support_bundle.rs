//! `hownow support-bundle [FILE]`: the zip to send to support (logs, settings without secrets,
//! schema version, the last runs, versions and platform), built by the engine exactly as the
//! window's "Save diagnostics…" builds it.

use std::path::PathBuf;
use std::process::ExitCode;

use hownow_sync::engine::BundleHost;

use super::common::{self, Global};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the zip; default: hownow-support-YYYYMMDD-HHMMSS.zip in the current folder.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let engine = common::open_engine(global)?;
    let out = args
        .file
        .unwrap_or_else(|| PathBuf::from(engine.support_bundle_name()));
    let host = BundleHost {
        name: "hownow".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        extra: Vec::new(),
        logs_in: None,
    };
    let report = engine.write_support_bundle(&out, &host)?;
    println!(
        "Wrote {} ({:.1} KB, {} files). It holds no tokens; it does name your practices and, in the logs, clients.",
        report.path.display(),
        report.bytes as f64 / 1024.0,
        report.entries.len()
    );
    Ok(ExitCode::SUCCESS)
}
