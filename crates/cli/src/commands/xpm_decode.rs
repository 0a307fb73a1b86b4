//! `hownow xpm decode FILE`: decodes a saved XPM response and prints it as one JSON document,
//! `{"status":"OK","clients":[…],"contacts":[…],"groups":[…],"pagination":{…}}` with only the
//! keys the document had, and `"warnings":[…]` for values that could not be read (left out of
//! the records; also summarised on standard error). The file is streamed through the decoder,
//! never read whole.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hownow_xpm::decode::{decode_all, Decoded};
use hownow_xpm::XpmError;
use serde::Serialize;

#[derive(clap::Args)]
pub struct Args {
    /// The saved response (client list, paged list, single client, contacts page or error).
    pub file: PathBuf,
    /// Print JSON (the only format; accepted for scripts that pass it).
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Output<'a> {
    status: &'static str,
    #[serde(flatten)]
    decoded: &'a Decoded,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let path = args.file.display().to_string();
    if args.file.is_dir() {
        anyhow::bail!("{path} is a directory, not a saved XPM response");
    }
    let file = File::open(&args.file).with_context(|| format!("cannot open {path}"))?;
    let decoded = match decode_all(BufReader::with_capacity(64 * 1024, file)) {
        Ok(decoded) => decoded,
        // The envelope said ERROR: Xero's own description is the message.
        Err(e @ XpmError::Api { .. }) => anyhow::bail!("{e}"),
        Err(XpmError::Transport(m) | XpmError::Timeout(m)) => anyhow::bail!("cannot read {path}: {m}"),
        Err(e) => return Err(anyhow::Error::new(e).context(path)),
    };
    for w in &decoded.warnings {
        eprintln!(
            "warning: client {}: <{}> `{}` {}; left empty",
            w.client_uuid.as_deref().unwrap_or("-"),
            w.field,
            w.raw_value,
            w.reason
        );
    }
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    serde_json::to_writer_pretty(
        &mut out,
        &Output {
            status: "OK",
            decoded: &decoded,
        },
    )
    .context("writing the JSON to standard output")?;
    writeln!(out)
        .and_then(|()| out.flush())
        .context("writing the JSON to standard output")?;
    Ok(ExitCode::SUCCESS)
}
