//! Which Xero a request goes to: the settings' Xero for new logins, each connection's own pinned
//! Xero for its refreshes, syncs and disconnect; built once and cached, rebuilt when the data
//! dir's timeouts or request spacing change.

use super::*;

impl Engine {
    /// Xero as the settings reach it: where NEW logins go.
    pub(super) async fn runtime(&self) -> Result<Arc<XeroRuntime>> {
        let wanted = self.settings().xero;
        let mut cached = self.runtime.lock().await;
        if let Some(rt) = cached.as_ref().filter(|rt| rt.settings == wanted) {
            return Ok(rt.clone());
        }
        let client_id = wanted
            .client_id
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or(EngineError::MissingClientId)?;
        let mut config = IdentityConfig::new(client_id);
        config.issuer = parse_url("issuer", &wanted.issuer)?;
        if !wanted.scopes.is_empty() {
            config.scopes = wanted.scopes.clone();
        }
        let identity = Identity::discover(config).await?;
        let rt = self.build_runtime(wanted, identity)?;
        *cached = Some(rt.clone());
        Ok(rt)
    }

    /// The Xero a connection was made with: its refreshes, syncs, revocation and disconnect go
    /// there and nowhere else, whatever the settings say now. A connection from before the Xero
    /// was recorded uses the settings (and is pinned to them at open, see `pin_legacy`).
    pub(super) async fn connection_runtime(&self, connection: &Connection) -> Result<Arc<XeroRuntime>> {
        let Some(pinned) = connection.xero.clone() else {
            return self.runtime().await;
        };
        let current = self.settings().xero;
        let mut cached = self.pinned.lock().await;
        // The data dir's timeouts and request spacing apply to every connection: a change
        // rebuilds the runtime.
        if let Some(rt) = cached.get(&pinned).filter(|rt| {
            rt.settings.timeouts == current.timeouts
                && rt.settings.min_request_spacing_ms == current.min_request_spacing_ms
        }) {
            return Ok(rt.clone());
        }
        let mut config = IdentityConfig::new(pinned.client_id.clone());
        config.issuer = parse_url("issuer", &pinned.issuer)?;
        let identity = match (&pinned.token_endpoint, &pinned.revocation_endpoint) {
            (Some(token), Some(revocation)) => Identity::with_endpoints(
                config,
                IdentityEndpoints {
                    // Never used: a connection's runtime makes no logins (new ones use the settings).
                    authorization: parse_url("issuer", &pinned.issuer)?,
                    token: parse_url("token endpoint", token)?,
                    revocation: parse_url("revocation endpoint", revocation)?,
                    // Id tokens and userinfo belong to logins, which use the settings' Xero.
                    jwks: None,
                    userinfo: None,
                },
            )?,
            _ => Identity::discover(config).await?,
        };
        let settings = XeroSettings {
            issuer: pinned.issuer.clone(),
            api_base: pinned.api_base.clone(),
            client_id: Some(pinned.client_id.clone()),
            ..current
        };
        let rt = self.build_runtime(settings, identity)?;
        cached.insert(pinned, rt.clone());
        Ok(rt)
    }

    pub(super) fn build_runtime(&self, wanted: XeroSettings, identity: Identity) -> Result<Arc<XeroRuntime>> {
        let api_base = parse_url("API base", &wanted.api_base)?;
        let api = XeroApi::new(ApiConfig {
            api_base,
            http: wanted.timeouts.apply(HttpConfig::default())?,
            rate_limits: wanted.rate_limits()?,
            ..ApiConfig::default()
        })?;
        let tokens = Arc::new(
            TokenManager::new(
                identity.clone(),
                self.secrets.clone(),
                self.db_path.clone(),
                self.lock_dir.clone(),
            )
            .with_clock(self.clock.clone()),
        );
        Ok(Arc::new(XeroRuntime {
            settings: wanted,
            identity,
            api,
            tokens,
        }))
    }

    /// The Xero a new connection is made with, from the login's runtime.
    pub(super) fn pin_for_login(rt: &XeroRuntime) -> Option<PinnedXero> {
        let endpoints = rt.identity.endpoints();
        Some(PinnedXero {
            issuer: rt.settings.issuer.trim().to_string(),
            token_endpoint: Some(endpoints.token.to_string()),
            revocation_endpoint: Some(endpoints.revocation.to_string()),
            api_base: rt.settings.api_base.trim().to_string(),
            client_id: rt.settings.client_id.clone()?,
        })
    }

    /// Connections saved before the Xero was recorded are pinned to the settings in force now,
    /// so a later change of settings (another issuer) never takes their tokens elsewhere.
    pub(super) fn pin_legacy(&self, xero: &XeroSettings) -> Result<()> {
        let Some(client_id) = xero.client_id.clone().filter(|c| !c.trim().is_empty()) else {
            return Ok(());
        };
        let pinned = PinnedXero {
            issuer: xero.issuer.trim().to_string(),
            token_endpoint: None,
            revocation_endpoint: None,
            api_base: xero.api_base.trim().to_string(),
            client_id,
        };
        let mut store = self.store()?;
        for c in store.connections()? {
            if c.xero.is_none() {
                store.pin_xero(c.id, &pinned)?;
            }
        }
        Ok(())
    }
}

/// A Xero URL from the settings: https, or http on this machine only (the sandbox), since tokens
/// travel to it.
pub(super) fn parse_url(what: &str, text: &str) -> Result<Url> {
    let url = Url::parse(text.trim())
        .map_err(|e| EngineError::Config(format!("the Xero {what} `{text}` is not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        scheme => Err(EngineError::Config(format!(
            "the Xero {what} `{text}` must use https (plain {scheme} is allowed only on this machine's loopback address)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xero_urls_are_https_unless_on_this_machine() {
        for ok in [
            "https://identity.xero.com",
            "http://127.0.0.1:4100",
            "http://localhost:4100/xero",
            "http://[::1]:4100",
        ] {
            assert!(parse_url("issuer", ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://identity.xero.com",
            "http://192.168.1.5:4100",
            "ftp://127.0.0.1",
            "not a url",
        ] {
            let err = parse_url("issuer", refused).unwrap_err().to_string();
            assert!(err.contains(refused), "{err}");
        }
    }
}
