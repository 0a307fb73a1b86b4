//! The admin API: JSON over HTTP under `/admin`, answered only to loopback peers. It plays the
//! practice's staff (add, edit, archive, delete clients and contacts, move primary contacts)
//! and flips the switches while the sandbox runs. Routes are documented in the crate README.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;

use super::model::{Client, ClientDetails, Contact, ContactDetails};
use super::store::{NewLink, PracticeError};
use super::{Practice, PracticeHandle, Switches};
use crate::tenants::DEMO_PRACTICE;

pub(crate) fn router(practice: Arc<Practice>) -> Router {
    Router::new()
        .route("/state", get(state))
        .route("/switches", get(get_switches).post(set_switches))
        .route("/tokens/expire", post(expire_tokens))
        .route("/tokens/revoke", post(revoke_tokens))
        .route("/rate-limits/reset", post(reset_rate_limits))
        .route("/clients", get(list_clients).post(add_client))
        .route(
            "/clients/{uuid}",
            get(get_client).patch(edit_client).delete(delete_client),
        )
        .route("/clients/{uuid}/archive", post(archive_client))
        .route("/clients/{uuid}/contacts", post(link_contact))
        .route("/clients/{uuid}/contacts/{contact}", delete(unlink_contact))
        .route("/clients/{uuid}/primary-contact", put(set_primary_contact))
        .route("/contacts", post(add_contact))
        .route(
            "/contacts/{uuid}",
            get(get_contact).patch(edit_contact).delete(delete_contact),
        )
        .layer(middleware::from_fn(loopback_only))
        .with_state(PracticeHandle::new(practice))
}

/// Whether a peer may use the admin API: loopback only, IPv4-mapped IPv6 included.
pub(crate) fn is_admin_peer(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Whether a request's `Host` names this machine by a loopback name (`localhost`, `127.x.y.z`,
/// `[::1]`, with any port). A web page the administrator opens cannot then reach the admin API by
/// pointing a name of its own at 127.0.0.1 (DNS rebinding): its requests carry that name.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(ip, _)| ip),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

async fn loopback_only(request: Request, next: Next) -> Response {
    // Without the peer address (a router served without connect info) the answer is no.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    if peer.is_some_and(is_admin_peer) && host.is_some_and(is_loopback_host) {
        next.run(request).await
    } else {
        AdminError::Forbidden.into_response()
    }
}

#[derive(Debug, thiserror::Error)]
enum AdminError {
    #[error(transparent)]
    Practice(#[from] PracticeError),
    #[error("{0}")]
    BadRequest(String),
    #[error("the admin API answers loopback peers, addressed by a loopback name, only")]
    Forbidden,
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match &self {
            AdminError::Practice(
                PracticeError::UnknownTenant(_)
                | PracticeError::UnknownClient(_)
                | PracticeError::UnknownContact(_),
            ) => StatusCode::NOT_FOUND,
            AdminError::Practice(
                PracticeError::NotLinked { .. }
                | PracticeError::AlreadyLinked { .. }
                | PracticeError::ContactDeleted(_),
            ) => StatusCode::CONFLICT,
            AdminError::Practice(PracticeError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Forbidden => StatusCode::FORBIDDEN,
        };
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

type AdminResult = Result<Response, AdminError>;

/// A JSON body; an empty body reads as `{}`.
fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| AdminError::BadRequest(format!("invalid JSON body: {e}")))
}

/// Applies the keys of a JSON object to a value (a shallow merge patch); unknown keys fail.
fn merge_patch<T: Serialize + DeserializeOwned>(
    current: &T,
    patch: Map<String, Value>,
) -> Result<T, PracticeError> {
    let mut value = serde_json::to_value(current).map_err(|e| PracticeError::Invalid(e.to_string()))?;
    let target = value
        .as_object_mut()
        .ok_or_else(|| PracticeError::Invalid("not an object".into()))?;
    target.extend(patch);
    serde_json::from_value(value).map_err(|e| PracticeError::Invalid(e.to_string()))
}

#[derive(Deserialize)]
struct TenantQuery {
    tenant: Option<String>,
}

impl TenantQuery {
    fn tenant(&self) -> &str {
        self.tenant.as_deref().unwrap_or(DEMO_PRACTICE.id)
    }
}

async fn state(State(handle): State<PracticeHandle>) -> Json<super::PracticeState> {
    Json(handle.state())
}

async fn get_switches(State(handle): State<PracticeHandle>) -> Json<Switches> {
    Json(handle.switches())
}

/// Changes the switches named in the body; `access_token_lifetime_secs` goes to the identity
/// server. Answers the whole state.
async fn set_switches(State(handle): State<PracticeHandle>, body: Bytes) -> AdminResult {
    let mut patch: Map<String, Value> = parse_json(&body)?;
    let lifetime = match patch.remove("access_token_lifetime_secs") {
        None => None,
        Some(v) => Some(v.as_u64().filter(|s| *s > 0).ok_or_else(|| {
            AdminError::BadRequest("access_token_lifetime_secs must be a positive whole number".into())
        })?),
    };
    let switches = merge_patch(&handle.switches(), patch)?;
    handle.set_switches(switches)?;
    if let Some(secs) = lifetime {
        handle.set_access_token_lifetime(Duration::from_secs(secs));
    }
    Ok(Json(handle.state()).into_response())
}

async fn expire_tokens(State(handle): State<PracticeHandle>) -> StatusCode {
    handle.expire_all_access_tokens();
    StatusCode::NO_CONTENT
}

async fn revoke_tokens(State(handle): State<PracticeHandle>) -> StatusCode {
    handle.revoke_all_refresh_tokens();
    StatusCode::NO_CONTENT
}

async fn reset_rate_limits(State(handle): State<PracticeHandle>) -> StatusCode {
    handle.reset_rate_limits();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct ListQuery {
    tenant: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
    /// Case-insensitive substring of the name.
    name: Option<String>,
}

#[derive(Serialize)]
struct ClientSummary<'a> {
    uuid: &'a str,
    name: &'a str,
    client_code: Option<&'a str>,
    is_prospect: bool,
    is_archived: bool,
    is_deleted: bool,
    modified: String,
    contacts: usize,
}

async fn list_clients(State(handle): State<PracticeHandle>, Query(query): Query<ListQuery>) -> AdminResult {
    let data = handle.snapshot(query.tenant.as_deref().unwrap_or(DEMO_PRACTICE.id))?;
    let needle = query.name.as_deref().map(str::to_lowercase);
    let matching: Vec<&Arc<Client>> = data
        .clients()
        .iter()
        .filter(|c| {
            needle
                .as_deref()
                .is_none_or(|n| c.details.name().to_lowercase().contains(n))
        })
        .collect();
    let limit = query.limit.unwrap_or(100).min(1000);
    let page: Vec<ClientSummary> = matching
        .iter()
        .skip(query.offset.unwrap_or(0))
        .take(limit)
        .map(|c| ClientSummary {
            uuid: &c.uuid,
            name: c.details.name(),
            client_code: c.details.values.client_code.as_deref(),
            is_prospect: c.details.is_prospect(),
            is_archived: c.details.is_archived(),
            is_deleted: c.details.is_deleted(),
            modified: super::model::format_datetime(c.modified),
            contacts: c.contacts.len(),
        })
        .collect();
    Ok(Json(json!({ "total": matching.len(), "clients": page })).into_response())
}

#[derive(Serialize)]
struct LinkedContact<'a> {
    #[serde(flatten)]
    contact: &'a Contact,
    is_primary: bool,
    position: Option<&'a str>,
}

