//! `hownow demo`: the whole journey, headless, against an in-process sandbox: connect through the
//! real PKCE login (the demo plays the browser), the initial full sync, staff editing XPM
//! (including the contact changes XPM's `modifiedsince` does not flag), a changes sync, and a
//! summary checked against the directory.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use hownow_sandbox::identity::IdentityConfig;
use hownow_sandbox::practice::{ClientDetails, PracticeHandle};
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::{Sandbox, SandboxConfig};
use hownow_sync::connect::RedirectMode;
use hownow_sync::engine::{CredentialStorage, Engine, EngineOptions, XeroSettings};
use hownow_sync::{RunKind, RunTrigger, SyncReport, SyncRequest};

use super::common::{self, Global, ProgressView};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Clients in the demo practice.
    #[arg(long, default_value_t = 250, value_name = "N", value_parser = clap::value_parser!(u64).range(10..=100_000))]
    pub clients: u64,
    /// Seed of the generated practice.
    #[arg(long, default_value_t = SandboxConfig::default().seed, value_name = "S")]
    pub seed: u64,
}

pub fn run(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    common::runtime()?.block_on(demo(global, args))
}

/// One staff edit made in the sandbox, and how to tell the directory got it.
struct Edit {
    what: String,
    client_uuid: String,
    /// XPM's `modifiedsince` reports the client (false: only the contact sweep can catch it).
    flagged: Option<bool>,
    caught: bool,
}

