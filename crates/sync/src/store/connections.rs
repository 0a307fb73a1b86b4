//! The `connections` table: one row per XPM practice (tenant) the firm connected.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use time::OffsetDateTime;

use super::Store;
use crate::clock;
use crate::error::{Result, SyncError};
use crate::settings::SyncSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Connected,
    Syncing,
    /// The refresh token is dead: scheduled syncs pause until someone logs in again.
    NeedsReauth,
    Disconnected,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Connected => "connected",
            ConnectionStatus::Syncing => "syncing",
            ConnectionStatus::NeedsReauth => "needs_reauth",
            ConnectionStatus::Disconnected => "disconnected",
        }
    }

    fn parse(s: &str) -> ConnectionStatus {
        match s {
            "syncing" => ConnectionStatus::Syncing,
            "needs_reauth" => ConnectionStatus::NeedsReauth,
            "disconnected" => ConnectionStatus::Disconnected,
            _ => ConnectionStatus::Connected,
        }
    }
}

/// What Xero said about the remaining call budget, last time it answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub min_remaining: Option<u32>,
    pub day_remaining: Option<u32>,
    pub observed_at: Option<OffsetDateTime>,
}

/// A connected XPM practice. Holds no token: those live in the [`crate::secrets::SecretStore`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connection {
    pub id: i64,
    pub provider: String,
    /// The `id` of Xero's `/connections` entry (what `DELETE /connections/{id}` takes).
    pub xero_connection_id: String,
    pub tenant_id: String,
    /// The practice's name as shown everywhere: the administrator's own name for it when they
    /// renamed it, else Xero's.
    pub tenant_name: String,
    /// Xero's name for the practice while the administrator's name is shown instead.
    pub renamed_from: Option<String>,
    pub authorised_by_name: Option<String>,
    pub authorised_by_email: Option<String>,
    /// The Xero user who authorised it (`xero_userid`, else `sub`), when the id token said.
    pub xero_user_id: Option<String>,
    /// The Xero it was made with; `None` only for a connection from before this was recorded.
    pub xero: Option<PinnedXero>,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    pub settings: SyncSettings,
    /// Start of the last committed sync: the next changes sync asks for `modifiedsince` this
    /// minus the overlap.
    pub watermark: Option<OffsetDateTime>,
    pub next_changes_due_at: Option<OffsetDateTime>,
    pub next_full_due_at: Option<OffsetDateTime>,
    pub next_token_refresh_at: Option<OffsetDateTime>,
    /// Set when a contact sweep found contacts it could not place: a full sync is due now.
    pub full_requested_at: Option<OffsetDateTime>,
    pub token_refreshed_at: Option<OffsetDateTime>,
    pub quota: Quota,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Where a connection's tokens and API calls go: the issuer it logged in with, that issuer's
/// token and revocation endpoints, the API base and the app's client id, as they were at login.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PinnedXero {
    pub issuer: String,
    /// `None` for a connection pinned from the settings (discovery of `issuer` tells them).
    pub token_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub api_base: String,
    pub client_id: String,
}

/// What the connect flow knows when it saves a connection.
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    pub xero_connection_id: String,
    pub tenant_id: String,
    pub tenant_name: String,
    pub authorised_by_name: Option<String>,
    pub authorised_by_email: Option<String>,
    pub xero_user_id: Option<String>,
    pub xero: Option<PinnedXero>,
    pub settings: SyncSettings,
}

const COLUMNS: &str = "id, provider, xero_connection_id, tenant_id, tenant_name, authorised_by_name, \
     authorised_by_email, status, status_reason, settings, watermark, next_changes_due_at, \
     next_full_due_at, next_token_refresh_at, full_requested_at, token_refreshed_at, \
     quota_min_remaining, quota_day_remaining, quota_observed_at, created_at, updated_at, xero_user_id, \
     issuer, token_endpoint, revocation_endpoint, api_base, client_id";

