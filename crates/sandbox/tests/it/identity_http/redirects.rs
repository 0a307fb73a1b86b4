//! Redirect URIs: authorize errors shown on a page until the redirect URI is valid, registered
//! client ids and redirect URIs enforced, and the bounce page's forwarding to the deep link.

use crate::identity_support::{auto_consent, param, redirect_query, start, Pkce};
use hownow_sandbox::identity::IdentityConfig;
use reqwest::StatusCode;
use serde_json::Value;
use url::Url;

use super::{CLIENT, SCOPE};

#[tokio::test]
async fn authorize_errors_stay_on_a_page_until_the_redirect_uri_is_valid() {
    let server = start(auto_consent()).await;
    let pkce = Pkce::new("errors");
    for redirect_uri in [
        "nz.co.hownow.admin://oauth/callback",
        "http://evil.example/cb",
        "http://localhost:1/cb#x",
    ] {
        let response = server
            .get(&server.standard_authorize_url(CLIENT, redirect_uri, &pkce))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{redirect_uri}");
        assert!(response.headers().get("location").is_none(), "{redirect_uri}");
        assert!(response.text().await.unwrap().contains("redirect"));
    }
    let missing_client = server
        .get(&server.authorize_url(&[("redirect_uri", "http://localhost:1/cb")]))
        .await;
    assert_eq!(missing_client.status(), StatusCode::BAD_REQUEST);

    let redirect_uri = server.redirect_uri();
    let base = [
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", SCOPE),
        ("state", "s1"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let with = |name: &'static str, value: Option<&'static str>| -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != name).collect();
        if let Some(value) = value {
            pairs.push((name, value));
        }
        pairs
    };
    for (pairs, expected) in [
        (with("code_challenge_method", Some("plain")), "invalid_request"),
        (with("code_challenge_method", None), "invalid_request"),
        (with("code_challenge", None), "invalid_request"),
        (with("response_type", Some("token")), "unsupported_response_type"),
        (with("scope", Some("profile offline_access")), "invalid_scope"),
        (
            with("scope", Some("openid accounting.everything")),
            "invalid_scope",
        ),
    ] {
        let response = server.get(&server.authorize_url(&pairs)).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{pairs:?}");
        let answer = redirect_query(&response, &redirect_uri);
        assert_eq!(param(&answer, "error"), expected, "{pairs:?}");
        assert_eq!(param(&answer, "state"), "s1");
    }
}

#[tokio::test]
async fn registered_client_ids_and_redirect_uris_are_enforced() {
    let server = start(IdentityConfig {
        client_ids: vec![CLIENT.to_owned()],
        redirect_uris: vec!["http://localhost:8765/callback".to_owned()],
        ..auto_consent()
    })
    .await;
    let pkce = Pkce::new("registered");
    let unknown_client = server
        .get(&server.standard_authorize_url("someone-else", &server.redirect_uri(), &pkce))
        .await;
    assert_eq!(unknown_client.status(), StatusCode::BAD_REQUEST);
    assert!(unknown_client.headers().get("location").is_none());
    let unregistered_uri = server
        .get(&server.standard_authorize_url(CLIENT, "http://localhost:9999/callback", &pkce))
        .await;
    assert_eq!(unregistered_uri.status(), StatusCode::BAD_REQUEST);
    assert!(unregistered_uri.headers().get("location").is_none());
    // The sandbox's own bounce page stays usable.
    let bounce = format!("{}/bounce", server.base);
    let answer = server.authorize(CLIENT, &bounce, &pkce).await;
    let code = param(&answer, "code");

    let (status, body) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", "someone-else"),
            ("code", &code),
            ("redirect_uri", &bounce),
            ("code_verifier", &pkce.verifier),
        ])
        .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("invalid_client"))
    );
}

#[tokio::test]
async fn bounce_page_forwards_code_and_state_to_the_deep_link() {
    let server = start(IdentityConfig {
        deep_link_scheme: "nz.co.hownow.admin".to_owned(),
        ..auto_consent()
    })
    .await;
    let pkce = Pkce::new("bounce");
    let bounce = format!("{}/bounce", server.base);
    let answer = server.authorize(CLIENT, &bounce, &pkce).await;
    let code = param(&answer, "code");

    let mut url = Url::parse(&bounce).unwrap();
    url.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", "a&b=c <d>");
    let page = server.get(url.as_str()).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let expected = format!("nz.co.hownow.admin://oauth/callback?code={code}&state=a%26b%3Dc+%3Cd%3E");
    let in_attribute = expected.replace('&', "&amp;");
    assert!(
        html.contains(&format!("content=\"0;url={in_attribute}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"{in_attribute}\"")), "{html}");
    assert!(
        html.contains(&format!("window.location.replace(\"{expected}\")")),
        "{html}"
    );
    // What the deep link carries decodes back to Xero's values.
    let forwarded = Url::parse(&expected).unwrap();
    let pairs: Vec<(String, String)> = forwarded
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(param(&pairs, "state"), "a&b=c <d>");
    // And the code it forwarded is exchangeable with the bounce page as redirect URI.
    let (status, _) = server.exchange(&code, &bounce, &pkce.verifier).await;
    assert_eq!(status, StatusCode::OK);

    let empty = server.get(&bounce).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    // Errors are forwarded too, so the app can tell the user they cancelled.
    let denied = server
        .get(&format!("{bounce}?error=access_denied&state=s"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        denied.contains("nz.co.hownow.admin://oauth/callback?state=s&amp;error=access_denied"),
        "{denied}"
    );
}
