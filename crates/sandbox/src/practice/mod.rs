//! The practice half of the sandbox: generated practices, XPM 3.1 answering streamed XML, the
//! admin API that plays staff editing XPM, and the switches that make it misbehave like XPM.
//!
//! * [`generator`]: deterministic practices of any size;
//! * `api`: the XPM endpoints behind the gateway, rate limits and faults;
//! * `admin`: the loopback-only JSON API (documented in the crate's README);
//! * [`PracticeHandle`]: the same operations in-process, for tests and the demo.

mod admin;
mod api;
mod data;
mod documents;
mod faults;
pub mod generator;
mod model;
mod rate_limit;
mod store;
mod switches;
mod xml;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use serde::Serialize;
use tokio::sync::watch;

pub use data::{Counts, PracticeData};
pub use generator::PracticeSpec;
pub use model::{
    Client, ClientDetails, Contact, ContactDetails, ContactLink, Group, Relationship, Shown, Staff, Values,
};
pub use store::{NewLink, PracticeError};
pub use switches::{
    Switches, MAX_FIRST_BYTE_DELAY_MS, XERO_APP_MINUTE_LIMIT, XERO_DAY_LIMIT, XERO_MINUTE_LIMIT,
    XERO_MINUTE_WINDOW_SECS, XPM_ENDPOINTS,
};

use crate::identity::Identity;
use crate::tenants::{Tenant, DEMO_PRACTICE, SECOND_PRACTICE};
use rate_limit::RateLimiter;
use store::{now_utc, TenantPractice};

/// The second practice is small and mostly in New Zealand.
pub const SECOND_PRACTICE_CLIENTS: usize = 20;

/// What each practice tenant holds for a sandbox of `clients` clients and seed `seed`.
pub fn standard_practices(clients: usize, seed: u64) -> Vec<(Tenant, PracticeSpec)> {
    vec![
        (
            DEMO_PRACTICE,
            PracticeSpec {
                clients,
                seed,
                nz_share: 0.5,
            },
        ),
        (
            SECOND_PRACTICE,
            PracticeSpec {
                clients: SECOND_PRACTICE_CLIENTS,
                // A different stream, so the two practices share nothing.
                seed: seed ^ 0x5EC0_4D00_0000_0002,
                nz_share: 0.9,
            },
        ),
    ]
}

pub(crate) struct Practice {
    tenants: Vec<TenantPractice>,
    switches: Mutex<Switches>,
    /// Wakes responses that wait on the switches (a held list, a first-byte delay): changes on
    /// every switch change and when the sandbox stops.
    pulse: watch::Sender<Pulse>,
    /// XPM calls that passed the gateway and the budgets (for `fail_every`).
    calls: AtomicU64,
    limiter: RateLimiter,
    identity: Identity,
    /// Where pagination links point (`http://127.0.0.1:PORT`).
    api_base: String,
}

impl Practice {
    pub(crate) fn new(
        practices: Vec<(Tenant, PracticeSpec)>,
        switches: Switches,
        identity: Identity,
        api_base: String,
    ) -> Result<Self, PracticeError> {
        switches.validate().map_err(PracticeError::Invalid)?;
        let tenants = practices
            .into_iter()
            .map(|(tenant, spec)| TenantPractice::new(tenant, generator::generate(&spec)))
            .collect();
        Ok(Practice {
            tenants,
            switches: Mutex::new(switches),
            pulse: watch::Sender::new(Pulse::default()),
            calls: AtomicU64::new(0),
            limiter: RateLimiter::default(),
            identity,
            api_base: api_base.trim_end_matches('/').to_string(),
        })
    }

    pub(crate) fn routes(self: &Arc<Self>) -> Router {
        api::router(self.clone()).nest("/admin", admin::router(self.clone()))
    }

    fn tenant(&self, id: &str) -> Option<&TenantPractice> {
        self.tenants.iter().find(|t| t.tenant.id == id)
    }

    fn switches(&self) -> Switches {
        self.switches.lock().expect("switches lock").clone()
    }

    fn take_failure(&self) -> bool {
        let call = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        self.switches.lock().expect("switches lock").take_failure(call)
    }

    fn practice_for(&self, tenant_id: &str) -> Result<&TenantPractice, PracticeError> {
        self.tenant(tenant_id)
            .ok_or_else(|| PracticeError::UnknownTenant(tenant_id.into()))
    }

    fn holding_client(&self, uuid: &str) -> Result<&TenantPractice, PracticeError> {
        self.tenants
            .iter()
            .find(|t| t.snapshot().client(uuid).is_some())
            .ok_or_else(|| PracticeError::UnknownClient(uuid.into()))
    }

    fn holding_contact(&self, uuid: &str) -> Result<&TenantPractice, PracticeError> {
        self.tenants
            .iter()
            .find(|t| t.snapshot().contact(uuid).is_some())
            .ok_or_else(|| PracticeError::UnknownContact(uuid.into()))
    }

