//! Xero Practice Manager 3.1: clients, contacts and client groups of one tenant.
//!
//! Every request carries `Authorization: Bearer`, `xero-tenant-id` and `Accept: application/xml`,
//! goes through the tenant's rate limiter, and is retried per [`crate::RetryPolicy`]. Answers are
//! decoded as they download (see `body.rs`).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use reqwest::header::{ACCEPT, ACCEPT_ENCODING};
use time::{OffsetDateTime, UtcOffset};
use url::Url;

use crate::api::XeroApi;
use crate::body::{decode_body, ItemStream};
use crate::client_stream::ClientStream;
use crate::decode::Item;
use crate::http::{self, with_retries, Attempts, Fetched, HttpConfig, ResponseMeta, TENANT_HEADER};
use crate::limiter::{Permit, TenantLimiter};
use crate::token::AccessTokenSource;
use crate::{Client, Contact, DataWarning, Group, RateLimitKind, XpmError};

/// Largest `pageSize` XPM accepts on its paged endpoints.
pub const MAX_PAGE_SIZE: u32 = 500;

/// How many times one request renews a refused access token before it gives up with
/// [`XpmError::AccessTokenRefused`].
pub const MAX_TOKEN_RENEWALS: u32 = 3;

/// The timeouts of one kind of request (see [`HttpConfig`]).
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// Until the response headers.
    response: std::time::Duration,
    /// Between two pieces of the body.
    idle: std::time::Duration,
}

impl Timeouts {
    fn list(http: &HttpConfig) -> Self {
        Timeouts {
            response: http.list_response_timeout,
            idle: http.list_idle_timeout,
        }
    }

    fn small(http: &HttpConfig) -> Self {
        Timeouts {
            response: http.response_timeout,
            idle: http.idle_timeout,
        }
    }
}

/// The Practice Manager API of one tenant. Cheap to clone; clones share the tenant's limiter.
/// Made by [`XeroApi::practice`].
#[derive(Clone)]
pub struct PracticeClient {
    inner: Arc<PracticeInner>,
}

struct PracticeInner {
    api: XeroApi,
    tenant_id: String,
    tokens: Arc<dyn AccessTokenSource>,
    limiter: Arc<TenantLimiter>,
    /// `{api_base}/practicemanager/3.1`
    base: Url,
}

impl std::fmt::Debug for PracticeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PracticeClient")
            .field("tenant_id", &self.inner.tenant_id)
            .field("base", &self.inner.base.as_str())
            .finish_non_exhaustive()
    }
}

/// One page of a paged endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The `pageToken` of the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

