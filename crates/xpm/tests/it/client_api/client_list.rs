//! The streaming client list: metadata, as a futures stream, empty, dropped early, modified
//! since, and paged to the end.

use crate::client_support::*;
use futures_util::StreamExt;
use hownow_xpm::XpmError;
use time::macros::datetime;
use wiremock::matchers::{query_param, query_param_is_missing};
use wiremock::MockServer;

use super::{pm_get, xml, PM};

#[tokio::test]
async fn client_list_streams_every_client_with_metadata() {
    let server = MockServer::start().await;
    let body = clients_response(&[
        ("uuid-a", "Alpha &amp; Co"),
        ("uuid-b", "Beta"),
        ("uuid-c", "Gamma"),
    ]);
    pm_get("client.api/list")
        .and(query_param("detailed", "true"))
        .and(query_param_is_missing("modifiedsince"))
        .respond_with(
            xml(body.clone())
                .insert_header("date", "Tue, 02 Jan 2024 03:04:05 GMT")
                .insert_header("x-minlimit-remaining", "58")
                .insert_header("x-daylimit-remaining", "4321")
                .insert_header("x-appminlimit-remaining", "9990"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let mut stream = practice(&server.uri()).list_clients(None).await.unwrap();
    let mut clients = Vec::new();
    while let Some(client) = stream.next_client().await {
        clients.push(client.unwrap());
    }
    let names: Vec<_> = clients.iter().map(|c| c.name.clone().unwrap()).collect();
    assert_eq!(names, ["Alpha & Co", "Beta", "Gamma"]);
    assert_eq!(clients[1].uuid.as_deref(), Some("uuid-b"));
    assert_eq!(clients[1].contacts[0].uuid.as_deref(), Some("c-uuid-b"));
    assert_eq!(clients[1].contacts[0].is_primary, Some(true));

    let meta = stream.meta();
    assert_eq!(meta.status, 200);
    assert_eq!(meta.date, Some(datetime!(2024-01-02 03:04:05 UTC)));
    assert_eq!(meta.min_limit_remaining, Some(58));
    assert_eq!(meta.day_limit_remaining, Some(4321));
    assert_eq!(meta.app_min_limit_remaining, Some(9990));
    assert_eq!(meta.bytes_received, body.len() as u64);
    assert_eq!(meta.attempts, 1);
}

#[tokio::test]
async fn client_list_is_a_futures_stream_too() {
    let server = MockServer::start().await;
    pm_get("client.api/list")
        .respond_with(xml(many_clients_response(300)))
        .mount(&server)
        .await;
    let stream = practice(&server.uri()).list_clients(None).await.unwrap();
    let clients: Vec<_> = stream.collect().await;
    assert_eq!(clients.len(), 300);
    assert_eq!(clients[299].as_ref().unwrap().uuid.as_deref(), Some("uuid-299"));
}

#[tokio::test]
async fn an_empty_client_list_ends_cleanly() {
    let server = MockServer::start().await;
    pm_get("client.api/list")
        .respond_with(xml("<Response><Status>OK</Status><Clients /></Response>"))
        .mount(&server)
        .await;
    let mut stream = practice(&server.uri()).list_clients(None).await.unwrap();
    assert!(stream.next_client().await.is_none());
}

#[tokio::test]
async fn dropping_a_client_stream_early_releases_the_tenant() {
    let server = MockServer::start().await;
    pm_get("client.api/list")
        .respond_with(xml(many_clients_response(2000)))
        .mount(&server)
        .await;
    let mut config = api_config(&server.uri());
    config.rate_limits.max_in_flight = 1;
    let client = practice_with(config);
    for _ in 0..3 {
        let mut stream = client.list_clients(None).await.unwrap();
        assert!(stream.next_client().await.unwrap().is_ok());
        drop(stream);
    }
}

#[tokio::test]
async fn modifiedsince_is_sent_in_utc() {
    let server = MockServer::start().await;
    pm_get("client.api/list")
        .and(query_param("detailed", "true"))
        .and(query_param("modifiedsince", "2024-02-29T20:30:15"))
        .respond_with(xml(clients_response(&[("uuid-a", "Alpha")])))
        .expect(1)
        .mount(&server)
        .await;
    let since = datetime!(2024-03-01 09:30:15.750 +13:00);
    let mut stream = practice(&server.uri()).list_clients(Some(since)).await.unwrap();
    assert_eq!(
        stream.next_client().await.unwrap().unwrap().uuid.as_deref(),
        Some("uuid-a")
    );
    assert!(stream.next_client().await.is_none());
}

fn clients_page(clients: &[(&str, &str)], next: Option<&str>) -> String {
    let body: String = clients.iter().map(|(u, n)| client_xml(u, n)).collect();
    format!(
        "<Response api-method=\"PagedList\"><Status>OK</Status><Clients>{body}</Clients>{}</Response>",
        pagination_xml(next)
    )
}

#[tokio::test]
async fn paged_client_list_is_followed_to_the_end() {
    let server = MockServer::start().await;
    // XPM's <Next> is a full URL; the token is its pageToken parameter.
    let next = |token: &str| {
        format!("https://api.xero.com{PM}/client.api/paged-list?pageSize=2&amp;pageToken={token}")
    };
    let pages = [
        clients_page(&[("u1", "One"), ("u2", "Two")], Some(&next("p2"))),
        clients_page(&[("u3", "Three"), ("u4", "Four")], Some(&next("p3"))),
        clients_page(&[("u5", "Five")], None),
    ];
    pm_get("client.api/paged-list")
        .and(query_param("pageSize", "2"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(xml(pages[0].clone()))
        .expect(2)
        .mount(&server)
        .await;
    pm_get("client.api/paged-list")
        .and(query_param("pageSize", "2"))
        .and(query_param("pageToken", "p2"))
        .respond_with(xml(pages[1].clone()))
        .expect(1)
        .mount(&server)
        .await;
    pm_get("client.api/paged-list")
        .and(query_param("pageSize", "2"))
        .and(query_param("pageToken", "p3"))
        .respond_with(xml(pages[2].clone()).insert_header("x-daylimit-remaining", "10"))
        .expect(1)
        .mount(&server)
        .await;

    let client = practice(&server.uri());
    let first = client.paged_clients(2, None).await.unwrap();
    assert_eq!(first.value.items.len(), 2);
    assert_eq!(first.value.next_page_token.as_deref(), Some("p2"));

    let all = client.all_paged_clients(2).await.unwrap();
    let uuids: Vec<_> = all.value.iter().map(|c| c.uuid.clone().unwrap()).collect();
    assert_eq!(uuids, ["u1", "u2", "u3", "u4", "u5"]);
    assert_eq!(all.meta.day_limit_remaining, Some(10), "meta of the last page");
    let total: usize = pages.iter().map(String::len).sum();
    assert_eq!(all.meta.bytes_received, total as u64, "bytes of all three pages");
}

#[tokio::test]
async fn a_repeated_page_token_stops_paging_with_an_error() {
    let server = MockServer::start().await;
    pm_get("client.api/paged-list")
        .respond_with(xml(clients_page(&[("u1", "One")], Some("same-token"))))
        .expect(2)
        .mount(&server)
        .await;
    let err = practice(&server.uri()).all_paged_clients(1).await.unwrap_err();
    assert!(
        matches!(&err, XpmError::Api { description } if description.contains("same-token")),
        "{err:?}"
    );
}

#[tokio::test]
async fn page_size_is_checked_before_sending() {
    let server = MockServer::start().await;
    let client = practice(&server.uri());
    for bad in [0, 501] {
        assert!(matches!(
            client.contacts_page(bad, None).await,
            Err(XpmError::Config(_))
        ));
        assert!(matches!(
            client.paged_clients(bad, None).await,
            Err(XpmError::Config(_))
        ));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}
