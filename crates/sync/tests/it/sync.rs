//! The sync algorithms over the in-memory source: full, changes, contact sweep, guards, failures.

use crate::common::{contact, practice, snapshot, Fixture};
use hownow_sync::hash::canonicalize;
use hownow_sync::record::record;
use hownow_sync::{
    ChangeKind, ClientQuery, MemorySource, RecordKind, RunKind, RunOutcome, RunTrigger, SyncError,
    SyncRequest, SyncSettings,
};
use hownow_xpm::XpmError;
use time::Duration;

fn settings(f: impl FnOnce(&mut SyncSettings)) -> SyncSettings {
    let mut s = SyncSettings::default();
    f(&mut s);
    s
}

#[tokio::test]
async fn full_sync_into_an_empty_directory_equals_the_source() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(120));
    let report = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(report.kind, RunKind::Full);
    assert_eq!(report.counts.fetched, 120);
    let deleted = source
        .clients()
        .iter()
        .filter(|c| c.is_deleted == Some(true))
        .count() as u64;
    assert!(deleted > 0, "the practice lists some deleted clients");
    // Already deleted when first seen: stored as tombstones, not counted as added.
    assert_eq!(
        (report.counts.added, report.counts.unchanged),
        (120 - deleted, deleted)
    );
    assert_eq!(report.counts.client_rows_written, 120);
    assert_eq!(
        report.counts.api_calls, 1,
        "one list call; no missed-check on the first sync"
    );
    assert_eq!(report.counts.missed_by_incremental, None);

    let mut links = 0;
    let mut primaries = 0;
    for expected in source.clients() {
        let uuid = expected.uuid.clone().unwrap();
        let stored = fx
            .store
            .client(fx.connection.id, &uuid)
            .unwrap()
            .expect("every client is stored");
        // Contacts: in XPM's order, with the link's primary flag and position.
        assert_eq!(stored.client.contacts, expected.contacts, "contacts of {uuid}");
        links += stored.client.contacts.len();
        primaries += stored
            .client
            .contacts
            .iter()
            .filter(|c| c.is_primary == Some(true))
            .count();
        // Every other field, collections included.
        let mut want = expected.clone();
        canonicalize(&mut want);
        let mut got = stored.client.clone();
        want.contacts.clear();
        got.contacts.clear();
        assert_eq!(got, want, "fields of {uuid}");
        assert_eq!(
            stored.removed_at.is_some(),
            expected.is_deleted == Some(true),
            "tombstone of {uuid}"
        );
    }
    assert!(
        links > 150 && primaries > 80,
        "the practice has links ({links}) and primaries ({primaries})"
    );
    let counts = fx.store.counts(fx.connection.id).unwrap();
    let deleted = source
        .clients()
        .iter()
        .filter(|c| c.is_deleted == Some(true))
        .count() as u64;
    assert_eq!(counts.clients, 120 - deleted);
    assert_eq!(counts.removed, deleted);
    // Shared contacts are stored once.
    let distinct: std::collections::BTreeSet<_> = source
        .clients()
        .iter()
        .flat_map(|c| c.contacts.iter().map(|k| k.uuid.clone()))
        .collect();
    assert_eq!(counts.contacts, distinct.len() as u64);

    let c = fx.connection();
    // When the list was asked for, by the server's clock: its Date less the time it took.
    let watermark = c.watermark.unwrap();
    assert!(
        watermark <= source.now() && source.now() - watermark < Duration::seconds(1),
        "watermark {watermark} = the server Date of the list {} less its wait",
        source.now()
    );
    assert_eq!(c.status, hownow_sync::ConnectionStatus::Connected);
    let run = fx.store.run(report.run_id).unwrap().unwrap();
    assert_eq!(run.outcome, RunOutcome::Ok);
    assert_eq!(run.counts, report.counts);
}

