//! Shared by the client_api, http_failures and identity_flow modules: fast configs, XPM-shaped
//! XML, and a raw TCP server for failures wiremock cannot produce (bodies that break off or stall
//! mid-way).
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hownow_xpm::{ApiConfig, HttpConfig, PracticeClient, RateLimits, RetryPolicy, StaticToken, XeroApi};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

pub const TOKEN: &str = "test-access-token";
pub const TENANT: &str = "0b7e6a4e-1111-4c1f-9c7e-000000000001";

/// Timeouts short enough for tests, long enough never to fire on a loaded 2-core machine unless
/// a test means them to.
pub fn http_config() -> HttpConfig {
    HttpConfig {
        user_agent: "hownow-xpm-tests".to_string(),
        connect_timeout: Duration::from_secs(5),
        response_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(5),
        list_response_timeout: Duration::from_secs(5),
        list_idle_timeout: Duration::from_secs(5),
        list_timeout_retry_pause: Duration::from_millis(5),
    }
}

pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_rate_limit_wait: Duration::from_secs(2),
    }
}

pub fn api_config(base: &str) -> ApiConfig {
    ApiConfig {
        api_base: Url::parse(base).unwrap(),
        http: http_config(),
        retry: fast_retry(3),
        rate_limits: RateLimits {
            max_in_flight: 5,
            max_per_window: 1000,
            window: Duration::from_millis(500),
            // No spacing: these tests time the client's reactions, not Xero's pace.
            min_spacing: Duration::ZERO,
        },
    }
}

pub fn practice_with(config: ApiConfig) -> PracticeClient {
    XeroApi::new(config)
        .unwrap()
        .practice(TENANT, Arc::new(StaticToken::new(TOKEN)))
}

pub fn practice(base: &str) -> PracticeClient {
    practice_with(api_config(base))
}

pub fn client_xml(uuid: &str, name: &str) -> String {
    format!(
        "<Client><UUID>{uuid}</UUID><Name>{name}</Name><Email>{uuid}@example.com</Email>\
         <IsArchived>No</IsArchived><Contacts><Contact><UUID>c-{uuid}</UUID><Name>Contact of {name}</Name>\
         <IsPrimary>yes</IsPrimary></Contact></Contacts></Client>"
    )
}

pub fn clients_response(clients: &[(&str, &str)]) -> String {
    let body: String = clients.iter().map(|(u, n)| client_xml(u, n)).collect();
    format!("<Response api-method=\"List\"><Status>OK</Status><Clients>{body}</Clients></Response>")
}

/// `n` clients named `Client 0`… with UUIDs `uuid-0`…
pub fn many_clients_response(n: usize) -> String {
    let body: String = (0..n)
        .map(|i| client_xml(&format!("uuid-{i}"), &format!("Client {i}")))
        .collect();
    format!("<Response api-method=\"List\"><Status>OK</Status><Clients>{body}</Clients></Response>")
}

pub fn pagination_xml(next: Option<&str>) -> String {
    let next = next.map(|n| format!("<Next>{n}</Next>")).unwrap_or_default();
    format!("<Pagination><Links><First>first-page</First>{next}</Links></Pagination>")
}

pub fn error_response(description: &str) -> String {
    format!("<Response><Status>ERROR</Status><ErrorDescription>{description}</ErrorDescription></Response>")
}

/// What the raw server sends on one connection: `head` (status line and headers, without the
/// blank line), then `parts` of the body with `pause` before each part after the first; then it
/// closes the connection. An empty `head` ([`RawResponse::silent`]) sends nothing at all.
#[derive(Clone)]
pub struct RawResponse {
    pub head: String,
    pub parts: Vec<Vec<u8>>,
    pub pause: Duration,
}

impl RawResponse {
    /// Never answers: reads the request and keeps the connection open until the client gives up.
    pub fn silent() -> Self {
        RawResponse {
            head: String::new(),
            parts: Vec::new(),
            pause: Duration::ZERO,
        }
    }

    /// A 200 XML response announcing `content_length` bytes (more than `parts` hold, to cut the
    /// body short), or no length at all (the body then ends when the connection closes).
    pub fn xml(content_length: Option<usize>, parts: Vec<&str>, pause: Duration) -> Self {
        let length = content_length
            .map(|n| format!("\r\nContent-Length: {n}"))
            .unwrap_or_default();
        RawResponse {
            head: format!("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close{length}"),
            parts: parts.into_iter().map(|p| p.as_bytes().to_vec()).collect(),
            pause,
        }
    }
}

/// A loopback HTTP server for failures wiremock cannot produce. Connection number i (from 0) gets
/// `responses[min(i, len - 1)]`. Returns the base URL and a count of requests received. Runs
/// until the test's runtime ends.
pub async fn raw_server(responses: Vec<RawResponse>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let response = responses[n.min(responses.len() - 1)].clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                if response.head.is_empty() {
                    // Silent: wait for the client to close its end.
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                    }
                    return;
                }
                let _ = socket
                    .write_all(format!("{}\r\n\r\n", response.head).as_bytes())
                    .await;
                for (i, part) in response.parts.iter().enumerate() {
                    if i > 0 {
                        tokio::time::sleep(response.pause).await;
                    }
                    if socket.write_all(part).await.is_err() {
                        return;
                    }
                    let _ = socket.flush().await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), count)
}
