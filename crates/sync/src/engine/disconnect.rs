//! Disconnecting exactly one practice: its Xero connection goes, and the Xero sign-in is revoked
//! only when no other live connection depends on it (at Xero, revoking it ends them all).

use super::*;

impl Engine {
    /// Removes the connection at Xero (`DELETE /connections/{id}`, then revokes the refresh
    /// token), forgets the credentials, and marks the connection disconnected (`keep_data`) or
    /// deletes it with its directory and history. What fails at Xero (offline, token already
    /// dead) is reported as a warning; the local side is cleaned up regardless.
    pub async fn disconnect(&self, connection_id: i64, keep_data: bool) -> Result<DisconnectReport> {
        let connection = self.reader()?.connection(connection_id)?;
        // Not while a sync of it runs (here or in another process).
        let _lock = SyncLock::try_acquire(&self.lock_dir, connection_id)?;
        let mut report = DisconnectReport {
            connection_id,
            tenant_name: connection.tenant_name.clone(),
            xero_connection_removed: false,
            token_revoked: false,
            data_kept: keep_data,
            warnings: Vec::new(),
        };
        match self.connection_runtime(&connection).await {
            Ok(rt) => self.disconnect_at_xero(&rt, &connection, &mut report).await,
            Err(e) => report.warnings.push(format!("could not reach Xero ({e})")),
        }
        self.secrets.delete(connection_id).map_err(SyncError::from)?;
        self.write(|store| {
            if keep_data {
                store.mark_disconnected(connection_id)
            } else {
                store.delete_connection(connection_id)
            }
        })
        .await?;
        tracing::info!(connection = connection_id, keep_data, "disconnected");
        Ok(report)
    }

    pub(super) async fn disconnect_at_xero(
        &self,
        rt: &XeroRuntime,
        connection: &Connection,
        report: &mut DisconnectReport,
    ) {
        match rt.tokens.access_token(connection.id).await {
            Ok(access) => match rt
                .api
                .delete_connection(&access, &connection.xero_connection_id)
                .await
            {
                Ok(()) => report.xero_connection_removed = true,
                Err(e) => report
                    .warnings
                    .push(format!("Xero did not remove the connection ({e})")),
            },
            Err(e) => report.warnings.push(format!(
                "could not sign in to Xero to remove the connection ({e})"
            )),
        }
        // At Xero, revoking a refresh token removes every connection of that user to the app:
        // not while another practice in the directory depends on it. Read after the refresh
        // above: it rotated the token.
        let stored = self.secrets.get(connection.id);
        let token = stored.as_ref().ok().and_then(Option::as_ref);
        if let Some(other) = self.sharing_the_login(connection, token) {
            report.warnings.push(format!(
                "the Xero sign-in was kept: {other} is connected with the same Xero login, and revoking it would disconnect that practice too"
            ));
            return;
        }
        match stored {
            Ok(Some(stored)) => match rt.identity.revoke(&stored.refresh_token).await {
                Ok(()) => report.token_revoked = true,
                Err(e) => report
                    .warnings
                    .push(format!("Xero did not revoke the token ({e})")),
            },
            Ok(None) => report.warnings.push("no stored token to revoke".to_string()),
            Err(e) => report
                .warnings
                .push(format!("could not read the stored token ({e})")),
        }
    }

    /// Another live connection that the login of `connection` also serves (the same Xero user,
    /// the same stored refresh token, or, for connections saved before the user was recorded,
    /// the same authorising email): its name.
    pub(super) fn sharing_the_login(
        &self,
        connection: &Connection,
        token: Option<&crate::secrets::StoredCredentials>,
    ) -> Option<String> {
        let others = match self.connections() {
            Ok(all) => all,
            // Unsure which practices share it: keep the token rather than disconnect them.
            Err(_) => return Some("another practice".to_string()),
        };
        others
            .into_iter()
            .filter(|o| o.id != connection.id && o.status != ConnectionStatus::Disconnected)
            .find(|o| {
                let same_user = match (&o.xero_user_id, &connection.xero_user_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => o.authorised_by_email.is_some() && o.authorised_by_email == connection.authorised_by_email,
                };
                let same_token = token.is_some_and(|mine| {
                    matches!(self.secrets.get(o.id), Ok(Some(theirs)) if theirs.refresh_token == mine.refresh_token)
                });
                same_user || same_token
            })
            .map(|o| o.tenant_name)
    }
}