#[tokio::test]
async fn unchanged_resync_writes_zero_client_rows() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(300));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let before = snapshot(&fx.store, fx.connection.id);
    let changes_before = fx.store.total_changes();
    let report = fx.sync(&source, RunKind::Full).await.unwrap();
    let rows_changed = fx.store.total_changes() - changes_before;
    assert_eq!(report.counts.client_rows_written, 0);
    assert_eq!(
        (report.counts.added, report.counts.updated, report.counts.removed),
        (0, 0, 0)
    );
    assert_eq!(report.counts.unchanged, 300);
    assert_eq!(report.counts.missed_by_incremental, Some(0));
    // Only the run's own bookkeeping (history row, status, watermark, quota) was written:
    // a handful of rows, not one per client.
    assert!(
        rows_changed < 15,
        "{rows_changed} rows changed by an unchanged re-sync"
    );
    assert_eq!(snapshot(&fx.store, fx.connection.id), before);
    assert!(fx.store.changes(report.run_id).unwrap().is_empty());
}

#[tokio::test]
async fn changes_sync_applies_adds_edits_archives_and_deletes() {
    let mut fx = Fixture::with_settings(settings(|s| s.verify_per_run = 0));
    let source = MemorySource::with_clients(practice(40));
    let full = fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));

    let mut new_client = practice(41).pop().unwrap();
    new_client.uuid = Some("client-new".into());
    new_client.name = Some("Newcomer Ltd".into());
    new_client.contacts.clear();
    source.put_client(new_client);
    source.edit_client("client-00003", |c| c.name = Some("Renamed Holdings".into()));
    source.edit_client("client-00004", |c| c.is_archived = Some(true));
    source.edit_client("client-00005", |c| c.is_deleted = Some(true));

    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(report.kind, RunKind::Changes);
    let c = &report.counts;
    assert_eq!((c.fetched, c.added, c.updated, c.unchanged), (4, 1, 3, 0));
    assert_eq!((c.archived, c.removed), (1, 1));
    assert_eq!(c.contacts_changed, 0);
    let run = fx.store.run(report.run_id).unwrap().unwrap();
    assert_eq!(
        run.modified_since,
        Some(full.watermark.unwrap() - Duration::minutes(5))
    );

    let id = fx.connection.id;
    assert!(fx
        .store
        .client(id, "client-new")
        .unwrap()
        .unwrap()
        .removed_at
        .is_none());
    assert_eq!(
        fx.store
            .client(id, "client-00003")
            .unwrap()
            .unwrap()
            .client
            .name
            .as_deref(),
        Some("Renamed Holdings")
    );
    assert_eq!(
        fx.store
            .client(id, "client-00004")
            .unwrap()
            .unwrap()
            .client
            .is_archived,
        Some(true)
    );
    assert!(fx
        .store
        .client(id, "client-00005")
        .unwrap()
        .unwrap()
        .removed_at
        .is_some());
    let listed = fx.store.clients(id, &ClientQuery::default()).unwrap();
    assert!(listed
        .iter()
        .all(|c| c.client.uuid.as_deref() != Some("client-00005")));
    assert!(
        listed
            .iter()
            .any(|c| c.client.uuid.as_deref() == Some("client-00004")),
        "archived stays listed"
    );

    let changes = fx.store.changes(report.run_id).unwrap();
    let rename = changes
        .iter()
        .find(|c| c.uuid == "client-00003" && c.field.as_deref() == Some("name"))
        .unwrap();
    assert_eq!(rename.old_value.as_deref(), Some("Client 3"));
    assert_eq!(rename.new_value.as_deref(), Some("Renamed Holdings"));
    assert!(changes
        .iter()
        .any(|c| c.uuid == "client-00005" && c.change == ChangeKind::Removed));
    assert!(changes
        .iter()
        .any(|c| c.uuid == "client-new" && c.change == ChangeKind::Added));
    assert_eq!(fx.connection().watermark, Some(source.now()));

    // Idempotent: the same window again changes nothing.
    let again = fx.sync(&source, RunKind::Changes).await.unwrap();
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
async fn a_failed_changes_sync_moves_neither_the_watermark_nor_the_directory() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(30));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let watermark = fx.connection().watermark;
    let before = snapshot(&fx.store, fx.connection.id);

    source.advance(Duration::hours(6));
    for i in 0..5 {
        source.edit_client(&format!("client-{i:05}"), |c| {
            c.name = Some(format!("Edited {i}"))
        });
    }
    source.fail_next_list_after(3);
    let err = fx.sync(&source, RunKind::Changes).await.unwrap_err();
    assert!(
        matches!(err, SyncError::Xpm(hownow_xpm::XpmError::Transport(_))),
        "{err:?}"
    );

    assert_eq!(fx.connection().watermark, watermark);
    assert_eq!(snapshot(&fx.store, fx.connection.id), before);
    let run = fx.store.runs(fx.connection.id, 1).unwrap().remove(0);
    assert_eq!(run.outcome, RunOutcome::Failed);
    assert!(run.error.unwrap().contains("could not reach Xero"));
    assert!(
        fx.store.changes(run.id).unwrap().is_empty(),
        "a failed run leaves no change log"
    );
    assert_eq!(fx.connection().status, hownow_sync::ConnectionStatus::Connected);

    // The next run picks the edits up.
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(report.counts.updated, 5);
}

