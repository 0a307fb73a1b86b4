//! What the window receives: the engine's types reshaped for the UI (camelCase JSON, times as
//! RFC 3339, only what a page shows). Sync runs are the engine's [`RunView`], in snake_case as
//! the CLI's `--json` has them (one shape for every edge). No token or secret ever reaches these
//! types.

use hownow_sync::engine::ConnectionOverview;
use hownow_sync::{ConnectionStatus, RunView};
use hownow_xpm::Contact;
use serde::Serialize;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// Who to greet: the person who authorised the first connection, else the OS user.
    pub user_name: String,
    /// No Xero client id is configured: the in-process Demo practice (offline) is in use.
    pub demo: bool,
    pub version: String,
    /// What the Xero user needs before connecting, in the engine's words (the CLI says the same).
    pub privilege: PrivilegeView,
}

/// A connection as its card shows it: the engine's status, with a running sync on top.
/// Serialised in snake case; `ui/js/kinds.js` lists the same values (checked by a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Connected,
    Syncing,
    NeedsReauth,
    Disconnected,
}

impl ConnectionState {
    pub const ALL: [ConnectionState; 4] = [
        ConnectionState::Connected,
        ConnectionState::Syncing,
        ConnectionState::NeedsReauth,
        ConnectionState::Disconnected,
    ];
}

/// XPM's privilege: what is needed, and how an XPM administrator grants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivilegeView {
    pub requirement: &'static str,
    pub steps: &'static [&'static str],
}

impl Default for PrivilegeView {
    fn default() -> Self {
        PrivilegeView {
            requirement: hownow_sync::connect::PRIVILEGE_REQUIREMENT,
            steps: hownow_sync::connect::PRIVILEGE_STEPS,
        }
    }
}

/// Whether this app runs the scheduled syncs, and if not, who does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulerView {
    pub scheduled_here: bool,
    /// "Syncs are run by the HowNow service on this machine (pid 1234)."
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NextSync {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: &'static str,
}

/// A sync's progress as the card, the wizard and the tray show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressView {
    pub connection_id: i64,
    pub run_kind: &'static str,
    pub phase: &'static str,
    /// What is happening, in words ("Receiving clients").
    pub message: String,
    pub done: u64,
    /// Known for some phases only.
    pub total: Option<u64>,
    /// Present when the size of the work is known (or estimated from the directory's size).
    pub percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    pub id: i64,
    pub provider: String,
    pub tenant_id: String,
    pub tenant_name: String,
    /// Xero's name, while the administrator's own name is shown.
    pub renamed_from: Option<String>,
    pub authorised_by: Person,
    /// The Xero identity service its tokens belong to (where they are refreshed and revoked).
    pub issuer: Option<String>,
    pub status: ConnectionState,
    pub status_reason: Option<String>,
    pub demo: bool,
    pub client_count: u64,
    pub contact_count: u64,
    /// The engine's run view: snake_case inside this camelCase view.
    pub last_sync: Option<RunView>,
    pub next_sync: Option<NextSync>,
    pub progress: Option<ProgressView>,
}

impl ConnectionView {
    pub fn new(overview: &ConnectionOverview, demo: bool, progress: Option<ProgressView>) -> ConnectionView {
        let c = &overview.connection;
        let syncing = progress.is_some() || overview.running_pid.is_some();
        let status = match c.status {
            ConnectionStatus::NeedsReauth => ConnectionState::NeedsReauth,
            ConnectionStatus::Disconnected => ConnectionState::Disconnected,
            _ if syncing => ConnectionState::Syncing,
            _ => ConnectionState::Connected,
        };
        // The engine's schedule says what runs next.
        let next_sync = overview.plan.next_run().map(|(at, kind)| NextSync {
            at,
            kind: kind.as_str(),
        });
        ConnectionView {
            id: c.id,
            provider: c.provider.clone(),
            tenant_id: c.tenant_id.clone(),
            tenant_name: c.tenant_name.clone(),
            renamed_from: c.renamed_from.clone(),
            authorised_by: Person {
                name: c.authorised_by_name.clone(),
                email: c.authorised_by_email.clone(),
            },
            issuer: c.xero.as_ref().map(|x| x.issuer.clone()),
            status,
            status_reason: c.status_reason.clone(),
            demo,
            client_count: overview.counts.clients,
            contact_count: overview.counts.contacts,
            last_sync: overview.last_run.as_ref().map(RunView::from),
            next_sync: if c.status == ConnectionStatus::Connected {
                next_sync
            } else {
                None
            },
            progress,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactView {
    pub uuid: Option<String>,
    pub name: Option<String>,
    pub position: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub is_primary: bool,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        ContactView {
            uuid: c.uuid.clone(),
            name: c.name.clone(),
            position: c.position.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            mobile: c.mobile.clone(),
            is_primary: c.is_primary.unwrap_or(false),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FullSyncEstimate {
    pub api_calls: u64,
    pub bytes: u64,
    /// Day calls Xero said are left, if it said so within the last day.
    pub day_remaining: Option<u64>,
    /// Xero's daily allowance per practice.
    pub day_limit: u64,
}

/// Xero allows 5,000 calls a day per practice (SPEC 3).
pub const XERO_DAY_LIMIT: u64 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    pub id: String,
    pub name: String,
}

/// Where the connection wizard stands; the window shows it and resumes from it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum LoginView {
    Idle,
    /// Waiting for the browser to come back.
    #[serde(rename_all = "camelCase")]
    Waiting {
        authorize_url: String,
        /// The system browser was opened on it; otherwise the page asks for the link to be
        /// copied into a browser.
        browser_opened: bool,
    },
    /// The login reaches several practices: the admin picks one.
    ChooseTenant {
        tenants: Vec<TenantView>,
    },
    /// The login reached no Practice Manager account: the privilege guidance.
    NoTenant {
        user: Option<String>,
        guidance: String,
    },
    /// Saving the connection.
    Connecting,
    Connected {
        connection: Box<ConnectionView>,
    },
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncFinished {
    pub connection_id: i64,
    pub tenant_name: String,
    /// The engine's run view: snake_case inside this camelCase view.
    pub run: Option<RunView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CsvExport {
    pub path: String,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DisconnectView {
    pub tenant_name: String,
    pub data_kept: bool,
    /// What could not be done at Xero (the local side is always cleaned up).
    pub warnings: Vec<String>,
}
