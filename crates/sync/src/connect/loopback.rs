//! The loopback redirect: a tiny HTTP listener on `localhost`, on the first free port of a
//! fixed list (Xero matches redirect URIs exactly, so every port must be registered with the
//! app), answering `GET /callback` until the login in progress got its answer.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::RawQuery;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

use super::callback::{browser_page, CallbackParams, CallbackRejected};
use super::ConnectError;

/// How long the listener lets the browser finish reading its page after the login ended.
const DRAIN: Duration = Duration::from_secs(5);

/// Receives each callback; `Ok` once the login in progress accepted it.
pub(crate) type OnCallback = Arc<dyn Fn(CallbackParams) -> Result<(), CallbackRejected> + Send + Sync>;

/// A running listener; dropping it stops it (after the page in flight, if any, was sent).
pub(crate) struct LoopbackServer {
    port: u16,
    stop: CancellationToken,
}

impl LoopbackServer {
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Binds `127.0.0.1` on the first port of `ports` that is free, and `[::1]` on the same port
/// where the host has IPv6: a browser may resolve `localhost` to either, and another program
/// holding `[::1]:PORT` must not receive our code, so such a port counts as taken.
/// Port 0 means any free port (for tests and the demo, whose sandbox accepts any port).
pub(crate) fn bind(ports: &[u16]) -> Result<(Vec<StdListener>, u16), ConnectError> {
    if ports.is_empty() {
        return Err(ConnectError::NoFreePort { ports: Vec::new() });
    }
    for &port in ports {
        let Ok(v4) = StdListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))) else {
            continue;
        };
        let Ok(bound) = v4.local_addr().map(|a| a.port()) else {
            continue;
        };
        let mut listeners = vec![v4];
        match StdListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, bound))) {
            Ok(v6) => listeners.push(v6),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            // No IPv6 loopback on this host: nobody can listen there either.
            Err(_) => {}
        }
        return Ok((listeners, bound));
    }
    Err(ConnectError::NoFreePort {
        ports: ports.to_vec(),
    })
}

/// Serves `GET /callback` on `listeners` until the returned server is dropped.
pub(crate) fn serve(
    listeners: Vec<StdListener>,
    port: u16,
    on_callback: OnCallback,
) -> Result<LoopbackServer, ConnectError> {
    let stop = CancellationToken::new();
    let app = Router::new().route(
        "/callback",
        get(move |RawQuery(query): RawQuery| {
            let on_callback = on_callback.clone();
            async move { answer(&on_callback, query.as_deref().unwrap_or_default()) }
        }),
    );
    for listener in listeners {
        listener.set_nonblocking(true).map_err(ConnectError::Listener)?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(ConnectError::Listener)?;
        let (app, stop) = (app.clone(), stop.clone());
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
            // Graceful shutdown waits for open connections; a browser may keep one alive.
            let deadline = async {
                stop.cancelled().await;
                tokio::time::sleep(DRAIN).await;
            };
            tokio::select! {
                result = server => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "the login callback listener failed");
                    }
                }
                () = deadline => {}
            }
        });
    }
    Ok(LoopbackServer { port, stop })
}

fn answer(on_callback: &OnCallback, query: &str) -> Response {
    let result = CallbackParams::from_query(query).and_then(|params| {
        let refused = params.error.clone();
        on_callback(params).map(|()| refused)
    });
    let (status, title, message) = match result {
        Ok(None) => (
            StatusCode::OK,
            "You are logged in to Xero",
            "HowNow Admin received Xero's answer. You can close this window.".to_string(),
        ),
        Ok(Some(_)) => (
            StatusCode::OK,
            "Xero access was not granted",
            "HowNow Admin was told the login was cancelled. You can close this window.".to_string(),
        ),
        Err(rejected) => {
            tracing::warn!(reason = %rejected, "ignored a login callback");
            (
                StatusCode::BAD_REQUEST,
                "This login link is not valid",
                format!("HowNow Admin ignored it: {rejected}. Start the connection again from HowNow Admin."),
            )
        }
    };
    let mut response = (status, browser_page(title, &message)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    response
}
