//! What stands between a caller and XPM's data: the gateway's 401/403, the rate limits with
//! Xero's headers, and each fault switch.

use std::time::{Duration, Instant};

use crate::common::{self, decode, start, start_with};
use hownow_sandbox::tenants::{DEMO_ORGANISATION, DEMO_PRACTICE, SECOND_PRACTICE, USERS};
use hownow_sandbox::Switches;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn problem(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.expect("a JSON problem"))
}

#[tokio::test]
async fn the_gateway_refuses_missing_and_unknown_tokens_and_foreign_tenants() {
    let env = start().await;
    let url = env.xpm_url("client.api/list");

    let anonymous = env
        .http
        .get(&url)
        .header("xero-tenant-id", DEMO_PRACTICE.id)
        .send()
        .await
        .unwrap();
    let (status, body) = problem(anonymous).await;
    assert_eq!(
        (status, body["Title"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Unauthorized"))
    );

    let forged = env
        .get_with("client.api/list", "not-a-token", DEMO_PRACTICE.id)
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    // The first user never connected the second practice; nobody has an XPM at the organisation.
    for tenant in [
        SECOND_PRACTICE.id,
        DEMO_ORGANISATION.id,
        "00000000-0000-0000-0000-000000000000",
        "",
    ] {
        let response = env.get_with("client.api/list", &env.token.clone(), tenant).await;
        let (status, body) = problem(response).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "tenant {tenant:?}");
        assert_eq!(body["Detail"], "AuthenticationUnsuccessful");
    }

    // The user without the privilege holds a token but no practice.
    let junior = env.token_for(&USERS[2]).await;
    assert_eq!(
        env.get_with("client.api/list", &junior, DEMO_PRACTICE.id)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn expired_tokens_and_short_lifetimes_come_from_the_admin_switches() {
    let env = start().await;
    env.admin_ok(Method::POST, "/tokens/expire", None).await;
    let (status, body) = problem(env.get("clientgroup.api/list").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["Detail"].as_str().unwrap().starts_with("TokenExpired"),
        "{body}"
    );

    let state = env
        .admin_ok(
            Method::POST,
            "/switches",
            Some(json!({"access_token_lifetime_secs": 7})),
        )
        .await;
    assert_eq!(state["access_token_lifetime_secs"], 7);
    let tokens = env.sandbox.issue_test_token(&USERS[0]).await.unwrap();
    assert_eq!(tokens.expires_in, 7);
}

#[tokio::test]
async fn the_minute_budget_runs_out_with_xeros_headers() {
    let env = start_with(|c| {
        c.switches = Switches {
            rate_limit_minute: Some(3),
            ..Switches::default()
        }
    })
    .await;
    for left in [2, 1, 0] {
        let response = env.get("clientgroup.api/list").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["x-minlimit-remaining"],
            left.to_string().as_str()
        );
        assert_eq!(
            response.headers()["x-daylimit-remaining"],
            (5000 - 3 + left).to_string().as_str()
        );
    }
    let refused = env.get("clientgroup.api/list").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["x-rate-limit-problem"], "minute");
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(refused.headers()["x-minlimit-remaining"], "0");

    // Another practice has its own budget.
    let token = env.token_for(&USERS[1]).await;
    assert_eq!(
        env.get_with("clientgroup.api/list", &token, SECOND_PRACTICE.id)
            .await
            .status(),
        StatusCode::OK
    );
    // Lifting the limit through the admin API lets calls through again.
    env.admin_ok(
        Method::POST,
        "/switches",
        Some(json!({"rate_limit_minute": null})),
    )
    .await;
    assert_eq!(env.get("clientgroup.api/list").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_day_budget_refuses_for_hours() {
    let env = start_with(|c| {
        c.switches = Switches {
            rate_limit_day: Some(2),
            ..Switches::default()
        }
    })
    .await;
    for _ in 0..2 {
        assert_eq!(env.get("clientgroup.api/list").await.status(), StatusCode::OK);
    }
    let refused = env.get("clientgroup.api/list").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["x-rate-limit-problem"], "day");
    let wait: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 80_000, "{wait}");
}

#[tokio::test]
async fn injected_failures_count_down_then_follow_the_rate() {
    let env = start_with(|c| {
        c.switches = Switches {
            fail_next: 2,
            ..Switches::unlimited()
        }
    })
    .await;
    for _ in 0..2 {
        let response = env.get("clientgroup.api/list").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("x-minlimit-remaining"));
    }
    assert_eq!(env.get("clientgroup.api/list").await.status(), StatusCode::OK);

    env.admin_ok(
        Method::POST,
        "/switches",
        Some(json!({"fail_every": 2, "fail_status": 500})),
    )
    .await;
    let statuses: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..4 {
            out.push(env.get("clientgroup.api/list").await.status().as_u16());
        }
        out
    };
    assert_eq!(statuses.iter().filter(|s| **s == 500).count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 2, "{statuses:?}");

    let (status, _) = env
        .admin(Method::POST, "/switches", Some(json!({"fail_status": 404})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn truncated_bodies_stop_mid_document() {
    let env = start_with(|c| {
        c.switches = Switches {
            truncate_after_bytes: Some(1500),
            ..Switches::unlimited()
        }
    })
    .await;
    let body = env
        .get("client.api/list?detailed=true")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 1500);
    match hownow_xpm::decode::decode_all(&body[..]) {
        Err(hownow_xpm::XpmError::Decode(_)) => {}
        other => panic!("a truncated document must not decode: {other:?}"),
    }
}

#[tokio::test]
async fn malformed_xml_breaks_after_the_first_record() {
    let env = start_with(|c| {
        c.switches = Switches {
            malformed_xml: true,
            ..Switches::unlimited()
        }
    })
    .await;
    for path in ["client.api/list", "clientgroup.api/list", "client.api/contacts"] {
        let xml = env.xml(path).await;
        assert!(xml.starts_with("<Response"), "{path}");
        assert!(
            matches!(
                hownow_xpm::decode::decode_all(xml.as_bytes()),
                Err(hownow_xpm::XpmError::Decode(_))
            ),
            "{path} decoded"
        );
    }
    env.admin_ok(Method::POST, "/switches", Some(json!({"malformed_xml": false})))
        .await;
    decode(&env.xml("client.api/list").await);
}

#[tokio::test]
async fn the_throttle_paces_response_bodies() {
    let env = start_with(|c| {
        c.switches = Switches {
            throttle_bytes_per_sec: Some(20_000),
            ..Switches::unlimited()
        }
    })
    .await;
    // Roughly 400 KB at 20 KB/s would take 20 s: read only the first 40 KB, which cannot take
    // less than about 1.8 s (the pace is an average since the first byte).
    let started = Instant::now();
    let mut response = env.get("client.api/list?detailed=true").await;
    let mut received = 0usize;
    while received < 40_000 {
        let chunk = response.chunk().await.unwrap().expect("more body");
        received += chunk.len();
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1_700),
        "{received} bytes in {took:?}"
    );
}

