//! The sync engine against the real sandbox over loopback, through the product's own XPM client:
//! the initial full sync, changes syncs, the contact sweep catching what XPM does not flag, the
//! zero-write re-sync, the mass-removal guard, and a dead refresh token.

use std::sync::Arc;

use crate::sandbox_support::{self, api_config, start, start_with, Options};
use hownow_sandbox::practice::{ClientDetails, ContactDetails, NewLink, PracticeData};
use hownow_sandbox::tenants::{DEMO_PRACTICE, USERS};
use hownow_sync::schedule::{plan, Paused, ScheduleInput};
use hownow_sync::tokens::TokenManager;
use hownow_sync::{
    ChangeKind, ConnectionStatus, MemoryStore, RecordKind, RunKind, RunOutcome, SecretStore, SyncError,
    SyncSettings,
};
use hownow_xpm::{Identity, IdentityConfig, Secret, TokenSet, XeroApi, XpmError};

/// A live client with at least `n` contacts.
fn client_with_contacts(data: &PracticeData, n: usize) -> Arc<hownow_sandbox::practice::Client> {
    data.clients()
        .iter()
        .find(|c| !c.details.is_deleted() && c.contacts.len() >= n)
        .unwrap_or_else(|| panic!("the practice has no live client with {n} contacts"))
        .clone()
}

fn live_clients(data: &PracticeData) -> impl Iterator<Item = &Arc<hownow_sandbox::practice::Client>> {
    data.clients()
        .iter()
        .filter(|c| !c.details.is_deleted() && !c.details.is_archived())
}

#[tokio::test]
async fn the_initial_full_sync_equals_the_sandbox() {
    let mut env = start(60).await;
    let data = env.data();
    let counts = data.counts();
    assert!(
        counts.archived > 0 && counts.deleted > 0 && counts.prospects > 0,
        "the practice should hold every kind of client: {counts:?}"
    );

    let report = env.sync(RunKind::Full).await.unwrap();
    env.assert_matches_sandbox();
    assert_eq!(report.counts.fetched, counts.clients as u64);
    // Clients XPM lists as already deleted are kept as tombstones, not counted as added.
    assert_eq!(report.counts.added, (counts.clients - counts.deleted) as u64);
    assert_eq!(report.counts.unchanged, counts.deleted as u64);
    assert_eq!(report.counts.client_rows_written, counts.clients as u64);
    assert_eq!(
        report.counts.api_calls, 1,
        "one list call, nothing to compare with yet"
    );
    assert!(report.counts.bytes > 100 * counts.clients as u64);
    let stored = env.store.counts(env.connection_id).unwrap();
    assert_eq!(stored.clients as usize, counts.clients - counts.deleted);
    assert_eq!(stored.removed as usize, counts.deleted);
    assert_eq!(stored.archived as usize, {
        data.clients()
            .iter()
            .filter(|c| c.details.is_archived() && !c.details.is_deleted())
            .count()
    });
    // The watermark is the server's clock at the list, not left unset.
    let watermark = env.connection().watermark.expect("a watermark");
    assert!((time::OffsetDateTime::now_utc() - watermark).abs() < time::Duration::minutes(1));
    assert_eq!(env.connection().status, ConnectionStatus::Connected);
}

#[tokio::test]
async fn an_unchanged_full_resync_writes_no_client_row() {
    let mut env = start(60).await;
    env.sync(RunKind::Full).await.unwrap();
    let before = env.state();
    let report = env.sync(RunKind::Full).await.unwrap();
    assert_eq!(report.counts.client_rows_written, 0);
    assert_eq!(
        (report.counts.added, report.counts.updated, report.counts.removed),
        (0, 0, 0)
    );
    assert_eq!(report.counts.unchanged, env.data().clients().len() as u64);
    assert_eq!(report.counts.missed_by_incremental, Some(0));
    assert!(env.store.changes(report.run_id).unwrap().is_empty());
    let after = env.state();
    assert_eq!(after.clients, before.clients);
    env.assert_matches_sandbox();
}

