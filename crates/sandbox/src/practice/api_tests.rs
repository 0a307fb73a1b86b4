use super::*;

#[test]
fn page_tokens_round_trip_and_refuse_strangers() {
    let token = page_token("clients", 1234);
    assert_eq!(page_position("clients", Some(&token)), Some(1234));
    assert_eq!(page_position("contacts", Some(&token)), None);
    assert_eq!(page_position("clients", Some("garbage!")), None);
    assert_eq!(page_position("clients", None), Some(0));
}

#[test]
fn pages_skip_ineligible_records_and_know_when_they_end() {
    let even = |i: usize| i % 2 == 0;
    assert_eq!(page_of(10, 0, 2, even), (vec![0, 2], Some(4)));
    assert_eq!(page_of(10, 4, 3, even), (vec![4, 6, 8], None));
    assert_eq!(page_of(10, 9, 3, even), (vec![], None));
}

#[test]
fn endpoints_are_named_without_version_or_identifier() {
    assert_eq!(
        endpoint_of("/practicemanager/3.1/client.api/list"),
        Some("client.api/list")
    );
    assert_eq!(endpoint_of("/client.api/get/abc-123"), Some("client.api/get"));
    assert_eq!(
        endpoint_of("/practicemanager/3.0/clientgroup.api/get/g1"),
        Some("clientgroup.api/get")
    );
    assert_eq!(endpoint_of("/practicemanager/3.1/client.api/search"), None);
    assert_eq!(endpoint_of("/connections"), None);
}

#[test]
fn gzip_is_accepted_unless_refused() {
    let with = |value: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        accepts_gzip(&headers)
    };
    assert!(with("gzip"));
    assert!(with("br, GZIP;q=0.5"));
    assert!(!with("gzip;q=0"));
    assert!(!with("identity"));
    assert!(!with("deflate, br"));
    assert!(!accepts_gzip(&HeaderMap::new()));
}

#[test]
fn query_names_are_case_insensitive_and_numbers_checked() {
    let q = Query::parse(Some("modifiedSince=2024-01-01T00:00:00&pageSize=501".into()));
    assert_eq!(q.get("modifiedsince"), Some("2024-01-01T00:00:00"));
    assert!(q.number("pagesize", 50, 1..=500).is_err());
    assert_eq!(q.number("absent", 50, 1..=500), Ok(50));
}