#[tokio::test]
async fn latency_holds_each_answer_back_and_is_bounded() {
    let env = start().await;
    env.admin_ok(Method::POST, "/switches", Some(json!({"latency_ms": 400})))
        .await;
    let started = Instant::now();
    let response = env.get("clientgroup.api/list").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );

    let (status, body) = env
        .admin(Method::POST, "/switches", Some(json!({"latency_ms": 3_600_000})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].as_str().unwrap().contains("latency_ms"), "{body}");
    env.admin_ok(Method::POST, "/switches", Some(json!({"latency_ms": 0})))
        .await;
    let started = Instant::now();
    env.get("clientgroup.api/list").await;
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn list_paging_is_honoured_unless_the_practice_ignores_it() {
    let env = start().await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let all: Vec<String> = data.clients().iter().map(|c| c.uuid.clone()).collect();

    let page2 = decode(&env.xml("client.api/list?page=2&pagesize=10").await)
        .clients
        .unwrap();
    assert_eq!(common::uuids(&page2), all[10..20]);

    env.admin_ok(Method::POST, "/switches", Some(json!({"ignore_page": true})))
        .await;
    for page in [1, 2, 3] {
        let again = decode(&env.xml(&format!("client.api/list?page={page}&pagesize=10")).await)
            .clients
            .unwrap();
        assert_eq!(common::uuids(&again), all, "page {page} returns the whole list");
    }
}

fn gunzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data).read_to_end(&mut out)?;
    Ok(out)
}