fn ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    Ok(row
        .get::<_, Option<String>>(idx)?
        .as_deref()
        .and_then(clock::from_db))
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Connection> {
    let settings: String = row.get(9)?;
    Ok(Connection {
        id: row.get(0)?,
        provider: row.get(1)?,
        xero_connection_id: row.get(2)?,
        tenant_id: row.get(3)?,
        tenant_name: row.get(4)?,
        renamed_from: None,
        authorised_by_name: row.get(5)?,
        authorised_by_email: row.get(6)?,
        status: ConnectionStatus::parse(&row.get::<_, String>(7)?),
        status_reason: row.get(8)?,
        // Unknown or broken settings fall back to defaults rather than lock the admin out.
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        watermark: ts(row, 10)?,
        next_changes_due_at: ts(row, 11)?,
        next_full_due_at: ts(row, 12)?,
        next_token_refresh_at: ts(row, 13)?,
        full_requested_at: ts(row, 14)?,
        token_refreshed_at: ts(row, 15)?,
        quota: Quota {
            min_remaining: row.get(16)?,
            day_remaining: row.get(17)?,
            observed_at: ts(row, 18)?,
        },
        created_at: ts(row, 19)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        updated_at: ts(row, 20)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        xero_user_id: row.get(21)?,
        xero: match (
            row.get::<_, Option<String>>(22)?,
            row.get::<_, Option<String>>(25)?,
            row.get::<_, Option<String>>(26)?,
        ) {
            (Some(issuer), Some(api_base), Some(client_id)) => Some(PinnedXero {
                issuer,
                token_endpoint: row.get(23)?,
                revocation_endpoint: row.get(24)?,
                api_base,
                client_id,
            }),
            _ => None,
        },
    })
}

fn opt_ts(t: Option<OffsetDateTime>) -> Option<String> {
    t.map(clock::to_db)
}

impl Store {
    /// Saves a new connection (status `connected`). A tenant can have one live connection.
    pub fn create_connection(&mut self, new: &NewConnection) -> Result<Connection> {
        let now = clock::to_db(self.now());
        self.db.execute(
            "INSERT INTO connections (provider, xero_connection_id, tenant_id, tenant_name, \
             authorised_by_name, authorised_by_email, status, settings, created_at, updated_at, \
             xero_user_id) VALUES ('xpm', ?1, ?2, ?3, ?4, ?5, 'connected', ?6, ?7, ?7, ?8)",
            params![
                new.xero_connection_id,
                new.tenant_id,
                new.tenant_name,
                new.authorised_by_name,
                new.authorised_by_email,
                serde_json::to_string(&new.settings).expect("settings serialise"),
                now,
                new.xero_user_id
            ],
        )?;
        let id = self.db.last_insert_rowid();
        if let Some(xero) = &new.xero {
            self.pin_xero(id, xero)?;
        }
        // SQLite may reuse a deleted connection's id: its old state must not carry over.
        self.state()?.forget(id)?;
        self.connection(id)
    }

    pub fn connection(&self, id: i64) -> Result<Connection> {
        let connection = self
            .db
            .query_row(
                &format!("SELECT {COLUMNS} FROM connections WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
            .ok_or(SyncError::UnknownConnection(id))?;
        self.with_state(connection)
    }

    /// The connection with the state file's newer values laid over it.
    fn with_state(&self, mut connection: Connection) -> Result<Connection> {
        if let Some(state) = &self.state {
            state.overlay(&mut connection)?;
        }
        Ok(connection)
    }

    /// Every connection, oldest first, disconnected ones included.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        let mut stmt = self
            .db
            .prepare(&format!("SELECT {COLUMNS} FROM connections ORDER BY id"))?;
        let rows = stmt
            .query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|c| self.with_state(c)).collect()
    }

