//! Full and changes syncs: into an empty directory, unchanged resyncs, adds/edits/archives/
//! deletes, the watermark, and what `modifiedsince` misses that a full sync finds.

use crate::common::{practice, snapshot, Fixture};
use hownow_sync::hash::canonicalize;
use hownow_sync::{ChangeKind, ClientQuery, MemorySource, RunKind, RunOutcome};
use time::Duration;

use super::settings;

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
    let listed = crate::common::stored_clients(&fx.store, id, &ClientQuery::default());
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
async fn a_changes_sync_without_a_watermark_runs_a_full_sync() {
    let mut fx = Fixture::new();
    let source = MemorySource::with_clients(practice(5));
    let report = fx.sync(&source, RunKind::Changes).await.unwrap();
    assert_eq!((report.kind, report.counts.added), (RunKind::Full, 5));
}
