//! Connections: listed, filtered to Practice Manager, deleted, refused; and the token source
//! asked before every request.

use crate::client_support::*;
use hownow_xpm::{Secret, XeroApi, XpmError};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{xml, PM};

#[tokio::test]
async fn connections_are_listed_and_filtered_to_practice_manager() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/connections"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "conn-1", "authEventId": "ae", "tenantId": "t-xpm-1", "tenantType": "PRACTICEMANAGER",
             "tenantName": "Firm One", "createdDateUtc": "2019-07-09T23:40:30.1833130", "updatedDateUtc": "2020-05-15T01:35:13.8491980"},
            {"id": "conn-2", "tenantId": "t-org", "tenantType": "ORGANISATION", "tenantName": "Firm Ltd"},
            {"id": "conn-3", "tenantId": "t-xpm-2", "tenantType": "PRACTICEMANAGER", "tenantName": null},
        ])))
        .expect(2)
        .mount(&server)
        .await;
    let api = XeroApi::new(api_config(&server.uri())).unwrap();
    let token = Secret::new(TOKEN);

    let all = api.connections(&token).await.unwrap();
    assert_eq!(all.value.len(), 3);
    assert_eq!(all.meta.status, 200);
    assert_eq!(all.value[0].tenant_name.as_deref(), Some("Firm One"));

    let xpm = api.practice_manager_connections(&token).await.unwrap();
    let tenants: Vec<_> = xpm
        .iter()
        .map(|c| (c.id.as_str(), c.tenant_id.as_str()))
        .collect();
    assert_eq!(tenants, [("conn-1", "t-xpm-1"), ("conn-3", "t-xpm-2")]);
}

#[tokio::test]
async fn no_practice_manager_connection_gives_an_empty_list() {
    let server = MockServer::start().await;
    Mock::given(path("/connections"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "c", "tenantId": "t", "tenantType": "ORGANISATION"}
        ])))
        .mount(&server)
        .await;
    let api = XeroApi::new(api_config(&server.uri())).unwrap();
    assert!(api
        .practice_manager_connections(&Secret::new(TOKEN))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_connection_is_deleted_by_its_id() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/connections/conn-1"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let api = XeroApi::new(api_config(&server.uri())).unwrap();
    api.delete_connection(&Secret::new(TOKEN), "conn-1")
        .await
        .unwrap();
}

#[tokio::test]
async fn connections_with_a_dead_token_need_reauthorisation() {
    let server = MockServer::start().await;
    Mock::given(path("/connections"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "Title": "Unauthorized", "Status": 401, "Detail": "TokenExpired: token expired at 05/01/2024 10:00:00"
        })))
        .mount(&server)
        .await;
    let api = XeroApi::new(api_config(&server.uri())).unwrap();
    let err = api.connections(&Secret::new(TOKEN)).await.unwrap_err();
    assert!(
        matches!(&err, XpmError::NeedsReauth { reason } if reason.starts_with("TokenExpired")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_token_source_is_asked_before_every_request() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let server = MockServer::start().await;
    for n in 1..=2 {
        Mock::given(path(format!("{PM}/clientgroup.api/list")))
            .and(header("authorization", format!("Bearer token-{n}").as_str()))
            .respond_with(xml("<Response><Status>OK</Status><Groups /></Response>"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let source = move || {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move { Ok(Secret::new(format!("token-{n}"))) }
    };
    let client = XeroApi::new(api_config(&server.uri()))
        .unwrap()
        .practice(TENANT, Arc::new(source));
    client.groups().await.unwrap();
    client.groups().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
