//! HowNow's own Practice Manager client (`hownow_xpm::XeroApi`, `PracticeClient`) against the
//! sandbox over loopback: every read endpoint, Xero's rate limits, XPM's `modifiedsince` defect
//! and each fault switch, as the sync engine meets them. The raw HTTP shapes are tested in
//! xpm_endpoints.rs and xpm_gateway_and_faults.rs; here the question is what the client makes of
//! them: typed values equal to the sandbox's records, waits where Xero asks for them, and errors
//! (never a silently short list) where the answer is broken.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{start_with, uuids, Env};
use hownow_sandbox::practice::{Client as Record, PracticeData};
use hownow_sandbox::tenants::{DEMO_ORGANISATION, DEMO_PRACTICE, SECOND_PRACTICE, USERS};
use hownow_sandbox::Switches;
use hownow_xpm::{
    ApiConfig, Client, ClientStream, HttpConfig, PracticeClient, RateLimitKind, RateLimits, RetryPolicy,
    Secret, StaticToken, XeroApi, XpmError,
};
use time::{OffsetDateTime, UtcOffset};
use url::Url;

const MAX_ATTEMPTS: u32 = 4;

/// Quick retries and next to no pacing of the client's own, so a test waits only where the
/// sandbox tells the client to; the timeouts bound every call.
fn api_config(env: &Env) -> ApiConfig {
    ApiConfig {
        api_base: Url::parse(env.sandbox.api_base()).unwrap(),
        http: HttpConfig {
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(10),
            list_response_timeout: Duration::from_secs(15),
            list_idle_timeout: Duration::from_secs(10),
            list_timeout_retry_pause: Duration::from_millis(10),
            ..HttpConfig::default()
        },
        retry: RetryPolicy {
            max_attempts: MAX_ATTEMPTS,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_rate_limit_wait: Duration::from_secs(5),
        },
        rate_limits: RateLimits {
            max_in_flight: 5,
            max_per_window: 1_000,
            // Also how long the client holds back after `X-MinLimit-Remaining: 0`: short, so that
            // the sandbox's 429 is what the client has to wait out.
            window: Duration::from_millis(50),
            // No spacing: the sandbox's own budgets are what these tests exercise.
            min_spacing: Duration::ZERO,
        },
    }
}

/// The first demo user's client for `tenant`.
fn practice_client(env: &Env, tenant: &str) -> PracticeClient {
    XeroApi::new(api_config(env))
        .unwrap()
        .practice(tenant, Arc::new(StaticToken::new(env.token.clone())))
}

async fn start(clients: usize, switches: Switches) -> (Env, PracticeClient) {
    let env = start_with(|c| {
        c.clients = clients;
        c.switches = switches;
    })
    .await;
    let practice = practice_client(&env, DEMO_PRACTICE.id);
    (env, practice)
}

fn snapshot(env: &Env) -> Arc<PracticeData> {
    env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap()
}

/// Reads a client stream to its end: the clients before any failure, and the failure. Nothing
/// may follow a failure.
async fn drain(stream: &mut ClientStream) -> (Vec<Client>, Option<XpmError>) {
    let mut clients = Vec::new();
    while let Some(item) = stream.next_client().await {
        match item {
            Ok(client) => clients.push(client),
            Err(e) => {
                assert!(
                    stream.next_client().await.is_none(),
                    "the stream went on after {e}"
                );
                return (clients, Some(e));
            }
        }
    }
    (clients, None)
}

async fn list_all(practice: &PracticeClient, since: Option<OffsetDateTime>) -> Vec<Client> {
    let mut stream = practice.list_clients(since).await.expect("the list starts");
    match drain(&mut stream).await {
        (clients, None) => clients,
        (clients, Some(e)) => panic!("the list failed after {} clients: {e}", clients.len()),
    }
}

fn record_uuids<'a>(records: impl IntoIterator<Item = &'a Arc<Record>>) -> Vec<String> {
    records.into_iter().map(|c| c.uuid.clone()).collect()
}

fn active(record: &Record) -> bool {
    !record.details.is_archived() && !record.details.is_deleted()
}

