//! What stands between a caller and XPM's data: the gateway's 401/403, the rate limits with
//! Xero's headers, and each fault switch.

mod common;

use std::time::{Duration, Instant};

use common::{decode, start, start_with};
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
