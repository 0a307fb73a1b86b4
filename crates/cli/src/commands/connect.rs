//! `hownow connect`: log in to Xero, choose the practice, save the connection, run the initial
//! full sync.

use std::io::{BufRead as _, Write as _};
use std::process::ExitCode;
use std::sync::Arc;

use hownow_sync::connect::RedirectKind;
use hownow_sync::engine::Engine;
use hownow_sync::{AuthorizedLogin, RunKind, RunTrigger, SyncRequest};

use super::common::{self, Global};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// http://localhost:PORT/callback, answered by hownow itself.
    Loopback,
    /// The https bounce page; paste the nz.co.hownow.admin://… link it opens.
    Deeplink,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Xero's OpenID issuer (the sandbox prints its own).
    #[arg(long, env = "HOWNOW_XERO_ISSUER", value_name = "URL")]
    pub issuer: Option<String>,
    /// Where /connections and /practicemanager/3.1 hang from.
    #[arg(long, env = "HOWNOW_XERO_API_BASE", value_name = "URL")]
    pub api_base: Option<String>,
    /// The Xero app's client id.
    #[arg(long, env = "HOWNOW_XERO_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// How Xero sends the browser back.
    #[arg(long, value_enum, value_name = "MODE")]
    pub redirect: Option<Redirect>,
    /// The loopback port (registered with the Xero app as http://localhost:PORT/callback);
    /// default: the first free of 53682, 53683, 53684. 0 takes any free port.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Do not open a browser: print the link (`Authorize: <url>`) and wait.
    #[arg(long)]
    pub no_browser: bool,
    /// The practice to connect, by name or tenant id, when the login can reach several.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub tenant: Option<String>,
    /// Print the initial sync's result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Keep --issuer, --api-base, --client-id, --redirect and --port (and their environment
    /// variables) in the data dir's settings for later logins. Without it they apply to this
    /// login only; the connection keeps the Xero it was made with either way.
    #[arg(long)]
    pub save: bool,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let engine = Arc::new(common::open_engine(global)?);
    let mut xero = engine.settings().xero;
    if let Some(issuer) = args.issuer.clone() {
        xero.issuer = issuer;
    }
    if let Some(api_base) = args.api_base.clone() {
        xero.api_base = api_base;
    }
    if let Some(client_id) = args.client_id.clone() {
        xero.client_id = Some(client_id);
    }
    if let Some(redirect) = args.redirect {
        xero.redirect = match redirect {
            Redirect::Loopback => RedirectKind::Loopback,
            Redirect::Deeplink => RedirectKind::Deeplink,
        };
    }
    if let Some(port) = args.port {
        xero.loopback_ports = vec![port];
    }
    let deep_link = xero.redirect == RedirectKind::Deeplink;
    engine.set_xero_settings(xero);
    common::runtime()?.block_on(connect(&engine, &args, deep_link))
}

async fn connect(engine: &Arc<Engine>, args: &Args, deep_link: bool) -> anyhow::Result<ExitCode> {
    let started = engine.start_login(None).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Authorize: {}", started.authorize_url)?;
        out.flush()?;
    }
    if !args.no_browser {
        if let Err(e) = open::that_detached(&started.authorize_url) {
            eprintln!("Could not open a browser ({e}); open the link above.");
        }
    }
    if deep_link {
        eprintln!("After allowing access, paste the nz.co.hownow.admin://oauth/callback… link here.");
        spawn_link_reader(engine.clone());
    } else {
        eprintln!(
            "Waiting for Xero to send the browser back to {} (up to 10 minutes)…",
            started.redirect_uri
        );
    }
    // With --json, stdout carries only the Authorize: line and the JSON result.
    let say = |line: String| {
        if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let login = engine.wait_for_login().await?;
    say(format!("Logged in to Xero as {}.", who(&login)));
    let tenant = choose_tenant(&login, args.tenant.as_deref())?;
    let connection = engine.finish_login(tenant.as_deref()).await?;
    say(format!(
        "Connected to {}. Tokens are kept in {}.",
        connection.tenant_name,
        engine.credential_storage_description()
    ));
    if args.save {
        engine.save_settings()?;
        say("Saved these Xero settings for later logins (--save).".to_string());
    }
    say("Initial full sync…".to_string());
    let initial = SyncRequest::new(RunKind::Full, RunTrigger::Initial);
    common::sync_and_report(engine, connection.id, initial, args.json).await?;
    Ok(ExitCode::SUCCESS)
}

fn who(login: &AuthorizedLogin) -> String {
    match (&login.user_name, &login.user_email) {
        (Some(name), Some(email)) => format!("{name} <{email}>"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => "an unnamed user".into(),
    }
}

/// `--tenant`, the only practice, or (on a terminal) the administrator's pick.
fn choose_tenant(login: &AuthorizedLogin, wanted: Option<&str>) -> anyhow::Result<Option<String>> {
    if wanted.is_some() || login.tenants.len() == 1 {
        return Ok(wanted.map(str::to_string));
    }
    let names: Vec<&str> = login.tenants.iter().map(|t| t.name.as_str()).collect();
    if !common::stdin_is_terminal() {
        return Err(common::usage(format!(
            "this login can reach several practices ({}); choose one with --tenant",
            names.join(", ")
        )));
    }
    eprintln!("This login can reach several practices:");
    for (i, name) in names.iter().enumerate() {
        eprintln!("  {}. {name}", i + 1);
    }
    eprint!("Connect which one? [1-{}] ", names.len());
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let index: usize = answer
        .trim()
        .parse()
        .ok()
        .filter(|i| (1..=names.len()).contains(i))
        .ok_or_else(|| common::usage("no practice chosen"))?;
    Ok(Some(login.tenants[index - 1].tenant_id.clone()))
}

/// Deep-link mode without a desktop app: the administrator pastes the link the bounce page
/// tried to open. Each line is handed to the engine, which ignores anything not for this login.
fn spawn_link_reader(engine: Arc<Engine>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            match engine.deliver_callback(line.trim()) {
                Ok(()) => break,
                Err(e) => eprintln!("That link was not accepted: {e}. Paste the link again."),
            }
        }
    });
}
