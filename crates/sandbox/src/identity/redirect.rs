//! Which redirect URIs the sandbox accepts, following Xero's rule: https, or plain http only to
//! the loopback host; no custom schemes, no fragments; exact match when the app registered URIs.

use std::net::Ipv4Addr;

use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectRefusal {
    #[error("redirect_uri is missing")]
    Missing,
    #[error("redirect_uri is not an absolute URL")]
    NotAbsolute,
    #[error("redirect_uri must not contain a fragment")]
    Fragment,
    #[error("redirect_uri must not contain user credentials")]
    Credentials,
    #[error(
        "custom URL schemes are not allowed as redirect_uri (\"{0}:\"); use https or http://localhost:PORT"
    )]
    CustomScheme(String),
    #[error("http redirect URIs must point at localhost or 127.0.0.1; use https otherwise")]
    InsecureHost,
    #[error("redirect_uri is not one of the URIs registered for this app")]
    NotRegistered,
}

/// Checks `candidate` and returns it parsed. `bounce_page` (the sandbox's own forwarding page)
/// is always accepted, as a vendor would have registered its bounce page.
pub fn check(
    candidate: Option<&str>,
    registered: &[String],
    bounce_page: &str,
) -> Result<Url, RedirectRefusal> {
    let candidate = candidate
        .filter(|s| !s.is_empty())
        .ok_or(RedirectRefusal::Missing)?;
    let url = Url::parse(candidate).map_err(|_| RedirectRefusal::NotAbsolute)?;
    if candidate == bounce_page {
        return Ok(url);
    }
    check_shape(&url)?;
    // Xero compares the string as registered, not a normalised form.
    if !registered.is_empty() && !registered.iter().any(|r| r == candidate) {
        return Err(RedirectRefusal::NotRegistered);
    }
    Ok(url)
}

fn check_shape(url: &Url) -> Result<(), RedirectRefusal> {
    if url.fragment().is_some() {
        return Err(RedirectRefusal::Fragment);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RedirectRefusal::Credentials);
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "https" => Err(RedirectRefusal::NotAbsolute),
        "http" => match url.host() {
            Some(Host::Domain("localhost")) => Ok(()),
            Some(Host::Ipv4(ip)) if ip == Ipv4Addr::LOCALHOST => Ok(()),
            _ => Err(RedirectRefusal::InsecureHost),
        },
        other => Err(RedirectRefusal::CustomScheme(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNCE: &str = "http://127.0.0.1:4000/bounce";

    fn open(uri: &str) -> Result<Url, RedirectRefusal> {
        check(Some(uri), &[], BOUNCE)
    }

    #[test]
    fn default_rule_accepts_loopback_http_and_https() {
        assert!(open("http://localhost:8765/callback").is_ok());
        assert!(open("http://127.0.0.1:8765/callback?x=1").is_ok());
        assert!(open("https://bounce.example/xpm").is_ok());
        assert!(open(BOUNCE).is_ok());
    }

    #[test]
    fn default_rule_refuses_what_xero_refuses() {
        assert_eq!(
            open("nz.co.hownow.admin://oauth/callback"),
            Err(RedirectRefusal::CustomScheme("nz.co.hownow.admin".into()))
        );
        assert_eq!(open("http://example.com/cb"), Err(RedirectRefusal::InsecureHost));
        assert_eq!(open("http://10.0.0.1:80/cb"), Err(RedirectRefusal::InsecureHost));
        assert_eq!(open("http://localhost:1/cb#frag"), Err(RedirectRefusal::Fragment));
        assert_eq!(
            open("http://me:pw@localhost:1/cb"),
            Err(RedirectRefusal::Credentials)
        );
        assert_eq!(open("/relative"), Err(RedirectRefusal::NotAbsolute));
        assert_eq!(check(None, &[], BOUNCE), Err(RedirectRefusal::Missing));
    }

    #[test]
    fn registered_uris_match_exactly() {
        let registered = vec!["http://localhost:8765/callback".to_owned()];
        assert!(check(Some("http://localhost:8765/callback"), &registered, BOUNCE).is_ok());
        assert_eq!(
            check(Some("http://localhost:8765/callback/"), &registered, BOUNCE),
            Err(RedirectRefusal::NotRegistered)
        );
        assert_eq!(
            check(Some("http://localhost:8766/callback"), &registered, BOUNCE),
            Err(RedirectRefusal::NotRegistered)
        );
        // The sandbox's own bounce page stays usable.
        assert!(check(Some(BOUNCE), &registered, BOUNCE).is_ok());
    }
}
