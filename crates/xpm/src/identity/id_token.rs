//! Checking a login's id token before believing who it names (OpenID Connect Core 3.1.3.7).
//!
//! The token arrives over TLS straight from the token endpoint, but the app still records its
//! user as the connection's authoriser, and that user decides whether a disconnect may revoke
//! the refresh token (which at Xero ends every connection of that user). So the token must be
//! the issuer's, for this app, for this login, and current: the signature against the issuer's
//! published keys (`jwks_uri`), `iss`, `aud` (and `azp` when there are several audiences),
//! `exp` and `iat` on the injected clock, and the `nonce` of the login, which is required.

use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::claims::IdTokenClaims;
use crate::XpmError;

/// Clock difference tolerated between this computer and the issuer. Xero's id tokens live five
/// minutes; more tolerance would keep a replayed token usable for longer.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// Signature algorithms accepted: the public-key ones. A shared-secret (HS*) token cannot be
/// checked by a public client, and `none` is no signature at all.
const ACCEPTED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// What the token must say to belong to this login.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub now: OffsetDateTime,
}

fn invalid(why: impl Into<String>) -> XpmError {
    XpmError::InvalidIdToken(why.into())
}

/// Reads the issuer's key set, keeping the keys this crate can use: one odd key (a type it does
/// not know) must not hide the others.
pub(crate) fn parse_key_set(body: &[u8]) -> Result<Vec<Jwk>, XpmError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| invalid("the issuer's key set (jwks_uri) is not JSON"))?;
    let keys = value
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the issuer's key set (jwks_uri) has no `keys` list"))?;
    Ok(keys
        .iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key.clone()).ok())
        .collect())
}

/// Checks `token` and returns its claims.
pub(crate) fn verify(token: &str, keys: &[Jwk], expected: Expected<'_>) -> Result<IdTokenClaims, XpmError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| invalid("it is not a signed JWT with a known algorithm"))?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(invalid(format!(
            "it is signed with {:?}, not with one of the issuer's public keys",
            header.alg
        )));
    }
    let key = signing_key(keys, header.kid.as_deref(), header.alg)?;
    let mut validation = Validation::new(header.alg);
    // The claims are checked below, on the injected clock and with messages of our own.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data =
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                invalid("its signature does not match the issuer's key")
            }
            _ => invalid(format!("it could not be checked ({e})")),
        })?;
    check_claims(&data.claims, expected)?;
    Ok(IdTokenClaims::from_object(&data.claims))
}

/// The published key the token names (`kid`), or the only usable one when it names none.
fn signing_key(keys: &[Jwk], kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, XpmError> {
    let fits = |key: &&Jwk| {
        let same_id = match kid {
            Some(kid) => key.common.key_id.as_deref() == Some(kid),
            None => true,
        };
        // A key published for one algorithm is not used with another.
        let same_alg = key
            .common
            .key_algorithm
            .is_none_or(|a| format!("{a:?}") == format!("{alg:?}"));
        same_id && same_alg
    };
    let usable: Vec<DecodingKey> = keys
        .iter()
        .filter(fits)
        .filter_map(|key| DecodingKey::from_jwk(key).ok())
        .collect();
    match (usable.len(), kid) {
        (1, _) => Ok(usable.into_iter().next().expect("one key")),
        (0, Some(kid)) => Err(invalid(format!(
            "it is signed with the key `{kid}`, which the issuer does not publish"
        ))),
        (0, None) => Err(invalid("the issuer publishes no key for its algorithm")),
        (_, Some(kid)) => Err(invalid(format!(
            "the issuer publishes several keys called `{kid}`"
        ))),
        (_, None) => Err(invalid(
            "it names no key (`kid`) and the issuer publishes several",
        )),
    }
}

fn check_claims(claims: &Map<String, Value>, expected: Expected<'_>) -> Result<(), XpmError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let wanted_issuer = expected.issuer.trim_end_matches('/');
    match text("iss").map(|i| i.trim_end_matches('/')) {
        Some(issuer) if issuer == wanted_issuer => {}
        Some(issuer) => {
            return Err(invalid(format!(
                "it was issued by `{issuer}`, not by {wanted_issuer}"
            )))
        }
        None => return Err(invalid("it names no issuer (`iss`)")),
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(invalid(
            "it was issued for another app (`aud` is not this client id)",
        ));
    }
    if audiences.len() > 1 && text("azp") != Some(expected.client_id) {
        return Err(invalid(
            "it has several audiences and was not issued to this app (`azp`)",
        ));
    }
    let now = expected.now.unix_timestamp();
    let skew = CLOCK_SKEW.as_secs() as i64;
    let seconds = |name: &str| claims.get(name).and_then(Value::as_i64);
    match seconds("exp") {
        Some(exp) if exp + skew > now => {}
        Some(exp) => return Err(invalid(format!(
            "it expired at {} and this computer's clock says {}; if that clock is wrong, correct it and log in again",
            timestamp(exp),
            timestamp(now)
        ))),
        None => return Err(invalid("it has no expiry (`exp`)")),
    }
    if let Some(iat) = seconds("iat") {
        if iat - skew > now {
            return Err(invalid(format!(
                "it was issued at {}, after this computer's clock ({}); if that clock is wrong, correct it and log in again",
                timestamp(iat),
                timestamp(now)
            )));
        }
    }
    match text("nonce") {
        Some(nonce) if nonce == expected.nonce => Ok(()),
        Some(_) => Err(invalid("it belongs to another login (the nonce differs)")),
        None => Err(invalid("it carries no nonce, so it cannot be tied to this login")),
    }
}

fn timestamp(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| seconds.to_string())
}

#[cfg(test)]
#[path = "id_token_tests.rs"]
mod tests;
