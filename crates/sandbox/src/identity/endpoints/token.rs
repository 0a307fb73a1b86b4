//! `POST /connect/token` and `POST /connect/revocation`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::is_form;
use crate::identity::params::Params;
use crate::identity::store::{Grant, Issued};
use crate::identity::{Identity, OAuthError};

/// Xero's id tokens live five minutes.
const ID_TOKEN_LIFETIME: time::Duration = time::Duration::minutes(5);

pub async fn token(State(identity): State<Identity>, headers: HeaderMap, body: Bytes) -> Response {
    match exchange(&identity, &headers, &body) {
        Ok(answer) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")],
            Json(answer),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

fn exchange(identity: &Identity, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let params = form(headers, body)?;
    let single = |name: &str| {
        params
            .single(name)
            .map_err(|e| OAuthError::invalid_request(e.to_string()))
    };
    let required =
        |name: &str| single(name)?.ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")));
    let grant_type = required("grant_type")?;
    let client_id = client_id(identity, headers, &params)?;
    let now = identity.now();
    let lifetime = identity.access_token_lifetime();
    let issued = match grant_type {
        "authorization_code" => {
            let code = required("code")?;
            let redirect_uri = required("redirect_uri")?;
            let verifier = required("code_verifier")?;
            identity
                .state()
                .redeem_code(code, &client_id, redirect_uri, verifier, now, lifetime)?
        }
        "refresh_token" => {
            let refresh_token = required("refresh_token")?;
            let issued = identity
                .state()
                .refresh(refresh_token, &client_id, now, lifetime)?;
            identity.count_refresh();
            issued
        }
        other => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other} is not supported"
            )))
        }
    };
    Ok(answer(identity, headers, issued, now))
}

fn answer(identity: &Identity, headers: &HeaderMap, issued: Issued, now: OffsetDateTime) -> Value {
    let mut answer = json!({
        "access_token": issued.access_token,
        // Rounded up so a sub-second lifetime does not read as "already expired".
        "expires_in": issued.access_lifetime.as_secs() + u64::from(issued.access_lifetime.subsec_nanos() > 0),
        "token_type": "Bearer",
        "scope": issued.grant.scopes.join(" "),
    });
    if let Some(refresh_token) = issued.refresh_token {
        answer["refresh_token"] = json!(refresh_token);
    }
    if issued.grant.has_scope("openid") {
        let issuer = identity.base_url(headers);
        answer["id_token"] = json!(id_token(
            identity,
            &issuer,
            &issued.grant,
            issued.nonce.as_deref(),
            now
        ));
    }
    answer
}

/// Claims as Xero puts them in its id tokens; profile and email claims only for those scopes.
fn id_token(
    identity: &Identity,
    issuer: &str,
    grant: &Grant,
    nonce: Option<&str>,
    now: OffsetDateTime,
) -> String {
    let iat = now.unix_timestamp();
    let mut claims = json!({
        "iss": issuer,
        "aud": grant.client_id,
        "sub": grant.user.id,
        "xero_userid": grant.user.id,
        "iat": iat,
        "nbf": iat,
        "exp": (now + ID_TOKEN_LIFETIME).unix_timestamp(),
        "auth_time": iat,
        "authentication_event_id": grant.auth_event_id,
    });
    let profile = identity.config().id_token_profile;
    if profile && grant.has_scope("profile") {
        let (given, family) = grant.user.name.split_once(' ').unwrap_or((grant.user.name, ""));
        claims["name"] = json!(grant.user.name);
        claims["given_name"] = json!(given);
        claims["family_name"] = json!(family);
        claims["preferred_username"] = json!(grant.user.email);
    }
    if profile && grant.has_scope("email") {
        claims["email"] = json!(grant.user.email);
    }
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    identity.inner.signer.sign(&claims)
}

/// RFC 7009 revocation. Only refresh tokens can be revoked, as at Xero.
pub async fn revocation(State(identity): State<Identity>, headers: HeaderMap, body: Bytes) -> Response {
    let outcome = form(&headers, &body).and_then(|params| {
        let client_id = client_id(&identity, &headers, &params)?;
        let token = params
            .single("token")
            .map_err(|e| OAuthError::invalid_request(e.to_string()))?
            .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        identity.state().revoke(token, &client_id)
    });
    match outcome {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}

fn form(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    Ok(Params::parse(body))
}

/// The client id from the body or from HTTP Basic authentication (RFC 6749 §2.3.1). Apps with
/// PKCE have no secret; the sandbox ignores one if sent, since it registers none.
fn client_id(identity: &Identity, headers: &HeaderMap, params: &Params) -> Result<String, OAuthError> {
    let from_body = params
        .single("client_id")
        .map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let from_header = basic_auth_client_id(headers)?;
    let client_id = match (from_body, from_header) {
        (Some(body), Some(header)) if body != header => {
            return Err(OAuthError::invalid_request(
                "client_id differs between body and Authorization header",
            ))
        }
        (Some(body), _) => body.to_owned(),
        (None, Some(header)) => header,
        (None, None) => return Err(OAuthError::invalid_client("client_id is missing")),
    };
    let registered = &identity.config().client_ids;
    if !registered.is_empty() && !registered.contains(&client_id) {
        return Err(OAuthError::invalid_client(format!("unknown client {client_id}")));
    }
    Ok(client_id)
}

fn basic_auth_client_id(headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("malformed Basic authorization header");
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, credentials)) = value.trim().split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(credentials.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let encoded_id = decoded
        .split_once(':')
        .map_or(decoded.as_str(), |(id, _secret)| id);
    // The id is form-urlencoded inside the Basic credentials.
    let id: String = url::form_urlencoded::parse(encoded_id.as_bytes())
        .map(|(k, _)| k.into_owned())
        .collect();
    Ok(Some(id).filter(|id| !id.is_empty()))
}
