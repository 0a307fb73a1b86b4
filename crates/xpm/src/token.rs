//! Where the Practice Manager client gets its access token, once per request.
//!
//! Access tokens live 30 minutes and a full sync can take longer, so the client asks for the
//! current token before every request instead of holding one. The sync engine owns refresh and
//! storage and implements [`AccessTokenSource`] over them; tests use [`StaticToken`].

use std::future::Future;

use futures_util::future::BoxFuture;

use crate::{Secret, XpmError};

/// Supplies a valid access token for the next request.
///
/// Implementations should refresh ahead of expiry. When Xero refuses a token anyway (401 on a
/// Practice Manager call: `TokenExpired` for a token that died early, or any other detail), the
/// client calls [`token_rejected`](Self::token_rejected) and asks for a token again, at most
/// [`crate::practice::MAX_TOKEN_RENEWALS`] times per request; then it gives up with
/// [`XpmError::AccessTokenRefused`]. A 401 never becomes [`XpmError::NeedsReauth`]: that error comes
/// only from the source itself, when [`access_token`](Self::access_token) cannot refresh
/// (`invalid_grant`), and the client passes it on unchanged. The trait is object safe so a client can hold
/// `Arc<dyn AccessTokenSource>`; any `Fn() -> impl Future<Output = Result<Secret, XpmError>>`
/// closure implements it too.
pub trait AccessTokenSource: Send + Sync {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret, XpmError>>;

    /// Xero refused `token` (401): expired before its time, revoked, or the clocks disagree.
    /// Returns whether asking [`access_token`](Self::access_token) again may give another token,
    /// in which case the client sends the request again (up to
    /// [`crate::practice::MAX_TOKEN_RENEWALS`] times per request). A source that can renew drops
    /// `token` here so that the next call refreshes; the default cannot, and the request fails
    /// with [`XpmError::AccessTokenRefused`].
    fn token_rejected<'a>(&'a self, token: &'a Secret) -> BoxFuture<'a, bool> {
        let _ = token;
        Box::pin(async { false })
    }
}

/// A fixed token: for tests, one-off CLI calls and the wizard's first requests right after login.
#[derive(Debug, Clone)]
pub struct StaticToken(pub Secret);

impl StaticToken {
    pub fn new(token: impl Into<String>) -> Self {
        StaticToken(Secret::new(token))
    }
}

impl AccessTokenSource for StaticToken {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret, XpmError>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }
}

impl<F, Fut> AccessTokenSource for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<Secret, XpmError>> + Send + 'static,
{
    fn access_token(&self) -> BoxFuture<'_, Result<Secret, XpmError>> {
        Box::pin(self())
    }
}
