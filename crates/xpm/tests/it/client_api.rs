//! Every endpoint against a mock that only answers requests carrying the required headers:
//! connections, the streaming client list, paging to the end, single records, groups.

use crate::client_support::*;
use futures_util::StreamExt;
use hownow_xpm::{Secret, XeroApi, XpmError};
use serde_json::json;
use time::macros::datetime;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const PM: &str = "/practicemanager/3.1";

/// A GET that only matches with every header XPM requires.
fn pm_get(endpoint: &str) -> MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!("{PM}/{endpoint}")))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("xero-tenant-id", TENANT))
        .and(header("accept", "application/xml"))
        .and(header("user-agent", "hownow-xpm-tests"))
        .and(header("accept-encoding", "gzip"))
}

fn xml(body: impl Into<String>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml; charset=utf-8")
        .set_body_string(body.into())
}

#[tokio::test]
async fn connections_are_listed_and_filtered_to_practice_manager() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/connections"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "conn-1", "authEventId": "ae", "tenantId": "t-xpm-1", "tenantType": "PRACTICEMANAGER",
             "tenantName": "Firm One", "createdDateUtc": "2019-07-09T23:40:30.1833130", "updatedDateUtc": "2020-05-15T01:35:13.8491980"},
            {"id": "conn-2", "tenantId": "t-org", "tenantType": "ORGANISATION", "tenantName": "Firm Ltd"},
            {"id": "conn-3", "tenantId": "t-xpm-2", "tenantType": "PRACTICEMANAGER", "tenantName": null},
        ])))
        .expect(2)
        .mount(&server)
        .await;
    let api = XeroApi::new(api_config(&server.uri())).unwrap();
    let token = Secret::new(TOKEN);

    let all = api.connections(&token).await.unwrap();
    assert_eq!(all.value.len(), 3);
    assert_eq!(all.meta.status, 200);
    assert_eq!(all.value[0].tenant_name.as_deref(), Some("Firm One"));

    let xpm = api.practice_manager_connections(&token).await.unwrap();
    let tenants: Vec<_> = xpm
        .iter()
        .map(|c| (c.id.as_str(), c.tenant_id.as_str()))
        .collect();
    assert_eq!(tenants, [("conn-1", "t-xpm-1"), ("conn-3", "t-xpm-2")]);
}

#[tokio::test]
async fn no_practice_manager_connection_gives_an_empty_list() {
    let server = MockServer::start().await;
    Mock::given(path("/connections"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "c", "tenantId": "t", "tenantType": "ORGANISATION"}
        ])))
        .mount(&server)
        .await;
    let api = XeroApi::new(api_config(&server.uri())).unwrap();
    assert!(api
        .practice_manager_connections(&Secret::new(TOKEN))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_connection_is_deleted_by_its_id() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/connections/conn-1"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let api = XeroApi::new(api_config(&server.uri())).unwrap();
    api.delete_connection(&Secret::new(TOKEN), "conn-1")
        .await
        .unwrap();
}

#[tokio::test]
async fn connections_with_a_dead_token_need_reauthorisation() {
    let server = MockServer::start().await;
    Mock::given(path("/connections"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired at 05/01/2024 10:00:00"
        })))
        .mount(&server)
        .await;
    let api = XeroApi::new(api_config(&server.uri())).unwrap();
    let err = api.connections(&Secret::new(TOKEN)).await.unwrap_err();
    assert!(
        matches!(&err, XpmError::NeedsReauth { reason } if reason.starts_with("TokenExpired")),
        "{err:?}"
    );
}

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

#[tokio::test]
async fn a_single_client_is_fetched_by_uuid() {
    let server = MockServer::start().await;
    let body = format!(
        "<Response api-method=\"Get\"><Status>OK</Status>{}<WebUrl>https://practicemanager.xero.com/Client/123</WebUrl></Response>",
        client_xml("uuid-x", "Xavier")
    );
    pm_get("client.api/get/uuid-x")
        .respond_with(xml(body))
        .expect(1)
        .mount(&server)
        .await;
    let fetched = practice(&server.uri()).client("uuid-x").await.unwrap();
    assert_eq!(fetched.value.name.as_deref(), Some("Xavier"));
    assert_eq!(
        fetched.value.web_url.as_deref(),
        Some("https://practicemanager.xero.com/Client/123")
    );
    assert_eq!(fetched.meta.status, 200);
}