#[tokio::test]
async fn a_failed_first_full_sync_leaves_an_empty_directory() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(50));
    source.fail_next_list_after(49);
    fx.sync(&source, RunKind::Full).await.unwrap_err();
    assert_eq!(fx.store.counts(fx.connection.id).unwrap(), Default::default());
    assert_eq!(fx.connection().watermark, None);
}

#[tokio::test]
async fn the_watermark_falls_back_to_the_local_clock_without_a_date_header() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(3));
    source.send_date_header(false);
    let before = time::OffsetDateTime::now_utc();
    fx.sync(&source, RunKind::Full).await.unwrap();
    let watermark = fx.connection().watermark.unwrap();
    assert!(watermark >= before - Duration::seconds(1) && watermark <= time::OffsetDateTime::now_utc());
}

#[tokio::test]
async fn mass_removal_stops_and_asks_then_force_confirms() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(30));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let live = fx.store.counts(fx.connection.id).unwrap().clients;
    for i in 0..10 {
        source.remove_client(&format!("client-{i:05}"));
    }
    let before = snapshot(&fx.store, fx.connection.id);
    let err = fx.sync(&source, RunKind::Full).await.unwrap_err();
    match &err {
        SyncError::MassRemoval {
            would_remove,
            live: l,
            ..
        } => assert_eq!((*would_remove, *l), (10, live)),
        other => panic!("expected the mass-removal guard, got {other:?}"),
    }
    assert!(err.to_string().contains("run the full sync again and confirm"));
    assert_eq!(
        snapshot(&fx.store, fx.connection.id),
        before,
        "nothing kept, not even updates"
    );
    let run = fx.store.runs(fx.connection.id, 1).unwrap().remove(0);
    assert_eq!(run.outcome, RunOutcome::NeedsConfirmation);

    let report = fx
        .sync_with(
            &source,
            SyncRequest {
                kind: RunKind::Full,
                trigger: RunTrigger::Manual,
                force: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(report.counts.removed, 10);
    assert_eq!(fx.store.counts(fx.connection.id).unwrap().clients, live - 10);
    let gone = fx
        .store
        .client(fx.connection.id, "client-00001")
        .unwrap()
        .unwrap();
    assert!(gone.removed_at.is_some(), "tombstoned, not deleted");

    // A few removals pass the guard without asking.
    source.remove_client("client-00020");
    let report = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(report.counts.removed, 1);
    // And a client that comes back is restored.
    source.put_client(practice(30).swap_remove(20));
    let report = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(report.counts.added, 1);
    assert!(fx
        .store
        .client(fx.connection.id, "client-00020")
        .unwrap()
        .unwrap()
        .removed_at
        .is_none());
}

#[tokio::test]
async fn missed_by_incremental_counts_what_modifiedsince_does_not_report() {
    // Without our sweep (HowNow's behaviour): only the full sync brings the contact edit.
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(20));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(1));
    source.edit_contact("contact-00010", |c| c.email = Some("new@example.com".into())); // client 1, unflagged
    source.edit_client("client-00002", |c| c.phone = Some("02 1111 1111".into())); // flagged
    let report = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(report.counts.updated, 2);
    assert_eq!(report.counts.missed_by_incremental, Some(1));
    assert_eq!(report.counts.api_calls, 2, "the list plus one modifiedsince list");

    // With a changes sync (and its sweep) in between, the full sync finds nothing missed.
    source.advance(Duration::hours(1));
    source.edit_contact("contact-00030", |c| c.phone = Some("02 2222 2222".into())); // client 3
    let changes = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(changes.counts.contacts_changed, 1);
    source.advance(Duration::hours(1));
    let report = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(
        (report.counts.updated, report.counts.missed_by_incremental),
        (0, Some(0))
    );
}

