//! The https-style page a vendor hosts to hand Xero's answer to the desktop app's deep link,
//! since Xero refuses custom schemes as redirect URIs.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::identity::params::Params;
use crate::identity::{pages, Identity};

/// What Xero may append to a redirect URI; all of it is for the app.
const FORWARDED: [&str; 5] = ["code", "state", "scope", "error", "error_description"];

pub async fn forward(State(identity): State<Identity>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let mut target = url::form_urlencoded::Serializer::new(String::new());
    for name in FORWARDED {
        match params.single(name) {
            Ok(Some(value)) => {
                target.append_pair(name, value);
            }
            Ok(None) => {}
            Err(e) => return pages::error_page(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
        }
    }
    let has_answer =
        matches!(params.single("code"), Ok(Some(_))) || matches!(params.single("error"), Ok(Some(_)));
    if !has_answer {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "This page forwards Xero's answer to HowNow Admin, but Xero sent neither a code nor an error.",
        );
    }
    let target = format!(
        "{}://oauth/callback?{}",
        identity.config().deep_link_scheme,
        target.finish()
    );
    pages::bounce_page(&target)
}
