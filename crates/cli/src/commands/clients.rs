//! `hownow clients`: the directory as a table, as JSON (each client with its contacts), or as
//! CSV in HowNow's record shape.

use std::io::Write;
use std::process::ExitCode;

use hownow_sync::engine::EngineError;
use hownow_sync::record::{self, CsvValues};
use hownow_xpm::Client;
use serde::Serialize;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::common::{self, Global};

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only clients whose name, client code, email or UUID, or one of whose contacts' name or
    /// email, contains this (any case).
    #[arg(long, value_name = "Q")]
    pub search: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// With `--format csv`: XPM's values unchanged. By default a cell that a spreadsheet would
    /// take for a formula (`=`, `+`, `-`, `@`, …) is prefixed with `'`.
    #[arg(long)]
    pub raw: bool,
    /// The practice, by name or tenant id, when several are connected.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub tenant: Option<String>,
}

/// One client for `--format json`: XPM's record with its contacts, and the archived flag.
#[derive(Serialize)]
struct ClientView<'a> {
    archived: bool,
    #[serde(flatten)]
    client: &'a Client,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let engine = common::open_engine(global)?;
    let connection = engine.connection(args.tenant.as_deref())?;
    let search = args.search.as_deref();
    match args.format {
        Format::Json => {
            // One client at a time: a JSON array written as the directory is read.
            let mut out = std::io::stdout().lock();
            let mut first = true;
            write!(out, "[")?;
            engine.for_each_client(connection.id, search, |c| {
                let view = ClientView {
                    archived: c.client.is_archived == Some(true),
                    client: &c.client,
                };
                let separator = if std::mem::take(&mut first) {
                    "\n  "
                } else {
                    ",\n  "
                };
                write!(out, "{separator}")
                    .and_then(|()| serde_json::to_writer(&mut out, &view).map_err(std::io::Error::from))
                    .map_err(EngineError::Export)
            })?;
            writeln!(out, "{}]", if first { "" } else { "\n" })?;
        }
        Format::Csv => {
            let values = if args.raw {
                CsvValues::Raw
            } else {
                CsvValues::Inert
            };
            engine.export_csv(connection.id, search, values, std::io::stdout().lock())?;
        }
        Format::Table => {
            let mut rows = Vec::new();
            engine.for_each_client(connection.id, search, |c| {
                rows.push(table_row(&c.client));
                Ok(())
            })?;
            print_table(&rows);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn table_row(client: &Client) -> [String; 5] {
    let primary = record::primary_contact(client)
        .and_then(|p| p.name.clone())
        .unwrap_or_default();
    [
        client.name.clone().unwrap_or_default(),
        client.client_code.clone().unwrap_or_default(),
        if client.is_archived == Some(true) {
            "archived"
        } else {
            "active"
        }
        .to_string(),
        primary,
        client.email.clone().unwrap_or_default(),
    ]
}

fn print_table(rows: &[[String; 5]]) {
    let header = ["NAME", "CODE", "STATUS", "PRIMARY CONTACT", "EMAIL"];
    let limits = [40, 12, 8, 28, 36];
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].width())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
                .min(limits[i])
        })
        .collect();
    let line = |cells: &[String]| {
        let text: Vec<String> = cells.iter().zip(&widths).map(|(cell, &w)| pad(cell, w)).collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(&header.map(str::to_string));
    for row in rows {
        line(row);
    }
    println!("{} client{}", rows.len(), common::plural(rows.len() as u64));
}

/// Pads or cuts `text` to `width` terminal columns (an ellipsis marks a cut). Columns, not
/// characters: CJK names and emoji take two columns each and would push the next column along.
fn pad(text: &str, width: usize) -> String {
    if text.width() <= width {
        return format!("{text}{}", " ".repeat(width - text.width()));
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width.saturating_sub(1) {
            break;
        }
        cut.push(c);
        used += w;
    }
    cut.push('…');
    // A wide character that did not fit leaves one column over.
    format!("{cut}{}", " ".repeat(width.saturating_sub(used + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_columns_not_characters() {
        assert_eq!(pad("Acme", 6), "Acme  ");
        // Two columns each: 株式会社 fills eight.
        assert_eq!(pad("株式会社", 10), "株式会社  ");
        assert_eq!(pad("株式会社", 10).width(), 10);
        assert_eq!(pad("Smith & Sons 🎉", 16).width(), 16);
    }

    #[test]
    fn cuts_with_an_ellipsis_within_the_width() {
        assert_eq!(pad("Harbour & Co", 8), "Harbour…");
        // 株式 (4 columns) + … = 5; the next wide character would overflow 6.
        let cut = pad("株式会社テスト", 6);
        assert_eq!(cut, "株式… ");
        assert_eq!(cut.width(), 6);
    }
}
