//! The engine against the real sandbox over loopback: a sandbox on 127.0.0.1:0, a directory in a
//! temp dir, the product's own XPM client, and comparisons of the directory with the sandbox's
//! records (what XPM *knows*, not what the decoder made of it).
#![allow(dead_code)] // each test module uses its own subset

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hownow_sandbox::practice::PracticeData;
use hownow_sandbox::tenants::{DEMO_PRACTICE, USERS};
use hownow_sandbox::{PracticeHandle, Sandbox, SandboxConfig, Switches};
use hownow_sync::{
    run_sync, ClientQuery, Connection, NewConnection, NoProgress, ProgressSink, RunKind, RunTrigger, Store,
    SyncReport, SyncRequest, SyncSettings,
};
use hownow_xpm::{ApiConfig, HttpConfig, PracticeClient, RateLimits, RetryPolicy, StaticToken, XeroApi};

/// How a test wants its sandbox and client.
pub struct Options {
    pub clients: usize,
    pub seed: u64,
    pub switches: Switches,
    pub settings: SyncSettings,
    /// The client gives up on a body that stalls this long.
    pub idle_timeout: Duration,
    pub max_attempts: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clients: 40,
            seed: 11,
            switches: Switches::unlimited(),
            settings: SyncSettings::default(),
            idle_timeout: Duration::from_secs(10),
            max_attempts: 4,
        }
    }
}

/// Quick retries and next to no pacing of the client's own, so a test waits only where the
/// sandbox tells the client to; the timeouts bound every call.
pub fn api_config(base: &str, idle_timeout: Duration, max_attempts: u32) -> ApiConfig {
    ApiConfig {
        api_base: url::Url::parse(base).unwrap(),
        http: HttpConfig {
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(15),
            idle_timeout,
            list_response_timeout: Duration::from_secs(15),
            list_idle_timeout: idle_timeout,
            list_timeout_retry_pause: Duration::from_millis(10),
            ..HttpConfig::default()
        },
        retry: RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_rate_limit_wait: Duration::from_secs(5),
        },
        rate_limits: RateLimits {
            max_in_flight: 5,
            max_per_window: 10_000,
            // Also how long the client holds back after `X-MinLimit-Remaining: 0`: short, so
            // the sandbox's own 429 is what a rate-limit test exercises.
            window: Duration::from_millis(50),
            // No spacing either (`sandbox_pace` tests the spacing on its own client).
            min_spacing: Duration::ZERO,
        },
    }
}

/// The product's client for the demo practice, with a fixed access token.
pub fn practice_client(base: &str, token: &str, idle_timeout: Duration, max_attempts: u32) -> PracticeClient {
    XeroApi::new(api_config(base, idle_timeout, max_attempts))
        .unwrap()
        .practice(DEMO_PRACTICE.id, Arc::new(StaticToken::new(token)))
}

pub struct Env {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub connection_id: i64,
    /// The client the engine syncs through.
    pub practice: PracticeClient,
    /// An access token of the first demo user (for child processes).
    pub token: String,
}

pub async fn start(clients: usize) -> Env {
    start_with(Options {
        clients,
        ..Options::default()
    })
    .await
}

pub async fn start_with(options: Options) -> Env {
    let sandbox = Sandbox::start(SandboxConfig {
        clients: options.clients,
        seed: options.seed,
        switches: options.switches,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let token = sandbox
        .issue_test_token(&USERS[0])
        .await
        .expect("test login")
        .access_token;
    let practice = practice_client(
        sandbox.api_base(),
        &token,
        options.idle_timeout,
        options.max_attempts,
    );
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("hownow.sqlite3")).unwrap();
    let connection_id = store
        .create_connection(&NewConnection {
            xero_connection_id: "sandbox-connection".into(),
            tenant_id: DEMO_PRACTICE.id.into(),
            tenant_name: DEMO_PRACTICE.name.into(),
            authorised_by_name: Some(USERS[0].name.into()),
            authorised_by_email: None,
            settings: options.settings,
            ..Default::default()
        })
        .unwrap()
        .id;
    Env {
        sandbox,
        dir,
        store,
        connection_id,
        practice,
        token,
    }
}

impl Env {
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("hownow.sqlite3")
    }

    pub fn lock_dir(&self) -> PathBuf {
        self.dir.path().join("locks")
    }

    pub fn handle(&self) -> &PracticeHandle {
        self.sandbox.practice()
    }

    /// The demo practice as the sandbox holds it now.
    pub fn data(&self) -> Arc<PracticeData> {
        self.handle().snapshot(DEMO_PRACTICE.id).unwrap()
    }

    pub fn connection(&self) -> Connection {
        self.store.connection(self.connection_id).unwrap()
    }

    pub async fn sync(&mut self, kind: RunKind) -> hownow_sync::Result<SyncReport> {
        self.sync_with(SyncRequest::new(kind, RunTrigger::Manual), &NoProgress)
            .await
    }

    pub async fn sync_with(
        &mut self,
        request: SyncRequest,
        progress: &dyn ProgressSink,
    ) -> hownow_sync::Result<SyncReport> {
        let lock_dir = self.lock_dir();
        run_sync(
            &mut self.store,
            &self.practice,
            &lock_dir,
            self.connection_id,
            request,
            progress,
        )
        .await
    }

    /// Every client, contact, link and primary flag of the directory equals the sandbox's.
    pub fn assert_matches_sandbox(&self) {
        assert_directory_matches(&self.store, self.connection_id, &self.data());
    }

    pub fn state(&self) -> DirectoryState {
        directory_state(&self.store, self.connection_id)
    }
}

