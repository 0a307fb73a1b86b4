//! Contacts: the contact sweep, the verify slice, unknown and deleted contacts, refetches and
//! their cap, and XPM's not-found on a refetch.

use crate::common::{contact, practice, Fixture};
use hownow_sync::record::record;
use hownow_sync::{MemorySource, RecordKind, RunKind, SyncError, SyncRequest};
use hownow_xpm::XpmError;
use time::Duration;

use super::settings;

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
