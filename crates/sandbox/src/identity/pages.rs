//! The few HTML pages of the identity server: login, consent, errors and the bounce page.
//! Self-contained (no external assets) and every interpolated value escaped.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::tenants::{DemoUser, Tenant, TenantKind};

/// Escapes text for HTML element content and quoted attribute values: quick-xml's five entities
/// (`&apos;` included), which HTML5 reads as well.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1e2a36}\
h1{font-size:1.4rem}.banner{background:#13b5ea;color:#fff;padding:.5rem 1rem;border-radius:4px;font-weight:600}\
button{font-size:1rem;padding:.5rem 1rem;margin:.25rem .25rem .25rem 0;cursor:pointer}\
.user{display:block;width:100%;text-align:left}.note{color:#5a6a78;font-size:.9rem}\
.warn{background:#fff4e5;border:1px solid #f0b45a;padding:.75rem;border-radius:4px}ul{padding-left:1.2rem}";

/// Scripts only where the bounce page needs one; frames never, so the consent buttons cannot be
/// clickjacked.
fn page(
    status: StatusCode,
    title: &str,
    head_extra: &str,
    body: &str,
    allow_inline_script: bool,
) -> Response {
    let csp = if allow_inline_script {
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title>{head_extra}<style>{STYLE}</style></head><body>\
<p class=\"banner\">Xero (offline sandbox)</p>{body}</body></html>\n",
        title = escape(title),
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error the browser must show because there is no validated redirect URI to send it to.
pub fn error_page(status: StatusCode, error: &str, message: &str) -> Response {
    let body = format!(
        "<h1>Sorry, something went wrong</h1><p><strong>{}</strong></p><p>{}</p>\
<p class=\"note\">Close this window and start again from the app.</p>",
        escape(error),
        escape(message)
    );
    page(status, "Error", "", &body, false)
}

/// Step 1: "log in as" one of the demo users.
pub fn login_page(login_id: &str, client_id: &str, users: &[DemoUser]) -> Response {
    let mut choices = String::new();
    for user in users {
        let label = if user.can_authorise_third_party {
            String::new()
        } else {
            " <span class=\"note\">(no \u{201c}Authorise 3rd Party Full Access\u{201d} privilege)</span>"
                .to_owned()
        };
        choices.push_str(&format!(
            "<button class=\"user\" type=\"submit\" name=\"user\" value=\"{id}\">{name} \
&lt;{email}&gt;{label}</button>",
            id = escape(user.id),
            name = escape(user.name),
            email = escape(user.email),
        ));
    }
    let body = format!(
        "<h1>Log in to Xero</h1><p>The app <code>{client}</code> wants to connect. Log in as:</p>\
<form method=\"post\" action=\"/identity/connect/authorize/login\">\
<input type=\"hidden\" name=\"login\" value=\"{login}\">{choices}</form>",
        client = escape(client_id),
        login = escape(login_id),
    );
    page(StatusCode::OK, "Log in to Xero", "", &body, false)
}

/// Step 2: what the user is about to grant, with Allow and Deny.
pub fn consent_page(
    login_id: &str,
    client_id: &str,
    scopes: &[String],
    user: &DemoUser,
    tenants: &[Tenant],
) -> Response {
    let practices: Vec<&Tenant> = tenants
        .iter()
        .filter(|t| t.kind == TenantKind::PracticeManager)
        .collect();
    let others: Vec<&Tenant> = tenants
        .iter()
        .filter(|t| t.kind != TenantKind::PracticeManager)
        .collect();
    let practice_section = if practices.is_empty() {
        "<div class=\"warn\" id=\"no-practice-manager\"><p><strong>You don\u{2019}t have any Xero Practice Manager \
accounts you can connect.</strong></p><p>Ask your administrator for the \u{201c}Authorise 3rd Party Full \
Access\u{201d} privilege in Xero Practice Manager, then try again. You can still continue.</p></div>"
            .to_owned()
    } else {
        format!(
            "<p>Xero Practice Manager accounts:</p><ul>{}</ul>",
            tenant_items(&practices)
        )
    };
    let other_section = if others.is_empty() {
        String::new()
    } else {
        format!("<p>Other Xero accounts:</p><ul>{}</ul>", tenant_items(&others))
    };
    let scope_items: String = scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let body = format!(
        "<h1>Allow access</h1><p>Logged in as <strong>{name}</strong> &lt;{email}&gt;.</p>\
<p>The app <code>{client}</code> will be able to use these permissions:</p><ul>{scope_items}</ul>\
{practice_section}{other_section}\
<form method=\"post\" action=\"/identity/connect/authorize/consent\">\
<input type=\"hidden\" name=\"login\" value=\"{login}\"><input type=\"hidden\" name=\"user\" value=\"{user_id}\">\
<button type=\"submit\" name=\"decision\" value=\"allow\">Allow access</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button></form>",
        name = escape(user.name),
        email = escape(user.email),
        client = escape(client_id),
        login = escape(login_id),
        user_id = escape(user.id),
    );
    page(StatusCode::OK, "Allow access", "", &body, false)
}

fn tenant_items(tenants: &[&Tenant]) -> String {
    tenants
        .iter()
        .map(|t| {
            format!(
                "<li data-tenant-id=\"{id}\" data-tenant-type=\"{kind}\">{name}</li>",
                id = escape(t.id),
                kind = t.kind.as_xero_str(),
                name = escape(t.name)
            )
        })
        .collect()
}

/// The page a vendor hosts at an https address to hand `code` and `state` to the desktop app's
/// deep link: a meta refresh, a script for browsers that ignore it, and a link for the rest.
pub fn bounce_page(target: &str) -> Response {
    // JSON string syntax is valid JavaScript; escaping '<' keeps "</script>" out of the script.
    let js_target = serde_json::to_string(target)
        .expect("a string serialises")
        .replace('<', "\\u003c");
    let attr = escape(target);
    let refresh = format!("<meta http-equiv=\"refresh\" content=\"0;url={attr}\">");
    let body = format!(
        "<h1>Returning to HowNow Admin\u{2026}</h1>\
<p>If nothing happens, <a id=\"continue\" href=\"{attr}\">open HowNow Admin</a>.</p>\
<script>window.location.replace({js_target});</script>"
    );
    page(StatusCode::OK, "Returning to HowNow Admin", &refresh, &body, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("Kōwhai 🥝"), "Kōwhai 🥝");
    }
}
