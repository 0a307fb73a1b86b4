//! An in-memory practice that behaves like XPM where the engine cares: `modifiedsince` by a
//! per-client modified time, contact edits and primary moves that do NOT bump that time (XPM's
//! defect; switchable), a contacts list without client references, a server `Date`, a
//! day-budget countdown, and injectable failures. For tests and benchmarks.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration as StdDuration;

use hownow_xpm::{Client, Contact, Fetched, Page, RateLimitKind, ResponseMeta, XpmError};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::{ClientListing, PracticeSource};

struct Entry {
    client: Client,
    modified_at: OffsetDateTime,
}

struct State {
    clients: BTreeMap<String, Entry>,
    /// Contacts linked to no client (XPM lists them in `client.api/contacts` too).
    orphans: BTreeMap<String, Contact>,
    now: OffsetDateTime,
    send_date: bool,
    flag_contact_edits: bool,
    calls: u64,
    day_limit: u32,
    fail_next_list_after: Option<usize>,
    /// What `client.api/get` answers instead of the client, when set.
    fail_gets: Option<fn() -> XpmError>,
    /// `client.api/contacts` as last computed; dropped by every edit.
    contacts: Option<std::sync::Arc<Vec<Contact>>>,
}

/// See the module documentation. Cheap to share by reference; all methods take `&self`.
pub struct MemorySource {
    state: Mutex<State>,
}

impl Default for MemorySource {
    fn default() -> Self {
        Self::new()
    }
}

fn invalid_client_identifier() -> XpmError {
    XpmError::Api {
        description: "Invalid client identifier".into(),
    }
}

fn bump(entry: &mut Entry, now: OffsetDateTime) {
    entry.modified_at = now;
}

impl MemorySource {
    /// An empty practice whose clock reads 2024-05-01 00:00 UTC.
    pub fn new() -> Self {
        MemorySource {
            state: Mutex::new(State {
                clients: BTreeMap::new(),
                orphans: BTreeMap::new(),
                now: datetime!(2024-05-01 00:00 UTC),
                send_date: true,
                flag_contact_edits: false,
                calls: 0,
                day_limit: 5000,
                fail_next_list_after: None,
                fail_gets: None,
                contacts: None,
            }),
        }
    }

    /// A practice of `clients`, last modified 30 days before the clock.
    pub fn with_clients(clients: impl IntoIterator<Item = Client>) -> Self {
        let source = Self::new();
        source.advance(Duration::days(-30));
        for c in clients {
            source.put_client(c);
        }
        source.advance(Duration::days(30));
        source
    }

    /// The state, for a change: the cached contacts list is dropped.
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        let mut s = self.state.lock().expect("not poisoned");
        s.contacts = None;
        s
    }

    /// The server's clock (what `Date` says).
    pub fn now(&self) -> OffsetDateTime {
        self.state().now
    }

    pub fn advance(&self, by: Duration) {
        self.state().now += by;
    }

    /// Without a `Date` header the engine falls back to the local clock.
    pub fn send_date_header(&self, send: bool) {
        self.state().send_date = send;
    }

    /// `true` makes contact edits and primary moves bump the client's modified time (XPM does
    /// not: the default reproduces the defect).
    pub fn flag_contact_edits(&self, flag: bool) {
        self.state().flag_contact_edits = flag;
    }

    /// Adds or replaces a client, modified now.
    pub fn put_client(&self, client: Client) {
        let mut s = self.state();
        let now = s.now;
        let uuid = client.uuid.clone().expect("test clients have a UUID");
        s.clients.insert(
            uuid,
            Entry {
                client,
                modified_at: now,
            },
        );
    }

    /// Edits a client (a flagged change).
    pub fn edit_client(&self, uuid: &str, edit: impl FnOnce(&mut Client)) {
        let mut s = self.state();
        let now = s.now;
        let entry = s.clients.get_mut(uuid).expect("known client");
        edit(&mut entry.client);
        bump(entry, now);
    }

    /// Edits a contact wherever it is listed. Not flagged by `modifiedsince` unless
    /// [`MemorySource::flag_contact_edits`].
    pub fn edit_contact(&self, contact_uuid: &str, edit: impl Fn(&mut Contact)) {
        let mut s = self.state();
        let (now, flag) = (s.now, s.flag_contact_edits);
        for entry in s.clients.values_mut() {
            let mut touched = false;
            for c in entry
                .client
                .contacts
                .iter_mut()
                .filter(|c| c.uuid.as_deref() == Some(contact_uuid))
            {
                edit(c);
                touched = true;
            }
            if touched && flag {
                bump(entry, now);
            }
        }
        if let Some(o) = s.orphans.get_mut(contact_uuid) {
            edit(o);
        }
    }

    /// Makes `contact_uuid` the client's primary contact. Not flagged (XPM's defect).
    pub fn move_primary(&self, client_uuid: &str, contact_uuid: &str) {
        let mut s = self.state();
        let (now, flag) = (s.now, s.flag_contact_edits);
        let entry = s.clients.get_mut(client_uuid).expect("known client");
        for c in &mut entry.client.contacts {
            c.is_primary = Some(c.uuid.as_deref() == Some(contact_uuid));
        }
        if flag {
            bump(entry, now);
        }
    }

    /// Links a new contact to a client. Not flagged (XPM's defect).
    pub fn add_contact(&self, client_uuid: &str, contact: Contact) {
        let mut s = self.state();
        let (now, flag) = (s.now, s.flag_contact_edits);
        let entry = s.clients.get_mut(client_uuid).expect("known client");
        entry.client.contacts.push(contact);
        if flag {
            bump(entry, now);
        }
    }

    /// A contact of no client.
    pub fn add_orphan_contact(&self, contact: Contact) {
        let uuid = contact.uuid.clone().expect("test contacts have a UUID");
        self.state().orphans.insert(uuid, contact);
    }

    /// The client disappears from every answer (XPM lists deleted clients; this simulates a
    /// client that is simply gone, or a truncated practice).
    pub fn remove_client(&self, uuid: &str) {
        self.state().clients.remove(uuid);
    }

    /// The next client list fails (a dropped connection) after `n` clients.
    pub fn fail_next_list_after(&self, n: usize) {
        self.state().fail_next_list_after = Some(n);
    }

    /// `client.api/get` answers XPM's not-found error (`Invalid client identifier`).
    pub fn fail_gets(&self, fail: bool) {
        self.state().fail_gets = fail.then_some(invalid_client_identifier as fn() -> XpmError);
    }

    /// `client.api/get` answers the error `error` makes (`None`: the client again).
    pub fn fail_gets_with(&self, error: Option<fn() -> XpmError>) {
        self.state().fail_gets = error;
    }

    /// Calls left today; at 0 every call answers a `day` 429.
    pub fn set_day_limit_remaining(&self, remaining: u32) {
        self.state().day_limit = remaining;
    }

    /// API calls answered so far.
    pub fn calls(&self) -> u64 {
        self.state().calls
    }

    /// Every client as the detailed list would send it, by UUID.
    pub fn clients(&self) -> Vec<Client> {
        self.state().clients.values().map(|e| e.client.clone()).collect()
    }

    /// Counts a call against the budget; `Err` for a `day` 429.
    fn call(s: &mut State, bytes: u64) -> Result<ResponseMeta, XpmError> {
        if s.day_limit == 0 {
            return Err(XpmError::RateLimited {
                kind: RateLimitKind::Day,
                retry_after: Some(StdDuration::from_secs(3600)),
            });
        }
        s.calls += 1;
        s.day_limit -= 1;
        Ok(ResponseMeta {
            status: 200,
            date: s.send_date.then_some(s.now),
            min_limit_remaining: Some(59),
            day_limit_remaining: Some(s.day_limit),
            bytes_received: bytes,
            attempts: 1,
            ..Default::default()
        })
    }

    fn all_contacts(s: &State) -> Vec<Contact> {
        let mut by_uuid: BTreeMap<String, Contact> = BTreeMap::new();
        for entry in s.clients.values() {
            for c in &entry.client.contacts {
                let Some(uuid) = c.uuid.clone() else { continue };
                if c.is_deleted == Some(true) {
                    continue;
                }
                by_uuid.entry(uuid).or_insert_with(|| Contact {
                    is_primary: None,
                    position: None,
                    is_deleted: Some(false),
                    ..c.clone()
                });
            }
        }
        for (uuid, c) in &s.orphans {
            by_uuid.entry(uuid.clone()).or_insert_with(|| c.clone());
        }
        by_uuid.into_values().collect()
    }
}