#[tokio::test]
async fn the_contact_sweep_catches_an_unflagged_contact_edit() {
    let mut fx = Fixture::with_settings(settings(|s| s.verify_per_run = 0));
    let source = MemorySource::with_clients(practice(30));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    // contact-00090 is client 9's primary and is shared with client 10.
    source.edit_contact("contact-00090", |c| c.email = Some("changed@example.com".into()));

    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    let c = &report.counts;
    assert_eq!(c.fetched - c.refetched, 0, "modifiedsince reported nothing");
    assert_eq!(c.contacts_changed, 1);
    assert_eq!(c.refetched, 2, "both clients listing the contact were re-fetched");
    assert_eq!(c.updated, 2);
    let page_calls = 1; // 30 clients have fewer than 500 contacts
    assert_eq!(c.api_calls, 1 + page_calls + 2);

    let id = fx.connection.id;
    let client = fx.store.client(id, "client-00009").unwrap().unwrap();
    assert_eq!(
        client.client.contacts[0].email.as_deref(),
        Some("changed@example.com")
    );
    assert_eq!(
        record(&client.client, Default::default()).email.as_deref(),
        Some("changed@example.com")
    );
    let changes = fx.store.changes(report.run_id).unwrap();
    let edit = changes
        .iter()
        .find(|ch| ch.record_kind == RecordKind::Contact && ch.field.as_deref() == Some("email"))
        .expect("the contact edit is in the change log");
    assert_eq!(edit.uuid, "contact-00090");
    assert_eq!(edit.new_value.as_deref(), Some("changed@example.com"));
    // Nothing is left for a full sync to find.
    let full = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(
        (full.counts.updated, full.counts.missed_by_incremental),
        (0, Some(0))
    );
}

#[tokio::test]
async fn the_verify_slice_catches_a_primary_contact_move() {
    let mut fx = Fixture::new(); // verify_per_run 25 ≥ 20 clients: all verified every run
    let source = MemorySource::with_clients(practice(20));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let id = fx.connection.id;
    let before = record(
        &fx.store.client(id, "client-00003").unwrap().unwrap().client,
        Default::default(),
    );
    assert_eq!(
        (before.given_name.as_str(), before.family_name.as_str()),
        ("Given30", "Family 30")
    );

    source.advance(Duration::hours(6));
    source.move_primary("client-00003", "contact-00031");
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(
        report.counts.contacts_changed, 0,
        "the contacts list shows nothing"
    );
    assert_eq!(report.counts.refetched, 20, "every live client verified");
    assert_eq!(report.counts.updated, 1);
    let after = record(
        &fx.store.client(id, "client-00003").unwrap().unwrap().client,
        Default::default(),
    );
    assert_eq!(
        (after.given_name.as_str(), after.family_name.as_str()),
        ("Given31", "Family 31")
    );
    let changes = fx.store.changes(report.run_id).unwrap();
    assert!(changes
        .iter()
        .any(|c| c.field.as_deref() == Some("contacts[contact-00031].is_primary")));
}

