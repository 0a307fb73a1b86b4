//! HowNow's own Practice Manager client (`hownow_xpm::XeroApi`, `PracticeClient`) against the
//! sandbox over loopback: every read endpoint, Xero's rate limits, XPM's `modifiedsince` defect
//! and each fault switch, as the sync engine meets them. The raw HTTP shapes are tested in
//! xpm_endpoints.rs and xpm_gateway_and_faults.rs; here the question is what the client makes of
//! them: typed values equal to the sandbox's records, waits where Xero asks for them, and errors
//! (never a silently short list) where the answer is broken.
//!
//! The tests are in the submodules by what they meet; the client configuration, the sandbox
//! starter and the comparisons with the sandbox's records they share are here.

mod faults;
mod modifiedsince_defect;
mod pace;
mod rate_limits;
mod read_endpoints;
mod token_renewal;

use std::sync::Arc;
use std::time::Duration;

use crate::common::{start_with, Env};
use hownow_sandbox::practice::{Client as Record, PracticeData};
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::Switches;
use hownow_xpm::{
    ApiConfig, Client, ClientStream, HttpConfig, PracticeClient, RateLimits, RetryPolicy, StaticToken,
    XeroApi, XpmError,
};
use time::OffsetDateTime;
use url::Url;

pub(super) const MAX_ATTEMPTS: u32 = 4;

/// Quick retries and next to no pacing of the client's own, so a test waits only where the
/// sandbox tells the client to; the timeouts bound every call.
pub(super) fn api_config(env: &Env) -> ApiConfig {
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
pub(super) fn practice_client(env: &Env, tenant: &str) -> PracticeClient {
    XeroApi::new(api_config(env))
        .unwrap()
        .practice(tenant, Arc::new(StaticToken::new(env.token.clone())))
}

pub(super) async fn start(clients: usize, switches: Switches) -> (Env, PracticeClient) {
    let env = start_with(|c| {
        c.clients = clients;
        c.switches = switches;
    })
    .await;
    let practice = practice_client(&env, DEMO_PRACTICE.id);
    (env, practice)
}

pub(super) fn snapshot(env: &Env) -> Arc<PracticeData> {
    env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap()
}

/// Reads a client stream to its end: the clients before any failure, and the failure. Nothing
/// may follow a failure.
pub(super) async fn drain(stream: &mut ClientStream) -> (Vec<Client>, Option<XpmError>) {
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

pub(super) async fn list_all(practice: &PracticeClient, since: Option<OffsetDateTime>) -> Vec<Client> {
    let mut stream = practice.list_clients(since).await.expect("the list starts");
    match drain(&mut stream).await {
        (clients, None) => clients,
        (clients, Some(e)) => panic!("the list failed after {} clients: {e}", clients.len()),
    }
}

pub(super) fn record_uuids<'a>(records: impl IntoIterator<Item = &'a Arc<Record>>) -> Vec<String> {
    records.into_iter().map(|c| c.uuid.clone()).collect()
}

pub(super) fn active(record: &Record) -> bool {
    !record.details.is_archived() && !record.details.is_deleted()
}

/// The fields the sync engine relies on, and the contacts with their links, equal the sandbox's
/// record (round_trip.rs compares every field of the raw XML).
pub(super) fn assert_matches_record(data: &PracticeData, got: &Client, record: &Record) {
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