#[tokio::test]
async fn a_changes_sync_picks_up_adds_edits_archives_and_deletes() {
    let mut env = start(60).await;
    env.sync(RunKind::Full).await.unwrap();
    let watermark = env.connection().watermark.unwrap();
    let data = env.data();
    let mut live = live_clients(&data).map(|c| c.uuid.clone());
    let (edited, archived, deleted) = (live.next().unwrap(), live.next().unwrap(), live.next().unwrap());
    let handle = env.handle();
    handle
        .edit_client(&edited, |d| {
            d.values.name = Some(format!("{} (renamed)", d.name()));
            d.values.email = Some("new.address@example.com".into());
        })
        .unwrap();
    handle.archive_client(&archived, true).unwrap();
    handle.delete_client(&deleted).unwrap();
    let added = handle
        .add_client(
            DEMO_PRACTICE.id,
            ClientDetails::from(hownow_xpm::Client {
                name: Some("Newcomer & Daughters Pty Ltd".into()),
                email: Some("hello@newcomer.example".into()),
                client_code: Some("NEW001".into()),
                ..hownow_xpm::Client::default()
            }),
        )
        .unwrap();
    let contact = handle
        .add_contact(
            DEMO_PRACTICE.id,
            ContactDetails::from(hownow_xpm::Contact {
                name: Some("Nora Newcomer".into()),
                email: Some("nora@newcomer.example".into()),
                ..hownow_xpm::Contact::default()
            }),
            Some(NewLink {
                client: added.uuid.clone(),
                position: Some("Director".into()),
                primary: true,
            }),
        )
        .unwrap();

    let report = env.sync(RunKind::Changes).await.unwrap();
    env.assert_matches_sandbox();
    let c = &report.counts;
    assert_eq!(c.added, 1, "{c:?}");
    assert_eq!(c.archived, 1, "{c:?}");
    assert_eq!(c.removed, 1, "{c:?}");
    // Renamed, archived and deleted clients are updates of known rows.
    assert_eq!(c.updated, 3, "{c:?}");
    assert!(
        c.fetched - c.refetched == 4,
        "only the four changed clients were listed: {c:?}"
    );
    assert!(report.watermark.unwrap() >= watermark);
    assert_eq!(env.connection().watermark, report.watermark);

    let removed = env.store.client(env.connection_id, &deleted).unwrap().unwrap();
    assert!(
        removed.removed_at.is_some(),
        "a deleted client is tombstoned, not dropped"
    );
    let new_client = env.store.client(env.connection_id, &added.uuid).unwrap().unwrap();
    assert_eq!(new_client.client.contacts.len(), 1);
    assert_eq!(
        new_client.client.contacts[0].uuid.as_deref(),
        Some(contact.uuid.as_str())
    );
    assert_eq!(new_client.client.contacts[0].is_primary, Some(true));

    // The history says what changed, field by field.
    let changes = env.store.changes(report.run_id).unwrap();
    let renamed = changes
        .iter()
        .find(|ch| ch.uuid == edited && ch.field.as_deref() == Some("email"))
        .expect("the email change is recorded");
    assert_eq!(renamed.new_value.as_deref(), Some("new.address@example.com"));
    assert!(changes
        .iter()
        .any(|ch| ch.uuid == added.uuid && ch.change == ChangeKind::Added));
    assert!(changes
        .iter()
        .any(|ch| ch.uuid == deleted && ch.change == ChangeKind::Removed));

    // Nothing more changed: the next changes sync applies no client.
    let again = env.sync(RunKind::Changes).await.unwrap();
    assert_eq!(
        (
            again.counts.added,
            again.counts.updated,
            again.counts.client_rows_written
        ),
        (0, 0, 0)
    );
}

