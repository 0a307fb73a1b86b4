//! The integration tests of hownow-cli, in one test binary (one link instead of one per file):
//! a module per command, most running the built `hownow` (`CARGO_BIN_EXE_hownow`), and what they
//! share (`common`). Run one with `cargo test -p hownow-cli --test it service_run::`.

mod common;
mod engine_cli;
mod sandbox_cli;
mod service_cli;
mod service_run;
mod support_cli;
mod xpm_decode;