/// A client with its contacts resolved.
fn client_view(handle: &PracticeHandle, uuid: &str) -> AdminResult {
    let (tenant, client) = handle.client(uuid)?;
    let data = handle.snapshot(tenant)?;
    let contacts: Vec<LinkedContact> = data
        .contacts_of(&client)
        .map(|(link, contact)| LinkedContact {
            contact,
            is_primary: link.is_primary,
            position: link.position.as_deref(),
        })
        .collect();
    Ok(Json(json!({ "tenant": tenant, "client": &*client, "contacts": contacts })).into_response())
}

async fn get_client(State(handle): State<PracticeHandle>, Path(uuid): Path<String>) -> AdminResult {
    client_view(&handle, &uuid)
}

async fn add_client(
    State(handle): State<PracticeHandle>,
    Query(query): Query<TenantQuery>,
    body: Bytes,
) -> AdminResult {
    let details: ClientDetails = parse_json(&body)?;
    let client = handle.add_client(query.tenant(), details)?;
    let mut response = client_view(&handle, &client.uuid)?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

async fn edit_client(
    State(handle): State<PracticeHandle>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> AdminResult {
    let patch: Map<String, Value> = parse_json(&body)?;
    handle.try_edit_client(&uuid, |details| {
        *details = merge_patch(details, patch)?;
        Ok(())
    })?;
    client_view(&handle, &uuid)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveBody {
    #[serde(default = "yes")]
    archived: bool,
}

fn yes() -> bool {
    true
}

async fn archive_client(
    State(handle): State<PracticeHandle>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> AdminResult {
    let ArchiveBody { archived } = parse_json(&body)?;
    handle.archive_client(&uuid, archived)?;
    client_view(&handle, &uuid)
}

async fn delete_client(State(handle): State<PracticeHandle>, Path(uuid): Path<String>) -> AdminResult {
    handle.delete_client(&uuid)?;
    client_view(&handle, &uuid)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkBody {
    contact: String,
    #[serde(default)]
    position: Option<String>,
    #[serde(default)]
    primary: bool,
}

async fn link_contact(
    State(handle): State<PracticeHandle>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> AdminResult {
    let link: LinkBody = parse_json(&body)?;
    handle.link_contact(&uuid, &link.contact, link.position, link.primary)?;
    client_view(&handle, &uuid)
}

async fn unlink_contact(
    State(handle): State<PracticeHandle>,
    Path((uuid, contact)): Path<(String, String)>,
) -> AdminResult {
    handle.unlink_contact(&uuid, &contact)?;
    client_view(&handle, &uuid)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrimaryBody {
    contact: String,
}

async fn set_primary_contact(
    State(handle): State<PracticeHandle>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> AdminResult {
    let PrimaryBody { contact } = parse_json(&body)?;
    handle.set_primary_contact(&uuid, &contact)?;
    client_view(&handle, &uuid)
}

#[derive(Deserialize)]
struct NewContactBody {
    #[serde(flatten)]
    details: ContactDetails,
    #[serde(default)]
    link: Option<NewLink>,
}

/// A contact with the clients it belongs to.
fn contact_view(handle: &PracticeHandle, uuid: &str) -> AdminResult {
    let tenant = handle
        .tenant_ids()
        .into_iter()
        .find(|t| handle.snapshot(t).is_ok_and(|d| d.contact(uuid).is_some()))
        .ok_or_else(|| PracticeError::UnknownContact(uuid.into()))?;
    let data = handle.snapshot(tenant)?;
    let contact = data
        .contact(uuid)
        .ok_or_else(|| PracticeError::UnknownContact(uuid.into()))?;
    let clients: Vec<Value> = data
        .clients_of_contact(uuid)
        .map(|c| {
            let link = c.contacts.iter().find(|l| l.contact == uuid);
            json!({
                "uuid": c.uuid,
                "name": c.details.name(),
                "is_primary": link.is_some_and(|l| l.is_primary),
                "position": link.and_then(|l| l.position.as_deref()),
            })
        })
        .collect();
    Ok(Json(json!({ "tenant": tenant, "contact": &**contact, "clients": clients })).into_response())
}

async fn add_contact(
    State(handle): State<PracticeHandle>,
    Query(query): Query<TenantQuery>,
    body: Bytes,
) -> AdminResult {
    let NewContactBody { details, link } = parse_json(&body)?;
    // A contact linked at birth lives in its client's practice.
    let tenant = match &link {
        Some(link) => handle.client(&link.client)?.0,
        None => handle
            .tenant_ids()
            .into_iter()
            .find(|t| *t == query.tenant())
            .ok_or_else(|| PracticeError::UnknownTenant(query.tenant().into()))?,
    };
    let contact = handle.add_contact(tenant, details, link)?;
    let mut response = contact_view(&handle, &contact.uuid)?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

async fn get_contact(State(handle): State<PracticeHandle>, Path(uuid): Path<String>) -> AdminResult {
    contact_view(&handle, &uuid)
}

async fn edit_contact(
    State(handle): State<PracticeHandle>,
    Path(uuid): Path<String>,
    body: Bytes,
) -> AdminResult {
    let patch: Map<String, Value> = parse_json(&body)?;
    handle.try_edit_contact(&uuid, |details| {
        *details = merge_patch(details, patch)?;
        Ok(())
    })?;
    contact_view(&handle, &uuid)
}

async fn delete_contact(State(handle): State<PracticeHandle>, Path(uuid): Path<String>) -> AdminResult {
    handle.delete_contact(&uuid)?;
    contact_view(&handle, &uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_host_names_administer() {
        for host in [
            "127.0.0.1:4100",
            "localhost:4100",
            "LOCALHOST",
            "[::1]:4100",
            "127.0.0.1",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:4100",
            "evil.example",
            "192.168.1.2:4100",
            "[fe80::1]:80",
            "",
            "localhost.evil.example",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn only_loopback_peers_administer() {
        for ip in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert!(is_admin_peer(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "192.168.1.20",
            "10.0.0.1",
            "0.0.0.0",
            "::ffff:192.168.1.2",
            "fe80::1",
            "::",
        ] {
            assert!(!is_admin_peer(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn merge_patch_changes_named_fields_and_refuses_unknown_ones() {
        let details = ClientDetails {
            values: hownow_xpm::Client {
                name: Some("Old".into()),
                email: Some("a@example.nz".into()),
                ..Default::default()
            }
            .into(),
            account_manager: Some("staff-1".into()),
            ..Default::default()
        };
        let patch = json!({"name": "New", "phone": "(09) 555 1234"});
        let merged = merge_patch(&details, patch.as_object().unwrap().clone()).unwrap();
        assert_eq!(merged.name(), "New");
        assert_eq!(merged.values.email.as_deref(), Some("a@example.nz"));
        assert_eq!(merged.values.phone.as_deref(), Some("(09) 555 1234"));
        assert_eq!(merged.account_manager.as_deref(), Some("staff-1"));
        let cleared = merge_patch(&merged, json!({"email": null}).as_object().unwrap().clone()).unwrap();
        assert_eq!(cleared.values.email, None);
        assert!(merge_patch(&details, json!({"nmae": "x"}).as_object().unwrap().clone()).is_err());
    }

    #[test]
    fn new_contact_body_takes_details_and_an_optional_link() {
        let body: NewContactBody = parse_json(
            br#"{"name":"Aroha Ngata","email":"aroha@example.nz","link":{"client":"c1","primary":true}}"#,
        )
        .unwrap();
        assert_eq!(body.details.name.as_deref(), Some("Aroha Ngata"));
        assert!(body.link.unwrap().primary);
    }
}
