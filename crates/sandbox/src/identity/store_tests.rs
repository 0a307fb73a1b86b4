use super::*;
use crate::tenants::{TenantKind, USERS};

const CLIENT: &str = "client-a";
const REDIRECT: &str = "http://localhost:8765/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const LIFETIME: Duration = Duration::from_secs(30 * 60);
const GRACE: Duration = Duration::from_secs(30 * 60);

fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

fn request(scopes: &[&str]) -> AuthorizeRequest {
    AuthorizeRequest {
        client_id: CLIENT.into(),
        redirect_uri: REDIRECT.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        state: Some("st".into()),
        nonce: Some("n-1".into()),
        code_challenge: pkce::s256_challenge(VERIFIER),
    }
}

fn signed_in(state: &mut State, user: &DemoUser) -> Issued {
    let code = state.consent(request(&["openid", "offline_access"]), user, t0());
    state
        .redeem_code(&code, CLIENT, REDIRECT, VERIFIER, t0(), LIFETIME)
        .unwrap()
}

#[test]
fn code_is_single_use_and_bound_to_client_redirect_and_verifier() {
    let mut state = State::new(GRACE);
    let code = state.consent(request(&["openid"]), &USERS[0], t0());
    let issued = state
        .redeem_code(&code, CLIENT, REDIRECT, VERIFIER, t0(), LIFETIME)
        .unwrap();
    assert_eq!(issued.nonce.as_deref(), Some("n-1"));
    assert!(
        issued.refresh_token.is_none(),
        "no offline_access, no refresh token"
    );
    let replay = state
        .redeem_code(&code, CLIENT, REDIRECT, VERIFIER, t0(), LIFETIME)
        .unwrap_err();
    assert_eq!(replay.code, "invalid_grant");

    for (client, redirect, verifier) in [
        ("client-b", REDIRECT, VERIFIER),
        (CLIENT, "http://localhost:8766/callback", VERIFIER),
        (
            CLIENT,
            REDIRECT,
            "wrong-verifier-wrong-verifier-wrong-verifier-wrong",
        ),
    ] {
        let code = state.consent(request(&["openid"]), &USERS[0], t0());
        let err = state
            .redeem_code(&code, client, redirect, verifier, t0(), LIFETIME)
            .unwrap_err();
        assert_eq!(err.code, "invalid_grant", "{client} {redirect} {verifier}");
        // A failed attempt consumed the code.
        let err = state
            .redeem_code(&code, CLIENT, REDIRECT, VERIFIER, t0(), LIFETIME)
            .unwrap_err();
        assert_eq!(err.code, "invalid_grant");
    }
}

#[test]
fn code_expires_after_five_minutes() {
    let mut state = State::new(GRACE);
    let code = state.consent(request(&["openid"]), &USERS[0], t0());
    let late = t0() + CODE_LIFETIME;
    assert_eq!(
        state
            .redeem_code(&code, CLIENT, REDIRECT, VERIFIER, late, LIFETIME)
            .unwrap_err()
            .code,
        "invalid_grant"
    );
}

#[test]
fn refresh_rotates_and_grace_allows_one_reuse() {
    let mut state = State::new(GRACE);
    let first = signed_in(&mut state, &USERS[0]).refresh_token.unwrap();
    let second = state
        .refresh(&first, CLIENT, t0(), LIFETIME)
        .unwrap()
        .refresh_token
        .unwrap();
    assert_ne!(first, second);
    let minute = Duration::from_secs(60);
    // Within grace the old one works exactly once more.
    let third = state
        .refresh(&first, CLIENT, t0() + minute, LIFETIME)
        .unwrap()
        .refresh_token
        .unwrap();
    assert_eq!(
        state
            .refresh(&first, CLIENT, t0() + minute, LIFETIME)
            .unwrap_err()
            .code,
        "invalid_grant"
    );
    // The pair from the first rotation is still good, and so is the newest.
    let fourth = state
        .refresh(&second, CLIENT, t0() + minute, LIFETIME)
        .unwrap()
        .refresh_token
        .unwrap();
    state.refresh(&third, CLIENT, t0() + minute, LIFETIME).unwrap();
    // Outside grace a rotated token is dead.
    let late = t0() + minute + GRACE;
    assert_eq!(
        state.refresh(&second, CLIENT, late, LIFETIME).unwrap_err().code,
        "invalid_grant"
    );
    state.refresh(&fourth, CLIENT, late, LIFETIME).unwrap();
    assert_eq!(
        state
            .refresh("nonsense", CLIENT, late, LIFETIME)
            .unwrap_err()
            .code,
        "invalid_grant"
    );
}