#[tokio::test]
async fn the_contact_sweep_catches_the_unflagged_contact_edit_and_the_primary_move() {
    // 60 clients verified 25 per run: every client within three runs.
    let mut env = start(60).await;
    assert!(env.handle().switches().defect, "XPM's defect is on");
    env.sync(RunKind::Full).await.unwrap();
    let data = env.data();

    // A contact edit XPM does not flag on its clients.
    let shared = client_with_contacts(&data, 1);
    let edited_contact = shared.contacts[0].contact.clone();
    env.handle()
        .edit_contact(&edited_contact, |c| {
            c.email = Some("changed.quietly@example.com".into())
        })
        .unwrap();
    // A primary-contact move, which changes nothing in the contacts list either.
    let moved = client_with_contacts(&data, 2);
    let new_primary = moved
        .contacts
        .iter()
        .find(|l| !l.is_primary)
        .unwrap()
        .contact
        .clone();
    env.handle()
        .set_primary_contact(&moved.uuid, &new_primary)
        .unwrap();
    // A contact deleted without its clients being flagged.
    let gone = data
        .clients()
        .iter()
        .filter(|c| !c.details.is_deleted() && c.uuid != moved.uuid && c.uuid != shared.uuid)
        .flat_map(|c| c.contacts.iter())
        .find(|l| l.contact != edited_contact && !moved.contacts.iter().any(|m| m.contact == l.contact))
        .unwrap()
        .contact
        .clone();
    env.handle().delete_contact(&gone).unwrap();
    assert_eq!(
        env.data().client(&moved.uuid).unwrap().modified,
        moved.modified,
        "the sandbox did not flag the move"
    );

    let first = env.sync(RunKind::Changes).await.unwrap();
    let c = &first.counts;
    assert_eq!(c.fetched - c.refetched, 0, "modifiedsince listed nothing: {c:?}");
    assert_eq!(c.contacts_changed, 2, "the edited and the deleted contact: {c:?}");
    assert_eq!(
        c.contacts_fetched as usize,
        env.data().counts().contacts,
        "the sweep read every contact"
    );
    // The edit is in the directory, under every client listing the contact, after one run.
    for client in data.clients_of_contact(&edited_contact) {
        let contacts = env.store.contacts_of(env.connection_id, &client.uuid).unwrap();
        let contact = contacts
            .iter()
            .find(|k| k.uuid.as_deref() == Some(edited_contact.as_str()))
            .unwrap();
        assert_eq!(contact.email.as_deref(), Some("changed.quietly@example.com"));
    }
    let changes = env.store.changes(first.run_id).unwrap();
    let email = changes
        .iter()
        .find(|ch| ch.record_kind == RecordKind::Contact && ch.uuid == edited_contact)
        .expect("the contact change is in the history");
    assert_eq!(email.field.as_deref(), Some("email"));
    assert_eq!(email.new_value.as_deref(), Some("changed.quietly@example.com"));

    // The primary move is found by the rotating verify slice within clients / slice runs.
    let per_run = SyncSettings::default().verify_per_run as usize;
    let max_runs = data.clients().len().div_ceil(per_run);
    let mut runs = 1;
    let primary_of = |env: &sandbox_support::Env| {
        env.store
            .contacts_of(env.connection_id, &moved.uuid)
            .unwrap()
            .into_iter()
            .find(|k| k.is_primary == Some(true))
            .and_then(|k| k.uuid)
    };
    while primary_of(&env).as_deref() != Some(new_primary.as_str()) {
        assert!(
            runs < max_runs,
            "the primary move was not caught in {max_runs} runs"
        );
        env.sync(RunKind::Changes).await.unwrap();
        runs += 1;
    }
    env.assert_matches_sandbox();
}

#[tokio::test]
async fn a_full_sync_counts_what_incremental_syncs_missed() {
    let mut env = start(40).await;
    env.sync(RunKind::Full).await.unwrap();
    let data = env.data();
    let client = client_with_contacts(&data, 1);
    let contact = client.contacts[0].contact.clone();
    let holders = data.clients_of_contact(&contact).count() as u64;
    env.handle()
        .edit_contact(&contact, |c| c.mobile = Some("0400 000 999".into()))
        .unwrap();
    let flagged = live_clients(&data).nth(5).unwrap().uuid.clone();
    env.handle()
        .edit_client(&flagged, |d| d.values.phone = Some("09 555 0000".into()))
        .unwrap();

    let report = env.sync(RunKind::Full).await.unwrap();
    assert_eq!(report.counts.updated, holders + 1);
    assert_eq!(
        report.counts.missed_by_incremental,
        Some(holders),
        "the contact's clients changed without XPM flagging them; the edited client was flagged"
    );
    assert_eq!(report.counts.api_calls, 2, "the list, and one modifiedsince list");
    env.assert_matches_sandbox();
}

