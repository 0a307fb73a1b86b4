//! XPM 3.1 (and 3.0, same paths) over HTTP: the gateway in front, then the read endpoints.
//!
//! Every call passes, in order: the identity gateway (401/403 JSON problems), the tenant's rate
//! budgets (429), the latency, injected failures (5xx), the endpoint's first-byte delay; then the
//! endpoint answers XML, gzip-compressed when the request accepts it, and the body faults (hold,
//! truncation, throttle) shape what goes out. Hyper stamps every answer's `Date` when it writes
//! the headers, so after any delay: `Date` minus the wait for the headers is when the request
//! arrived. Bad identifiers and parameters are answered as
//! XPM does: HTTP 200 with `<Status>ERROR</Status>`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::data::PracticeData;
use super::documents::{Document, RecordWriter};
use super::model::parse_datetime;
use super::rate_limit::{Decision, Remaining};
use super::switches::{Switches, XPM_ENDPOINTS};
use super::xml::{self, ClientShape};
use super::Practice;

pub(crate) const XML_CONTENT_TYPE: &str = "text/xml; charset=utf-8";
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 500;
/// `client.api/list`'s undocumented `page` comes with this size when `pagesize` is absent.
const DEFAULT_LIST_PAGE_SIZE: usize = 100;
/// The endpoint `hold_list_after_bytes` holds.
const LIST_ENDPOINT: &str = "client.api/list";

#[derive(Clone)]
struct ApiState {
    practice: Arc<Practice>,
    version: &'static str,
}

/// What the gateway hands an endpoint: the tenant's snapshot and the switches of this call.
#[derive(Clone)]
struct Call {
    data: Arc<PracticeData>,
    switches: Switches,
}

pub(crate) fn router(practice: Arc<Practice>) -> Router {
    ["3.1", "3.0"].into_iter().fold(Router::new(), |router, version| {
        let state = ApiState {
            practice: practice.clone(),
            version,
        };
        let api = Router::new()
            .route("/client.api/list", get(client_list))
            .route("/client.api/paged-list", get(client_paged_list))
            .route("/client.api/get/{uuid}", get(client_get))
            .route("/client.api/contacts", get(contact_list))
            .route("/client.api/contact/{uuid}", get(contact_get))
            .route("/clientgroup.api/list", get(group_list))
            .route("/clientgroup.api/get/{uuid}", get(group_get))
            .route_layer(middleware::from_fn_with_state(state.clone(), gateway))
            .with_state(state);
        router.nest(&format!("/practicemanager/{version}"), api)
    })
}

async fn gateway(State(api): State<ApiState>, mut request: Request, next: Next) -> Response {
    let practice = &api.practice;
    let endpoint = endpoint_of(request.uri().path());
    let wants_gzip = accepts_gzip(request.headers());
    let headers = request.headers();
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let tenant_id = headers.get("xero-tenant-id").and_then(|v| v.to_str().ok());
    if let Err(rejection) = practice.identity.check_api_access(authorization, tenant_id) {
        return rejection.into_response();
    }
    // A connected tenant that is not a practice (an accounting organisation) has no XPM.
    let Some(tenant) = tenant_id.and_then(|t| practice.tenant(t.trim())) else {
        return crate::identity::GatewayRejection::forbidden().into_response();
    };
    let switches = practice.switches();
    let remaining = match practice.limiter.check(
        tenant.tenant.id,
        switches.rate_limit_minute,
        switches.rate_limit_day,
        Duration::from_secs(switches.rate_limit_window_secs),
        switches.rate_limit_burst,
        Instant::now(),
    ) {
        Decision::Allowed(remaining) => remaining,
        Decision::Refused {
            problem,
            retry_after,
            remaining,
        } => return too_many_requests(problem.as_header(), retry_after, remaining),
    };
    if switches.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(switches.latency_ms)).await;
    }
    if practice.take_failure() {
        return with_budget_headers(
            injected_failure(switches.fail_status, switches.fail_with_xml_error),
            remaining,
        );
    }
    // The answer is of the practice as it was when the request arrived: XPM reads its records,
    // then spends its time preparing the document. An edit made meanwhile is not in it, which
    // is why a client's watermark must be when the request was sent, not when it was answered.
    let data = tenant.snapshot();
    // XPM preparing its answer: nothing at all is sent meanwhile, not even the headers.
    if let Some(delay) = endpoint.and_then(|e| switches.first_byte_delay(e)) {
        if practice.sleep(delay).await.is_err() {
            return problem(StatusCode::SERVICE_UNAVAILABLE, "The sandbox is stopping");
        }
    }
    request.extensions_mut().insert(Call {
        data,
        switches: switches.clone(),
    });
    let response = with_budget_headers(next.run(request).await, remaining);
    let hold = switches
        .hold_list_after_bytes
        .filter(|_| endpoint == Some(LIST_ENDPOINT));
    let compress = switches.gzip && wants_gzip && is_xml(&response);
    if hold.is_none()
        && !compress
        && switches.truncate_after_bytes.is_none()
        && switches.throttle_bytes_per_sec.is_none()
    {
        return response;
    }
    let (mut parts, mut body) = response.into_parts();
    // The shaped body no longer has the length the handler declared.
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Some(after) = hold {
        let practice = Arc::clone(&api.practice);
        let release: super::faults::Release = Box::pin(async move {
            practice
                .wait_for_switches(|s| s.hold_list_after_bytes.is_none())
                .await
        });
        body = super::faults::hold_after(body, after, release);
    }
    if compress {
        body = super::faults::gzip(body);
        parts
            .headers
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        parts
            .headers
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    let body = super::faults::shape_body(
        body,
        switches.truncate_after_bytes,
        switches.throttle_bytes_per_sec,
    );
    Response::from_parts(parts, body)
}