    /// Credentials of a reconnect can replace those of a connection to the same tenant.
    pub fn connection_for_tenant(&self, tenant_id: &str) -> Result<Option<Connection>> {
        let found = self
            .db
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM connections WHERE tenant_id = ?1 AND status <> 'disconnected'"
                ),
                [tenant_id],
                from_row,
            )
            .optional()?;
        found.map(|c| self.with_state(c)).transpose()
    }

    /// Saves the connection's sync settings. Written to the state file, so it never waits on a
    /// running sync; a run reads the settings when it begins.
    pub fn update_settings(&mut self, id: i64, settings: &SyncSettings) -> Result<()> {
        self.connection(id)?;
        self.state()?.set_settings(id, settings, self.now())
    }

    /// Records the Xero a connection's tokens belong to.
    pub fn pin_xero(&mut self, id: i64, xero: &PinnedXero) -> Result<()> {
        self.update(
            id,
            "issuer = ?2, token_endpoint = ?3, revocation_endpoint = ?4, api_base = ?5, client_id = ?6",
            params![
                id,
                xero.issuer,
                xero.token_endpoint,
                xero.revocation_endpoint,
                xero.api_base,
                xero.client_id
            ],
        )
    }

    /// A reconnect of a practice already in the directory: Xero's new connection id, who
    /// authorised it this time (and through which Xero), and `connected` again.
    pub fn reauthorise(&mut self, id: i64, login: &NewConnection) -> Result<()> {
        if let Some(xero) = &login.xero {
            self.pin_xero(id, xero)?;
        }
        self.update(
            id,
            "xero_connection_id = ?2, authorised_by_name = ?3, authorised_by_email = ?4, \
             xero_user_id = ?5, status = 'connected', status_reason = NULL",
            params![
                id,
                login.xero_connection_id,
                login.authorised_by_name,
                login.authorised_by_email,
                login.xero_user_id
            ],
        )
    }

    pub fn set_status(&mut self, id: i64, status: ConnectionStatus, reason: Option<&str>) -> Result<()> {
        self.update(
            id,
            "status = ?2, status_reason = ?3",
            params![id, status.as_str(), reason],
        )
    }

    /// Persists the schedule's next-due times so a restart knows what was due.
    pub fn save_next_due(
        &mut self,
        id: i64,
        changes: Option<OffsetDateTime>,
        full: Option<OffsetDateTime>,
        token_refresh: Option<OffsetDateTime>,
    ) -> Result<()> {
        self.state()?
            .save_next_due(id, changes, full, token_refresh, self.now())
    }

    /// Asks the schedule for a full sync as soon as possible (`None` clears the request).
    pub fn request_full_sync(&mut self, id: i64, at: Option<OffsetDateTime>) -> Result<()> {
        self.update(id, "full_requested_at = ?2", params![id, opt_ts(at)])
    }

    pub fn record_token_refresh(&mut self, id: i64, at: OffsetDateTime) -> Result<()> {
        self.state()?.record_token_refresh(id, at)
    }

    pub fn record_quota(&mut self, id: i64, quota: &Quota) -> Result<()> {
        record_quota(&self.db, id, quota)
    }

    /// Marks the connection disconnected and keeps its data (`delete_connection` removes it).
    pub fn mark_disconnected(&mut self, id: i64) -> Result<()> {
        self.set_status(id, ConnectionStatus::Disconnected, None)
    }

    /// Deletes the connection and everything synced for it (clients, contacts, history).
    pub fn delete_connection(&mut self, id: i64) -> Result<()> {
        let n = self.db.execute("DELETE FROM connections WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(SyncError::UnknownConnection(id));
        }
        self.state()?.forget(id)
    }

    fn update(&mut self, id: i64, set: &str, params: &[&dyn rusqlite::ToSql]) -> Result<()> {
        let sql = format!(
            "UPDATE connections SET {set}, updated_at = '{}' WHERE id = ?1",
            clock::to_db(self.now())
        );
        let n = self.db.execute(&sql, params)?;
        if n == 0 {
            return Err(SyncError::UnknownConnection(id));
        }
        Ok(())
    }
}

pub(crate) fn record_quota(db: &rusqlite::Connection, id: i64, quota: &Quota) -> Result<()> {
    db.execute(
        "UPDATE connections SET quota_min_remaining = COALESCE(?2, quota_min_remaining), \
         quota_day_remaining = COALESCE(?3, quota_day_remaining), quota_observed_at = ?4 WHERE id = ?1",
        params![
            id,
            quota.min_remaining,
            quota.day_remaining,
            opt_ts(quota.observed_at)
        ],
    )?;
    Ok(())
}

pub(crate) fn set_watermark(
    db: &rusqlite::Connection,
    id: i64,
    watermark: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<()> {
    db.execute(
        "UPDATE connections SET watermark = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, clock::to_db(watermark), clock::to_db(now)],
    )?;
    Ok(())
}

/// Asks the schedule for a full sync (the contact sweep found what only a full sync can place);
/// an earlier request stands.
pub(crate) fn request_full_sync(db: &rusqlite::Connection, id: i64, now: OffsetDateTime) -> Result<()> {
    db.execute(
        "UPDATE connections SET full_requested_at = COALESCE(full_requested_at, ?2) WHERE id = ?1",
        params![id, clock::to_db(now)],
    )?;
    Ok(())
}

/// A full sync fetched everything a requested one was for: the request is met.
pub(crate) fn clear_full_request(db: &rusqlite::Connection, id: i64) -> Result<()> {
    db.execute(
        "UPDATE connections SET full_requested_at = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// A run ended: back to `connected` unless something (a dead token) set another status
/// meanwhile.
pub(crate) fn release_syncing(db: &rusqlite::Connection, id: i64) -> Result<()> {
    db.execute(
        "UPDATE connections SET status = 'connected', status_reason = NULL \
         WHERE id = ?1 AND status = 'syncing'",
        [id],
    )?;
    Ok(())
}

pub(crate) fn set_verify_cursor(db: &rusqlite::Connection, id: i64, cursor: Option<&str>) -> Result<()> {
    db.execute(
        "UPDATE connections SET verify_cursor = ?2 WHERE id = ?1",
        params![id, cursor],
    )?;
    Ok(())
}

pub(crate) fn verify_cursor(db: &rusqlite::Connection, id: i64) -> Result<Option<String>> {
    Ok(
        db.query_row("SELECT verify_cursor FROM connections WHERE id = ?1", [id], |r| {
            r.get(0)
        })?,
    )
}