    fn defect(&self) -> bool {
        self.switches.lock().expect("switches lock").defect
    }

    /// Wakes whatever waits on the switches.
    fn switches_changed(&self) {
        self.pulse.send_modify(|p| p.generation += 1);
    }

    /// The sandbox is stopping: held and delayed responses end now.
    pub(crate) fn close(&self) {
        self.pulse.send_modify(|p| p.closed = true);
    }

    /// Waits until `released` holds for the current switches (checked now and after every
    /// change). `Err` when the sandbox stops first.
    pub(crate) async fn wait_for_switches(&self, released: impl Fn(&Switches) -> bool) -> Result<(), Closed> {
        let mut pulse = self.pulse.subscribe();
        loop {
            // Marked seen before the check, so a change made right after it still wakes us.
            if pulse.borrow_and_update().closed {
                return Err(Closed);
            }
            if released(&self.switches()) {
                return Ok(());
            }
            pulse.changed().await.map_err(|_| Closed)?;
        }
    }

    /// Sleeps for `delay`; `Err` when the sandbox stops first.
    pub(crate) async fn sleep(&self, delay: Duration) -> Result<(), Closed> {
        let mut pulse = self.pulse.subscribe();
        let closed = async {
            loop {
                if pulse.borrow_and_update().closed || pulse.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => Ok(()),
            _ = closed => Err(Closed),
        }
    }
}

/// What [`Practice::pulse`] carries.
#[derive(Debug, Clone, Copy, Default)]
struct Pulse {
    generation: u64,
    closed: bool,
}

/// The sandbox stopped while a response waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

/// One practice tenant's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantState {
    pub id: String,
    pub name: String,
    pub counts: Counts,
    /// Calls answered 429 since the sandbox started.
    pub rate_limited_calls: u64,
}

/// What `GET /admin/state` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PracticeState {
    pub tenants: Vec<TenantState>,
    pub switches: Switches,
    pub access_token_lifetime_secs: u64,
}

/// In-process access to the running sandbox's practices: the operations of the admin API.
///
/// Clients and contacts are found by UUID in whichever practice holds them; additions name the
/// tenant. Each change to a client moves its modified time to now (UTC, whole seconds), except
/// what XPM's defect hides while [`Switches::defect`] is on: contact edits, contact deletions
/// and primary-contact moves.
#[derive(Clone)]
pub struct PracticeHandle {
    practice: Arc<Practice>,
}

impl PracticeHandle {
    pub(crate) fn new(practice: Arc<Practice>) -> Self {
        PracticeHandle { practice }
    }