/// A contact under a client, as compared: the contact's own fields and the link's.
type ContactView = (
    String,         // uuid
    String,         // name
    Option<String>, // salutation
    Option<String>, // addressee
    Option<String>, // mobile
    Option<String>, // email
    Option<String>, // phone
    bool,           // is_primary
    Option<String>, // position
);

fn trimmed_lines(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|s| s.lines().map(str::trim).collect::<Vec<_>>().join("\n"))
}

/// Compares the directory with the sandbox's records: the same set of clients (deleted ones
/// tombstoned), each with the fields the product relies on, and each client's contacts in XPM's
/// order with their own fields, primary flag and position. Panics naming the first difference.
pub fn assert_directory_matches(store: &Store, connection_id: i64, data: &PracticeData) {
    let stored = crate::common::stored_clients(
        store,
        connection_id,
        &ClientQuery {
            search: None,
            include_removed: true,
        },
    );
    let mut stored_uuids: Vec<&str> = stored.iter().filter_map(|c| c.client.uuid.as_deref()).collect();
    let mut expected_uuids: Vec<&str> = data.clients().iter().map(|c| c.uuid.as_str()).collect();
    stored_uuids.sort_unstable();
    expected_uuids.sort_unstable();
    assert_eq!(
        stored_uuids, expected_uuids,
        "the directory holds other clients than XPM"
    );

    for record in data.clients() {
        let at = record.uuid.as_str();
        let got = store.client(connection_id, at).unwrap().unwrap();
        let d = &record.details;
        let v = &d.values;
        assert_eq!(got.removed_at.is_some(), d.is_deleted(), "{at}: tombstone");
        let c = &got.client;
        assert_eq!(c.name.as_deref(), Some(d.name()), "{at}: name");
        assert_eq!(c.client_code, v.client_code, "{at}: client code");
        assert_eq!(c.email, v.email, "{at}: email");
        assert_eq!(c.phone, v.phone, "{at}: phone");
        assert_eq!(c.website, v.website, "{at}: website");
        assert_eq!(c.first_name, v.first_name, "{at}: first name");
        assert_eq!(c.last_name, v.last_name, "{at}: last name");
        assert_eq!(
            trimmed_lines(&c.address),
            trimmed_lines(&v.address),
            "{at}: address"
        );
        assert_eq!(
            trimmed_lines(&c.postal_address),
            trimmed_lines(&v.postal_address),
            "{at}: postal address"
        );
        assert_eq!(c.city, v.city, "{at}: city");
        assert_eq!(
            (
                &c.place_of_birth_city,
                &c.place_of_birth_country_code,
                &c.industry
            ),
            (
                &v.place_of_birth_city,
                &v.place_of_birth_country_code,
                &v.industry
            ),
            "{at}: place of birth and industry"
        );
        assert_eq!(
            (&c.bank_account_name, &c.bank_account_number, &c.bank_bsb),
            (&v.bank_account_name, &v.bank_account_number, &v.bank_bsb),
            "{at}: bank account (masked)"
        );
        assert_eq!(c.post_code, v.post_code, "{at}: post code");
        assert_eq!(
            (c.is_prospect, c.is_archived, c.is_deleted),
            (Some(d.is_prospect()), Some(d.is_archived()), Some(d.is_deleted())),
            "{at}: flags"
        );
        assert_eq!(
            c.account_manager.as_ref().and_then(|r| r.uuid.as_deref()),
            d.account_manager.as_deref(),
            "{at}: account manager"
        );
        let mut groups: Vec<&str> = c.groups.iter().filter_map(|g| g.uuid.as_deref()).collect();
        let mut expected_groups: Vec<&str> = d.groups.iter().map(String::as_str).collect();
        groups.sort_unstable();
        expected_groups.sort_unstable();
        assert_eq!(groups, expected_groups, "{at}: groups");
        let notes: Vec<_> = c
            .notes
            .iter()
            .map(|n| (n.title.as_deref(), n.text.as_deref()))
            .collect();
        let expected_notes: Vec<_> = v
            .notes
            .iter()
            .map(|n| (n.title.as_deref(), n.text.as_deref()))
            .collect();
        assert_eq!(notes, expected_notes, "{at}: notes");
        let mut related: Vec<(Option<&str>, Option<&str>)> = c
            .relationships
            .iter()
            .map(|r| {
                (
                    r.uuid.as_deref(),
                    r.related_client.as_ref().and_then(|rc| rc.uuid.as_deref()),
                )
            })
            .collect();
        let mut expected_related: Vec<(Option<&str>, Option<&str>)> = record
            .relationships
            .iter()
            .map(|r| (r.values.uuid.as_deref(), Some(r.related_client.as_str())))
            .collect();
        related.sort_unstable();
        expected_related.sort_unstable();
        assert_eq!(related, expected_related, "{at}: relationships");

        let contacts: Vec<ContactView> = c
            .contacts
            .iter()
            .map(|k| {
                (
                    k.uuid.clone().unwrap_or_default(),
                    k.name.clone().unwrap_or_default(),
                    k.salutation.clone(),
                    k.addressee.clone(),
                    k.mobile.clone(),
                    k.email.clone(),
                    k.phone.clone(),
                    k.is_primary.unwrap_or(false),
                    k.position.clone(),
                )
            })
            .collect();
        let expected_contacts: Vec<ContactView> = data
            .contacts_of(record)
            .map(|(link, k)| {
                let kd = &k.details;
                (
                    k.uuid.clone(),
                    k.name().to_owned(),
                    kd.salutation.clone(),
                    kd.addressee.clone(),
                    kd.mobile.clone(),
                    kd.email.clone(),
                    kd.phone.clone(),
                    link.is_primary,
                    link.position.clone(),
                )
            })
            .collect();
        assert_eq!(contacts, expected_contacts, "{at}: contacts");
    }
}

