//! The integration tests of hownow-sandbox, in one test binary (one link instead of one per
//! file): a module per area, and the helpers they share (`common`: a running practice and a
//! token; `identity_support`: a loopback identity server). Run one area with
//! `cargo test -p hownow-sandbox --test it identity_http::`.

mod admin_changes;
mod common;
mod determinism;
mod identity_http;
mod identity_support;
mod identity_xpm_client;
mod round_trip;
mod xpm_client_vs_sandbox;
mod xpm_endpoints;
mod xpm_gateway_and_faults;