#[tokio::test]
async fn without_the_verify_slice_a_primary_move_waits_for_the_full_sync() {
    let mut fx = Fixture::with_settings(settings(|s| s.verify_per_run = 0));
    let source = MemorySource::with_clients(practice(20));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    source.move_primary("client-00003", "contact-00031");
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(report.counts.updated, 0);
    let full = fx.sync(&source, RunKind::Full).await.unwrap();
    assert_eq!(
        (full.counts.updated, full.counts.missed_by_incremental),
        (1, Some(1))
    );
}

#[tokio::test]
async fn the_verify_slice_rotates_through_the_directory() {
    let mut fx = Fixture::with_settings(settings(|s| s.verify_per_run = 4));
    let source = MemorySource::with_clients(practice(10));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let live = fx.store.counts(fx.connection.id).unwrap().clients;
    source.move_primary("client-00007", "contact-00071");
    let mut caught_at = None;
    for run in 1..=3 {
        source.advance(Duration::hours(6));
        let r = fx.sync(&source, RunKind::Changes).await.unwrap();
        assert_eq!(r.counts.refetched, 4.min(live));
        if r.counts.updated == 1 {
            caught_at = Some(run);
        }
    }
    assert!(
        caught_at.is_some(),
        "within ceil(10/4) = 3 runs every client was verified"
    );
}

#[tokio::test]
async fn unknown_contacts_request_a_full_sync_which_places_them() {
    let mut fx = Fixture::with_settings(settings(|s| s.verify_per_run = 0));
    let source = MemorySource::with_clients(practice(10));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    source.add_contact("client-00002", contact(999, false));
    source.add_orphan_contact(contact(998, false));

    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(report.counts.contacts_unknown, 2);
    assert!(report.full_sync_requested);
    assert!(fx.connection().full_requested_at.is_some());
    let input =
        hownow_sync::ScheduleInput::load(&fx.store, fx.connection.id, time::OffsetDateTime::now_utc())
            .unwrap();
    let due = hownow_sync::plan(&input).due_now.unwrap();
    assert_eq!(due.kind, RunKind::Full);

    let full = fx
        .sync_with(&source, SyncRequest::new(due.kind, due.trigger))
        .await
        .unwrap();
    assert_eq!(full.counts.updated, 1);
    assert!(fx.connection().full_requested_at.is_none());
    let contacts = fx.store.contacts_of(fx.connection.id, "client-00002").unwrap();
    assert!(contacts
        .iter()
        .any(|c| c.uuid.as_deref() == Some("contact-00999")));
    // The orphan is known now: the next sweep does not ask again.
    source.advance(Duration::hours(6));
    let next = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(
        (next.counts.contacts_unknown, next.full_sync_requested),
        (0, false)
    );
}

#[tokio::test]
async fn a_deleted_contact_is_tombstoned_and_its_client_refetched() {
    let mut fx = Fixture::with_settings(settings(|s| s.verify_per_run = 0));
    let source = MemorySource::with_clients(practice(10));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    source.edit_contact("contact-00021", |c| c.is_deleted = Some(true));
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(report.counts.contacts_changed, 1);
    assert_eq!(report.counts.refetched, 1);
    let contacts = fx.store.contacts_of(fx.connection.id, "client-00002").unwrap();
    let gone = contacts
        .iter()
        .find(|c| c.uuid.as_deref() == Some("contact-00021"))
        .unwrap();
    assert_eq!(gone.is_deleted, Some(true));
}

#[tokio::test]
async fn refetches_beyond_the_cap_become_a_full_sync_request() {
    let mut fx = Fixture::with_settings(settings(|s| {
        s.verify_per_run = 0;
        s.max_refetch_per_run = 2;
    }));
    let source = MemorySource::with_clients(practice(20));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    for k in [10, 20, 30] {
        source.edit_contact(&format!("contact-{k:05}"), |c| {
            c.name = Some("Changed Name".into())
        });
    }
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!(report.counts.contacts_changed, 3);
    assert_eq!(report.counts.refetched, 0);
    assert!(report.full_sync_requested);
}

