//! An offline Xero for the demo and every test: identity (OIDC, OAuth2 with PKCE), connections
//! and Practice Manager 3.1, on loopback.
//!
//! * [`identity`]: discovery, authorize/consent, token, revocation, id tokens, bounce page,
//!   `GET/DELETE /connections`, and the gateway check every API call passes.
//! * [`practice`]: generated practices, XPM 3.1 endpoints streaming XML, the admin API that
//!   simulates staff editing XPM, and the fault switches.
//! * [`tenants`]: the demo users and tenants both halves agree on.

pub mod identity;
pub mod practice;
pub mod tenants;