/// The endpoint the switches name for `path` (one of [`XPM_ENDPOINTS`]): the segment ending in
/// `.api` and the one after it, e.g. `client.api/get` for `/practicemanager/3.1/client.api/get/…`.
fn endpoint_of(path: &str) -> Option<&'static str> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let api = segments.by_ref().find(|s| s.ends_with(".api"))?;
    let method = segments.next()?;
    XPM_ENDPOINTS
        .into_iter()
        .find(|e| e.split_once('/') == Some((api, method)))
}

/// Whether the request accepts a gzip answer (`Accept-Encoding: gzip`, not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut params = coding.split(';').map(str::trim);
            let name = params.next().unwrap_or("");
            let refused = params.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip")) && !refused
        })
}

fn is_xml(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/xml"))
}

fn with_budget_headers(mut response: Response, remaining: Remaining) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-minlimit-remaining", remaining.minute),
        ("x-daylimit-remaining", remaining.day),
        ("x-appminlimit-remaining", remaining.app_minute),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
    response
}

fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "Type": null,
        "Title": status.canonical_reason().unwrap_or("Error"),
        "Status": status.as_u16(),
        "Detail": detail,
    });
    (status, axum::Json(body)).into_response()
}

fn too_many_requests(problem_kind: &'static str, retry_after: Duration, remaining: Remaining) -> Response {
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Rate limit exceeded: {problem_kind}"),
    );
    let headers = response.headers_mut();
    headers.insert("x-rate-limit-problem", HeaderValue::from_static(problem_kind));
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs()));
    with_budget_headers(response, remaining)
}

fn injected_failure(status: u16, xml_envelope: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    if xml_envelope {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE));
        let body = xml::error_document("An error has occurred (injected by the sandbox's failure switch)");
        return (status, headers, body).into_response();
    }
    problem(status, "Injected by the sandbox's failure switch")
}

fn xml_response(document: Document) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(XML_CONTENT_TYPE));
    (StatusCode::OK, headers, document.into_body()).into_response()
}

/// XPM's error envelope, with HTTP 200 as XPM sends it.
fn xml_error(description: &str) -> Response {
    xml_response(Document::whole(xml::error_document(description)))
}

/// Query parameters with case-insensitive names (XPM's docs spell `modifiedsince` both ways).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<String>) -> Self {
        let raw = raw.unwrap_or_default();
        Query(
            url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn number(
        &self,
        name: &str,
        default: usize,
        range: std::ops::RangeInclusive<usize>,
    ) -> Result<usize, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    format!(
                        "{name} must be a number from {} to {}",
                        range.start(),
                        range.end()
                    )
                }),
        }
    }
}