#[tokio::test]
async fn a_day_limit_stops_the_run_records_it_and_reschedules_after_the_reset() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(10));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    source.set_day_limit_remaining(0);
    let before = snapshot(&fx.store, fx.connection.id);
    let err = fx
        .sync_with(&source, SyncRequest::new(RunKind::Changes, RunTrigger::Schedule))
        .await
        .unwrap_err();
    let retry_at = match err {
        SyncError::DayLimit { retry_at } => retry_at,
        other => panic!("expected DayLimit, got {other:?}"),
    };
    assert_eq!(snapshot(&fx.store, fx.connection.id), before);
    let run = fx.store.runs(fx.connection.id, 1).unwrap().remove(0);
    assert_eq!(run.outcome, RunOutcome::Failed);
    assert_eq!(run.retry_after_at, Some(retry_at));
    assert!(run.error.unwrap().contains("daily API limit"));

    let now = time::OffsetDateTime::now_utc();
    let plan =
        hownow_sync::plan(&hownow_sync::ScheduleInput::load(&fx.store, fx.connection.id, now).unwrap());
    assert!(plan.due_now.is_none());
    assert!(plan.next_changes_at.unwrap() >= retry_at);
}

#[tokio::test]
async fn manual_runs_may_not_spend_the_reserve() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(10));
    source.set_day_limit_remaining(252);
    fx.sync(&source, RunKind::Full).await.unwrap(); // 251 left, reserve 250
    let err = fx.sync(&source, RunKind::Changes).await.unwrap_err();
    assert!(
        matches!(err, SyncError::OverBudget { reserve: 250, .. }),
        "{err:?}"
    );
    assert_eq!(
        fx.store.runs(fx.connection.id, 1).unwrap()[0].outcome,
        RunOutcome::Failed
    );
    // A scheduled full sync (2 calls) may use the reserve.
    fx.sync_with(&source, SyncRequest::new(RunKind::Full, RunTrigger::DailyFull))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_changes_sync_without_a_watermark_runs_a_full_sync() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(5));
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!((report.kind, report.counts.added), (RunKind::Full, 5));
}

#[tokio::test]
async fn code_report_lists_code_and_name_changes_and_missing_codes() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(12));
    fx.sync(&source, RunKind::Full).await.unwrap();
    source.advance(Duration::hours(6));
    source.edit_client("client-00001", |c| c.client_code = Some("NEW001".into()));
    source.edit_client("client-00002", |c| c.name = Some("Bloggs Family Trust".into()));
    source.edit_client("client-00003", |c| c.client_code = None);
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    let codes = fx.store.code_report(report.run_id).unwrap();
    assert_eq!(codes.code_changed.len(), 2);
    let c1 = codes
        .code_changed
        .iter()
        .find(|c| c.uuid == "client-00001")
        .unwrap();
    assert_eq!(
        (c1.old.as_deref(), c1.new.as_deref()),
        (Some("C00001"), Some("NEW001"))
    );
    assert_eq!(codes.name_changed.len(), 1);
    assert_eq!(codes.name_changed[0].new.as_deref(), Some("Bloggs Family Trust"));
    assert_eq!(
        codes
            .missing_code
            .iter()
            .map(|m| m.uuid.as_str())
            .collect::<Vec<_>>(),
        ["client-00003"]
    );
    assert_eq!(
        codes.missing_code_total, 2,
        "client 3 and client 9 (no code in the practice)"
    );
}

#[tokio::test]
async fn records_follow_the_hownow_map() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(8));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let mut records = Vec::new();
    fx.store
        .for_each_record(fx.connection.id, &ClientQuery::default(), |r| {
            records.push(r);
            Ok::<_, SyncError>(())
        })
        .unwrap();
    assert_eq!(records.len(), 8);
    let r3 = records.iter().find(|r| r.uuid == "client-00003").unwrap();
    // Client 3: postal address (PO Box, 2150); primary contact "Given30 Family 30".
    assert_eq!(r3.address.post_code.as_deref(), Some("2150"));
    assert_eq!(
        (r3.given_name.as_str(), r3.family_name.as_str()),
        ("Given30", "Family 30")
    );
    let r0 = records.iter().find(|r| r.uuid == "client-00000").unwrap();
    // Client 0: no contacts: the client's own email.
    assert_eq!(r0.email.as_deref(), Some("client0@example.com"));
}

