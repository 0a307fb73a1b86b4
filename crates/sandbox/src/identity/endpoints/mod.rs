//! The HTTP face of the identity server: one module per endpoint family.

mod authorize;
mod bounce;
mod connections;
mod discovery;
mod token;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use url::Url;

use super::Identity;

pub fn router(identity: Identity) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery::document))
        .route("/.well-known/openid-configuration/jwks", get(discovery::jwks))
        .route("/identity/connect/authorize", get(authorize::start))
        .route("/identity/connect/authorize/login", post(authorize::login))
        .route("/identity/connect/authorize/consent", post(authorize::consent))
        .route("/connect/token", post(token::token))
        .route("/connect/revocation", post(token::revocation))
        .route("/connect/userinfo", get(connections::userinfo))
        .route("/connections", get(connections::list))
        .route("/connections/{id}", delete(connections::disconnect))
        .route("/bounce", get(bounce::forward))
        .with_state(identity)
}

/// A redirect to an already validated URI with `pairs` appended to its query.
fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)], status: StatusCode) -> Response {
    let mut url = match Url::parse(redirect_uri) {
        Ok(url) => url,
        // Unreachable for validated URIs; a page is the safe fallback all the same.
        Err(_) => {
            return super::pages::error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "invalid redirect_uri",
            )
        }
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
    }
    (
        status,
        [
            (header::LOCATION, url.as_str()),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response()
}

/// Whether a request body is declared as an HTML form, as the token endpoint requires.
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}
