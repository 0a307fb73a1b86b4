//! The administrator's browser, played against the sandbox's login pages, for the tests of every
//! app that logs in through it (the engine, the CLI, the desktop app): each step is what a person
//! does, over real HTTP, so the redirects, forms and bounce page are exercised as they are used.
//! Behind the `browser` feature: only tests need it, and it brings an HTTP client.

use std::time::Duration;

use url::Url;

#[derive(Debug, thiserror::Error)]
#[error("the test browser: {0}")]
pub struct BrowserError(String);

fn fail(what: impl Into<String>) -> BrowserError {
    BrowserError(what.into())
}

/// A browser that does not follow redirects by itself, so each hop can be checked.
#[derive(Debug, Clone)]
pub struct Browser {
    http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .expect("a plain HTTP client builds"),
        }
    }

    /// Opens `authorize_url`. Unless auto-consent redirects at once, logs in as `user` (a demo
    /// user's id, `u-1`…) and allows or denies. Returns where the browser is sent back: the
    /// redirect URI with `code` and `state` (or `error`), or the bounce page.
    pub async fn authorize(
        &self,
        authorize_url: &str,
        user: Option<&str>,
        allow: bool,
    ) -> Result<String, BrowserError> {
        let answer = self.get(authorize_url).await?;
        let answer = if answer.status().is_redirection() {
            answer
        } else {
            let page = text(answer).await?;
            let login = hidden_input(&page, "login")
                .ok_or_else(|| fail(format!("no login form on the authorize page: {page}")))?;
            let user = user.ok_or_else(|| fail("the login page is shown: say which user logs in"))?;
            let base = Url::parse(authorize_url).map_err(|e| fail(format!("{authorize_url}: {e}")))?;
            let at = |path: &str| base.join(path).expect("a fixed path joins");
            let consent = self
                .post(
                    at("/identity/connect/authorize/login"),
                    &[("login", &login), ("user", user)],
                )
                .await?;
            if !consent.status().is_success() {
                return Err(fail(format!("the login answered {}", consent.status())));
            }
            let decision = if allow { "allow" } else { "deny" };
            self.post(
                at("/identity/connect/authorize/consent"),
                &[("login", &login), ("user", user), ("decision", decision)],
            )
            .await?
        };
        location(&answer)
    }

    /// Follows a redirect to the app's loopback listener: the status and the page it shows.
    pub async fn land(&self, location: &str) -> Result<(u16, String), BrowserError> {
        let page = self.get(location).await?;
        let status = page.status().as_u16();
        Ok((status, text(page).await?))
    }

    /// The deep link the sandbox's bounce page forwards to (its "open HowNow Admin" link).
    pub async fn deep_link(&self, bounce_location: &str) -> Result<String, BrowserError> {
        let page = text(self.get(bounce_location).await?).await?;
        let marker = "id=\"continue\" href=\"";
        let start = page
            .find(marker)
            .ok_or_else(|| fail(format!("the bounce page links no app: {page}")))?
            + marker.len();
        let end = page[start..].find('"').ok_or_else(|| fail("an unclosed link"))?;
        Ok(page[start..start + end].replace("&amp;", "&"))
    }

    /// The desktop app's road: authorize, then the deep link the bounce page hands to the app.
    pub async fn deep_link_login(
        &self,
        authorize_url: &str,
        user: &str,
        allow: bool,
    ) -> Result<String, BrowserError> {
        let bounce = self.authorize(authorize_url, Some(user), allow).await?;
        self.deep_link(&bounce).await
    }

    async fn get(&self, url: &str) -> Result<reqwest::Response, BrowserError> {
        self.http
            .get(url)
            .send()
            .await
            .map_err(|e| fail(format!("GET {url}: {e}")))
    }

    async fn post(&self, url: Url, form: &[(&str, &str)]) -> Result<reqwest::Response, BrowserError> {
        self.http
            .post(url.clone())
            .form(form)
            .send()
            .await
            .map_err(|e| fail(format!("POST {url}: {e}")))
    }
}

async fn text(response: reqwest::Response) -> Result<String, BrowserError> {
    response
        .text()
        .await
        .map_err(|e| fail(format!("reading a page: {e}")))
}

fn location(answer: &reqwest::Response) -> Result<String, BrowserError> {
    if !answer.status().is_redirection() {
        return Err(fail(format!("expected a redirect, got {}", answer.status())));
    }
    answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| fail("a redirect without a Location"))
}

/// The value of a form's `<input … name="NAME" value="…">`.
pub fn hidden_input(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')?;
    Some(page[start..start + end].to_string())
}
