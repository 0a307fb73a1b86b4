//! `GET /connections`, `DELETE /connections/{id}` and `GET /connect/userinfo`: the calls that
//! need a bearer token but no tenant.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::identity::store::{Connection, Grant};
use crate::identity::{gateway, rejection, GatewayRejection, Identity};
use crate::tenants::TenantKind;

/// One element of `GET /connections`, spelled as Xero spells it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionView {
    id: String,
    auth_event_id: String,
    tenant_id: &'static str,
    tenant_type: &'static str,
    tenant_name: Option<&'static str>,
    created_date_utc: String,
    updated_date_utc: String,
}

impl ConnectionView {
    fn new(c: Connection, nameless_practices: bool) -> Self {
        let nameless = nameless_practices && c.tenant.kind == TenantKind::PracticeManager;
        ConnectionView {
            id: c.id,
            auth_event_id: c.auth_event_id,
            tenant_id: c.tenant.id,
            tenant_type: c.tenant.kind.as_xero_str(),
            tenant_name: (!nameless).then_some(c.tenant.name),
            created_date_utc: xero_timestamp(c.created),
            updated_date_utc: xero_timestamp(c.updated),
        }
    }
}

/// Xero writes `2019-07-09T23:40:30.1833130`: UTC, no zone, seven fractional digits.
fn xero_timestamp(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
    ))
    .expect("the format only uses date and time fields")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    auth_event_id: Option<String>,
}

pub async fn list(
    State(identity): State<Identity>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let grant = match authorised(&identity, &headers) {
        Ok(grant) => grant,
        Err(rejection) => return rejection.into_response(),
    };
    let connections: Vec<ConnectionView> = identity
        .state()
        .connections(&grant.client_id, grant.user.id)
        .into_iter()
        .filter(|c| {
            query
                .auth_event_id
                .as_ref()
                .is_none_or(|wanted| wanted.eq_ignore_ascii_case(&c.auth_event_id))
        })
        .map(|c| ConnectionView::new(c, identity.config().nameless_practices))
        .collect();
    Json(connections).into_response()
}

pub async fn disconnect(
    State(identity): State<Identity>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let grant = match authorised(&identity, &headers) {
        Ok(grant) => grant,
        Err(rejection) => return rejection.into_response(),
    };
    if identity.state().disconnect(&grant.client_id, grant.user.id, &id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(
                json!({"Title": "Not Found", "Status": 404, "Detail": format!("Connection {id} not found")}),
            ),
        )
            .into_response()
    }
}

/// OIDC userinfo: the same user claims as the id token, by scope.
pub async fn userinfo(State(identity): State<Identity>, headers: HeaderMap) -> Response {
    let grant = match authorised(&identity, &headers) {
        Ok(grant) => grant,
        Err(rejection) => return rejection.into_response(),
    };
    if !grant.has_scope("openid") {
        return GatewayRejection::forbidden().into_response();
    }
    let mut claims = json!({"sub": grant.user.id, "xero_userid": grant.user.id});
    if grant.has_scope("profile") {
        let (given, family) = grant.user.name.split_once(' ').unwrap_or((grant.user.name, ""));
        claims["name"] = json!(grant.user.name);
        claims["given_name"] = json!(given);
        claims["family_name"] = json!(family);
        claims["preferred_username"] = json!(grant.user.email);
    }
    if grant.has_scope("email") {
        claims["email"] = json!(grant.user.email);
    }
    Json(claims).into_response()
}

fn authorised(identity: &Identity, headers: &HeaderMap) -> Result<Grant, GatewayRejection> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let token = gateway::bearer_token(authorization).ok_or_else(GatewayRejection::unauthorized)?;
    let now = identity.now();
    identity.state().access(token, now).cloned().map_err(rejection)
}