#[test]
fn refresh_refuses_other_client_and_idle_tokens() {
    let mut state = State::new(GRACE);
    let token = signed_in(&mut state, &USERS[0]).refresh_token.unwrap();
    assert_eq!(
        state
            .refresh(&token, "client-b", t0(), LIFETIME)
            .unwrap_err()
            .code,
        "invalid_grant"
    );
    let idle = t0() + REFRESH_IDLE_LIFETIME;
    assert_eq!(
        state.refresh(&token, CLIENT, idle, LIFETIME).unwrap_err().code,
        "invalid_grant"
    );
}

#[test]
fn access_tokens_expire_and_can_be_expired_early() {
    let mut state = State::new(GRACE);
    let access = signed_in(&mut state, &USERS[0]).access_token;
    assert!(state.access(&access, t0()).is_ok());
    assert_eq!(
        state.access(&access, t0() + LIFETIME),
        Err(AccessRefusal::Expired(t0() + LIFETIME))
    );
    assert_eq!(state.access("nonsense", t0()), Err(AccessRefusal::Unknown));

    let access = signed_in(&mut state, &USERS[0]).access_token;
    state.expire_all_access_tokens(t0());
    assert_eq!(state.access(&access, t0()), Err(AccessRefusal::Expired(t0())));
}

#[test]
fn consent_connects_the_users_tenants_once() {
    let mut state = State::new(GRACE);
    signed_in(&mut state, &USERS[1]);
    let first = state.connections(CLIENT, USERS[1].id);
    assert_eq!(first.len(), tenants::tenants_for(&USERS[1]).len());
    // Authorising again keeps connection ids and moves them to the new auth event.
    signed_in(&mut state, &USERS[1]);
    let again = state.connections(CLIENT, USERS[1].id);
    assert_eq!(
        first.iter().map(|c| &c.id).collect::<Vec<_>>(),
        again.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    assert_ne!(first[0].auth_event_id, again[0].auth_event_id);

    signed_in(&mut state, &USERS[2]);
    let unprivileged = state.connections(CLIENT, USERS[2].id);
    assert!(unprivileged
        .iter()
        .all(|c| c.tenant.kind != TenantKind::PracticeManager));
    assert!(state.connections("client-b", USERS[1].id).is_empty());
}

#[test]
fn revocation_ends_the_apps_authorisation_for_the_user() {
    let mut state = State::new(GRACE);
    let ava = signed_in(&mut state, &USERS[0]);
    let ava_elsewhere = signed_in(&mut state, &USERS[0]).refresh_token.unwrap();
    let ben = signed_in(&mut state, &USERS[1]).refresh_token.unwrap();
    assert_eq!(
        state.revoke(&ava.access_token, CLIENT).unwrap_err().code,
        "unsupported_token_type"
    );
    assert_eq!(
        state
            .revoke(ava.refresh_token.as_ref().unwrap(), "client-b")
            .unwrap_err()
            .code,
        "invalid_request"
    );
    state.revoke(ava.refresh_token.as_ref().unwrap(), CLIENT).unwrap();

    assert!(state.connections(CLIENT, USERS[0].id).is_empty());
    assert_eq!(
        state
            .refresh(&ava_elsewhere, CLIENT, t0(), LIFETIME)
            .unwrap_err()
            .code,
        "invalid_grant"
    );
    assert!(!state.connections(CLIENT, USERS[1].id).is_empty());
    state.refresh(&ben, CLIENT, t0(), LIFETIME).unwrap();
    // Unknown tokens are fine (RFC 7009).
    state.revoke("nonsense", CLIENT).unwrap();
}

#[test]
fn disconnect_only_touches_own_connections() {
    let mut state = State::new(GRACE);
    signed_in(&mut state, &USERS[0]);
    let id = state.connections(CLIENT, USERS[0].id)[0].id.clone();
    assert!(!state.disconnect(CLIENT, USERS[1].id, &id));
    assert!(!state.disconnect("client-b", USERS[0].id, &id));
    assert!(state.disconnect(CLIENT, USERS[0].id, &id));
    assert!(!state.disconnect(CLIENT, USERS[0].id, &id));
}

#[test]
fn logins_expire_and_are_bounded() {
    let mut state = State::new(GRACE);
    let id = state.start_login(request(&["openid"]), t0());
    assert!(state.login(&id, t0()).is_some());
    assert!(state.login(&id, t0() + LOGIN_LIFETIME).is_none());
    assert!(state.finish_login(&id, t0()).is_some());
    assert!(state.finish_login(&id, t0()).is_none());
    for _ in 0..MAX_LOGINS_IN_PROGRESS + 10 {
        state.start_login(request(&["openid"]), t0());
    }
    assert_eq!(state.logins.len(), MAX_LOGINS_IN_PROGRESS);
}
