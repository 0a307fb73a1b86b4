//! The integration tests of hownow-xpm, in one test binary (one link instead of one per file):
//! a module per area, and the helpers they share (`client_support`). Fixtures stay in
//! `tests/fixtures/`. Run one area with `cargo test -p hownow-xpm --test it http_failures::`.

mod client_api;
mod client_support;
mod decode_corpus;
mod decode_fixtures;
mod decode_props;
mod encode_props;
mod http_failures;
mod identity_flow;
