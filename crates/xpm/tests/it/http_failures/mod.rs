//! Every failure a caller must be able to act on, and the rate limits: 401/403/429 (both kinds),
//! 5xx bursts and outages, timeouts, ERROR with HTTP 200, truncated/malformed/hostile bodies,
//! downloads that break off or stall, in-flight and per-window limits. The tests are in the
//! submodules by kind of failure; the paths, XML responses and stream draining they share are here.

mod broken_bodies;
mod list_timeouts;
mod rate_limits;
mod status_errors;
mod tokens;

use hownow_xpm::XpmError;
use wiremock::{MockServer, ResponseTemplate};

pub(super) const GROUPS: &str = "/practicemanager/3.1/clientgroup.api/list";
pub(super) const LIST: &str = "/practicemanager/3.1/client.api/list";
pub(super) const GROUPS_OK: &str = "<Response><Status>OK</Status><Groups><Group><UUID>g1</UUID><Name>Monthly</Name></Group></Groups></Response>";

pub(super) fn xml(body: impl Into<String>) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/xml")
        .set_body_string(body.into())
}

pub(super) async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

/// Reads a client stream to its end; returns the clients and the error it ended with, if any.
pub(super) async fn drain(
    mut stream: hownow_xpm::ClientStream,
) -> (Vec<hownow_xpm::Client>, Option<XpmError>) {
    let mut clients = Vec::new();
    while let Some(next) = stream.next_client().await {
        match next {
            Ok(c) => clients.push(c),
            Err(e) => {
                assert!(stream.next_client().await.is_none(), "nothing after an error");
                return (clients, Some(e));
            }
        }
    }
    (clients, None)
}
