//! The entry point for Xero's API host: configuration, the shared HTTP client and the per-tenant
//! rate limiters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use url::Url;

use crate::http::{HttpConfig, RetryPolicy};
use crate::limiter::{RateLimits, TenantLimiter};
use crate::practice::PracticeClient;
use crate::token::AccessTokenSource;
use crate::XpmError;

/// Xero's API host: `/connections` and `/practicemanager/3.1/` live under it.
pub const DEFAULT_API_BASE: &str = "https://api.xero.com";

/// How to reach and pace Xero's API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Base URL (default [`DEFAULT_API_BASE`]); the sandbox passes its loopback URL. A path prefix
    /// is kept: `http://127.0.0.1:8080/xero` gives `…/xero/connections`.
    pub api_base: Url,
    pub http: HttpConfig,
    pub retry: RetryPolicy,
    /// Limits applied per tenant, across every [`PracticeClient`] of that tenant made from the
    /// same [`XeroApi`].
    pub rate_limits: RateLimits,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            api_base: Url::parse(DEFAULT_API_BASE).expect("constant URL"),
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            rate_limits: RateLimits::default(),
        }
    }
}

/// Xero's API for this process: lists and removes connections, and makes per-tenant Practice
/// Manager clients that share one connection pool and one rate limiter per tenant. Cheap to clone;
/// make one per process and keep it.
#[derive(Debug, Clone)]
pub struct XeroApi {
    pub(crate) inner: Arc<ApiInner>,
}

#[derive(Debug)]
pub(crate) struct ApiInner {
    pub(crate) config: ApiConfig,
    pub(crate) http: reqwest::Client,
    limiters: Mutex<HashMap<String, Arc<TenantLimiter>>>,
}

impl XeroApi {
    pub fn new(config: ApiConfig) -> Result<Self, XpmError> {
        if config.api_base.cannot_be_a_base() {
            return Err(XpmError::Config(format!(
                "`{}` cannot be an API base URL",
                config.api_base
            )));
        }
        let http = config.http.build_client()?;
        Ok(XeroApi {
            inner: Arc::new(ApiInner {
                config,
                http,
                limiters: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn config(&self) -> &ApiConfig {
        &self.inner.config
    }

    /// A Practice Manager client for `tenant_id` (the `tenantId` of a `PRACTICEMANAGER`
    /// connection) that asks `tokens` for an access token before each request.
    pub fn practice(
        &self,
        tenant_id: impl Into<String>,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> PracticeClient {
        let tenant_id = tenant_id.into();
        let limiter = self.limiter(&tenant_id);
        PracticeClient::new(self.clone(), tenant_id, tokens, limiter)
    }

    fn limiter(&self, tenant_id: &str) -> Arc<TenantLimiter> {
        let mut limiters = self.inner.limiters.lock().expect("limiter registry lock");
        Arc::clone(
            limiters
                .entry(tenant_id.to_string())
                .or_insert_with(|| Arc::new(TenantLimiter::new(self.inner.config.rate_limits.clone()))),
        )
    }
}
