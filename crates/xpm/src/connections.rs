//! `GET /connections` and `DELETE /connections/{id}`: the tenants a login can reach.

use serde::{Deserialize, Serialize};

use crate::api::XeroApi;
use crate::http::{self, with_retries, Fetched, ResponseMeta};
use crate::{Secret, XpmError};

/// `tenantType` of a Xero Practice Manager tenant.
pub const PRACTICE_MANAGER_TENANT_TYPE: &str = "PRACTICEMANAGER";

/// One tenant this app is connected to. `id` identifies the connection (used to disconnect),
/// `tenant_id` the tenant (sent as `xero-tenant-id`). Dates are Xero's strings as sent
/// (UTC, no zone), kept unparsed because only display uses them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub id: String,
    #[serde(default)]
    pub auth_event_id: Option<String>,
    pub tenant_id: String,
    /// `PRACTICEMANAGER`, `ORGANISATION`, `PRACTICE`, `WORKFLOWMAX`, …
    pub tenant_type: String,
    #[serde(default)]
    pub tenant_name: Option<String>,
    #[serde(default)]
    pub created_date_utc: Option<String>,
    #[serde(default)]
    pub updated_date_utc: Option<String>,
}

impl Connection {
    /// Whether this is a Xero Practice Manager tenant (the only kind HowNow Admin can sync).
    pub fn is_practice_manager(&self) -> bool {
        self.tenant_type
            .eq_ignore_ascii_case(PRACTICE_MANAGER_TENANT_TYPE)
    }
}

/// Keeps the Practice Manager connections of a list.
pub fn practice_manager_only(connections: Vec<Connection>) -> Vec<Connection> {
    connections
        .into_iter()
        .filter(Connection::is_practice_manager)
        .collect()
}

impl XeroApi {
    /// Every tenant the access token's user connected to this app.
    pub async fn connections(&self, access_token: &Secret) -> Result<Fetched<Vec<Connection>>, XpmError> {
        let url = http::join_path(&self.inner.config.api_base, &["connections"])?;
        let config = &self.inner.config;
        with_retries(&config.retry, |attempt| {
            let url = url.clone();
            async move {
                let request = self
                    .inner
                    .http
                    .get(url)
                    .bearer_auth(access_token.expose())
                    .header(reqwest::header::ACCEPT, "application/json");
                let response = http::send(request, config.http.response_timeout, "GET /connections").await?;
                let mut meta = ResponseMeta::from_response(response.status(), response.headers(), attempt);
                let response = http::check_status(response, config.http.idle_timeout).await?;
                let body =
                    http::read_small_body(response, config.http.idle_timeout, "GET /connections").await?;
                meta.bytes_received = body.len() as u64;
                // Not compressed: no Accept-Encoding is sent for this small answer.
                meta.bytes_on_wire = meta.bytes_received;
                let connections = serde_json::from_slice(&body).map_err(|e| XpmError::Http {
                    status: meta.status,
                    body: format!("not a list of connections: {e}"),
                })?;
                Ok(Fetched {
                    value: connections,
                    meta,
                    warnings: Vec::new(),
                })
            }
        })
        .await
    }

    /// The Practice Manager tenants among [`Self::connections`]. Empty when the user lacks the XPM
    /// privilege (Xero's consent screen then said "no Xero Practice Manager accounts").
    pub async fn practice_manager_connections(
        &self,
        access_token: &Secret,
    ) -> Result<Vec<Connection>, XpmError> {
        Ok(practice_manager_only(self.connections(access_token).await?.value))
    }

    /// Removes one connection (by connection `id`, not tenant id). Xero answers 204.
    pub async fn delete_connection(
        &self,
        access_token: &Secret,
        connection_id: &str,
    ) -> Result<(), XpmError> {
        let url = http::join_path(&self.inner.config.api_base, &["connections", connection_id])?;
        let config = &self.inner.config;
        with_retries(&config.retry, |_attempt| {
            let url = url.clone();
            async move {
                let request = self.inner.http.delete(url).bearer_auth(access_token.expose());
                let response =
                    http::send(request, config.http.response_timeout, "DELETE /connections").await?;
                http::check_status(response, config.http.idle_timeout).await?;
                Ok(())
            }
        })
        .await
    }
}