/// `modifiedsince` as XPM wants it: `yyyy-MM-ddTHH:mm:ss` in UTC (any offset is converted).
pub fn format_modified_since(at: OffsetDateTime) -> String {
    let utc = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

impl PracticeClient {
    pub(crate) fn new(
        api: XeroApi,
        tenant_id: String,
        tokens: Arc<dyn AccessTokenSource>,
        limiter: Arc<TenantLimiter>,
    ) -> Self {
        let base = http::join_path(&api.inner.config.api_base, &["practicemanager", "3.1"])
            .expect("XeroApi::new checked that the API base can be a base");
        PracticeClient {
            inner: Arc::new(PracticeInner {
                api,
                tenant_id,
                tokens,
                limiter,
                base,
            }),
        }
    }

    pub fn tenant_id(&self) -> &str {
        &self.inner.tenant_id
    }

    /// `client.api/list?detailed=true[&modifiedsince=…]`: every client (archived and deleted
    /// included) with contacts, notes, groups and relationships, decoded while it downloads.
    ///
    /// Returns once the first client (or the end of an empty list) has arrived; failures up to that
    /// point are retried like any request, except a timeout (no response headers within
    /// [`HttpConfig::list_response_timeout`](crate::HttpConfig::list_response_timeout), or a body
    /// silent for [`HttpConfig::list_idle_timeout`](crate::HttpConfig::list_idle_timeout) before the
    /// first client): that is retried once, after
    /// [`HttpConfig::list_timeout_retry_pause`](crate::HttpConfig::list_timeout_retry_pause), and a
    /// second timeout is returned. After the first client the stream cannot be retried: an error is
    /// yielded as its last item, and the caller must treat the run as incomplete.
    pub async fn list_clients(
        &self,
        modified_since: Option<OffsetDateTime>,
    ) -> Result<ClientStream, XpmError> {
        self.list_clients_counted(modified_since).await.0
    }

    /// [`Self::list_clients`], also telling how many tries it took and how many of them timed out,
    /// whether it succeeded or not (on success the same figures are in [`ClientStream::meta`]).
    pub async fn list_clients_counted(
        &self,
        modified_since: Option<OffsetDateTime>,
    ) -> (Result<ClientStream, XpmError>, Attempts) {
        let mut counted = Attempts::default();
        let mut url = match self.endpoint(&["client.api", "list"]) {
            Ok(url) => url,
            Err(e) => return (Err(e), counted),
        };
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("detailed", "true");
            if let Some(at) = modified_since {
                query.append_pair("modifiedsince", &format_modified_since(at));
            }
        }
        let config = self.config();
        let timeouts = Timeouts::list(&config.http);
        loop {
            counted.attempts += 1;
            let attempt = counted.attempts;
            let error = match self.list_once(url.clone(), attempt, timeouts).await {
                Ok((items, mut meta)) => {
                    meta.timeouts = counted.timeouts;
                    let stream = ClientStream {
                        items,
                        meta,
                        warnings: Vec::new(),
                    };
                    return (Ok(stream), counted);
                }
                Err(e) => e,
            };
            let wait = if matches!(error, XpmError::Timeout(_)) {
                counted.timeouts += 1;
                // XPM may still be building the list: one more try after a pause, never a third.
                (counted.timeouts == 1 && attempt < config.retry.max_attempts)
                    .then_some(config.http.list_timeout_retry_pause)
            } else {
                config.retry.delay_before_retry(&error, attempt)
            };
            let Some(wait) = wait else {
                return (Err(error), counted);
            };
            tracing::debug!(attempt, timeouts = counted.timeouts, wait_ms = wait.as_millis() as u64, error = %error, "retrying the client list");
            tokio::time::sleep(wait).await;
        }
    }

    /// One try of the list: sends, then waits for the first client.
    async fn list_once(
        &self,
        url: Url,
        attempt: u32,
        timeouts: Timeouts,
    ) -> Result<(ItemStream, ResponseMeta), XpmError> {
        let (response, meta, permit) = self.send_once(url, attempt, timeouts).await?;
        let mut items = decode_body(response, Some(permit), timeouts.idle);
        items.wait_for_first().await?;
        Ok((items, meta))
    }

    /// One page of `client.api/paged-list` (non-archived, non-deleted clients without contacts,
    /// notes, groups or relationships). `page_size` is 1 to [`MAX_PAGE_SIZE`].
    pub async fn paged_clients(
        &self,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Fetched<Page<Client>>, XpmError> {
        let url = self.paged_url(&["client.api", "paged-list"], page_size, page_token)?;
        self.fetch_page(url, client_of).await
    }

    /// Every page of `client.api/paged-list`, following `pageToken` to the end. `meta` is the last
    /// page's, with `bytes_received` summed over all pages.
    pub async fn all_paged_clients(&self, page_size: u32) -> Result<Fetched<Vec<Client>>, XpmError> {
        self.walk_pages(|token| async move { self.paged_clients(page_size, token.as_deref()).await })
            .await
    }

    /// `client.api/get/{uuid}`: one detailed client.
    pub async fn client(&self, uuid: &str) -> Result<Fetched<Client>, XpmError> {
        let url = self.endpoint(&["client.api", "get", uuid])?;
        self.fetch_one(url, client_of, "client").await
    }

    /// One page of `client.api/contacts`: non-deleted contacts, without their clients.
    pub async fn contacts_page(
        &self,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Fetched<Page<Contact>>, XpmError> {
        let url = self.paged_url(&["client.api", "contacts"], page_size, page_token)?;
        self.fetch_page(url, contact_of).await
    }

    /// Every page of `client.api/contacts`. `meta` is the last page's, with `bytes_received`
    /// summed over all pages. For bounded memory on huge practices, loop over
    /// [`Self::contacts_page`] instead.
    pub async fn all_contacts(&self, page_size: u32) -> Result<Fetched<Vec<Contact>>, XpmError> {
        self.walk_pages(|token| async move { self.contacts_page(page_size, token.as_deref()).await })
            .await
    }

    /// `client.api/contact/{uuid}[?clientUuid=…]`: one contact; `is_primary` and `position`
    /// describe its link to `client_uuid` and are only present when it is given.
    pub async fn contact(&self, uuid: &str, client_uuid: Option<&str>) -> Result<Fetched<Contact>, XpmError> {
        let mut url = self.endpoint(&["client.api", "contact", uuid])?;
        if let Some(client_uuid) = client_uuid {
            url.query_pairs_mut().append_pair("clientUuid", client_uuid);
        }
        self.fetch_one(url, contact_of, "contact").await
    }

    /// `clientgroup.api/list`: every client group (without members).
    pub async fn groups(&self) -> Result<Fetched<Vec<Group>>, XpmError> {
        let url = self.endpoint(&["clientgroup.api", "list"])?;
        let (items, meta) = self.fetch_items(url).await?;
        let (items, warnings) = split_warnings(items);
        Ok(Fetched {
            value: items.into_iter().filter_map(group_of).collect(),
            meta,
            warnings,
        })
    }

    /// `clientgroup.api/get/{uuid}`: one group with its member clients.
    pub async fn group(&self, uuid: &str) -> Result<Fetched<Group>, XpmError> {
        let url = self.endpoint(&["clientgroup.api", "get", uuid])?;
        self.fetch_one(url, group_of, "group").await
    }

    fn config(&self) -> &crate::ApiConfig {
        &self.inner.api.inner.config
    }

    fn endpoint(&self, segments: &[&str]) -> Result<Url, XpmError> {
        http::join_path(&self.inner.base, segments)
    }

    fn paged_url(
        &self,
        segments: &[&str],
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Url, XpmError> {
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(XpmError::Config(format!(
                "pageSize must be 1 to {MAX_PAGE_SIZE}, not {page_size}"
            )));
        }
        let mut url = self.endpoint(segments)?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("pageSize", &page_size.to_string());
            if let Some(token) = page_token {
                query.append_pair("pageToken", token);
            }
        }
        Ok(url)
    }

    /// One try: waits for the limiter, sends, and classifies the status. The permit comes back so
    /// the slot stays taken while the body downloads.
    ///
    /// A 401 means Xero refused the access token, whatever its detail says (`TokenExpired` for a
    /// token that died early, or a token it no longer knows): the source is told
    /// ([`AccessTokenSource::token_rejected`]) and the request is sent again with the token it
    /// gives next, up to [`MAX_TOKEN_RENEWALS`] times. After that, or when the source has no other
    /// token, the answer is [`XpmError::AccessTokenRefused`]. Never [`XpmError::NeedsReauth`]: only
    /// the token endpoint's `invalid_grant`, reported by the source, means the sign-in is gone.
    async fn send_once(
        &self,
        url: Url,
        attempt: u32,
        timeouts: Timeouts,
    ) -> Result<(reqwest::Response, ResponseMeta, Permit), XpmError> {
        let mut refused = 0;
        loop {
            let permit = self.inner.limiter.acquire().await;
            // Asked after the limiter wait, so a request that queued for long still gets a fresh
            // token.
            let token = self.inner.tokens.access_token().await?;
            let path = url.path().to_string();
            let request = self
                .inner
                .api
                .inner
                .http
                .get(url.clone())
                .bearer_auth(token.expose())
                .header(TENANT_HEADER, &self.inner.tenant_id)
                .header(ACCEPT, "application/xml")
                .header(ACCEPT_ENCODING, "gzip");
            let sent = tokio::time::Instant::now();
            let response = http::send(request, timeouts.response, &path).await?;
            let mut meta = ResponseMeta::from_response(response.status(), response.headers(), attempt);
            meta.elapsed = sent.elapsed();
            tracing::debug!(path = %path, status = meta.status, attempt, elapsed_ms = meta.elapsed.as_millis() as u64, min_left = ?meta.min_limit_remaining, day_left = ?meta.day_limit_remaining, "XPM response");
            self.inner.limiter.observe(meta.min_limit_remaining);
            match http::check_status(response, timeouts.idle).await {
                Ok(response) => return Ok((response, meta, permit)),
                // `check_status` reads every 401 as NeedsReauth; on an API call it only means
                // this access token was refused.
                Err(XpmError::NeedsReauth { reason }) => {
                    drop(permit);
                    refused += 1;
                    let renewable = self.inner.tokens.token_rejected(&token).await;
                    if !renewable || refused > MAX_TOKEN_RENEWALS {
                        return Err(XpmError::AccessTokenRefused {
                            tokens: refused,
                            reason,
                        });
                    }
                    tracing::info!(path = %path, refused, reason = %reason, "Xero refused the access token; renewing it");
                }
                Err(error) => return Err(self.after_error(error)),
            }
        }
    }

    /// Holds back the tenant's other requests after a minute (not day) rate limit: they would
    /// only collect more 429s, each counting against the day's budget.
    fn after_error(&self, error: XpmError) -> XpmError {
        if let XpmError::RateLimited { kind, retry_after } = &error {
            if *kind != RateLimitKind::Day {
                let config = self.config();
                let pause = retry_after
                    .unwrap_or(config.rate_limits.window)
                    .min(config.retry.max_rate_limit_wait);
                self.inner.limiter.pause_for(pause);
            }
        }
        error
    }

    /// Downloads and decodes a whole (small) response; a failure anywhere in it retries the
    /// request, since nothing was handed out yet.
    async fn fetch_items(&self, url: Url) -> Result<(Vec<Item>, ResponseMeta), XpmError> {
        let timeouts = Timeouts::small(&self.config().http);
        let timed_out = AtomicU32::new(0);
        let timed_out = &timed_out;
        with_retries(&self.config().retry, |attempt| {
            let url = url.clone();
            async move {
                let result = async {
                    let (response, mut meta, permit) = self.send_once(url, attempt, timeouts).await?;
                    let (items, decoded, wire) = decode_body(response, Some(permit), timeouts.idle)
                        .collect()
                        .await?;
                    meta.bytes_received = decoded;
                    meta.bytes_on_wire = wire;
                    Ok((items, meta))
                }
                .await;
                if matches!(result, Err(XpmError::Timeout(_))) {
                    timed_out.fetch_add(1, Ordering::Relaxed);
                }
                result.map(|(items, mut meta)| {
                    meta.timeouts = timed_out.load(Ordering::Relaxed);
                    (items, meta)
                })
            }
        })
        .await
    }

    async fn fetch_one<T>(
        &self,
        url: Url,
        pick: fn(Item) -> Option<T>,
        what: &str,
    ) -> Result<Fetched<T>, XpmError> {
        let (items, meta) = self.fetch_items(url).await?;
        let (items, warnings) = split_warnings(items);
        match items.into_iter().find_map(pick) {
            Some(value) => Ok(Fetched {
                value,
                meta,
                warnings,
            }),
            None => Err(XpmError::Api {
                description: format!("Xero Practice Manager answered OK but sent no {what}"),
            }),
        }
    }

    async fn fetch_page<T>(
        &self,
        url: Url,
        pick: fn(Item) -> Option<T>,
    ) -> Result<Fetched<Page<T>>, XpmError> {
        let (items, meta) = self.fetch_items(url).await?;
        let mut page = Page {
            items: Vec::new(),
            next_page_token: None,
        };
        let mut warnings = Vec::new();
        for item in items {
            match item {
                Item::Pagination(p) => page.next_page_token = p.next_page_token(),
                Item::Warning(w) => warnings.push(w),
                other => page.items.extend(pick(other)),
            }
        }
        Ok(Fetched {
            value: page,
            meta,
            warnings,
        })
    }

    /// Follows `next_page_token` until a page has none. A token seen twice means XPM is looping
    /// (it has ignored paging parameters before); that is an error, not an endless walk.
    async fn walk_pages<T, F, Fut>(&self, mut fetch: F) -> Result<Fetched<Vec<T>>, XpmError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: std::future::Future<Output = Result<Fetched<Page<T>>, XpmError>>,
    {
        let mut all = Vec::new();
        let mut seen = HashSet::new();
        let mut token = None;
        let (mut bytes, mut wire) = (0, 0);
        let mut all_warnings = Vec::new();
        loop {
            let Fetched {
                value: page,
                mut meta,
                warnings,
            } = fetch(token.take()).await?;
            all_warnings.extend(warnings);
            bytes += meta.bytes_received;
            wire += meta.bytes_on_wire;
            all.extend(page.items);
            match page.next_page_token {
                Some(next) if !seen.insert(next.clone()) => {
                    return Err(XpmError::Api {
                        description: format!(
                            "Xero Practice Manager returned page token `{next}` twice; stopped paging"
                        ),
                    })
                }
                Some(next) => token = Some(next),
                None => {
                    meta.bytes_received = bytes;
                    meta.bytes_on_wire = wire;
                    return Ok(Fetched {
                        value: all,
                        meta,
                        warnings: all_warnings,
                    });
                }
            }
        }
    }
}

/// The records of an answer, and the warnings about their values.
fn split_warnings(items: Vec<Item>) -> (Vec<Item>, Vec<DataWarning>) {
    let mut warnings = Vec::new();
    let items = items
        .into_iter()
        .filter_map(|item| match item {
            Item::Warning(w) => {
                warnings.push(w);
                None
            }
            other => Some(other),
        })
        .collect();
    (items, warnings)
}

fn client_of(item: Item) -> Option<Client> {
    match item {
        Item::Client(c) => Some(*c),
        _ => None,
    }
}

fn contact_of(item: Item) -> Option<Contact> {
    match item {
        Item::Contact(c) => Some(c),
        _ => None,
    }
}

fn group_of(item: Item) -> Option<Group> {
    match item {
        Item::Group(g) => Some(g),
        _ => None,
    }
}

#[cfg(test)]
#[path = "practice_tests.rs"]
mod tests;