/// A single record in its envelope.
fn single(api_method: &str, malformed: bool, write: impl FnOnce(&mut String)) -> Response {
    let mut head = String::new();
    xml::open_response(&mut head, api_method);
    write(&mut head);
    let mut tail = String::new();
    xml::close_response(&mut tail);
    xml_response(Document::new(head, Box::new(|_| false), tail, malformed))
}

/// A collection in its envelope, its records written on demand.
fn collection(
    api_method: &str,
    element: &str,
    records: RecordWriter,
    after: &str,
    malformed: bool,
) -> Response {
    let mut head = String::new();
    xml::open_response(&mut head, api_method);
    head.push_str(&format!("\n  <{element}>"));
    let mut tail = format!("\n  </{element}>{after}");
    xml::close_response(&mut tail);
    xml_response(Document::new(head, records, tail, malformed))
}

async fn client_list(Extension(call): Extension<Call>, RawQuery(query): RawQuery) -> Response {
    let query = Query::parse(query);
    let shape = if query
        .get("detailed")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        ClientShape::Detailed
    } else {
        ClientShape::Light
    };
    let since = match query.get("modifiedsince") {
        None => None,
        Some(s) => match parse_datetime(s.trim()) {
            Some(since) => Some(since),
            None => {
                return xml_error(&format!(
                    "Invalid modifiedsince value '{s}': expected yyyy-MM-ddTHH:mm:ss"
                ))
            }
        },
    };
    // Undocumented paging; the ignore-page switch reproduces practices that disregard it.
    let (mut skip, mut take) = (0usize, usize::MAX);
    if !call.switches.ignore_page && (query.get("page").is_some() || query.get("pagesize").is_some()) {
        let page = match query.number("page", 1, 1..=usize::MAX / 2) {
            Ok(page) => page,
            Err(e) => return xml_error(&e),
        };
        let size = match query.number("pagesize", DEFAULT_LIST_PAGE_SIZE, 1..=usize::MAX / 2) {
            Ok(size) => size,
            Err(e) => return xml_error(&e),
        };
        (skip, take) = ((page - 1).saturating_mul(size), size);
    }
    let data = call.data;
    let odd_every = call.switches.odd_values;
    let mut next = 0;
    let records: RecordWriter = Box::new(move |buf: &mut String| {
        while take > 0 && next < data.clients.len() {
            let client = &data.clients[next];
            next += 1;
            if since.is_some_and(|since| client.modified < since) {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            take -= 1;
            let odd = xml::OddValues::at(odd_every, next - 1);
            xml::write_client(buf, 2, &data, client, shape, odd);
            return true;
        }
        false
    });
    collection("List", "Clients", records, "", call.switches.malformed_xml)
}

/// `pageToken`s are opaque to callers: a position in the practice's append-only record order.
fn page_token(kind: &str, position: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

fn page_position(kind: &str, token: Option<&str>) -> Option<usize> {
    let Some(token) = token else {
        return Some(0);
    };
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(token.trim()).ok()?).ok()?;
    let (k, position) = decoded.split_once(':')?;
    (k == kind).then(|| position.parse().ok()).flatten()
}

/// One page of the records `eligible` accepts, starting at `start`: their positions, and the
/// position the next page starts at, if any record remains.
fn page_of(
    len: usize,
    start: usize,
    size: usize,
    eligible: impl Fn(usize) -> bool,
) -> (Vec<usize>, Option<usize>) {
    let mut positions = (start..len).filter(|&i| eligible(i));
    let page: Vec<usize> = positions.by_ref().take(size).collect();
    (page, positions.next())
}

struct PageRequest {
    size: usize,
    start: usize,
}

