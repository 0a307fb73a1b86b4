//! The window's commands over Tauri's mock runtime (no display): their contracts and errors,
//! against the in-process Demo practice, with the test playing the browser and the OS (it hands
//! the deep link to the app as the deep-link handler does).
//!
//! The engine's clock is injected: every harness starts at 10:00 UTC tomorrow (never the wall
//! clock's hour), and `next_sync_is_right_at_every_hour_of_the_day` walks a whole day.
//!
//! One submodule per part of the window: logging in, syncing, settings and the schedule, a
//! practice's card, and what support reads; all on the shared `harness`.

mod login;
mod practices;
mod settings;
mod support;
mod syncing;
