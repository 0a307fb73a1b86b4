//! Everything HowNow Admin knows about talking to Xero.
//!
//! * [`model`]: the typed values XPM returns (`Client`, `Contact`, `Group`, …), one type per concept.
//! * [`decode`]: a streaming decoder from XPM's XML to those values; it never holds a whole
//!   response in memory, so a 50 MB client list costs a few kilobytes of buffer.
//! * `encode` (feature `encode`): the decoder's inverse, for whatever has to answer as XPM (the
//!   sandbox).
//! * [`error`]: the failures a caller can act on (reauthorise, back off, report).
//! * [`identity`]: Xero identity (OIDC discovery, PKCE login, code exchange, refresh, revocation).
//! * [`XeroApi`]: the API host: `/connections`, and per-tenant [`PracticeClient`]s for Practice
//!   Manager 3.1 that pace themselves inside Xero's rate limits, retry what is worth retrying and
//!   decode responses while they download.
//!
//! This crate has no storage and no UI: the sync engine (`hownow-sync`) owns both.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hownow_xpm::XpmError> {
//! use std::sync::Arc;
//! use hownow_xpm::{ApiConfig, StaticToken, XeroApi};
//!
//! let api = XeroApi::new(ApiConfig::default())?; // one per process: it owns the rate limiters
//! let xpm = api.practice("tenant-id", Arc::new(StaticToken::new("access token")));
//! let mut clients = xpm.list_clients(None).await?;
//! while let Some(client) = clients.next_client().await {
//!     let client = client?; // an error here means the list is incomplete: apply nothing final
//!     println!("{:?}", client.name);
//! }
//! println!("Xero's clock: {:?}", clients.meta().date);
//! # Ok(())
//! # }
//! ```

pub mod api;
mod body;
mod client_stream;
pub mod connections;
pub mod decode;
#[cfg(feature = "encode")]
pub mod encode;
pub mod error;
pub mod http;
pub mod identity;
mod limiter;
pub mod model;
pub mod practice;
mod secret;
pub mod token;

pub use api::{ApiConfig, XeroApi, DEFAULT_API_BASE};
pub use client_stream::ClientStream;
pub use connections::{practice_manager_only, Connection, PRACTICE_MANAGER_TENANT_TYPE};
pub use error::{DecodeError, RateLimitKind, XpmError};
pub use http::{Attempts, Fetched, HttpConfig, ResponseMeta, RetryPolicy};
pub use identity::{
    IdTokenClaims, Identity, IdentityConfig, IdentityEndpoints, PendingAuthorization, TokenSet,
    DEFAULT_ISSUER, DEFAULT_SCOPES,
};
pub use limiter::RateLimits;
pub use model::*;
pub use practice::{format_modified_since, Page, PracticeClient, MAX_PAGE_SIZE, MAX_TOKEN_RENEWALS};
pub use secret::Secret;
pub use token::{AccessTokenSource, StaticToken};