/// Everything a sync may change, without the times a run stamps: each client's JSON as the
/// directory serves it (contacts from the link tables), whether it is tombstoned, the counts and
/// the watermark. Two states are equal when no reader could tell them apart.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryState {
    pub clients: Vec<(String, String, bool)>,
    pub counts: hownow_sync::DirectoryCounts,
    pub watermark: Option<time::OffsetDateTime>,
}

pub fn directory_state(store: &Store, connection_id: i64) -> DirectoryState {
    let clients = crate::common::stored_clients(
        store,
        connection_id,
        &ClientQuery {
            search: None,
            include_removed: true,
        },
    )
    .into_iter()
    .map(|c| {
        (
            c.client.uuid.clone().unwrap_or_default(),
            serde_json::to_string(&c.client).unwrap(),
            c.removed_at.is_some(),
        )
    })
    .collect();
    DirectoryState {
        clients,
        counts: store.counts(connection_id).unwrap(),
        watermark: store.connection(connection_id).unwrap().watermark,
    }
}

/// Equal client lists, or a panic naming the first client that differs and how.
pub fn assert_same_clients(got: &[(String, String, bool)], want: &[(String, String, bool)], what: &str) {
    let got_ids: Vec<&str> = got.iter().map(|c| c.0.as_str()).collect();
    let want_ids: Vec<&str> = want.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(got_ids, want_ids, "{what}: other clients");
    for (g, w) in got.iter().zip(want) {
        if g == w {
            continue;
        }
        let (gv, wv): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(&g.1).unwrap(),
            serde_json::from_str(&w.1).unwrap(),
        );
        let fields: Vec<String> = wv
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| gv.get(k.as_str()) != Some(v))
            .map(|(k, v)| {
                format!(
                    "{k}: got {} want {v}",
                    gv.get(k.as_str()).unwrap_or(&serde_json::Value::Null)
                )
            })
            .collect();
        panic!(
            "{what}: client {} differs (removed {} vs {}): {fields:?}",
            g.0, g.2, w.2
        );
    }
}
