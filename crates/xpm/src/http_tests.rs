use super::*;
use reqwest::header::HeaderValue;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    map
}

#[test]
fn parses_http_dates() {
    let d = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    assert_eq!(d.unix_timestamp(), 784111777);
    assert!(parse_http_date("06 Nov 1994").is_none());
}

#[test]
fn reads_rate_limit_headers() {
    let h = headers(&[
        ("x-minlimit-remaining", "59"),
        ("X-DayLimit-Remaining", " 4990 "),
        ("x-appminlimit-remaining", "9999"),
        ("date", "Tue, 02 Jan 2024 03:04:05 GMT"),
    ]);
    let meta = ResponseMeta::from_response(StatusCode::OK, &h, 2);
    assert_eq!(meta.min_limit_remaining, Some(59));
    assert_eq!(meta.day_limit_remaining, Some(4990));
    assert_eq!(meta.app_min_limit_remaining, Some(9999));
    assert_eq!(meta.date.unwrap().year(), 2024);
    assert_eq!(meta.attempts, 2);
}

#[test]
fn timeouts_per_kind_of_request_default_to_xpms_pace() {
    let http = HttpConfig::default();
    // The detailed list: XPM computes it before the first byte, then streams it for minutes.
    assert_eq!(http.list_response_timeout, Duration::from_secs(15 * 60));
    assert_eq!(http.list_idle_timeout, Duration::from_secs(5 * 60));
    assert_eq!(http.list_timeout_retry_pause, Duration::from_secs(30));
    // Everything else is small.
    assert_eq!(http.response_timeout, Duration::from_secs(120));
    assert_eq!(http.idle_timeout, Duration::from_secs(60));
    assert_eq!(http.connect_timeout, Duration::from_secs(10));
}

#[test]
fn sent_at_is_the_date_less_the_wait_for_the_headers() {
    let meta = ResponseMeta {
        date: parse_http_date("Tue, 02 Jan 2024 03:04:05 GMT"),
        elapsed: Duration::from_secs(150),
        ..ResponseMeta::default()
    };
    assert_eq!(meta.sent_at(), parse_http_date("Tue, 02 Jan 2024 03:01:35 GMT"));
    assert_eq!(ResponseMeta::default().sent_at(), None);
}

#[test]
fn retry_after_as_seconds_or_date() {
    assert_eq!(
        retry_after(&headers(&[("retry-after", "17")])),
        Some(Duration::from_secs(17))
    );
    let h = headers(&[
        ("retry-after", "Tue, 02 Jan 2024 03:05:05 GMT"),
        ("date", "Tue, 02 Jan 2024 03:04:05 GMT"),
    ]);
    assert_eq!(retry_after(&h), Some(Duration::from_secs(60)));
    assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
}

#[test]
fn rate_limit_problem_kinds() {
    assert_eq!(
        rate_limit_kind(&headers(&[("x-rate-limit-problem", "Minute")])),
        RateLimitKind::Minute
    );
    assert_eq!(
        rate_limit_kind(&headers(&[("x-rate-limit-problem", "day")])),
        RateLimitKind::Day
    );
    assert_eq!(
        rate_limit_kind(&headers(&[("x-rate-limit-problem", "appminute")])),
        RateLimitKind::Other
    );
    assert_eq!(rate_limit_kind(&HeaderMap::new()), RateLimitKind::Other);
}

#[test]
fn problem_detail_prefers_detail() {
    assert_eq!(
        problem_detail(r#"{"Title":"Unauthorized","Status":401,"Detail":"TokenExpired: x"}"#).as_deref(),
        Some("TokenExpired: x")
    );
    assert_eq!(
        problem_detail(r#"{"Title":"Forbidden"}"#).as_deref(),
        Some("Forbidden")
    );
    assert_eq!(problem_detail("<html>"), None);
}

#[test]
fn retry_decisions() {
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(150),
        max_rate_limit_wait: Duration::from_secs(5),
    };
    let server = XpmError::Http {
        status: 503,
        body: String::new(),
    };
    let first = policy.delay_before_retry(&server, 1).unwrap();
    assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
    let second = policy.delay_before_retry(&server, 2).unwrap();
    assert!(second >= Duration::from_millis(75) && second <= Duration::from_millis(150));
    assert_eq!(policy.delay_before_retry(&server, 3), None, "attempts exhausted");
    let minute = |secs| XpmError::RateLimited {
        kind: RateLimitKind::Minute,
        retry_after: Some(Duration::from_secs(secs)),
    };
    assert_eq!(
        policy.delay_before_retry(&minute(2), 1),
        Some(Duration::from_secs(2))
    );
    assert_eq!(
        policy.delay_before_retry(&minute(6), 1),
        None,
        "longer than the cap"
    );
    let day = XpmError::RateLimited {
        kind: RateLimitKind::Day,
        retry_after: Some(Duration::from_secs(1)),
    };
    assert_eq!(policy.delay_before_retry(&day, 1), None);
    let app = XpmError::RateLimited {
        kind: RateLimitKind::Other,
        retry_after: Some(Duration::from_secs(1)),
    };
    assert_eq!(policy.delay_before_retry(&app, 1), Some(Duration::from_secs(1)));
    let forbidden = XpmError::Forbidden {
        detail: String::new(),
    };
    assert_eq!(policy.delay_before_retry(&forbidden, 1), None);
    let client_error = XpmError::Http {
        status: 404,
        body: String::new(),
    };
    assert_eq!(policy.delay_before_retry(&client_error, 1), None);
}

#[test]
fn backoff_is_bounded_for_huge_attempt_numbers() {
    let policy = RetryPolicy {
        max_attempts: u32::MAX,
        ..RetryPolicy::default()
    };
    assert!(policy.backoff(200) <= policy.max_delay);
}

#[test]
fn joins_paths_with_or_without_trailing_slash() {
    let a = Url::parse("http://127.0.0.1:1/").unwrap();
    let b = Url::parse("http://127.0.0.1:1/prefix").unwrap();
    let c = Url::parse("http://127.0.0.1:1/prefix/").unwrap();
    assert_eq!(
        join_path(&a, &["connections"]).unwrap().as_str(),
        "http://127.0.0.1:1/connections"
    );
    assert_eq!(
        join_path(&b, &["x", "y"]).unwrap().as_str(),
        "http://127.0.0.1:1/prefix/x/y"
    );
    assert_eq!(
        join_path(&c, &["x"]).unwrap().as_str(),
        "http://127.0.0.1:1/prefix/x"
    );
    assert_eq!(
        join_path(&a, &["get", "a/b c"]).unwrap().as_str(),
        "http://127.0.0.1:1/get/a%2Fb%20c"
    );
}
