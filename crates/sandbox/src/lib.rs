//! An offline Xero for the demo and every test: identity (OIDC, OAuth2 with PKCE), connections
//! and Practice Manager 3.1, on loopback.
//!
//! * [`identity`]: discovery, authorize/consent, token, revocation, id tokens, bounce page,
//!   `GET/DELETE /connections`, and the gateway check every API call passes.
//! * [`practice`]: generated practices, XPM 3.1 endpoints streaming XML, the admin API that
//!   simulates staff editing XPM, and the fault switches.
//! * [`tenants`]: the demo users and tenants both halves agree on.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use hownow_sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default()).await?;
//! println!("Issuer: {}", sandbox.issuer()); // also the API base: one listener serves all
//! let tokens = sandbox.issue_test_token(&hownow_sandbox::tenants::USERS[0]).await.unwrap();
//! // GET {api_base}/practicemanager/3.1/client.api/list with the bearer token and
//! // xero-tenant-id: tenants::DEMO_PRACTICE.id
//! # drop(tokens);
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "browser")]
pub mod browser;
pub mod identity;
pub mod practice;
pub mod tenants;
mod test_login;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use identity::{Identity, IdentityConfig};
pub use practice::{PracticeHandle, Switches};
pub use test_login::{TestLoginError, TestTokens};

/// How a sandbox starts.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where to listen (default `127.0.0.1:0`: any free port).
    pub listen: SocketAddr,
    /// Clients of the demo practice ([`tenants::DEMO_PRACTICE`]); the second practice always
    /// has [`practice::SECOND_PRACTICE_CLIENTS`].
    pub clients: usize,
    /// Seed of the generated practices: the same seed gives the same practices.
    pub seed: u64,
    pub identity: IdentityConfig,
    pub switches: Switches,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)),
            clients: 250,
            seed: 20_240_601,
            identity: IdentityConfig::default(),
            switches: Switches::default(),
        }
    }
}

/// A running sandbox. Dropping it stops the server (abruptly); [`Sandbox::shutdown`] stops it
/// gracefully.
pub struct Sandbox {
    addr: SocketAddr,
    base: String,
    identity: Identity,
    practice: PracticeHandle,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// How long [`Sandbox::shutdown`] lets responses in flight finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

impl Sandbox {
    /// Generates the practices, binds the listener and serves on the current tokio runtime.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Self::start_with_clock(config, Arc::new(identity::SystemClock)).await
    }

    /// As [`Sandbox::start`], with the identity server's time (token and id token lifetimes)
    /// read from `clock`: an app whose own clock is moved (its tests) gets a Xero that agrees.
    pub async fn start_with_clock(
        config: SandboxConfig,
        clock: Arc<dyn identity::Clock>,
    ) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{}", public_addr(addr));
        let identity = Identity::with_clock(config.identity, clock);
        identity.set_public_base(&base);

        let practices = practice::standard_practices(config.clients, config.seed);
        let (switches, gate, api_base) = (config.switches, identity.clone(), base.clone());
        // Generating a large practice takes a moment: keep it off the runtime's workers.
        let practice =
            tokio::task::spawn_blocking(move || practice::Practice::new(practices, switches, gate, api_base))
                .await
                .map_err(std::io::Error::other)?
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let practice = Arc::new(practice);

        let app = identity.router().merge(practice.routes());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Sandbox {
            addr,
            base,
            identity,
            practice: PracticeHandle::new(practice),
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The OIDC issuer: `/.well-known/openid-configuration` hangs from it.
    pub fn issuer(&self) -> &str {
        &self.base
    }

    /// The API base: `/practicemanager/3.1/…` and `/connections` hang from it (the same URL
    /// as the issuer: one listener serves everything).
    pub fn api_base(&self) -> &str {
        &self.base
    }

    /// The admin API's base (`…/admin`), answered to loopback peers only.
    pub fn admin_base(&self) -> String {
        format!("{}/admin", self.base)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// In-process access to the practices and switches (the admin API's operations).
    pub fn practice(&self) -> &PracticeHandle {
        &self.practice
    }

    /// Logs `user` in through the real authorize, login, consent and token endpoints (in
    /// process, with PKCE) and returns the tokens, as an app would hold them after the
    /// connection wizard. Uses the first registered client id and redirect URI, if any.
    pub async fn issue_test_token(&self, user: &tenants::DemoUser) -> Result<TestTokens, TestLoginError> {
        test_login::log_in(&self.identity, self.addr, user).await
    }

    /// Stops accepting connections, lets responses in flight finish (for a few seconds at
    /// most), then stops.
    pub async fn shutdown(mut self) {
        // Held lists and first-byte delays would otherwise keep their connections open.
        self.practice.close();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut server) = self.server.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await.is_err() {
                server.abort();
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.practice.close();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// The address clients should use: a wildcard listener is reached on loopback.
fn public_addr(bound: SocketAddr) -> SocketAddr {
    match bound {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, v4.port())),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, v6.port()))
        }
        other => other,
    }
}
