//! The body on the wire: decoded while still downloading, not read ahead unbounded, gzip, and
//! the timing of a request.

use crate::client_support::*;
use hownow_xpm::XpmError;
use time::macros::datetime;
use wiremock::matchers::{query_param, query_param_is_missing};
use wiremock::{MockServer, ResponseTemplate};

use super::{pm_get, xml};

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
