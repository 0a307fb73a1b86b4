//! Logging in to Xero and saving the connection: the engine's side of the connection wizard and
//! of `hownow connect`.

use super::*;

impl Engine {
    /// The redirect mode the settings ask for.
    pub fn configured_redirect(&self) -> Result<RedirectMode> {
        let xero = self.settings().xero;
        Ok(match xero.redirect {
            RedirectKind::Loopback => RedirectMode::Loopback {
                ports: xero.loopback_ports,
            },
            RedirectKind::Deeplink => RedirectMode::DeepLink {
                bounce_url: xero.effective_bounce_url().ok_or(ConnectError::NoBouncePage)?,
            },
        })
    }

    /// Starts a login (replacing a pending one). `mode`: `None` for the configured one.
    pub async fn start_login(&self, mode: Option<RedirectMode>) -> Result<LoginStarted> {
        let mode = match mode {
            Some(mode) => mode,
            None => self.configured_redirect()?,
        };
        let rt = self.runtime().await?;
        Ok(self.login.start(&rt.identity, &mode).await?)
    }

    /// The login waiting for its callback, if any.
    pub fn pending_login(&self) -> Option<LoginStarted> {
        self.login.pending()
    }

    /// Deep-link mode: the callback URL the OS handed to the app.
    pub fn deliver_callback(&self, url: &str) -> Result<(), CallbackRejected> {
        self.login.deliver_callback(url)
    }

    pub fn cancel_login(&self) {
        self.login.cancel()
    }

    /// Waits for the pending login's callback; then who logged in and which practices it can
    /// connect. [`ConnectError::NoPracticeManagerTenant`] carries the privilege guidance.
    pub async fn wait_for_login(&self) -> Result<AuthorizedLogin> {
        let rt = self.runtime().await?;
        Ok(self.login.wait(&rt.api).await?)
    }

    /// Saves the connection to the chosen practice (`tenant`: its name or id; `None` when the
    /// login can reach only one) and its refresh token, and the settings used. Reconnecting a
    /// practice that is already connected (reauthorisation) keeps its directory and history.
    /// Start the initial full sync next (`RunTrigger::Initial`).
    pub async fn finish_login(&self, tenant: Option<&str>) -> Result<Connection> {
        let rt = self.runtime().await?;
        let chosen = self.login.take_authorized(tenant)?;
        let login = NewConnection {
            xero_connection_id: chosen.tenant.id.clone(),
            tenant_id: chosen.tenant.tenant_id.clone(),
            tenant_name: crate::connect::tenant_display_name(&chosen.tenant),
            authorised_by_name: chosen.user_name.clone(),
            authorised_by_email: chosen.user_email.clone(),
            xero_user_id: chosen.user_id.clone(),
            // Its tokens will go to the Xero that issued them, whatever the settings say later.
            xero: Self::pin_for_login(&rt),
            settings: Default::default(),
        };
        // Waits its turn if another practice's sync holds the directory.
        let (connection, created) = self
            .write(|store| match store.connection_for_tenant(&login.tenant_id)? {
                // Xero made a new connection, perhaps authorised by another user: record both.
                Some(existing) => {
                    store.reauthorise(existing.id, &login)?;
                    Ok((existing, false))
                }
                None => Ok((store.create_connection(&login)?, true)),
            })
            .await?;
        let saved = self.reader()?.connection(connection.id)?;
        let pinned = self.connection_runtime(&saved).await?;
        if let Err(e) = pinned
            .tokens
            .store_login(connection.id, &chosen.tokens, rt.settings.client_id.as_deref())
            .await
        {
            // A connection without credentials could never sync: do not keep a new one.
            if created {
                let _ = self.write(|store| store.delete_connection(connection.id)).await;
            }
            return Err(e.into());
        }
        // The connection keeps its own Xero; the settings file keeps what was saved on purpose
        // (`save_settings`), not this command's overrides. Only the storage choice sticks.
        self.remember_storage_choice()?;
        tracing::info!(connection = connection.id, tenant = %connection.tenant_name, "connected");
        Ok(self.reader()?.connection(connection.id)?)
    }
}
