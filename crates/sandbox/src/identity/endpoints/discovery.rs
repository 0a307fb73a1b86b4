//! OIDC discovery (shaped like Xero's document) and the key set.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use crate::identity::{Identity, SCOPES_SUPPORTED};

pub async fn document(State(identity): State<Identity>, headers: HeaderMap) -> Json<Value> {
    let base = identity.base_url(&headers);
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/identity/connect/authorize"),
        "token_endpoint": format!("{base}/connect/token"),
        "userinfo_endpoint": format!("{base}/connect/userinfo"),
        "revocation_endpoint": format!("{base}/connect/revocation"),
        "jwks_uri": format!("{base}/.well-known/openid-configuration/jwks"),
        "scopes_supported": SCOPES_SUPPORTED,
        "claims_supported": [
            "sub", "name", "given_name", "family_name", "email", "preferred_username",
            "xero_userid", "nonce", "auth_time",
        ],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
    }))
}

/// The public key id tokens are signed with, so clients can check them as they check Xero's.
pub async fn jwks(State(identity): State<Identity>) -> Json<Value> {
    Json(json!({"keys": [identity.published_jwk()]}))
}
