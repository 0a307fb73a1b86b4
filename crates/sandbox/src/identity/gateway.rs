//! What Xero's API gateway answers when a call may not pass: JSON problem objects.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use time::macros::format_description;
use time::OffsetDateTime;

/// A refused API call. Xero's body: `{"Type":null,"Title":"Unauthorized","Status":401,
/// "Detail":"TokenExpired: token expired at 06/01/2021 10:02:33","Instance":"…","Extensions":{}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {title}: {detail}")]
pub struct GatewayRejection {
    pub status: u16,
    pub title: String,
    pub detail: String,
}

impl GatewayRejection {
    /// 401 for a missing, malformed or unknown bearer token.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "AuthenticationUnsuccessful".to_owned())
    }

    /// 401 for a token past its expiry, with Xero's `TokenExpired:` prefix.
    pub fn token_expired(expired_at: OffsetDateTime) -> Self {
        let at = expired_at
            .format(format_description!(
                "[month]/[day]/[year] [hour]:[minute]:[second]"
            ))
            .expect("the format only uses date and time fields");
        Self::new(
            401,
            "Unauthorized",
            format!("TokenExpired: token expired at {at}"),
        )
    }

    /// 403 for a tenant id that is missing, unknown or not connected for this token's user.
    pub fn forbidden() -> Self {
        Self::new(403, "Forbidden", "AuthenticationUnsuccessful".to_owned())
    }

    fn new(status: u16, title: &str, detail: String) -> Self {
        GatewayRejection {
            status,
            title: title.to_owned(),
            detail,
        }
    }
}

impl IntoResponse for GatewayRejection {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::FORBIDDEN);
        let body = serde_json::json!({
            "Type": null,
            "Title": self.title,
            "Status": self.status,
            "Detail": self.detail,
            "Instance": uuid::Uuid::new_v4().to_string(),
            "Extensions": {},
        });
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    let (scheme, token) = authorization?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_headers() {
        assert_eq!(bearer_token(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(Some("Basic abc")), None);
        assert_eq!(bearer_token(Some("Bearer")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn expired_detail_reads_like_xero() {
        let at = OffsetDateTime::from_unix_timestamp(1_622_541_753).unwrap();
        assert_eq!(
            GatewayRejection::token_expired(at).detail,
            "TokenExpired: token expired at 06/01/2021 10:02:33"
        );
    }
}