    /// The practice tenants, in order (the demo practice first).
    pub fn tenant_ids(&self) -> Vec<&'static str> {
        self.practice.tenants.iter().map(|t| t.tenant.id).collect()
    }

    /// A tenant's data as it is now; later changes do not alter it.
    pub fn snapshot(&self, tenant_id: &str) -> Result<Arc<PracticeData>, PracticeError> {
        Ok(self.practice.practice_for(tenant_id)?.snapshot())
    }

    /// The client and the tenant holding it.
    pub fn client(&self, uuid: &str) -> Result<(&'static str, Arc<Client>), PracticeError> {
        let tenant = self.practice.holding_client(uuid)?;
        let client = tenant.snapshot().client(uuid).cloned();
        client
            .map(|c| (tenant.tenant.id, c))
            .ok_or_else(|| PracticeError::UnknownClient(uuid.into()))
    }

    pub fn add_client(&self, tenant_id: &str, details: ClientDetails) -> Result<Arc<Client>, PracticeError> {
        self.practice
            .practice_for(tenant_id)?
            .change(|d| d.add_client(details, now_utc()))
    }

    /// Edits any of the client's own fields.
    pub fn edit_client(
        &self,
        uuid: &str,
        edit: impl FnOnce(&mut ClientDetails),
    ) -> Result<Arc<Client>, PracticeError> {
        self.try_edit_client(uuid, |d| {
            edit(d);
            Ok(())
        })
    }

    pub(crate) fn try_edit_client(
        &self,
        uuid: &str,
        edit: impl FnOnce(&mut ClientDetails) -> Result<(), PracticeError>,
    ) -> Result<Arc<Client>, PracticeError> {
        self.practice
            .holding_client(uuid)?
            .change(|d| d.edit_client(uuid, edit, now_utc()))
    }

    pub fn archive_client(&self, uuid: &str, archived: bool) -> Result<Arc<Client>, PracticeError> {
        self.edit_client(uuid, |d| d.values.is_archived = Some(archived))
    }

    /// XPM deletes softly: the client stays in `client.api/list` with `IsDeleted` Yes.
    pub fn delete_client(&self, uuid: &str) -> Result<Arc<Client>, PracticeError> {
        self.edit_client(uuid, |d| d.values.is_deleted = Some(true))
    }

    /// A new contact, linked to a client of the same tenant when `link` says so.
    pub fn add_contact(
        &self,
        tenant_id: &str,
        details: ContactDetails,
        link: Option<NewLink>,
    ) -> Result<Arc<Contact>, PracticeError> {
        self.practice
            .practice_for(tenant_id)?
            .change(|d| d.add_contact(details, link, now_utc()))
    }

    pub fn edit_contact(
        &self,
        uuid: &str,
        edit: impl FnOnce(&mut ContactDetails),
    ) -> Result<Arc<Contact>, PracticeError> {
        self.try_edit_contact(uuid, |d| {
            edit(d);
            Ok(())
        })
    }

    pub(crate) fn try_edit_contact(
        &self,
        uuid: &str,
        edit: impl FnOnce(&mut ContactDetails) -> Result<(), PracticeError>,
    ) -> Result<Arc<Contact>, PracticeError> {
        let defect = self.practice.defect();
        self.practice
            .holding_contact(uuid)?
            .change(|d| d.edit_contact(uuid, edit, now_utc(), defect))
    }

    pub fn delete_contact(&self, uuid: &str) -> Result<(), PracticeError> {
        let defect = self.practice.defect();
        self.practice
            .holding_contact(uuid)?
            .change(|d| d.delete_contact(uuid, now_utc(), defect))
    }

    pub fn link_contact(
        &self,
        client_uuid: &str,
        contact_uuid: &str,
        position: Option<String>,
        primary: bool,
    ) -> Result<Arc<Client>, PracticeError> {
        self.practice
            .holding_client(client_uuid)?
            .change(|d| d.link_contact(client_uuid, contact_uuid, position, primary, now_utc()))
    }

    pub fn unlink_contact(
        &self,
        client_uuid: &str,
        contact_uuid: &str,
    ) -> Result<Arc<Client>, PracticeError> {
        self.practice
            .holding_client(client_uuid)?
            .change(|d| d.unlink_contact(client_uuid, contact_uuid, now_utc()))
    }

    pub fn set_primary_contact(
        &self,
        client_uuid: &str,
        contact_uuid: &str,
    ) -> Result<Arc<Client>, PracticeError> {
        let defect = self.practice.defect();
        self.practice
            .holding_client(client_uuid)?
            .change(|d| d.set_primary_contact(client_uuid, contact_uuid, now_utc(), defect))
    }

    pub fn switches(&self) -> Switches {
        self.practice.switches()
    }

    /// Replaces the switches. Changing a rate limit starts the budgets afresh.
    pub fn set_switches(&self, switches: Switches) -> Result<(), PracticeError> {
        switches.validate().map_err(PracticeError::Invalid)?;
        let mut current = self.practice.switches.lock().expect("switches lock");
        let limits_changed = (
            current.rate_limit_minute,
            current.rate_limit_day,
            current.rate_limit_window_secs,
            current.rate_limit_burst,
        ) != (
            switches.rate_limit_minute,
            switches.rate_limit_day,
            switches.rate_limit_window_secs,
            switches.rate_limit_burst,
        );
        *current = switches;
        drop(current);
        if limits_changed {
            self.practice.limiter.reset();
        }
        self.practice.switches_changed();
        Ok(())
    }

    /// Changes some switches, keeping the others.
    pub fn update_switches(&self, change: impl FnOnce(&mut Switches)) -> Result<Switches, PracticeError> {
        let mut switches = self.switches();
        change(&mut switches);
        self.set_switches(switches.clone())?;
        Ok(switches)
    }

    /// Ends held and delayed responses: the sandbox is stopping.
    pub(crate) fn close(&self) {
        self.practice.close();
    }

    /// How many calls of `tenant_id` were answered 429 (any budget) since the sandbox started;
    /// changing or resetting the limits does not clear it.
    pub fn rate_limited_calls(&self, tenant_id: &str) -> u64 {
        self.practice.limiter.refused(tenant_id)
    }

    /// Forgets the calls counted against every budget.
    pub fn reset_rate_limits(&self) {
        self.practice.limiter.reset();
    }

    /// Lifetime of access tokens issued from now on (the identity server's switch).
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.practice.identity.set_access_token_lifetime(lifetime);
    }

    pub fn expire_all_access_tokens(&self) {
        self.practice.identity.expire_all_access_tokens();
    }

    pub fn revoke_all_refresh_tokens(&self) {
        self.practice.identity.revoke_all_refresh_tokens();
    }

    pub fn state(&self) -> PracticeState {
        PracticeState {
            tenants: self
                .practice
                .tenants
                .iter()
                .map(|t| TenantState {
                    id: t.tenant.id.into(),
                    name: t.tenant.name.into(),
                    counts: t.snapshot().counts(),
                    rate_limited_calls: self.practice.limiter.refused(t.tenant.id),
                })
                .collect(),
            switches: self.switches(),
            access_token_lifetime_secs: self.practice.identity.access_token_lifetime().as_secs(),
        }
    }
}
