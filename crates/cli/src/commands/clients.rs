//! `hownow clients`: the directory as a table, as JSON (each client with its contacts), or as
//! CSV in HowNow's record shape.

use std::process::ExitCode;

use hownow_sync::record;
use hownow_xpm::Client;
use serde::Serialize;

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
    /// Only clients whose name, client code, email or UUID contains this (any case).
    #[arg(long, value_name = "Q")]
    pub search: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
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
    let clients = engine.clients(connection.id, args.search.as_deref())?;
    match args.format {
        Format::Json => {
            let views: Vec<ClientView<'_>> = clients
                .iter()
                .map(|c| ClientView {
                    archived: c.client.is_archived == Some(true),
                    client: &c.client,
                })
                .collect();
            common::print_json(&views)?;
        }
        Format::Csv => {
            let fallback = connection.settings.client_code_fallback;
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            out.write_record(CSV_HEADER)?;
            for c in &clients {
                let r = record::record(&c.client, fallback);
                let flag = |b: bool| if b { "Yes" } else { "No" };
                out.write_record([
                    r.uuid.as_str(),
                    r.client_code.as_deref().unwrap_or_default(),
                    r.name.as_deref().unwrap_or_default(),
                    r.phone_number.as_deref().unwrap_or_default(),
                    r.web_url.as_deref().unwrap_or_default(),
                    r.address.lines.as_deref().unwrap_or_default(),
                    r.address.city.as_deref().unwrap_or_default(),
                    r.address.region.as_deref().unwrap_or_default(),
                    r.address.post_code.as_deref().unwrap_or_default(),
                    r.address.country.as_deref().unwrap_or_default(),
                    r.given_name.as_str(),
                    r.family_name.as_str(),
                    r.email.as_deref().unwrap_or_default(),
                    r.contact_phone.as_deref().unwrap_or_default(),
                    flag(r.is_individual),
                    flag(r.is_active),
                    flag(r.is_archived),
                ])?;
            }
            out.flush()?;
        }
        Format::Table => print_table(&clients),
    }
    Ok(ExitCode::SUCCESS)
}

const CSV_HEADER: [&str; 17] = [
    "UUID",
    "Client Code",
    "Client Name",
    "PhoneNumber",
    "WebUrl",
    "Address",
    "City",
    "Region",
    "PostCode",
    "Country",
    "GivenName",
    "FamilyName",
    "Email",
    "ContactPhone",
    "IsIndividual",
    "IsActive",
    "IsArchived",
];

fn print_table(clients: &[hownow_sync::DirectoryClient]) {
    let rows: Vec<[String; 5]> = clients
        .iter()
        .map(|c| {
            let client = &c.client;
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
        })
        .collect();
    let header = ["NAME", "CODE", "STATUS", "PRIMARY CONTACT", "EMAIL"];
    let limits = [40, 12, 8, 28, 36];
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
                .min(limits[i])
        })
        .collect();
    let line = |cells: Vec<String>| {
        let text: Vec<String> = cells.iter().zip(&widths).map(|(cell, &w)| pad(cell, w)).collect();
        println!("{}", text.join("  ").trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row.to_vec());
    }
    println!("{} client{}", clients.len(), common::plural(clients.len() as u64));
}

/// Pads or cuts `text` to `width` characters (an ellipsis marks a cut).
fn pad(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count > width {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else {
        format!("{text}{}", " ".repeat(width - count))
    }
}
