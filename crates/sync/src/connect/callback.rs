//! What comes back from Xero's authorize step, by either road: the query of the loopback
//! redirect (`http://localhost:PORT/callback?code=…&state=…`) or the deep link the bounce page
//! opens (`nz.co.hownow.admin://oauth/callback?code=…&state=…`).

use url::Url;

/// Why a callback was not accepted. The login in progress (if any) is unaffected: a forged or
/// stale callback is ignored, and the real one can still arrive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackRejected {
    #[error("no Xero login is waiting for a callback")]
    NothingPending,
    #[error(
        "the callback does not belong to the login in progress (its state does not match); it was ignored"
    )]
    StateMismatch,
    #[error("the login in progress expired; start it again")]
    Expired,
    #[error("the login in progress already received its answer")]
    AlreadyAnswered,
    #[error("not a HowNow Admin login callback: {0}")]
    Malformed(String),
}

/// The parameters Xero appends to the redirect URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Xero's answer, once the state matched.
#[derive(Debug)]
pub(crate) enum CallbackAnswer {
    Code(String),
    /// The user pressed Cancel, or Xero refused the request (`error=access_denied`, …).
    Refused {
        error: String,
        description: Option<String>,
    },
}

impl CallbackParams {
    /// Parses a query string. A parameter given twice makes the callback malformed: there is no
    /// honest reason for it, and picking one would let a forger choose.
    pub(crate) fn from_query(query: &str) -> Result<Self, CallbackRejected> {
        let mut params = CallbackParams::default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match name.as_ref() {
                "state" => &mut params.state,
                "code" => &mut params.code,
                "error" => &mut params.error,
                "error_description" => &mut params.error_description,
                _ => continue,
            };
            if slot.is_some() {
                return Err(CallbackRejected::Malformed(format!("`{name}` appears twice")));
            }
            *slot = Some(value.into_owned());
        }
        Ok(params)
    }

    /// Parses `<scheme>://oauth/callback?…`, the deep link the bounce page opens.
    pub(crate) fn from_deep_link(link: &str, scheme: &str) -> Result<Self, CallbackRejected> {
        let url = Url::parse(link.trim()).map_err(|e| CallbackRejected::Malformed(e.to_string()))?;
        if !url.scheme().eq_ignore_ascii_case(scheme) {
            return Err(CallbackRejected::Malformed(format!(
                "expected a {scheme}:// link, got {}://",
                url.scheme()
            )));
        }
        // `scheme://oauth/callback`: "oauth" parses as the host of a special-less URL.
        let target = format!("{}{}", url.host_str().unwrap_or_default(), url.path());
        if target.trim_end_matches('/') != "oauth/callback" {
            return Err(CallbackRejected::Malformed(format!(
                "expected {scheme}://oauth/callback, got {scheme}://{target}"
            )));
        }
        Self::from_query(url.query().unwrap_or_default())
    }

    /// The answer, once the state has been checked.
    pub(crate) fn into_answer(self) -> Result<CallbackAnswer, CallbackRejected> {
        match (self.code, self.error) {
            (Some(code), None) if !code.is_empty() => Ok(CallbackAnswer::Code(code)),
            (None, Some(error)) => Ok(CallbackAnswer::Refused {
                error,
                description: self.error_description,
            }),
            _ => Err(CallbackRejected::Malformed(
                "expected either a code or an error".into(),
            )),
        }
    }
}

/// Escapes text for HTML element content and quoted attributes: quick-xml's five entities
/// (`&apos;` included), which HTML5 reads as well.
pub(crate) fn escape_html(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// The small page the browser shows after the loopback redirect. Self-contained: no scripts,
/// no external assets.
pub(crate) fn browser_page(title: &str, message: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1e2a36}}\
h1{{font-size:1.3rem}}</style></head><body><h1>{title}</h1><p>{message}</p></body></html>\n",
        title = escape_html(title),
        message = escape_html(message),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loopback_queries() {
        let p = CallbackParams::from_query("code=abc%2B1&state=s1&scope=openid").unwrap();
        assert_eq!(p.code.as_deref(), Some("abc+1"));
        assert_eq!(p.state.as_deref(), Some("s1"));
        assert!(matches!(p.into_answer(), Ok(CallbackAnswer::Code(c)) if c == "abc+1"));
        let denied = CallbackParams::from_query("error=access_denied&state=s1").unwrap();
        assert!(matches!(
            denied.into_answer(),
            Ok(CallbackAnswer::Refused { error, .. }) if error == "access_denied"
        ));
        assert!(CallbackParams::from_query("code=a&code=b&state=s").is_err());
        assert!(CallbackParams::from_query("state=s")
            .unwrap()
            .into_answer()
            .is_err());
    }

    #[test]
    fn parses_deep_links_of_our_scheme_only() {
        let scheme = "nz.co.hownow.admin";
        let p = CallbackParams::from_deep_link("nz.co.hownow.admin://oauth/callback?code=c&state=s", scheme)
            .unwrap();
        assert_eq!((p.code.as_deref(), p.state.as_deref()), (Some("c"), Some("s")));
        for bad in [
            "https://evil.example/oauth/callback?code=c&state=s",
            "nz.co.hownow.admin://oauth/other?code=c&state=s",
            "not a url",
        ] {
            assert!(
                matches!(
                    CallbackParams::from_deep_link(bad, scheme),
                    Err(CallbackRejected::Malformed(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn pages_escape_what_they_show() {
        let page = browser_page("Done", "<script>alert('x')</script> & more");
        assert!(page.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; more"));
        assert!(!page.contains("<script>"));
    }
}