#[test]
fn sync_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let mut fx = Fixture::new();
    let source = MemorySource::new();
    let lock_dir = fx.lock_dir();
    let fut = hownow_sync::run_sync(
        &mut fx.store,
        &source,
        &lock_dir,
        1,
        SyncRequest::new(RunKind::Full, RunTrigger::Manual),
        &hownow_sync::NoProgress,
    );
    assert_send(&fut);
}

#[tokio::test]
async fn progress_events_follow_the_phases() {
    use hownow_sync::{Phase, Progress};
    use std::sync::Mutex;
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(450));
    let events: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let sink = |p: &Progress| events.lock().unwrap().push(*p);
    let lock_dir = fx.lock_dir();
    let request = SyncRequest::new(RunKind::Full, RunTrigger::Initial);
    hownow_sync::run_sync(
        &mut fx.store,
        &source,
        &lock_dir,
        fx.connection.id,
        request,
        &sink,
    )
    .await
    .unwrap();
    let events = events.into_inner().unwrap();
    let listing: Vec<u64> = events
        .iter()
        .filter(|e| e.phase == Phase::Listing)
        .map(|e| e.done)
        .collect();
    assert_eq!(listing, [0, 200, 400, 450]);
    let phases: Vec<Phase> = events
        .iter()
        .map(|e| e.phase)
        .filter(|p| *p != Phase::Listing)
        .collect();
    assert_eq!(phases, [Phase::Preparing, Phase::Removing, Phase::Committing]);
}

#[tokio::test]
async fn a_contact_sweep_alone_keeps_the_watermark() {
    let mut fx = Fixture::with_settings(settings(|s| s.verify_per_run = 0));
    let source = MemorySource::with_clients(practice(20));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let watermark = fx.connection().watermark;
    source.advance(Duration::hours(1));
    source.edit_contact("contact-00010", |c| c.mobile = Some("0499 999 999".into()));
    let report = fx.sync(&source, RunKind::Contacts).await.unwrap();
    assert_eq!(
        (
            report.kind,
            report.counts.contacts_changed,
            report.counts.refetched
        ),
        (RunKind::Contacts, 1, 1)
    );
    assert_eq!(report.watermark, None);
    assert_eq!(fx.connection().watermark, watermark);
}

#[tokio::test]
async fn only_xpms_not_found_on_a_refetch_requests_a_full_sync_and_nothing_is_tombstoned_before_it() {
    let mut fx = Fixture::new(); // every live client is verified on every run
    let source = MemorySource::with_clients(practice(5));
    fx.sync(&source, RunKind::Full).await.unwrap();
    let id = fx.connection.id;
    source.advance(Duration::hours(6));

    // Another API error is not a verdict on the client: the run fails, nothing is kept.
    source.fail_gets_with(Some(|| XpmError::Api {
        description: "The service is unavailable".into(),
    }));
    let e = fx.sync(&source, RunKind::Changes).await.unwrap_err();
    assert!(matches!(e, SyncError::Xpm(XpmError::Api { .. })), "{e:?}");
    assert!(fx.connection().full_requested_at.is_none());

    // XPM's not-found (the envelope, or a 404) requests a full sync; the client stays until a
    // complete list confirms it is gone.
    let not_found: [fn() -> XpmError; 2] = [
        || XpmError::Api {
            description: "Invalid client identifier".into(),
        },
        || XpmError::Http {
            status: 404,
            body: String::new(),
        },
    ];
    for not_found in not_found {
        source.fail_gets_with(Some(not_found));
        let report = fx.sync(&source, RunKind::Changes).await.unwrap();
        assert!(report.full_sync_requested);
        assert_eq!(report.counts.removed, 0);
        assert_eq!(fx.store.counts(id).unwrap().clients, 5);
    }
}
