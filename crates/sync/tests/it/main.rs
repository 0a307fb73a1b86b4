//! The integration tests of hownow-sync, in one test binary (one link instead of one per file):
//! a module per area, and the helpers they share: `common` (a deterministic practice and a
//! directory in a temp dir), `connect_support` (an engine logging in through the sandbox's pages)
//! and `sandbox_support` (a sandbox on loopback and the product's own XPM client). Run one area
//! with `cargo test -p hownow-sync --test it sandbox_crash::`.
//!
//! `process` and `sandbox_crash` run this binary again as their child processes, filtered to
//! their own `child_entry` test (`process::child_entry`, `sandbox_crash::child_entry`).

mod common;
mod connect_flow;
mod connect_support;
mod engine_facade;
mod private_files;
mod process;
mod sandbox_crash;
mod sandbox_faults;
mod sandbox_odd_values;
mod sandbox_pace;
mod sandbox_support;
mod sandbox_sync;
mod schedule_load;
mod store;
mod sync;
mod tokens;
mod xero_pace;