/// The fields the sync engine relies on, and the contacts with their links, equal the sandbox's
/// record (round_trip.rs compares every field of the raw XML).
fn assert_matches_record(data: &PracticeData, got: &Client, record: &Record) {
    let d = &record.details;
    let at = record.uuid.as_str();
    assert_eq!(got.uuid.as_deref(), Some(at));
    assert_eq!(got.name.as_deref(), Some(d.name()), "{at}");
    assert_eq!(got.client_code, d.values.client_code, "{at}");
    assert_eq!(got.email, d.values.email, "{at}");
    assert_eq!(got.postal_address, d.values.postal_address, "{at}");
    assert_eq!(
        (got.is_prospect, got.is_archived, got.is_deleted),
        (Some(d.is_prospect()), Some(d.is_archived()), Some(d.is_deleted())),
        "{at}"
    );
    assert_eq!(
        got.account_manager.as_ref().and_then(|r| r.uuid.as_deref()),
        d.account_manager.as_deref(),
        "{at}"
    );
    let groups: Vec<&str> = got.groups.iter().filter_map(|g| g.uuid.as_deref()).collect();
    assert_eq!(groups, d.groups, "{at}");
    assert_eq!(got.notes.len(), d.values.notes.len(), "{at}");
    let related: Vec<&str> = got
        .relationships
        .iter()
        .filter_map(|r| r.related_client.as_ref()?.uuid.as_deref())
        .collect();
    let expected_related: Vec<&str> = record
        .relationships
        .iter()
        .map(|r| r.related_client.as_str())
        .collect();
    assert_eq!(related, expected_related, "{at}");
    let contacts: Vec<_> = got
        .contacts
        .iter()
        .map(|c| {
            (
                c.uuid.as_deref(),
                c.name.as_deref(),
                c.email.as_deref(),
                c.is_primary,
                c.position.as_deref(),
            )
        })
        .collect();
    let expected_contacts: Vec<_> = data
        .contacts_of(record)
        .map(|(link, c)| {
            (
                Some(c.uuid.as_str()),
                Some(c.name()),
                c.details.email.as_deref(),
                Some(link.is_primary),
                link.position.as_deref(),
            )
        })
        .collect();
    assert_eq!(contacts, expected_contacts, "{at}");
}

fn contact_email<'a>(client: &'a Client, contact: &str) -> Option<&'a str> {
    client
        .contacts
        .iter()
        .find(|c| c.uuid.as_deref() == Some(contact))
        .unwrap_or_else(|| panic!("{:?} lacks contact {contact}", client.uuid))
        .email
        .as_deref()
}

fn expect_decode_error(error: Option<XpmError>, what: &str) -> hownow_xpm::DecodeError {
    match error {
        Some(XpmError::Decode(e)) => e,
        other => panic!("{what}: expected a decode error, got {other:?}"),
    }
}

// --- every read endpoint -------------------------------------------------------------------

#[tokio::test]
async fn the_detailed_list_streams_every_client_as_the_sandbox_holds_it() {
    let (env, practice) = start(60, Switches::unlimited()).await;
    let data = snapshot(&env);
    let counts = data.counts();
    assert!(
        counts.archived > 0 && counts.deleted > 0 && counts.prospects > 0,
        "the practice should hold every kind of client: {counts:?}"
    );

    let mut stream = practice.list_clients(None).await.unwrap();
    let meta = stream.meta();
    assert_eq!((meta.status, meta.attempts), (200, 1));
    assert!(meta.date.is_some() && meta.min_limit_remaining.is_some());
    let (clients, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert!(stream.meta().bytes_received > 10_000);

    // Archived and deleted clients are listed too: the sync needs them to archive locally.
    assert_eq!(clients.len(), counts.clients);
    assert_eq!(
        clients.iter().filter(|c| c.is_archived == Some(true)).count(),
        counts.archived
    );
    assert_eq!(
        clients.iter().filter(|c| c.is_deleted == Some(true)).count(),
        counts.deleted
    );
    for (got, record) in clients.iter().zip(data.clients()) {
        assert_matches_record(&data, got, record);
    }

    // `modifiedsince` from a local time with an offset: converted to UTC, inclusive.
    let mut times: Vec<_> = data.clients().iter().map(|c| c.modified).collect();
    times.sort();
    let since = times[times.len() / 2];
    let expected = record_uuids(data.clients().iter().filter(|c| c.modified >= since));
    assert!(expected.len() < counts.clients);
    let auckland = since
        .assume_utc()
        .to_offset(UtcOffset::from_hms(13, 0, 0).unwrap());
    let changed = list_all(&practice, Some(auckland)).await;
    assert_eq!(uuids(&changed), expected);
    for got in &changed {
        let record = data.client(got.uuid.as_deref().unwrap()).unwrap();
        assert_matches_record(&data, got, record);
    }
}

#[tokio::test]
async fn paged_lists_walk_active_clients_and_live_contacts_to_the_end() {
    let (env, practice) = start(60, Switches::unlimited()).await;
    let data = snapshot(&env);
    let expected_active = record_uuids(data.clients().iter().filter(|c| active(c)));
    assert!(expected_active.len() < data.clients().len());

    // Page by page, as a caller with bounded memory would.
    let mut walked = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        assert!(pages < 100, "paging did not end");
        let page = practice.paged_clients(7, token.as_deref()).await.unwrap().value;
        pages += 1;
        assert!(page.items.len() <= 7);
        assert!(page
            .items
            .iter()
            .all(|c| c.contacts.is_empty() && c.notes.is_empty()));
        walked.extend(page.items);
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, expected_active.len().div_ceil(7));
    assert_eq!(uuids(&walked), expected_active);

    let all = practice.all_paged_clients(13).await.unwrap();
    assert_eq!(all.value, walked);
    assert!(all.meta.bytes_received > 0);
    assert_eq!(practice.all_paged_clients(500).await.unwrap().value, walked);
    for bad in [0, 501] {
        assert!(matches!(
            practice.paged_clients(bad, None).await,
            Err(XpmError::Config(_))
        ));
    }

    let live: Vec<_> = data.contacts().iter().filter(|c| !c.is_deleted).collect();
    let first = practice.contacts_page(9, None).await.unwrap().value;
    assert_eq!(first.items.len(), 9.min(live.len()));
    assert_eq!(first.next_page_token.is_some(), live.len() > 9);
    let contacts = practice.all_contacts(9).await.unwrap().value;
    assert_eq!(contacts.len(), live.len());
    for (got, record) in contacts.iter().zip(&live) {
        assert_eq!(got.uuid.as_deref(), Some(record.uuid.as_str()));
        assert_eq!(got.name.as_deref(), Some(record.name()));
        assert_eq!(
            (&got.email, &got.phone),
            (&record.details.email, &record.details.phone)
        );
        // The contacts endpoint knows no client, so no link.
        assert_eq!((got.is_primary, got.position.as_deref()), (None, None));
    }
}

