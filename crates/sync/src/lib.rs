//! The HowNow Admin engine: the firm's client directory in SQLite, kept in step with Xero
//! Practice Manager. No UI and no Tauri: the desktop app and the `hownow` CLI are thin layers
//! over this crate.
//!
//! * [`Clock`]: where the engine reads "now" (injected, so tests choose the hour).
//! * [`Store`]: the directory (clients, contacts, links, groups, relationships, notes), sync
//!   history and per-field changes; versioned migrations at open (see `SCHEMA.md`). Adding an XPM
//!   field to the directory: the recipe in [`store`]'s docs.
//! * [`record`]: the HowNow contact record, a derived view of a client (SPEC 4.1).
//! * [`sync`]: full, changes-since-last-sync and contact-sweep runs over a [`PracticeSource`];
//!   [`RunView`]: a run as the CLI's `--json` and the desktop window show it.
//! * [`schedule`]: the pure schedule policy; [`scheduler`]: the one loop that carries it out
//!   (hosted by the desktop app and `hownow service run`); [`budget`]: Xero's call budget.
//! * [`SyncLock`]: one sync per connection across processes.
//! * [`secrets`] and [`tokens`]: credential stores and single-flight token refresh.
//! * [`logs`]: the size-capped log files in the data dir; [`Engine::write_support_bundle`] zips
//!   them with what support needs.
//!
//! ## At XPM's pace: who waits on whom
//!
//! A run applies everything in one write transaction (all or nothing), and at XPM's pace that
//! transaction stays open for minutes, across several access tokens. So:
//!
//! * the schema is migrated once, when the [`Engine`] opens, and only a due migration takes the
//!   write lock;
//! * reads (status, clients, contacts, history, the tray, another process's CLI) come from a pool
//!   of read-only handles ([`Engine::reader`]) and see the last committed state, never waiting;
//! * what must change while a run holds the lock (a token refresh's time, the schedule's next-due
//!   times, sync settings) lives in a separate state file ([`store::state`]), so a refresh in the
//!   middle of a run, a network wait, never leads to a lock wait; a dead refresh token is reported
//!   to the caller, which marks the connection once the run has let go;
//! * the few other directory writes (connect, disconnect) wait their turn ([`Engine::write`])
//!   rather than fail with "database is locked".

pub mod budget;
pub mod clock;
pub mod connect;
pub mod diff;
pub mod engine;
pub mod error;
pub mod hash;
pub mod lock;
pub mod logs;
pub mod private;
pub mod record;
pub mod run_view;
pub mod schedule;
pub mod scheduler;
pub mod secrets;
pub mod settings;
pub mod source;
pub mod store;
pub mod sync;
pub mod tokens;

pub use clock::{Clock, ShiftedClock, SystemClock};
pub use connect::{
    AuthorizedLogin, ConnectError, LoginStarted, RedirectKind, RedirectMode, TenantChoice, PRIVILEGE_GUIDANCE,
};
pub use engine::{
    ConnectionOverview, CredentialStorage, DisconnectReport, Engine, EngineError, EngineOptions,
};
pub use error::{Result, SyncError};
pub use lock::{LockHolder, SyncLock};
pub use record::{CodeReport, CsvValues, HowNowRecord};
pub use run_view::RunView;
pub use schedule::{plan, Due, Hold, HoldReason, Plan, ScheduleInput};
pub use secrets::{FileStore, KeyringStore, MemoryStore, SecretError, SecretStore, StoredCredentials};
pub use settings::{CodeFallback, InvalidSettings, SyncSettings};
pub use source::{ClientListing, MemorySource, PracticeSource};
pub use store::{
    ChangeKind, ClientDetail, ClientQuery, ClientSummary, ClientSummaryPage, Connection, ConnectionStatus,
    DirectoryCounts, NewConnection, PinnedXero, Quota, RecordKind, RunCounts, RunKind, RunOutcome,
    RunTrigger, Store, SyncChange, SyncRun, LATEST_SCHEMA_VERSION, MAX_WARNINGS_PER_RUN,
};
pub use sync::{run_sync, NoProgress, Phase, Progress, ProgressSink, SyncReport, SyncRequest};
pub use tokens::{TokenEndpoint, TokenManager};