fn contacts_page(contacts: &[(&str, &str)], next: Option<&str>) -> String {
    let body: String = contacts
        .iter()
        .map(|(u, n)| format!("<Contact><UUID>{u}</UUID><Name>{n}</Name><Email>{u}@x.example</Email><IsDeleted>No</IsDeleted></Contact>"))
        .collect();
    format!(
        "<Response><Status>OK</Status><Contacts>{body}</Contacts>{}</Response>",
        pagination_xml(next)
    )
}

#[tokio::test]
async fn contacts_are_paged_one_page_at_a_time_or_all_at_once() {
    let server = MockServer::start().await;
    pm_get("client.api/contacts")
        .and(query_param("pageSize", "500"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(xml(contacts_page(&[("k1", "Kim"), ("k2", "Kai")], Some("t2"))))
        .expect(2)
        .mount(&server)
        .await;
    pm_get("client.api/contacts")
        .and(query_param("pageSize", "500"))
        .and(query_param("pageToken", "t2"))
        .respond_with(xml(contacts_page(&[("k3", "Kit")], Some("t3"))))
        .expect(2)
        .mount(&server)
        .await;
    pm_get("client.api/contacts")
        .and(query_param("pageSize", "500"))
        .and(query_param("pageToken", "t3"))
        .respond_with(xml(contacts_page(&[("k4", "Kip")], None)))
        .expect(1)
        .mount(&server)
        .await;

    let client = practice(&server.uri());
    let page = client.contacts_page(500, None).await.unwrap().value;
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].email.as_deref(), Some("k1@x.example"));
    assert_eq!(page.next_page_token.as_deref(), Some("t2"));
    let page = client.contacts_page(500, Some("t2")).await.unwrap().value;
    assert_eq!(page.next_page_token.as_deref(), Some("t3"));

    let all = client.all_contacts(500).await.unwrap();
    let uuids: Vec<_> = all.value.iter().map(|c| c.uuid.clone().unwrap()).collect();
    assert_eq!(uuids, ["k1", "k2", "k3", "k4"]);
}

