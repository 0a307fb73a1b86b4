//! The desktop app's integration tests that need no display, in one test binary: the window's
//! commands over Tauri's mock runtime (`commands`), then the app as the host of the engine's
//! background scheduler, stepped one pass at a time with the engine's clock moved forward
//! (`scheduler_host`); both on the `harness`. The end-to-end tests of the real window
//! (`tests/e2e/`: `e2e`, `startup`) are their own binaries, run by `cargo xtask test` and
//! `cargo xtask bench`.

mod commands;
mod harness;
mod scheduler_host;
