//! Xero's pace: gzip lists, first bytes that come late or never, lists held in the middle or
//! broken off, and a practice that ignores page.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{start_with, uuids};
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::Switches;
use hownow_xpm::{StaticToken, XeroApi, XpmError};
use time::OffsetDateTime;

use super::{active, api_config, assert_matches_record, drain, list_all, practice_client, snapshot, start};

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
