//! The client list's own timeouts (no first byte, a stall before the first client) against the
//! short timeouts of small requests.

use std::time::Duration;

use crate::client_support::*;
use hownow_xpm::XpmError;

use super::{drain, GROUPS_OK};

#[tokio::test]
async fn a_list_without_a_first_byte_is_retried_once_and_both_tries_are_counted() {
    let full = many_clients_response(3);
    let good = RawResponse::xml(Some(full.len()), vec![&full], Duration::ZERO);
    let (base, count) = raw_server(vec![RawResponse::silent(), good]).await;
    let mut config = api_config(&base);
    config.http.list_response_timeout = Duration::from_millis(300);
    let (stream, attempts) = practice_with(config).list_clients_counted(None).await;
    let stream = stream.unwrap();
    assert_eq!(
        attempts,
        hownow_xpm::Attempts {
            attempts: 2,
            timeouts: 1
        }
    );
    assert_eq!((stream.meta().attempts, stream.meta().timeouts), (2, 1));
    let (clients, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), 3);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_list_that_times_out_twice_is_not_tried_a_third_time() {
    let (base, count) = raw_server(vec![RawResponse::silent()]).await;
    let mut config = api_config(&base);
    config.http.list_response_timeout = Duration::from_millis(200);
    config.retry = fast_retry(4);
    let (result, attempts) = practice_with(config).list_clients_counted(None).await;
    assert!(matches!(result, Err(XpmError::Timeout(_))), "{result:?}");
    assert_eq!(
        attempts,
        hownow_xpm::Attempts {
            attempts: 2,
            timeouts: 2
        }
    );
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_list_that_stalls_before_its_first_client_is_retried_once() {
    let full = many_clients_response(3);
    // Headers and the envelope's start, then nothing for far longer than the stall timeout.
    let stalled = RawResponse::xml(
        Some(full.len()),
        vec![&full[..40], &full[40..]],
        Duration::from_secs(600),
    );
    let good = RawResponse::xml(Some(full.len()), vec![&full], Duration::ZERO);
    let (base, count) = raw_server(vec![stalled, good]).await;
    let mut config = api_config(&base);
    config.http.list_idle_timeout = Duration::from_millis(300);
    let stream = practice_with(config).list_clients(None).await.unwrap();
    assert_eq!((stream.meta().attempts, stream.meta().timeouts), (2, 1));
    let (clients, error) = drain(stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(clients.len(), 3);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn other_failures_of_the_list_keep_the_retry_policy() {
    let full = many_clients_response(2);
    let broken = RawResponse::xml(Some(full.len()), vec![&full[..30]], Duration::ZERO);
    let good = RawResponse::xml(Some(full.len()), vec![&full], Duration::ZERO);
    let (base, count) = raw_server(vec![broken.clone(), broken, good]).await;
    let (stream, attempts) = practice(&base).list_clients_counted(None).await;
    assert_eq!(
        attempts,
        hownow_xpm::Attempts {
            attempts: 3,
            timeouts: 0
        }
    );
    assert_eq!(drain(stream.unwrap()).await.0.len(), 2);
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn small_requests_keep_their_own_short_timeouts() {
    let (base, count) = raw_server(vec![RawResponse::silent()]).await;
    let mut config = api_config(&base);
    // Were the list's timeouts used, this would wait ten minutes.
    config.http.list_response_timeout = Duration::from_secs(600);
    config.http.response_timeout = Duration::from_millis(200);
    config.retry = fast_retry(2);
    let err = practice_with(config).client("uuid-1").await.unwrap_err();
    assert!(matches!(err, XpmError::Timeout(_)), "{err:?}");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_small_request_that_timed_out_then_worked_counts_the_timeout() {
    let groups = GROUPS_OK.to_string();
    let good = RawResponse::xml(Some(groups.len()), vec![&groups], Duration::ZERO);
    let (base, _) = raw_server(vec![RawResponse::silent(), good]).await;
    let mut config = api_config(&base);
    config.http.response_timeout = Duration::from_millis(200);
    let groups = practice_with(config).groups().await.unwrap();
    assert_eq!((groups.meta.attempts, groups.meta.timeouts), (2, 1));
    assert_eq!(groups.value.len(), 1);
}