#[tokio::test]
async fn single_clients_contacts_and_groups_by_uuid() {
    let (env, practice) = start(60, Switches::unlimited()).await;
    let data = snapshot(&env);

    let record = data
        .clients()
        .iter()
        .find(|c| c.details.values.web_url.is_some() && c.contacts.len() >= 2 && !c.relationships.is_empty())
        .expect("a client with a web URL, contacts and relationships");
    let got = practice.client(&record.uuid).await.unwrap();
    assert_eq!(got.meta.status, 200);
    assert_matches_record(&data, &got.value, record);
    // XPM writes it beside the client, not inside.
    assert_eq!(got.value.web_url, record.details.values.web_url);

    for bad in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"] {
        match practice.client(bad).await {
            Err(XpmError::Api { description }) => {
                assert!(description.contains("Invalid client identifier"), "{description}")
            }
            other => panic!("{bad}: expected an API error, got {other:?}"),
        }
    }

    let link = &record.contacts[1];
    let contact = data.contact(&link.contact).unwrap();
    let with_link = practice
        .contact(&contact.uuid, Some(&record.uuid))
        .await
        .unwrap()
        .value;
    assert_eq!(with_link.name.as_deref(), Some(contact.name()));
    assert_eq!(with_link.email, contact.details.email);
    assert_eq!(with_link.is_primary, Some(link.is_primary));
    assert_eq!(with_link.position, link.position);
    let alone = practice.contact(&contact.uuid, None).await.unwrap().value;
    assert_eq!(alone.uuid.as_deref(), Some(contact.uuid.as_str()));
    assert_eq!(alone.is_primary, None);
    assert!(matches!(
        practice.contact("no-such-contact", None).await,
        Err(XpmError::Api { .. })
    ));

    let groups = practice.groups().await.unwrap().value;
    let expected: Vec<_> = data
        .groups()
        .iter()
        .map(|g| (Some(g.uuid.as_str()), Some(g.name.as_str()), Some(g.taxable)))
        .collect();
    let got_groups: Vec<_> = groups
        .iter()
        .map(|g| (g.uuid.as_deref(), g.name.as_deref(), g.taxable))
        .collect();
    assert_eq!(got_groups, expected);
    assert!(groups.iter().all(|g| g.clients.is_empty()));
    let (group, members) = data
        .groups()
        .iter()
        .map(|g| (g, record_uuids(data.group_members(&g.uuid))))
        .find(|(_, members)| members.len() >= 2)
        .expect("a group with members");
    let got = practice.group(&group.uuid).await.unwrap().value;
    assert_eq!(got.name.as_deref(), Some(group.name.as_str()));
    let got_members: Vec<String> = got.clients.iter().filter_map(|r| r.uuid.clone()).collect();
    assert_eq!(got_members, members);
    assert!(matches!(
        practice.group("no-such-group").await,
        Err(XpmError::Api { .. })
    ));
}

#[tokio::test]
async fn each_connected_practice_is_reached_through_its_connection() {
    let env = start_with(|c| c.clients = 30).await;
    let token = env.token_for(&USERS[1]).await;
    let secret = Secret::new(token.clone());
    let api = XeroApi::new(api_config(&env)).unwrap();

    let connections = api.connections(&secret).await.unwrap();
    assert_eq!(connections.meta.status, 200);
    let mut tenants: Vec<&str> = connections.value.iter().map(|c| c.tenant_id.as_str()).collect();
    tenants.sort_unstable();
    let mut expected = vec![DEMO_PRACTICE.id, SECOND_PRACTICE.id, DEMO_ORGANISATION.id];
    expected.sort_unstable();
    assert_eq!(tenants, expected);

    let practices = api.practice_manager_connections(&secret).await.unwrap();
    let names: Vec<_> = practices.iter().map(|c| c.tenant_name.as_deref()).collect();
    assert_eq!(names, [Some(DEMO_PRACTICE.name), Some(SECOND_PRACTICE.name)]);
    for connection in &practices {
        let practice = api.practice(
            connection.tenant_id.clone(),
            Arc::new(StaticToken::new(token.clone())),
        );
        let data = env.sandbox.practice().snapshot(&connection.tenant_id).unwrap();
        assert_eq!(
            uuids(&list_all(&practice, None).await),
            record_uuids(data.clients())
        );
    }

    // The organisation is connected too, but it has no Practice Manager.
    let organisation = api.practice(DEMO_ORGANISATION.id, Arc::new(StaticToken(secret.clone())));
    assert!(matches!(
        organisation.groups().await,
        Err(XpmError::Forbidden { .. })
    ));
    // Nor can the first user, who did not connect it, reach the second practice.
    assert!(matches!(
        practice_client(&env, SECOND_PRACTICE.id).groups().await,
        Err(XpmError::Forbidden { .. })
    ));
}