/// A client list being "received" from a [`MemorySource`].
pub struct MemoryListing {
    items: std::vec::IntoIter<Client>,
    fail_after: Option<usize>,
    yielded: usize,
    failed: bool,
    meta: ResponseMeta,
}

impl ClientListing for MemoryListing {
    async fn next_client(&mut self) -> Option<Result<Client, XpmError>> {
        if self.failed {
            return None;
        }
        if self.fail_after == Some(self.yielded) {
            self.failed = true;
            return Some(Err(XpmError::Transport(
                "connection reset while receiving the client list".into(),
            )));
        }
        let client = self.items.next()?;
        self.yielded += 1;
        self.meta.bytes_received += 2_000;
        Some(Ok(client))
    }

    fn meta(&self) -> ResponseMeta {
        self.meta.clone()
    }
}

impl PracticeSource for MemorySource {
    type Listing = MemoryListing;

    async fn list_clients(&self, modified_since: Option<OffsetDateTime>) -> Result<MemoryListing, XpmError> {
        let mut s = self.state();
        let meta = Self::call(&mut s, 100)?;
        let items: Vec<Client> = s
            .clients
            .values()
            .filter(|e| modified_since.is_none_or(|since| e.modified_at >= since))
            .map(|e| e.client.clone())
            .collect();
        let fail_after = s.fail_next_list_after.take();
        Ok(MemoryListing {
            items: items.into_iter(),
            fail_after,
            yielded: 0,
            failed: false,
            meta,
        })
    }

    async fn get_client(&self, uuid: &str) -> Result<Fetched<Client>, XpmError> {
        let mut s = self.state();
        let meta = Self::call(&mut s, 2_000)?;
        if let Some(e) = &s.fail_gets {
            return Err(e());
        }
        match s.clients.get(uuid) {
            Some(e) => Ok(Fetched {
                value: e.client.clone(),
                meta,
                warnings: Vec::new(),
            }),
            None => Err(XpmError::Api {
                description: "Invalid client identifier".into(),
            }),
        }
    }

    async fn contacts_page(
        &self,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Fetched<Page<Contact>>, XpmError> {
        let mut s = self.state.lock().expect("not poisoned");
        let meta = Self::call(&mut s, 500 * page_size as u64)?;
        let all = match &s.contacts {
            Some(all) => all.clone(),
            None => {
                let all = std::sync::Arc::new(Self::all_contacts(&s));
                s.contacts = Some(all.clone());
                all
            }
        };
        let start: usize = page_token.and_then(|t| t.parse().ok()).unwrap_or(0);
        let size = page_size.clamp(1, 500) as usize;
        let items: Vec<Contact> = all.iter().skip(start).take(size).cloned().collect();
        let next = start + items.len();
        let next_page_token = (next < all.len()).then(|| next.to_string());
        Ok(Fetched {
            value: Page {
                items,
                next_page_token,
            },
            meta,
            warnings: Vec::new(),
        })
    }
}