async fn demo(global: &Global, args: Args) -> anyhow::Result<ExitCode> {
    let temp;
    let data_dir: PathBuf = match &global.data_dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let sandbox = Sandbox::start(SandboxConfig {
        clients: args.clients as usize,
        seed: args.seed,
        identity: IdentityConfig {
            auto_consent: true,
            ..IdentityConfig::default()
        },
        ..SandboxConfig::default()
    })
    .await
    .context("the sandbox did not start")?;

    // Tokens in memory only: the demo must not touch the keychain, and its tokens die with it.
    let engine = Engine::open(EngineOptions {
        storage: Some(CredentialStorage::Memory),
        use_env: false,
        ..EngineOptions::new(&data_dir)
    })?;
    if !engine.connections()?.is_empty() {
        return Err(common::usage(format!(
            "the demo needs an empty data dir, and {} already holds connections",
            data_dir.display()
        )));
    }
    engine.set_xero_settings(XeroSettings {
        issuer: sandbox.issuer().to_string(),
        api_base: sandbox.api_base().to_string(),
        client_id: Some("hownow-admin-demo".into()),
        // The demo's Xero runs on this computer: pacing requests a second apart, as for the
        // real one, would only make the demo slow.
        min_request_spacing_ms: Some(0),
        ..XeroSettings::default()
    });
    println!(
        "HowNow Admin demo against an offline Xero (sandbox) with a practice of {} clients.\n\
         Data dir: {} (tokens in memory only; nothing leaves this machine).",
        args.clients,
        data_dir.display()
    );

    // 1. Connect: the real login, with the demo in the browser's seat.
    println!("\n1. Connect to Xero Practice Manager");
    // Any free port: the sandbox, like an app registration listing it, accepts any loopback port.
    let started = engine
        .start_login(Some(RedirectMode::Loopback { ports: vec![0] }))
        .await?;
    play_browser(&started.authorize_url).await?;
    let login = engine.wait_for_login().await?;
    let connection = engine.finish_login(None).await?;
    println!(
        "   Logged in as {} through Xero's login page (PKCE, state checked, loopback redirect); connected to {}.",
        login.user_name.as_deref().unwrap_or("the demo user"),
        connection.tenant_name
    );

    // 2. Initial full sync.
    println!("\n2. Initial full sync");
    let initial = sync(&engine, connection.id, RunKind::Full, RunTrigger::Initial).await?;
    let counts = engine.store()?.counts(connection.id)?;
    println!(
        "   {} clients received in {} API call{}; the directory holds {} clients ({} archived) and {} contacts.",
        initial.counts.fetched,
        initial.counts.api_calls,
        common::plural(initial.counts.api_calls),
        counts.clients,
        counts.archived,
        counts.contacts
    );

    // 3. Staff edit XPM; then changes since last sync.
    let mut edits = edit_practice(sandbox.practice())?;
    println!(
        "\n3. Staff make {} edits in XPM; then \"Changes since last sync\"",
        edits.len()
    );
    let changes = sync(&engine, connection.id, RunKind::Changes, RunTrigger::Manual).await?;
    let modified_since = engine
        .history(connection.id, 1)?
        .first()
        .and_then(|r| r.modified_since);
    check_edits(
        &engine,
        sandbox.practice(),
        connection.id,
        modified_since,
        &mut edits,
    )?;
    let c = &changes.counts;
    let listed = c.fetched.saturating_sub(c.refetched);
    println!(
        "   XPM's modifiedsince listed {listed} client{}; the contact sweep checked {} contacts, found {} changed that XPM had not flagged, and re-fetched {} client{}; {} API calls in all.",
        common::plural(listed),
        c.contacts_fetched,
        c.contacts_changed,
        c.refetched,
        common::plural(c.refetched),
        c.api_calls
    );

    // 4. What the run caught, checked against the directory.
    println!("\n4. In the directory now");
    let mut all_caught = true;
    for edit in &edits {
        all_caught &= edit.caught;
        let how = match (edit.caught, edit.flagged) {
            (false, _) => "NOT in the directory".to_string(),
            (true, Some(true)) => "XPM's modifiedsince reported it".to_string(),
            (true, Some(false)) => "modifiedsince did not report it; the contact sweep caught it".to_string(),
            (true, None) => "in the directory".to_string(),
        };
        println!("   {} {}: {how}", if edit.caught { "✓" } else { "✗" }, edit.what);
    }
    let missed = edits
        .iter()
        .filter(|e| e.flagged == Some(false) && e.caught)
        .count();
    if missed > 0 {
        println!(
            "   An incremental sync that trusted modifiedsince alone would have missed {missed} of these {} changes.",
            edits.len()
        );
    }
    if global.data_dir.is_some() {
        println!(
            "   See `hownow status`, `hownow history` and `hownow clients` with --data-dir {}.",
            data_dir.display()
        );
    } else {
        println!("   The demo's data dir was temporary and is now removed; pass --data-dir DIR to keep it.");
    }
    sandbox.shutdown().await;
    Ok(if all_caught {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn sync(engine: &Engine, id: i64, kind: RunKind, trigger: RunTrigger) -> anyhow::Result<SyncReport> {
    let progress = ProgressView::new(true);
    Ok(engine
        .sync(id, SyncRequest::new(kind, trigger), &progress)
        .await?)
}

/// What a browser does with the authorize URL when the user is logged in and has consented:
/// follow Xero's redirect to our loopback listener.
async fn play_browser(authorize_url: &str) -> anyhow::Result<()> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let answer = browser.get(authorize_url).send().await?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .context("the sandbox's authorize step did not redirect")?
        .to_string();
    let landed = browser.get(&location).send().await?;
    anyhow::ensure!(
        landed.status().is_success(),
        "the loopback listener answered {}",
        landed.status()
    );
    Ok(())
}

/// The six edits: add, edit, archive, delete (all flagged by XPM), and a contact's email change
/// plus making that contact the client's primary one (neither flagged: XPM's defect).
fn edit_practice(practice: &PracticeHandle) -> anyhow::Result<Vec<Edit>> {
    let data = practice.snapshot(DEMO_PRACTICE.id)?;
    let live: Vec<_> = data
        .clients()
        .iter()
        .filter(|c| !c.details.is_archived() && !c.details.is_deleted())
        .collect();
    // A client with a second contact, whose contacts belong to it alone (a clean example).
    let with_two = live
        .iter()
        .find(|c| {
            c.contacts.len() >= 2
                && c.contacts
                    .iter()
                    .all(|l| data.clients_of_contact(&l.contact).count() == 1)
        })
        .context("the demo practice has no client with two contacts")?;
    let others: Vec<_> = live.iter().filter(|c| c.uuid != with_two.uuid).take(3).collect();
    anyhow::ensure!(others.len() == 3, "the demo practice is too small");
    let name = |c: &hownow_sandbox::practice::Client| c.details.name().to_owned();

    let mut edits = Vec::new();
    let added = practice.add_client(
        DEMO_PRACTICE.id,
        ClientDetails::from(hownow_xpm::Client {
            name: Some("Tūī & Kererū Orchards Ltd".into()),
            client_code: Some("TKO001".into()),
            email: Some("accounts@tui-kereru.example".into()),
            phone: Some("09 555 0100".into()),
            business_structure: Some("Company".into()),
            ..hownow_xpm::Client::default()
        }),
    )?;
    edits.push(Edit {
        what: format!("new client \"{}\"", added.details.name()),
        client_uuid: added.uuid.clone(),
        flagged: None,
        caught: false,
    });
    let edited = practice.edit_client(&others[0].uuid, |d| d.values.phone = Some("09 555 0142".into()))?;
    edits.push(Edit {
        what: format!("phone of \"{}\" changed", name(&edited)),
        client_uuid: edited.uuid.clone(),
        flagged: None,
        caught: false,
    });
    let archived = practice.archive_client(&others[1].uuid, true)?;
    edits.push(Edit {
        what: format!("\"{}\" archived", name(&archived)),
        client_uuid: archived.uuid.clone(),
        flagged: None,
        caught: false,
    });
    let deleted = practice.delete_client(&others[2].uuid)?;
    edits.push(Edit {
        what: format!("\"{}\" deleted", name(&deleted)),
        client_uuid: deleted.uuid.clone(),
        flagged: None,
        caught: false,
    });
    let secondary = with_two
        .contacts
        .iter()
        .find(|l| !l.is_primary)
        .context("a client with two contacts has a secondary one")?;
    let contact = practice.edit_contact(&secondary.contact, |d| {
        d.email = Some("new.address@harbour-client.example".into())
    })?;
    edits.push(Edit {
        what: format!(
            "email of contact \"{}\" (of \"{}\") changed",
            contact.name(),
            name(with_two)
        ),
        client_uuid: with_two.uuid.clone(),
        flagged: None,
        caught: false,
    });
    practice.set_primary_contact(&with_two.uuid, &secondary.contact)?;
    edits.push(Edit {
        what: format!(
            "\"{}\" made the primary contact of \"{}\"",
            contact.name(),
            name(with_two)
        ),
        client_uuid: with_two.uuid.clone(),
        flagged: None,
        caught: false,
    });
    Ok(edits)
}

/// Compares each edit with the directory, and tells whether XPM's `modifiedsince` (as the
/// changes run asked it) reported the client at all.
fn check_edits(
    engine: &Engine,
    practice: &PracticeHandle,
    connection_id: i64,
    modified_since: Option<time::OffsetDateTime>,
    edits: &mut [Edit],
) -> anyhow::Result<()> {
    let store = engine.store()?;
    let data = practice.snapshot(DEMO_PRACTICE.id)?;
    for (i, edit) in edits.iter_mut().enumerate() {
        let xpm = data
            .client(&edit.client_uuid)
            .context("the edited client is in the sandbox")?;
        edit.flagged = modified_since.map(|since| xpm.modified.assume_utc() >= since);
        let Some(ours) = store.client(connection_id, &edit.client_uuid)? else {
            continue;
        };
        let c = &ours.client;
        edit.caught = match i {
            0 => ours.removed_at.is_none() && c.name.as_deref() == Some(xpm.details.name()),
            1 => c.phone == xpm.details.values.phone,
            2 => c.is_archived == Some(true),
            3 => ours.removed_at.is_some(),
            4 => {
                let new_email = data
                    .contacts_of(xpm)
                    .find(|(l, _)| l.is_primary)
                    .and_then(|(_, contact)| contact.details.email.clone());
                c.contacts
                    .iter()
                    .any(|k| k.email == new_email && new_email.is_some())
            }
            _ => {
                let primary = xpm.primary_contact().map(|l| l.contact.clone());
                let ours_primary = c
                    .contacts
                    .iter()
                    .find(|k| k.is_primary == Some(true))
                    .and_then(|k| k.uuid.clone());
                primary.is_some() && ours_primary == primary
            }
        };
    }
    Ok(())
}