#[tokio::test]
async fn a_single_contact_with_its_client_link() {
    let server = MockServer::start().await;
    pm_get("client.api/contact/k1")
        .and(query_param("clientUuid", "uuid-a"))
        .respond_with(xml(
            "<Response><Status>OK</Status><Contact><UUID>k1</UUID><Name>Kim</Name><IsPrimary>Yes</IsPrimary>\
             <Position>Director</Position></Contact></Response>",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let contact = practice(&server.uri())
        .contact("k1", Some("uuid-a"))
        .await
        .unwrap()
        .value;
    assert_eq!(contact.position.as_deref(), Some("Director"));
    assert_eq!(contact.is_primary, Some(true));
}

#[tokio::test]
async fn groups_are_listed_and_fetched_under_a_base_path_prefix() {
    let server = MockServer::start().await;
    let prefixed = |endpoint: &str| {
        Mock::given(method("GET"))
            .and(path(format!("/xero{PM}/{endpoint}")))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(header("xero-tenant-id", TENANT))
            .and(header("accept", "application/xml"))
    };
    prefixed("clientgroup.api/list")
        .respond_with(xml(
            "<Response><Status>OK</Status><Groups><Group><UUID>g1</UUID><Name>Monthly</Name><Taxable>No</Taxable></Group>\
             <Group><UUID>g2</UUID><Name>Trusts</Name><Taxable>Yes</Taxable></Group></Groups></Response>",
        ))
        .expect(1)
        .mount(&server)
        .await;
    prefixed("clientgroup.api/get/g2")
        .respond_with(xml(
            "<Response><Status>OK</Status><Group><UUID>g2</UUID><Name>Trusts</Name><Taxable>Yes</Taxable>\
             <Clients><Client><UUID>uuid-a</UUID><Name>Alpha</Name></Client></Clients></Group></Response>",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let client = practice(&format!("{}/xero/", server.uri()));
    let groups = client.groups().await.unwrap().value;
    let names: Vec<_> = groups.iter().map(|g| g.name.clone().unwrap()).collect();
    assert_eq!(names, ["Monthly", "Trusts"]);
    assert_eq!(groups[1].taxable, Some(true));

    let group = client.group("g2").await.unwrap().value;
    assert_eq!(group.clients.len(), 1);
    assert_eq!(group.clients[0].uuid.as_deref(), Some("uuid-a"));
}

#[tokio::test]
async fn the_token_source_is_asked_before_every_request() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let server = MockServer::start().await;
    for n in 1..=2 {
        Mock::given(path(format!("{PM}/clientgroup.api/list")))
            .and(header("authorization", format!("Bearer token-{n}").as_str()))
            .respond_with(xml("<Response><Status>OK</Status><Groups /></Response>"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let source = move || {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move { Ok(Secret::new(format!("token-{n}"))) }
    };
    let client = XeroApi::new(api_config(&server.uri()))
        .unwrap()
        .practice(TENANT, Arc::new(source));
    client.groups().await.unwrap();
    client.groups().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn clients_arrive_while_the_body_is_still_downloading() {
    let full = many_clients_response(40);
    let at = full.find("<Client><UUID>uuid-20</UUID>").unwrap();
    let (head, rest) = full.split_at(at);
    let (base, _) = raw_server(vec![RawResponse::xml(
        Some(full.len()),
        vec![head, rest],
        std::time::Duration::from_millis(1500),
    )])
    .await;
    let started = std::time::Instant::now();
    let mut stream = practice(&base).list_clients(None).await.unwrap();
    for _ in 0..20 {
        stream.next_client().await.unwrap().unwrap();
    }
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1200),
        "the first half was decoded before the second half was sent"
    );
    let mut rest_count = 0;
    while let Some(client) = stream.next_client().await {
        client.unwrap();
        rest_count += 1;
    }
    assert_eq!(rest_count, 20);
    assert_eq!(stream.meta().bytes_received, full.len() as u64);
}

#[tokio::test]
async fn a_stream_that_is_not_read_does_not_download_everything() {
    let server = MockServer::start().await;
    let body = many_clients_response(40_000);
    pm_get("client.api/list")
        .respond_with(xml(body.clone()))
        .mount(&server)
        .await;
    let mut stream = practice(&server.uri()).list_clients(None).await.unwrap();
    stream.next_client().await.unwrap().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let buffered = stream.meta().bytes_received;
    // About 1 MiB of body buffer, one chunk waiting for room, and a few decoded clients; the
    // 10 MB body must not all have been pulled in.
    assert!(
        buffered < 2 * 1024 * 1024,
        "downloaded {buffered} of {} bytes while nobody read",
        body.len()
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn gzip_xml(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml; charset=utf-8")
        .insert_header("content-encoding", "gzip")
        .set_body_bytes(gzip(body.as_bytes()))
}

#[tokio::test]
async fn a_gzip_list_is_decoded_and_both_sizes_are_counted() {
    let server = MockServer::start().await;
    let body = many_clients_response(2_000);
    let wire = gzip(body.as_bytes());
    pm_get("client.api/list")
        .respond_with(gzip_xml(&body))
        .mount(&server)
        .await;
    let mut stream = practice(&server.uri()).list_clients(None).await.unwrap();
    let mut n = 0;
    while let Some(client) = stream.next_client().await {
        assert_eq!(client.unwrap().uuid, Some(format!("uuid-{n}")));
        n += 1;
    }
    assert_eq!(n, 2_000);
    let meta = stream.meta();
    assert_eq!(meta.bytes_received, body.len() as u64);
    assert_eq!(meta.bytes_on_wire, wire.len() as u64);
    assert!(meta.bytes_on_wire * 5 < meta.bytes_received, "{meta:?}");
}

#[tokio::test]
async fn small_gzip_answers_are_decoded_and_pages_sum_both_sizes() {
    let server = MockServer::start().await;
    let first = format!(
        "<Response><Status>OK</Status><Clients>{}</Clients>{}</Response>",
        client_xml("u1", "One"),
        pagination_xml(Some("t2"))
    );
    let second = format!(
        "<Response><Status>OK</Status><Clients>{}</Clients>{}</Response>",
        client_xml("u2", "Two"),
        pagination_xml(None)
    );
    pm_get("client.api/paged-list")
        .and(query_param_is_missing("pageToken"))
        .respond_with(gzip_xml(&first))
        .mount(&server)
        .await;
    // The second page comes uncompressed, as a server may choose.
    pm_get("client.api/paged-list")
        .and(query_param("pageToken", "t2"))
        .respond_with(xml(second.clone()))
        .mount(&server)
        .await;
    let all = practice(&server.uri()).all_paged_clients(10).await.unwrap();
    assert_eq!(all.value.len(), 2);
    assert_eq!(all.meta.bytes_received, (first.len() + second.len()) as u64);
    assert_eq!(
        all.meta.bytes_on_wire,
        (gzip(first.as_bytes()).len() + second.len()) as u64
    );
}

#[tokio::test]
async fn a_plain_answer_has_as_many_bytes_on_the_wire_as_decoded() {
    let server = MockServer::start().await;
    let body = many_clients_response(50);
    pm_get("client.api/list")
        .respond_with(xml(body.clone()))
        .mount(&server)
        .await;
    let mut stream = practice(&server.uri()).list_clients(None).await.unwrap();
    while let Some(client) = stream.next_client().await {
        client.unwrap();
    }
    let meta = stream.meta();
    assert_eq!(meta.bytes_received, body.len() as u64);
    assert_eq!(meta.bytes_on_wire, meta.bytes_received);
}

#[tokio::test]
async fn a_corrupt_or_cut_gzip_body_is_a_decode_error() {
    let server = MockServer::start().await;
    let body = many_clients_response(200);
    let wire = gzip(body.as_bytes());
    let mut corrupt = wire.clone();
    corrupt[0] ^= 0xFF; // not gzip's magic number

    pm_get("client.api/get/corrupt")
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_bytes(corrupt),
        )
        .mount(&server)
        .await;
    pm_get("client.api/get/cut")
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_bytes(wire[..wire.len() / 2].to_vec()),
        )
        .mount(&server)
        .await;
    pm_get("client.api/get/brotli")
        .respond_with(xml(body.clone()).insert_header("content-encoding", "br"))
        .mount(&server)
        .await;
    let practice = practice(&server.uri());
    for (uuid, expected) in [("corrupt", "gzip"), ("cut", "gzip"), ("brotli", "`br`")] {
        match practice.client(uuid).await {
            Err(XpmError::Decode(e)) => assert!(e.message.contains(expected), "{uuid}: {e}"),
            other => panic!("{uuid}: expected a decode error, got {other:?}"),
        }
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 3, "not retried");
}

#[tokio::test]
async fn elapsed_is_the_wait_for_the_headers_and_dates_the_request() {
    let server = MockServer::start().await;
    pm_get("client.api/list")
        .respond_with(
            xml(many_clients_response(2))
                .insert_header("date", "Tue, 02 Jan 2024 03:04:05 GMT")
                .set_delay(std::time::Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    let stream = practice(&server.uri()).list_clients(None).await.unwrap();
    let meta = stream.meta();
    // The server waited 300 ms before its headers; the wait can only be longer, never shorter.
    assert!(meta.elapsed >= std::time::Duration::from_millis(300), "{meta:?}");
    assert_eq!(
        meta.sent_at(),
        Some(datetime!(2024-01-02 03:04:05 UTC) - meta.elapsed)
    );
}