#[tokio::test]
async fn the_mass_removal_guard_stops_a_full_sync_and_keeps_the_directory() {
    let mut env = start(40).await;
    env.sync(RunKind::Full).await.unwrap();
    let before = env.state();
    let data = env.data();
    let live: Vec<String> = data
        .clients()
        .iter()
        .filter(|c| !c.details.is_deleted())
        .map(|c| c.uuid.clone())
        .collect();
    // Most of the practice goes at once, as a wrong tenant or an XPM mishap would look.
    for uuid in &live[..live.len() * 3 / 4] {
        env.handle().delete_client(uuid).unwrap();
    }

    let err = env.sync(RunKind::Full).await.unwrap_err();
    match &err {
        SyncError::MassRemoval {
            would_remove,
            live: l,
            ..
        } => {
            assert_eq!(*would_remove as usize, live.len() * 3 / 4);
            assert_eq!(*l as usize, live.len());
        }
        other => panic!("expected MassRemoval, got {other:?}"),
    }
    assert_eq!(env.state(), before, "nothing was changed, the watermark included");
    let run = &env.store.runs(env.connection_id, 1).unwrap()[0];
    assert_eq!(run.outcome, RunOutcome::NeedsConfirmation);
    assert!(run.error.as_deref().unwrap().contains("confirm"));
    assert_eq!(env.connection().status, ConnectionStatus::Connected);

    // Confirmed: the removals are applied.
    let mut request = hownow_sync::SyncRequest::new(RunKind::Full, hownow_sync::RunTrigger::Manual);
    request.force = true;
    let report = env.sync_with(request, &hownow_sync::NoProgress).await.unwrap();
    assert_eq!(report.counts.removed as usize, live.len() * 3 / 4);
    env.assert_matches_sandbox();
}

#[tokio::test]
async fn a_dead_refresh_token_means_needs_reauth_and_nothing_is_deleted() {
    let mut env = start_with(Options {
        clients: 30,
        ..Options::default()
    })
    .await;
    // The real token manager over the sandbox's identity service.
    let login = env.sandbox.issue_test_token(&USERS[0]).await.unwrap();
    let identity = Identity::discover(IdentityConfig {
        issuer: url::Url::parse(env.sandbox.issuer()).unwrap(),
        ..IdentityConfig::new(login.client_id.clone())
    })
    .await
    .unwrap();
    let secrets = Arc::new(MemoryStore::new());
    let tokens = Arc::new(TokenManager::new(
        identity,
        secrets.clone() as Arc<dyn SecretStore>,
        env.db_path(),
        env.lock_dir(),
    ));
    let id = env.connection_id;
    tokens
        .store_login(
            id,
            &TokenSet {
                access_token: Secret::new(login.access_token.clone()),
                refresh_token: login.refresh_token.clone().map(Secret::new),
                expires_in: Some(std::time::Duration::from_secs(login.expires_in)),
                id_token: None,
                scopes: Vec::new(),
            },
            Some(&login.client_id),
        )
        .await
        .unwrap();
    env.practice = XeroApi::new(api_config(
        env.sandbox.api_base(),
        std::time::Duration::from_secs(10),
        4,
    ))
    .unwrap()
    .practice(DEMO_PRACTICE.id, tokens.source_for(id));

    env.sync(RunKind::Full).await.unwrap();
    // A refresh works and rotates the stored refresh token.
    tokens.refresh_now(id).await.unwrap();
    let rotated = secrets.get(id).unwrap().unwrap().refresh_token;
    assert_ne!(Some(rotated.expose()), login.refresh_token.as_deref());
    env.sync(RunKind::Changes).await.unwrap();
    let before = env.state();
    let runs_before = env.store.runs(id, 100).unwrap().len();

    // Xero forgets the refresh token (revoked, or 60 days unused); the access token is gone too.
    env.handle().revoke_all_refresh_tokens();
    tokens.forget(id).await;
    let err = env.sync(RunKind::Changes).await.unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::NeedsReauth { .. } | SyncError::Xpm(XpmError::NeedsReauth { .. })
        ),
        "{err:?}"
    );
    let connection = env.connection();
    assert_eq!(connection.status, ConnectionStatus::NeedsReauth);
    assert!(connection.status_reason.is_some());
    assert_eq!(env.state(), before, "the directory and watermark are kept");
    let stored = secrets.get(id).unwrap().expect("the credentials are kept");
    assert_eq!(stored.refresh_token.expose(), rotated.expose());
    let runs = env.store.runs(id, 100).unwrap();
    assert_eq!(runs.len(), runs_before + 1);
    assert_eq!(runs[0].outcome, RunOutcome::Failed);

    // The schedule pauses, and a sync asked for anyway is refused without a call or a run.
    let input = ScheduleInput::load(
        &env.store,
        id,
        time::OffsetDateTime::now_utc() + time::Duration::days(2),
    )
    .unwrap();
    let plan = plan(&input);
    assert_eq!(plan.paused, Some(Paused::NeedsReauth));
    assert!(plan.due_now.is_none() && !plan.refresh_token_now);
    let err = env.sync(RunKind::Changes).await.unwrap_err();
    assert!(matches!(err, SyncError::NeedsReauth { .. }), "{err:?}");
    assert_eq!(env.store.runs(id, 100).unwrap().len(), runs_before + 1);
}