fn page_request(query: &Query, kind: &str) -> Result<PageRequest, String> {
    let size = query.number("pagesize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?;
    let start = page_position(kind, query.get("pagetoken")).ok_or_else(|| "Invalid pageToken".to_string())?;
    Ok(PageRequest { size, start })
}

fn pagination(api: &ApiState, endpoint: &str, size: usize, next: Option<String>) -> String {
    let first = format!(
        "{}/practicemanager/{}/{endpoint}?pageSize={size}",
        api.practice.api_base, api.version
    );
    let next = next.map(|token| format!("{first}&pageToken={token}"));
    let mut out = String::new();
    xml::write_pagination(&mut out, &first, next.as_deref());
    out
}

async fn client_paged_list(
    State(api): State<ApiState>,
    Extension(call): Extension<Call>,
    RawQuery(query): RawQuery,
) -> Response {
    const KIND: &str = "clients";
    let request = match page_request(&Query::parse(query), KIND) {
        Ok(r) => r,
        Err(e) => return xml_error(&e),
    };
    let data = call.data;
    let (page, next) = page_of(data.clients.len(), request.start, request.size, |i| {
        let d = &data.clients[i].details;
        !d.is_archived() && !d.is_deleted()
    });
    let after = pagination(
        &api,
        "client.api/paged-list",
        request.size,
        next.map(|p| page_token(KIND, p)),
    );
    let mut positions = page.into_iter();
    let odd_every = call.switches.odd_values;
    let records: RecordWriter = Box::new(move |buf: &mut String| match positions.next() {
        Some(i) => {
            let odd = xml::OddValues::at(odd_every, i);
            xml::write_client(buf, 2, &data, &data.clients[i], ClientShape::Paged, odd);
            true
        }
        None => false,
    });
    collection(
        "PagedList",
        "Clients",
        records,
        &after,
        call.switches.malformed_xml,
    )
}

async fn client_get(Extension(call): Extension<Call>, Path(uuid): Path<String>) -> Response {
    let data = &call.data;
    let Some(client) = data.client(uuid.trim()) else {
        return xml_error("Invalid client identifier");
    };
    let position = data
        .clients
        .iter()
        .position(|c| std::sync::Arc::ptr_eq(c, client))
        .unwrap_or(0);
    let odd = xml::OddValues::at(call.switches.odd_values, position);
    single("Get", call.switches.malformed_xml, |out| {
        xml::write_client(out, 1, data, client, ClientShape::Single, odd)
    })
}

async fn contact_list(
    State(api): State<ApiState>,
    Extension(call): Extension<Call>,
    RawQuery(query): RawQuery,
) -> Response {
    const KIND: &str = "contacts";
    let request = match page_request(&Query::parse(query), KIND) {
        Ok(r) => r,
        Err(e) => return xml_error(&e),
    };
    let data = call.data;
    let (page, next) = page_of(data.contacts.len(), request.start, request.size, |i| {
        !data.contacts[i].is_deleted
    });
    let after = pagination(
        &api,
        "client.api/contacts",
        request.size,
        next.map(|p| page_token(KIND, p)),
    );
    let mut positions = page.into_iter();
    let records: RecordWriter = Box::new(move |buf: &mut String| match positions.next() {
        Some(i) => {
            xml::write_contact(buf, 2, &data.contacts[i], None);
            true
        }
        None => false,
    });
    collection(
        "Contacts",
        "Contacts",
        records,
        &after,
        call.switches.malformed_xml,
    )
}

async fn contact_get(
    Extension(call): Extension<Call>,
    Path(uuid): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let data = &call.data;
    let Some(contact) = data.contact(uuid.trim()) else {
        return xml_error("Invalid contact identifier");
    };
    let query = Query::parse(query);
    let link = match query.get("clientuuid").map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(client_uuid) => {
            let Some(client) = data.client(client_uuid) else {
                return xml_error("Invalid client identifier");
            };
            match client.contacts.iter().find(|l| l.contact == contact.uuid) {
                Some(link) => Some(link),
                None => return xml_error("The contact is not linked to the client"),
            }
        }
    };
    single("Get", call.switches.malformed_xml, |out| {
        xml::write_contact(out, 1, contact, link)
    })
}

async fn group_list(Extension(call): Extension<Call>) -> Response {
    let data = call.data;
    let mut next = 0;
    let records: RecordWriter = Box::new(move |buf: &mut String| match data.groups.get(next) {
        Some(group) => {
            next += 1;
            xml::write_group(buf, 2, &data, group, false);
            true
        }
        None => false,
    });
    collection("List", "Groups", records, "", call.switches.malformed_xml)
}

async fn group_get(Extension(call): Extension<Call>, Path(uuid): Path<String>) -> Response {
    let data = &call.data;
    let Some(group) = data.group(uuid.trim()) else {
        return xml_error("Invalid group identifier");
    };
    single("Get", call.switches.malformed_xml, |out| {
        xml::write_group(out, 1, data, group, true)
    })
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
