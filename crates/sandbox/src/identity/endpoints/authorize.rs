//! Authorize: validate the request, log in as a demo user, consent, redirect with a code.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::redirect_with;
use crate::identity::params::Params;
use crate::identity::store::AuthorizeRequest;
use crate::identity::{pages, pkce, redirect, Identity, SCOPES_SUPPORTED};
use crate::tenants::{self, DemoUser, USERS};

/// Why an authorize request cannot go on.
enum Refusal {
    /// No trustworthy redirect URI yet: tell the person in the browser.
    Page { error: &'static str, message: String },
    /// The redirect URI is valid: send the error back to the app (RFC 6749 §4.1.2.1).
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: String,
    },
}

pub async fn start(
    State(identity): State<Identity>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let request = match validate(&identity, &headers, &params) {
        Ok(request) => request,
        Err(Refusal::Page { error, message }) => {
            return pages::error_page(StatusCode::BAD_REQUEST, error, &message)
        }
        Err(Refusal::Redirect {
            redirect_uri,
            state,
            error,
            description,
        }) => {
            return redirect_error(
                &redirect_uri,
                state.as_deref(),
                error,
                &description,
                StatusCode::FOUND,
            )
        }
    };
    let now = identity.now();
    if identity.config().auto_consent {
        let user = Identity::auto_consent_user();
        let code = identity.state().consent(request.clone(), &user, now);
        return redirect_code(&request, &code, StatusCode::FOUND);
    }
    let login = identity.state().start_login(request.clone(), now);
    pages::login_page(&login, &request.client_id, &USERS)
}

fn validate(identity: &Identity, headers: &HeaderMap, params: &Params) -> Result<AuthorizeRequest, Refusal> {
    let page = |error: &'static str, message: String| Refusal::Page { error, message };
    let client_id = params
        .single("client_id")
        .map_err(|e| page("invalid_request", e.to_string()))?
        .ok_or_else(|| page("invalid_request", "client_id is missing".into()))?;
    let registered = &identity.config().client_ids;
    if !registered.is_empty() && !registered.iter().any(|c| c == client_id) {
        return Err(page(
            "unauthorized_client",
            format!("Unknown client or client not enabled: {client_id}"),
        ));
    }
    let candidate = params
        .single("redirect_uri")
        .map_err(|e| page("invalid_request", e.to_string()))?;
    redirect::check(
        candidate,
        &identity.config().redirect_uris,
        &identity.bounce_page_url(headers),
    )
    .map_err(|refusal| page("invalid_request", refusal.to_string()))?;
    let redirect_uri = candidate.unwrap_or_default().to_owned();

    // The redirect URI is trustworthy from here on: errors go back to it, with `state`.
    let state = params
        .single("state")
        .map_err(|e| Refusal::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: None,
            error: "invalid_request",
            description: e.to_string(),
        })?
        .map(str::to_owned);
    let refuse = |error: &'static str, description: String| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
        description,
    };
    let single = |name: &str| {
        params
            .single(name)
            .map_err(|e| refuse("invalid_request", e.to_string()))
    };

    match single("response_type")? {
        Some("code") => {}
        Some(other) => {
            return Err(refuse(
                "unsupported_response_type",
                format!("response_type {other} is not supported"),
            ))
        }
        None => return Err(refuse("invalid_request", "response_type is missing".into())),
    }
    let scope = single("scope")?.ok_or_else(|| refuse("invalid_scope", "scope is missing".into()))?;
    let scopes: Vec<String> = scope.split_ascii_whitespace().map(str::to_owned).collect();
    if let Some(unknown) = scopes.iter().find(|s| !SCOPES_SUPPORTED.contains(&s.as_str())) {
        return Err(refuse("invalid_scope", format!("unknown scope {unknown}")));
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "scope must include openid".into()));
    }
    let code_challenge = single("code_challenge")?
        .ok_or_else(|| refuse("invalid_request", "code challenge required".into()))?;
    match single("code_challenge_method")? {
        Some("S256") => {}
        // RFC 7636 defaults a missing method to plain, which Xero refuses.
        _ => {
            return Err(refuse(
                "invalid_request",
                "transform algorithm not supported: use S256".into(),
            ))
        }
    }
    if !pkce::is_valid_s256_challenge(code_challenge) {
        return Err(refuse("invalid_request", "invalid code_challenge".into()));
    }
    let nonce = single("nonce")?.map(str::to_owned);
    if single("prompt")?.is_some_and(|p| p.split_ascii_whitespace().any(|p| p == "none"))
        && !identity.config().auto_consent
    {
        return Err(refuse("login_required", "the user must log in".into()));
    }
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri,
        scopes,
        state,
        nonce,
        code_challenge: code_challenge.to_owned(),
    })
}

/// Step 2: the person chose who to log in as; show what they would grant.
pub async fn login(State(identity): State<Identity>, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let (Ok(Some(login)), Ok(Some(user_id))) = (params.single("login"), params.single("user")) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Choose a user to log in as.",
        );
    };
    let Some(user) = demo_user(user_id) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "There is no such user.",
        );
    };
    let now = identity.now();
    let Some(request) = identity.state().login(login, now).cloned() else {
        return login_expired();
    };
    pages::consent_page(
        login,
        &request.client_id,
        &request.scopes,
        &user,
        &tenants::tenants_for(&user),
    )
}

/// Step 3: Allow connects the user's tenants and redirects with a code; Cancel redirects with
/// `access_denied`.
pub async fn consent(State(identity): State<Identity>, body: Bytes) -> Response {
    let params = Params::parse(&body);
    let (Ok(Some(login)), Ok(Some(user_id)), Ok(Some(decision))) = (
        params.single("login"),
        params.single("user"),
        params.single("decision"),
    ) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The consent form was incomplete.",
        );
    };
    let Some(user) = demo_user(user_id) else {
        return pages::error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "There is no such user.",
        );
    };
    let allow = match decision {
        "allow" => true,
        "deny" => false,
        _ => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Choose Allow access or Cancel.",
            )
        }
    };
    let now = identity.now();
    let mut state = identity.state();
    let Some(request) = state.finish_login(login, now) else {
        return login_expired();
    };
    if !allow {
        drop(state);
        return redirect_error(
            &request.redirect_uri,
            request.state.as_deref(),
            "access_denied",
            "the user declined",
            StatusCode::SEE_OTHER,
        );
    }
    let code = state.consent(request.clone(), &user, now);
    drop(state);
    redirect_code(&request, &code, StatusCode::SEE_OTHER)
}

fn demo_user(id: &str) -> Option<DemoUser> {
    USERS.into_iter().find(|u| u.id == id)
}

fn login_expired() -> Response {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "This login has expired or was already used. Start again from the app.",
    )
}

fn redirect_code(request: &AuthorizeRequest, code: &str, status: StatusCode) -> Response {
    let scope = request.scopes.join(" ");
    let mut pairs = vec![("code", code), ("scope", scope.as_str())];
    if let Some(state) = &request.state {
        pairs.push(("state", state));
    }
    redirect_with(&request.redirect_uri, &pairs, status)
}

fn redirect_error(
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
    status: StatusCode,
) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect_with(redirect_uri, &pairs, status)
}