// --- rate limits ---------------------------------------------------------------------------

#[tokio::test]
async fn the_client_waits_out_a_minute_429_and_completes() {
    // Two calls per two-second "minute", so the wait Xero asks for is short.
    let (env, practice) = start(
        30,
        Switches {
            rate_limit_minute: Some(2),
            rate_limit_window_secs: 2,
            rate_limit_day: None,
            ..Switches::default()
        },
    )
    .await;
    let data = snapshot(&env);
    let started = Instant::now();
    let mut attempts = Vec::new();

    let mut stream = practice.list_clients(None).await.unwrap();
    attempts.push(stream.meta().attempts);
    let (clients, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), data.clients().len());
    let groups = practice.groups().await.unwrap();
    attempts.push(groups.meta.attempts);
    assert_eq!(groups.value.len(), data.groups().len());
    let record = &data.clients()[0];
    let one = practice.client(&record.uuid).await.unwrap();
    attempts.push(one.meta.attempts);
    assert_matches_record(&data, &one.value, record);
    let paged = practice.paged_clients(500, None).await.unwrap();
    attempts.push(paged.meta.attempts);
    assert_eq!(
        paged.value.items.len(),
        data.clients().iter().filter(|c| active(c)).count()
    );

    assert!(
        attempts.iter().any(|&a| a > 1),
        "four calls at two per window must meet a 429: {attempts:?}"
    );
    // Retry-After is at least a second, and the client honoured it.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_minute_429_longer_than_the_client_will_wait_is_returned_at_once() {
    // Xero's real 60-second window: its Retry-After exceeds the client's 5-second cap.
    let (_env, practice) = start(
        30,
        Switches {
            rate_limit_minute: Some(1),
            rate_limit_day: None,
            ..Switches::default()
        },
    )
    .await;
    practice.groups().await.unwrap();
    let started = Instant::now();
    match practice.groups().await {
        Err(XpmError::RateLimited {
            kind: RateLimitKind::Minute,
            retry_after: Some(wait),
        }) => assert!(wait > Duration::from_secs(5), "{wait:?}"),
        other => panic!("expected a minute rate limit, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_day_limit_stops_the_client_at_once() {
    let (env, practice) = start(
        30,
        Switches {
            rate_limit_minute: None,
            rate_limit_day: Some(2),
            ..Switches::default()
        },
    )
    .await;
    let groups = practice.groups().await.unwrap();
    assert_eq!(groups.meta.day_limit_remaining, Some(1));
    let mut stream = practice.list_clients(None).await.unwrap();
    assert_eq!(stream.meta().day_limit_remaining, Some(0));
    assert_eq!(drain(&mut stream).await.0.len(), snapshot(&env).clients().len());

    let started = Instant::now();
    let error = practice.list_clients(None).await.err();
    match &error {
        Some(XpmError::RateLimited {
            kind: RateLimitKind::Day,
            retry_after: Some(wait),
        }) => assert!(*wait > Duration::from_secs(3_600), "{wait:?}"),
        other => panic!("expected the day limit, got {other:?}"),
    }
    assert!(!error.unwrap().is_transient());
    assert!(matches!(
        practice.all_contacts(100).await,
        Err(XpmError::RateLimited {
            kind: RateLimitKind::Day,
            ..
        })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

// --- XPM's defect ----------------------------------------------------------------------------

#[tokio::test]
async fn a_contact_edit_is_invisible_to_modifiedsince_though_served_everywhere() {
    let (env, practice) = start(40, Switches::unlimited()).await;
    let handle = env.sandbox.practice();
    let data = snapshot(&env);
    let edited = data
        .clients()
        .iter()
        .find(|c| !c.contacts.is_empty() && !c.details.is_deleted())
        .unwrap();
    let link = edited.contacts[0].clone();
    let linked = record_uuids(data.clients_of_contact(&link.contact));
    let other = data.clients().iter().find(|c| !linked.contains(&c.uuid)).unwrap();

    // The sandbox stamps whole UTC seconds; a second's margin keeps the boundary out of play.
    let since = OffsetDateTime::now_utc() - Duration::from_secs(1);
    assert!(
        list_all(&practice, Some(since)).await.is_empty(),
        "generated clients are older"
    );

    let new_email = "moved.on@example.org";
    handle
        .edit_contact(&link.contact, |c| c.email = Some(new_email.into()))
        .unwrap();
    let changed = list_all(&practice, Some(since)).await;
    assert!(changed.is_empty(), "XPM's defect: {:?}", uuids(&changed));

    // Every endpoint already serves the new address.
    let contact = practice
        .contact(&link.contact, Some(&edited.uuid))
        .await
        .unwrap()
        .value;
    assert_eq!(contact.email.as_deref(), Some(new_email));
    assert_eq!(contact.is_primary, Some(link.is_primary));
    let contacts = practice.all_contacts(500).await.unwrap().value;
    let listed = contacts
        .iter()
        .find(|c| c.uuid.as_deref() == Some(link.contact.as_str()))
        .unwrap();
    assert_eq!(listed.email.as_deref(), Some(new_email));
    let detail = practice.client(&edited.uuid).await.unwrap().value;
    assert_eq!(contact_email(&detail, &link.contact), Some(new_email));
    let everyone = list_all(&practice, None).await;
    for client in everyone
        .iter()
        .filter(|c| linked.contains(c.uuid.as_ref().unwrap()))
    {
        assert_eq!(contact_email(client, &link.contact), Some(new_email));
    }

    // An edit of a client's own field does show up.
    handle
        .edit_client(&other.uuid, |d| d.values.phone = Some("+64 9 555 0100".into()))
        .unwrap();
    let changed = list_all(&practice, Some(since)).await;
    assert_eq!(uuids(&changed), [other.uuid.as_str()]);
    assert_eq!(changed[0].phone.as_deref(), Some("+64 9 555 0100"));

    // Without the defect, the same kind of contact edit moves every client of the contact.
    handle.update_switches(|s| s.defect = false).unwrap();
    handle
        .edit_contact(&link.contact, |c| c.phone = Some("+64 21 555 0199".into()))
        .unwrap();
    let expected = record_uuids(
        data.clients()
            .iter()
            .filter(|c| c.uuid == other.uuid || linked.contains(&c.uuid)),
    );
    assert_eq!(uuids(&list_all(&practice, Some(since)).await), expected);
}

// --- faults ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_burst_of_5xx_is_retried_away() {
    let (env, practice) = start(
        30,
        Switches {
            fail_next: 2,
            ..Switches::unlimited()
        },
    )
    .await;
    let handle = env.sandbox.practice();
    let data = snapshot(&env);

    let mut stream = practice.list_clients(None).await.unwrap();
    assert_eq!(stream.meta().attempts, 3);
    let (clients, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(uuids(&clients), record_uuids(data.clients()));

    handle.update_switches(|s| s.fail_next = 3).unwrap();
    let groups = practice.groups().await.unwrap();
    assert_eq!(groups.meta.attempts, 4);
    assert_eq!(groups.value.len(), data.groups().len());
    handle.update_switches(|s| s.fail_next = 1).unwrap();
    let walked = practice.all_paged_clients(10).await.unwrap().value;
    assert_eq!(walked.len(), data.clients().iter().filter(|c| active(c)).count());
}

#[tokio::test]
async fn endless_5xx_gives_up_after_the_last_attempt() {
    let (env, practice) = start(
        30,
        Switches {
            fail_every: 1,
            fail_status: 500,
            ..Switches::unlimited()
        },
    )
    .await;
    let handle = env.sandbox.practice();
    let started = Instant::now();
    match practice.list_clients(None).await {
        Err(e @ XpmError::Http { status: 500, .. }) => assert!(e.is_transient()),
        other => panic!("expected HTTP 500, got {other:?}"),
    }
    assert!(matches!(
        practice.client(&snapshot(&env).clients()[0].uuid).await,
        Err(XpmError::Http { status: 500, .. })
    ));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Exactly MAX_ATTEMPTS tries: with that many failures queued the call fails, and the next
    // call finds none left over.
    handle
        .update_switches(|s| {
            s.fail_every = 0;
            s.fail_status = 503;
            s.fail_next = MAX_ATTEMPTS;
        })
        .unwrap();
    assert!(matches!(
        practice.groups().await,
        Err(XpmError::Http { status: 503, .. })
    ));
    assert_eq!(practice.groups().await.unwrap().meta.attempts, 1);
}

#[tokio::test]
async fn a_truncated_body_is_an_error_never_a_shorter_list() {
    // Uncompressed, so the cut falls at a known place of the document itself.
    let (env, practice) = start(
        40,
        Switches {
            gzip: false,
            ..Switches::unlimited()
        },
    )
    .await;
    let handle = env.sandbox.practice();
    let mut stream = practice.list_clients(None).await.unwrap();
    let (full, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    let size = stream.meta().bytes_received;

    let cut = size / 2;
    handle
        .update_switches(|s| s.truncate_after_bytes = Some(cut))
        .unwrap();
    let mut stream = practice
        .list_clients(None)
        .await
        .expect("the first clients arrive");
    let (partial, error) = drain(&mut stream).await;
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "{} of {}",
        partial.len(),
        full.len()
    );
    // What did arrive is right; the error says the rest did not.
    assert_eq!(partial[..], full[..partial.len()]);
    let decode = expect_decode_error(error, "list cut in half");
    assert!(decode.position <= cut, "{decode}");
    assert!(stream.meta().bytes_received <= cut);

    // Cut inside the first client: the list does not even start.
    handle
        .update_switches(|s| s.truncate_after_bytes = Some(200))
        .unwrap();
    match practice.list_clients(None).await {
        Err(XpmError::Decode(e)) => assert!(e.position <= 200, "{e}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert!(matches!(practice.groups().await, Err(XpmError::Decode(_))));
    assert!(matches!(
        practice.all_paged_clients(50).await,
        Err(XpmError::Decode(_))
    ));
}

#[tokio::test]
async fn malformed_xml_is_a_decode_error_with_its_position() {
    let (env, practice) = start(30, Switches::unlimited()).await;
    let data = snapshot(&env);
    env.sandbox
        .practice()
        .update_switches(|s| s.malformed_xml = true)
        .unwrap();

    let mut stream = practice
        .list_clients(None)
        .await
        .expect("the first record is whole");
    let (clients, error) = drain(&mut stream).await;
    assert!(clients.len() <= 1, "{}", clients.len());
    if let Some(first) = clients.first() {
        assert_matches_record(&data, first, &data.clients()[0]);
    }
    let decode = expect_decode_error(error, "malformed list");
    assert!(
        decode.position > 0 && decode.position <= stream.meta().bytes_received,
        "{decode}"
    );
    assert!(!decode.message.is_empty());

    for (what, result) in [
        ("groups", practice.groups().await.map(drop)),
        ("contacts", practice.all_contacts(50).await.map(drop)),
        ("client", practice.client(&data.clients()[0].uuid).await.map(drop)),
    ] {
        let decode = expect_decode_error(result.err(), what);
        assert!(decode.position > 0, "{what}: {decode}");
    }
}

#[tokio::test]
async fn a_truncated_gzip_body_is_an_error_never_a_shorter_list() {
    let (env, practice) = start(200, Switches::unlimited()).await;
    let mut stream = practice.list_clients(None).await.unwrap();
    let (full, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    let wire = stream.meta().bytes_on_wire;
    assert!(wire < stream.meta().bytes_received, "{:?}", stream.meta());

    // The cut is in the compressed bytes, as a connection dropped by the network would be.
    let cut = wire / 2;
    env.sandbox
        .practice()
        .update_switches(|s| s.truncate_after_bytes = Some(cut))
        .unwrap();
    let mut stream = practice
        .list_clients(None)
        .await
        .expect("the first clients arrive");
    let (partial, error) = drain(&mut stream).await;
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "{} of {}",
        partial.len(),
        full.len()
    );
    assert_eq!(partial[..], full[..partial.len()]);
    expect_decode_error(error, "gzip list cut in half");
    assert!(stream.meta().bytes_on_wire <= cut, "{:?}", stream.meta());
}

#[tokio::test]
async fn a_throttled_body_still_decodes_completely() {
    let (env, practice) = start(30, Switches::unlimited()).await;
    let mut stream = practice.list_clients(None).await.unwrap();
    let (unthrottled, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    let size = stream.meta().bytes_received;
    // The throttle paces the bytes on the wire (compressed).
    let wire = stream.meta().bytes_on_wire;

    // Half a second's worth of body at this rate, sent in tenth-of-a-second slices.
    env.sandbox
        .practice()
        .update_switches(|s| s.throttle_bytes_per_sec = Some(wire * 2))
        .unwrap();
    let started = Instant::now();
    let mut stream = practice.list_clients(None).await.unwrap();
    let (throttled, error) = drain(&mut stream).await;
    let took = started.elapsed();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(throttled, unthrottled);
    assert_eq!(stream.meta().bytes_received, size);
    assert_eq!(stream.meta().bytes_on_wire, wire);
    // The throttle really was in force: the last slice cannot leave before 0.4 s.
    assert!(took >= Duration::from_millis(350), "{took:?}");
}

#[tokio::test]
async fn an_expired_access_token_is_refused_until_the_source_has_a_fresh_one() {
    let env = start_with(|c| c.clients = 30).await;
    let current = Arc::new(Mutex::new(env.token.clone()));
    // A closure source cannot renew: Xero's refusal stands, but it is not "log in again".
    let source = {
        let current = Arc::clone(&current);
        move || {
            let token = current.lock().unwrap().clone();
            async move { Ok::<_, XpmError>(Secret::new(token)) }
        }
    };
    let practice = XeroApi::new(api_config(&env))
        .unwrap()
        .practice(DEMO_PRACTICE.id, Arc::new(source));
    practice.groups().await.unwrap();

    env.sandbox.practice().expire_all_access_tokens();
    for result in [
        practice.list_clients(None).await.map(drop),
        practice.groups().await.map(drop),
    ] {
        match result {
            Err(XpmError::AccessTokenRefused { tokens: 1, reason }) => {
                assert!(reason.starts_with("TokenExpired"), "{reason}")
            }
            other => panic!("expected AccessTokenRefused, got {other:?}"),
        }
    }

    // The client asks its source before each request, so a refreshed token just works.
    *current.lock().unwrap() = env.token_for(&USERS[0]).await;
    assert_eq!(
        list_all(&practice, None).await.len(),
        snapshot(&env).clients().len()
    );
}

/// A token source that hands out `tokens` in turn, moving on each time Xero refuses one.
struct Renewing {
    tokens: Vec<String>,
    current: Mutex<usize>,
    rejected: Mutex<Vec<String>>,
}

impl Renewing {
    fn new(tokens: Vec<String>) -> Arc<Self> {
        Arc::new(Renewing {
            tokens,
            current: Mutex::new(0),
            rejected: Mutex::new(Vec::new()),
        })
    }
}

impl hownow_xpm::AccessTokenSource for Renewing {
    fn access_token(&self) -> futures_util::future::BoxFuture<'_, Result<Secret, XpmError>> {
        let token = self.tokens[*self.current.lock().unwrap()].clone();
        Box::pin(async move { Ok(Secret::new(token)) })
    }

    fn token_rejected<'a>(&'a self, token: &'a Secret) -> futures_util::future::BoxFuture<'a, bool> {
        self.rejected.lock().unwrap().push(token.expose().to_string());
        let mut current = self.current.lock().unwrap();
        *current = (*current + 1).min(self.tokens.len() - 1);
        Box::pin(async { true })
    }
}

#[tokio::test]
async fn a_refused_access_token_is_renewed_and_the_request_goes_through() {
    let env = start_with(|c| c.clients = 30).await;
    // The token dies before its time (what a very short lifetime or skewed clocks do, without
    // waiting for it); the source's next one is fresh.
    env.sandbox.practice().expire_all_access_tokens();
    let fresh = env.token_for(&USERS[0]).await;
    let source = Renewing::new(vec![env.token.clone(), fresh]);
    let practice = XeroApi::new(api_config(&env))
        .unwrap()
        .practice(DEMO_PRACTICE.id, source.clone());
    let mut stream = practice.list_clients(None).await.unwrap();
    assert_eq!(stream.meta().attempts, 1, "a renewal is not a retry");
    let (clients, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), snapshot(&env).clients().len());
    assert_eq!(*source.rejected.lock().unwrap(), [env.token.as_str()]);
}

#[tokio::test]
async fn fresh_tokens_refused_again_and_again_end_in_a_refused_token_error_not_reauth() {
    let env = start_with(|c| c.clients = 10).await;
    let never_issued = (0..10).map(|i| format!("never-issued-{i}")).collect();
    let source = Renewing::new(never_issued);
    let practice = XeroApi::new(api_config(&env))
        .unwrap()
        .practice(DEMO_PRACTICE.id, source.clone());
    let err = practice.groups().await.unwrap_err();
    match &err {
        XpmError::AccessTokenRefused { tokens, .. } => {
            assert_eq!(*tokens, hownow_xpm::MAX_TOKEN_RENEWALS + 1)
        }
        other => panic!("expected AccessTokenRefused, got {other:?}"),
    }
    assert!(!err.is_transient());
    assert_eq!(
        source.rejected.lock().unwrap().len() as u32,
        hownow_xpm::MAX_TOKEN_RENEWALS + 1
    );
}

// --- Xero's pace: first bytes, held lists, gzip ----------------------------------------------

#[tokio::test]
async fn a_gzip_list_decodes_to_the_same_clients_with_fewer_bytes_on_the_wire() {
    let (env, practice) = start(300, Switches::unlimited()).await;
    let mut stream = practice.list_clients(None).await.unwrap();
    let (compressed, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    let gzip = stream.meta();
    assert_eq!(compressed.len(), snapshot(&env).clients().len());
    assert!(gzip.bytes_on_wire * 2 < gzip.bytes_received, "{gzip:?}");

    env.sandbox
        .practice()
        .update_switches(|s| s.gzip = false)
        .unwrap();
    let mut stream = practice.list_clients(None).await.unwrap();
    let (plain, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    let identity = stream.meta();
    assert_eq!(plain, compressed);
    assert_eq!(identity.bytes_received, gzip.bytes_received);
    assert_eq!(identity.bytes_on_wire, identity.bytes_received);
    // Small answers too.
    let groups = practice.groups().await.unwrap();
    assert_eq!(groups.meta.bytes_on_wire, groups.meta.bytes_received);
}

#[tokio::test]
async fn a_list_whose_first_byte_never_comes_in_time_is_tried_twice_then_fails() {
    let env = start_with(|c| {
        c.clients = 20;
        // XPM preparing the list for ten minutes; other endpoints answer at once.
        c.switches.first_byte_delay_ms = [("client.api/list".to_string(), 600_000)].into();
    })
    .await;
    let mut config = api_config(&env);
    config.http.list_response_timeout = Duration::from_millis(300);
    let practice = XeroApi::new(config)
        .unwrap()
        .practice(DEMO_PRACTICE.id, Arc::new(StaticToken::new(env.token.clone())));
    let (result, attempts) = practice.list_clients_counted(None).await;
    assert!(matches!(result, Err(XpmError::Timeout(_))), "{result:?}");
    assert_eq!(
        attempts,
        hownow_xpm::Attempts {
            attempts: 2,
            timeouts: 2
        }
    );
    // MAX_ATTEMPTS (4) would allow more tries: the bound is the timeout rule's.
    // The other endpoints keep their pace.
    practice.groups().await.unwrap();

    // Once XPM is quick again, the list works, and a stopped sandbox ends waits still running.
    env.sandbox
        .practice()
        .update_switches(|s| s.first_byte_delay_ms.clear())
        .unwrap();
    assert_eq!(list_all(&practice, None).await.len(), 20);
    env.sandbox.shutdown().await;
}

#[tokio::test]
async fn elapsed_covers_the_first_byte_delay_and_dates_the_request() {
    let env = start_with(|c| {
        c.clients = 5;
        c.switches.first_byte_delay_ms = [("client.api/get".to_string(), 400)].into();
    })
    .await;
    let practice = practice_client(&env, DEMO_PRACTICE.id);
    let uuid = snapshot(&env).clients()[0].uuid.clone();
    let fetched = practice.client(&uuid).await.unwrap();
    // The sandbox waited 400 ms before its headers: the wait measured can only be longer.
    assert!(
        fetched.meta.elapsed >= Duration::from_millis(400),
        "{:?}",
        fetched.meta
    );
    let date = fetched.meta.date.expect("a Date header");
    assert_eq!(fetched.meta.sent_at(), Some(date - fetched.meta.elapsed));
}

#[tokio::test]
async fn a_read_completes_while_a_list_is_held_in_the_middle() {
    let (env, practice) = start(200, Switches::unlimited()).await;
    let data = snapshot(&env);
    let hold_at: u64 = 40_000;
    env.sandbox
        .practice()
        .update_switches(|s| s.hold_list_after_bytes = Some(hold_at))
        .unwrap();
    let mut stream = practice.list_clients(None).await.unwrap();
    let first = stream.next_client().await.unwrap().unwrap();
    assert_matches_record(&data, &first, &data.clients()[0]);

    // Held: another request of the same tenant goes through meanwhile.
    let other = &data.clients()[150];
    let read = practice.client(&other.uuid).await.unwrap();
    assert_matches_record(&data, &read.value, other);
    assert!(
        stream.meta().bytes_received <= hold_at,
        "nothing past the hold was sent: {:?}",
        stream.meta()
    );

    env.sandbox
        .practice()
        .update_switches(|s| s.hold_list_after_bytes = None)
        .unwrap();
    let (rest, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rest.len() + 1, data.clients().len());
    assert!(stream.meta().bytes_received > hold_at);
}

#[tokio::test]
async fn a_held_list_breaks_off_when_the_sandbox_stops() {
    let (env, practice) = start(100, Switches::unlimited()).await;
    env.sandbox
        .practice()
        .update_switches(|s| s.hold_list_after_bytes = Some(10_000))
        .unwrap();
    let mut stream = practice.list_clients(None).await.unwrap();
    // Bounded: shutdown does not wait for the held response.
    tokio::time::timeout(Duration::from_secs(60), env.sandbox.shutdown())
        .await
        .expect("the sandbox stops although a list is held");
    let (_, error) = drain(&mut stream).await;
    assert!(
        matches!(error, Some(XpmError::Transport(_) | XpmError::Decode(_))),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_practice_that_ignores_page_changes_nothing_for_the_detailed_list() {
    let (env, practice) = start(30, Switches::unlimited()).await;
    let before = list_all(&practice, None).await;
    let since = OffsetDateTime::now_utc() - Duration::from_secs(1);
    let added = env
        .sandbox
        .practice()
        .add_client(
            DEMO_PRACTICE.id,
            hownow_sandbox::practice::ClientDetails::named("Page & Ignore Ltd"),
        )
        .unwrap();
    let with_paging = list_all(&practice, None).await;
    assert_eq!(with_paging.len(), before.len() + 1);

    env.sandbox
        .practice()
        .update_switches(|s| s.ignore_page = true)
        .unwrap();
    assert_eq!(list_all(&practice, None).await, with_paging);
    let changed = list_all(&practice, Some(since)).await;
    assert_eq!(uuids(&changed), [added.uuid.as_str()]);
    // The paged endpoint has its own, honoured, paging.
    assert_eq!(
        practice.all_paged_clients(7).await.unwrap().value.len(),
        snapshot(&env).clients().iter().filter(|c| active(c)).count()
    );
}