async fn get_gzip(env: &common::Env, path: &str) -> reqwest::Response {
    env.http
        .get(env.xpm_url(path))
        .bearer_auth(&env.token)
        .header("xero-tenant-id", DEMO_PRACTICE.id)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn gzip_is_served_when_asked_and_the_faults_shape_the_compressed_bytes() {
    let env = start().await;
    let plain = env.get("client.api/list?detailed=true").await;
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();

    let response = get_gzip(&env, "client.api/list?detailed=true").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["vary"], "accept-encoding");
    assert!(response.headers().get("date").is_some());
    let wire = response.bytes().await.unwrap();
    assert!(wire.len() * 2 < plain.len(), "{} vs {}", wire.len(), plain.len());
    assert_eq!(gunzip(&wire).unwrap(), plain);
    // Small answers too.
    let groups = get_gzip(&env, "clientgroup.api/list").await;
    assert_eq!(groups.headers()["content-encoding"], "gzip");
    decode(&String::from_utf8(gunzip(&groups.bytes().await.unwrap()).unwrap()).unwrap());

    // Truncation cuts the compressed stream, as a dropped connection would.
    env.admin_ok(
        Method::POST,
        "/switches",
        Some(json!({"truncate_after_bytes": wire.len() / 2})),
    )
    .await;
    let cut = get_gzip(&env, "client.api/list?detailed=true")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(cut.len(), wire.len() / 2);
    assert_eq!(cut[..], wire[..cut.len()]);
    assert!(gunzip(&cut).is_err(), "a cut gzip stream is incomplete");

    // The switch off: plain answers even when gzip is accepted.
    env.admin_ok(
        Method::POST,
        "/switches",
        Some(json!({"truncate_after_bytes": null, "gzip": false})),
    )
    .await;
    let response = get_gzip(&env, "client.api/list?detailed=true").await;
    assert!(response.headers().get("content-encoding").is_none());
    assert_eq!(response.bytes().await.unwrap(), plain);
}

#[tokio::test]
async fn every_xpm_answer_carries_a_date() {
    let env = start_with(|c| c.switches.rate_limit_minute = Some(1)).await;
    let ok = env.get("clientgroup.api/list").await;
    let limited = env.get("clientgroup.api/list").await;
    let unauthorised = env
        .get_with("clientgroup.api/list", "not-a-token", DEMO_PRACTICE.id)
        .await;
    for (what, response) in [("200", ok), ("429", limited), ("401", unauthorised)] {
        let date = response.headers().get("date").expect(what).to_str().unwrap();
        assert!(
            hownow_xpm::http::parse_http_date(date).is_some(),
            "{what}: {date}"
        );
    }
}

#[tokio::test]
async fn first_byte_delays_are_per_endpoint_validated_and_may_be_long() {
    let env = start().await;
    env.admin_ok(
        Method::POST,
        "/switches",
        Some(json!({"first_byte_delay_ms": {"client.api/contacts": 400}})),
    )
    .await;
    let started = Instant::now();
    let response = env.get("client.api/contacts").await;
    // The wait is before the headers: they cannot arrive sooner.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(response.status(), StatusCode::OK);

    // A large practice's list: 150 s is accepted; more than half an hour, or an endpoint XPM
    // does not have, is not.
    let state = env
        .admin_ok(
            Method::POST,
            "/switches",
            Some(json!({"first_byte_delay_ms": {"client.api/list": 150_000}})),
        )
        .await;
    assert_eq!(
        state["switches"]["first_byte_delay_ms"],
        json!({"client.api/list": 150_000})
    );
    for bad in [
        json!({"client.api/list": 30 * 60 * 1000 + 1}),
        json!({"client.api/search": 10}),
    ] {
        let (status, body) = env
            .admin(
                Method::POST,
                "/switches",
                Some(json!({"first_byte_delay_ms": bad})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("first_byte_delay_ms"),
            "{body}"
        );
    }
    env.admin_ok(
        Method::POST,
        "/switches",
        Some(json!({"first_byte_delay_ms": {}})),
    )
    .await;
    assert_eq!(env.get("client.api/contacts").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_held_list_sends_its_first_bytes_and_the_rest_once_the_switch_is_cleared() {
    let env = start().await;
    env.admin_ok(
        Method::POST,
        "/switches",
        Some(json!({"hold_list_after_bytes": 5_000})),
    )
    .await;
    let mut response = env.get("client.api/list?detailed=true").await;
    let mut body = Vec::new();
    while body.len() < 5_000 {
        body.extend_from_slice(&response.chunk().await.unwrap().expect("more body"));
    }
    // Exactly the bytes before the hold; the sandbox answers other calls meanwhile.
    assert_eq!(body.len(), 5_000);
    assert_eq!(env.get("clientgroup.api/list").await.status(), StatusCode::OK);
    let state = env.admin_ok(Method::GET, "/state", None).await;
    assert_eq!(state["switches"]["hold_list_after_bytes"], 5_000);

    env.admin_ok(
        Method::POST,
        "/switches",
        Some(json!({"hold_list_after_bytes": null})),
    )
    .await;
    while let Some(chunk) = response.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    let decoded = decode(std::str::from_utf8(&body).unwrap());
    assert_eq!(decoded.clients.unwrap().len(), 120);
}
