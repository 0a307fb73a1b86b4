use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;

use super::*;

/// Test keys (PKCS#1 DER, made for these tests and for nothing else).
const ISSUER_KEY: &[u8] = include_bytes!("../../tests/fixtures/keys/issuer-rsa.der");
const OTHER_KEY: &[u8] = include_bytes!("../../tests/fixtures/keys/other-rsa.der");

const ISSUER: &str = "https://identity.example";
const CLIENT: &str = "client-1";
const NONCE: &str = "nonce-1";

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-03-01 10:00 UTC)
}

fn expected() -> Expected<'static> {
    Expected {
        issuer: ISSUER,
        client_id: CLIENT,
        nonce: NONCE,
        now: now(),
    }
}

/// The public half of a PKCS#1 key as a JWK, the way an issuer publishes it.
fn jwk(der: &[u8], kid: &str) -> Jwk {
    let pair = ring::rsa::KeyPair::from_der(der).expect("test key");
    let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
    serde_json::from_value(json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(&public.n),
        "e": URL_SAFE_NO_PAD.encode(&public.e),
    }))
    .unwrap()
}

fn claims() -> serde_json::Value {
    let iat = now().unix_timestamp();
    json!({
        "iss": ISSUER, "aud": CLIENT, "sub": "u-1", "xero_userid": "x-1", "name": "Jo Bloggs",
        "email": "jo@firm.example", "nonce": NONCE, "iat": iat, "exp": iat + 300,
    })
}

fn sign(claims: &serde_json::Value, der: &[u8], kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der)).unwrap()
}

fn published() -> Vec<Jwk> {
    vec![jwk(OTHER_KEY, "old"), jwk(ISSUER_KEY, "k1")]
}

fn refusal(token: &str) -> String {
    match verify(token, &published(), expected()) {
        Err(XpmError::InvalidIdToken(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_token_of_this_login_gives_its_claims() {
    let claims = verify(&sign(&claims(), ISSUER_KEY, Some("k1")), &published(), expected()).unwrap();
    assert_eq!(claims.display_name().as_deref(), Some("Jo Bloggs"));
    assert_eq!(claims.xero_user_id.as_deref(), Some("x-1"));
    // The issuer's trailing slash is not a difference; several audiences are fine with `azp`.
    let mut other = self::claims();
    other["iss"] = json!(format!("{ISSUER}/"));
    other["aud"] = json!([CLIENT, "another"]);
    other["azp"] = json!(CLIENT);
    verify(&sign(&other, ISSUER_KEY, Some("k1")), &published(), expected()).unwrap();
}

#[test]
fn without_a_kid_the_only_key_is_used() {
    let token = sign(&claims(), ISSUER_KEY, None);
    verify(&token, &[jwk(ISSUER_KEY, "k1")], expected()).unwrap();
    assert!(refusal(&token).contains("several"));
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let why = refusal(&sign(&claims(), OTHER_KEY, Some("k1")));
    assert!(why.contains("signature does not match"), "{why}");
    let why = refusal(&sign(&claims(), ISSUER_KEY, Some("unknown")));
    assert!(
        why.contains("`unknown`, which the issuer does not publish"),
        "{why}"
    );
    // A tampered payload with the original signature.
    let token = sign(&claims(), ISSUER_KEY, Some("k1"));
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut forged = self::claims();
    forged["name"] = json!("Mallory");
    parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
    assert!(refusal(&parts.join(".")).contains("signature does not match"));
}

#[test]
fn unsigned_and_shared_secret_tokens_are_refused() {
    let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
    let none = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
    assert!(refusal(&none).contains("not a signed JWT"));
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"anything"),
    )
    .unwrap();
    assert!(refusal(&hs).contains("HS256"));
    for junk in ["", "abc", "a.b", "a.b.c.d"] {
        refusal(junk);
    }
}

#[test]
fn each_claim_is_checked() {
    let cases: &[(&str, serde_json::Value, &str)] = &[
        (
            "iss",
            json!("https://elsewhere.example"),
            "issued by `https://elsewhere.example`",
        ),
        ("aud", json!("client-2"), "another app"),
        ("aud", json!([CLIENT, "client-2"]), "several audiences"),
        (
            "exp",
            json!(now().unix_timestamp() - 301),
            "expired at 2026-03-01T09:54:59Z",
        ),
        (
            "iat",
            json!(now().unix_timestamp() + 301),
            "issued at 2026-03-01T10:05:01Z",
        ),
        ("nonce", json!("nonce-2"), "another login"),
    ];
    for (claim, value, message) in cases {
        let mut claims = claims();
        claims[*claim] = value.clone();
        let why = refusal(&sign(&claims, ISSUER_KEY, Some("k1")));
        assert!(why.contains(message), "{claim}: {why}");
    }
    for required in ["iss", "exp", "nonce"] {
        let mut claims = claims();
        claims.as_object_mut().unwrap().remove(required);
        let why = refusal(&sign(&claims, ISSUER_KEY, Some("k1")));
        assert!(
            why.contains(&format!("`{required}`")) || why.contains("no nonce"),
            "{required}: {why}"
        );
    }
}

#[test]
fn clock_skew_within_five_minutes_is_tolerated() {
    let mut claims = claims();
    claims["exp"] = json!(now().unix_timestamp() - 299);
    claims["iat"] = json!(now().unix_timestamp() + 299);
    verify(&sign(&claims, ISSUER_KEY, Some("k1")), &published(), expected()).unwrap();
}

#[test]
fn key_sets_keep_the_keys_they_can_use() {
    let body = json!({"keys": [
        {"kty": "OKP", "crv": "X448", "x": "AAAA", "kid": "odd"},
        serde_json::to_value(jwk(ISSUER_KEY, "k1")).unwrap(),
    ]});
    let keys = parse_key_set(body.to_string().as_bytes()).unwrap();
    assert_eq!(keys.len(), 1);
    assert!(matches!(parse_key_set(b"[]"), Err(XpmError::InvalidIdToken(_))));
    assert!(matches!(
        parse_key_set(b"<html>"),
        Err(XpmError::InvalidIdToken(_))
    ));
}
