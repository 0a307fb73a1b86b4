//! Single records: a client by UUID, contacts (paged or all at once, one with its client link),
//! groups.

use crate::client_support::*;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer};

use super::{pm_get, xml, PM};

#[tokio::test]
async fn a_single_client_is_fetched_by_uuid() {
    let server = MockServer::start().await;
    let body = format!(
        "<Response api-method=\"Get\"><Status>OK</Status>{}<WebUrl>https://practicemanager.xero.com/Client/123</WebUrl></Response>",
        client_xml("uuid-x", "Xavier")
    );
    pm_get("client.api/get/uuid-x")
        .respond_with(xml(body))
        .expect(1)
        .mount(&server)
        .await;
    let fetched = practice(&server.uri()).client("uuid-x").await.unwrap();
    assert_eq!(fetched.value.name.as_deref(), Some("Xavier"));
    assert_eq!(
        fetched.value.web_url.as_deref(),
        Some("https://practicemanager.xero.com/Client/123")
    );
    assert_eq!(fetched.meta.status, 200);
}

fn contacts_page(contacts: &[(&str, &str)], next: Option<&str>) -> String {
    let body: String = contacts
        .iter()
        .map(|(u, n)| format!("<Contact><UUID>{u}</UUID><Name>{n}</Name><Email>{u}@x.example</Email><IsDeleted>No</IsDeleted></Contact>"))
        .collect();
    format!(
        "<Response><Status>OK</Status><Contacts>{body}</Contacts>{}</Response>",
        pagination_xml(next)
    )
}

#[tokio::test]
async fn contacts_are_paged_one_page_at_a_time_or_all_at_once() {
    let server = MockServer::start().await;
    pm_get("client.api/contacts")
        .and(query_param("pageSize", "500"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(xml(contacts_page(&[("k1", "Kim"), ("k2", "Kai")], Some("t2"))))
        .expect(2)
        .mount(&server)
        .await;
    pm_get("client.api/contacts")
        .and(query_param("pageSize", "500"))
        .and(query_param("pageToken", "t2"))
        .respond_with(xml(contacts_page(&[("k3", "Kit")], Some("t3"))))
        .expect(2)
        .mount(&server)
        .await;
    pm_get("client.api/contacts")
        .and(query_param("pageSize", "500"))
        .and(query_param("pageToken", "t3"))
        .respond_with(xml(contacts_page(&[("k4", "Kip")], None)))
        .expect(1)
        .mount(&server)
        .await;

    let client = practice(&server.uri());
    let page = client.contacts_page(500, None).await.unwrap().value;
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].email.as_deref(), Some("k1@x.example"));
    assert_eq!(page.next_page_token.as_deref(), Some("t2"));
    let page = client.contacts_page(500, Some("t2")).await.unwrap().value;
    assert_eq!(page.next_page_token.as_deref(), Some("t3"));

    let all = client.all_contacts(500).await.unwrap();
    let uuids: Vec<_> = all.value.iter().map(|c| c.uuid.clone().unwrap()).collect();
    assert_eq!(uuids, ["k1", "k2", "k3", "k4"]);
}

#[tokio::test]
async fn a_single_contact_with_its_client_link() {
    let server = MockServer::start().await;
    pm_get("client.api/contact/k1")
        .and(query_param("clientUuid", "uuid-a"))
        .respond_with(xml(
            "<Response><Status>OK</Status><Contact><UUID>k1</UUID><Name>Kim</Name><IsPrimary>Yes</IsPrimary>\
             <Position>Director</Position></Contact></Response>",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let contact = practice(&server.uri())
        .contact("k1", Some("uuid-a"))
        .await
        .unwrap()
        .value;
    assert_eq!(contact.position.as_deref(), Some("Director"));
    assert_eq!(contact.is_primary, Some(true));
}

#[tokio::test]
async fn groups_are_listed_and_fetched_under_a_base_path_prefix() {
    let server = MockServer::start().await;
    let prefixed = |endpoint: &str| {
        Mock::given(method("GET"))
            .and(path(format!("/xero{PM}/{endpoint}")))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .and(header("xero-tenant-id", TENANT))
            .and(header("accept", "application/xml"))
    };
    prefixed("clientgroup.api/list")
        .respond_with(xml(
            "<Response><Status>OK</Status><Groups><Group><UUID>g1</UUID><Name>Monthly</Name><Taxable>No</Taxable></Group>\
             <Group><UUID>g2</UUID><Name>Trusts</Name><Taxable>Yes</Taxable></Group></Groups></Response>",
        ))
        .expect(1)
        .mount(&server)
        .await;
    prefixed("clientgroup.api/get/g2")
        .respond_with(xml(
            "<Response><Status>OK</Status><Group><UUID>g2</UUID><Name>Trusts</Name><Taxable>Yes</Taxable>\
             <Clients><Client><UUID>uuid-a</UUID><Name>Alpha</Name></Client></Clients></Group></Response>",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let client = practice(&format!("{}/xero/", server.uri()));
    let groups = client.groups().await.unwrap().value;
    let names: Vec<_> = groups.iter().map(|g| g.name.clone().unwrap()).collect();
    assert_eq!(names, ["Monthly", "Trusts"]);
    assert_eq!(groups[1].taxable, Some(true));

    let group = client.group("g2").await.unwrap().value;
    assert_eq!(group.clients.len(), 1);
    assert_eq!(group.clients[0].uuid.as_deref(), Some("uuid-a"));
}
