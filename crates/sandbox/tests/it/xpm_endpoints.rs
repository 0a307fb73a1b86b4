//! Every XPM read endpoint over loopback HTTP: envelopes, shapes, paging, errors with HTTP 200,
//! headers.

use crate::common::{decode, start, uuids};
use hownow_sandbox::tenants::{DEMO_PRACTICE, SECOND_PRACTICE, USERS};
use reqwest::StatusCode;

#[tokio::test]
async fn detailed_list_holds_every_client_with_collections_and_xero_headers() {
    let env = start().await;
    let response = env.get("client.api/list?detailed=true").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/xml; charset=utf-8");
    assert!(headers.contains_key("date"));
    for name in [
        "x-minlimit-remaining",
        "x-daylimit-remaining",
        "x-appminlimit-remaining",
    ] {
        let value: u64 = headers[name].to_str().unwrap().parse().unwrap();
        assert!(value > 0, "{name}");
    }
    let xml = response.text().await.unwrap();
    assert!(xml.starts_with("<Response api-method=\"List\">\n  <Status>OK</Status>\n  <Clients>"));
    assert!(xml.contains("<PrepareGST>") && xml.contains("<GSTRegistered>"));

    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let clients = decode(&xml).clients.unwrap();
    let expected: Vec<String> = data.clients().iter().map(|c| c.uuid.clone()).collect();
    assert_eq!(
        uuids(&clients),
        expected,
        "all clients, archived and deleted included, in order"
    );
    assert!(clients.iter().any(|c| c.is_deleted == Some(true)));
    assert!(clients.iter().any(|c| c.is_archived == Some(true)));
    assert!(clients.iter().any(|c| !c.notes.is_empty()));
    assert!(clients.iter().any(|c| !c.relationships.is_empty()));
    assert!(clients.iter().any(|c| !c.groups.is_empty()));
    assert!(clients.iter().any(|c| c.tax_number.is_some()));
}

#[tokio::test]
async fn light_list_has_contacts_but_no_detail() {
    let env = start().await;
    let clients = env.decoded("client.api/list").await.clients.unwrap();
    assert!(clients.iter().any(|c| !c.contacts.is_empty()));
    assert!(clients
        .iter()
        .all(|c| c.notes.is_empty() && c.relationships.is_empty() && c.groups.is_empty()));
    assert!(clients
        .iter()
        .all(|c| c.tax_number.is_none() && c.balance_month.is_none()));
    for c in &clients {
        if !c.contacts.is_empty() {
            let primaries = c.contacts.iter().filter(|k| k.is_primary == Some(true)).count();
            assert_eq!(primaries, 1, "{:?}", c.uuid);
        }
    }
}

#[tokio::test]
async fn paged_list_walks_active_clients_to_the_end() {
    let env = start().await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let active: Vec<String> = data
        .clients()
        .iter()
        .filter(|c| !c.details.is_archived() && !c.details.is_deleted())
        .map(|c| c.uuid.clone())
        .collect();

    let mut seen = Vec::new();
    let mut path = "client.api/paged-list?pageSize=7".to_string();
    for page in 0.. {
        assert!(page < 100, "paging did not end");
        let xml = env.xml(&path).await;
        assert!(xml.starts_with("<Response api-method=\"PagedList\">"));
        let decoded = decode(&xml);
        let clients = decoded.clients.unwrap();
        assert!(clients.len() <= 7);
        assert!(clients
            .iter()
            .all(|c| c.contacts.is_empty() && c.notes.is_empty()));
        seen.extend(uuids(&clients));
        let pagination = decoded.pagination.expect("pagination");
        assert!(pagination
            .first
            .as_deref()
            .unwrap()
            .ends_with("client.api/paged-list?pageSize=7"));
        match pagination.next_page_token() {
            Some(token) => path = format!("client.api/paged-list?pageSize=7&pageToken={token}"),
            None => {
                assert!(!xml.contains("<Next>"), "no Next on the last page");
                break;
            }
        }
    }
    assert_eq!(seen, active);

    let default_page = env.decoded("client.api/paged-list").await.clients.unwrap();
    assert_eq!(default_page.len(), 50.min(active.len()));
}

#[tokio::test]
async fn bad_parameters_and_identifiers_are_errors_with_http_200() {
    let env = start().await;
    let error = "<Response>\n  <Status>ERROR</Status>\n  <ErrorDescription>Invalid client identifier</ErrorDescription>\n</Response>\n";
    assert_eq!(env.xml("client.api/get/not-a-uuid").await, error);
    assert_eq!(
        env.xml("client.api/get/6f0c7f5e-0000-4000-8000-000000000000")
            .await,
        error
    );
    for path in [
        "client.api/paged-list?pageSize=501",
        "client.api/paged-list?pageSize=0",
        "client.api/paged-list?pageToken=nonsense",
        "client.api/contacts?pageSize=abc",
        "client.api/list?modifiedsince=2024-13-01T00:00:00",
        "client.api/list?modifiedsince=yesterday",
        "client.api/contact/nobody",
        "clientgroup.api/get/nogroup",
    ] {
        let xml = env.xml(path).await;
        assert!(xml.contains("<Status>ERROR</Status>"), "{path}: {xml}");
        assert!(matches!(
            hownow_xpm::decode::decode_all(xml.as_bytes()),
            Err(hownow_xpm::XpmError::Api { .. })
        ));
    }
}

#[tokio::test]
async fn get_client_is_detailed_with_its_web_url_beside_it() {
    let env = start().await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let client = data
        .clients()
        .iter()
        .find(|c| {
            c.details.values.web_url.is_some() && !c.contacts.is_empty() && !c.details.values.notes.is_empty()
        })
        .unwrap();
    let xml = env.xml(&format!("client.api/get/{}", client.uuid)).await;
    assert!(xml.starts_with("<Response api-method=\"Get\">\n  <Status>OK</Status>\n  <Client>"));
    assert!(xml.contains("</Client>\n  <WebUrl>"), "{xml}");
    let decoded = decode(&xml).clients.unwrap();
    assert_eq!(decoded.len(), 1);
    let got = &decoded[0];
    assert_eq!(got.uuid.as_deref(), Some(client.uuid.as_str()));
    assert_eq!(got.web_url, client.details.values.web_url);
    assert_eq!(got.contacts.len(), client.contacts.len());
    assert_eq!(got.notes.len(), client.details.values.notes.len());
}

#[tokio::test]
async fn contacts_page_through_every_live_contact_without_client_links() {
    let env = start().await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let mut seen = Vec::new();
    let mut path = "client.api/contacts?pageSize=40".to_string();
    for page in 0.. {
        assert!(page < 100, "paging did not end");
        let xml = env.xml(&path).await;
        assert!(!xml.contains("<IsPrimary>") && !xml.contains("<Position>"));
        let decoded = decode(&xml);
        let contacts = decoded.contacts.unwrap();
        assert!(contacts.len() <= 40);
        seen.extend(contacts.into_iter().map(|c| c.uuid.unwrap()));
        match decoded.pagination.unwrap().next_page_token() {
            Some(token) => path = format!("client.api/contacts?pageSize=40&pageToken={token}"),
            None => break,
        }
    }
    let live: Vec<String> = data
        .contacts()
        .iter()
        .filter(|c| !c.is_deleted)
        .map(|c| c.uuid.clone())
        .collect();
    assert_eq!(seen, live);
}

#[tokio::test]
async fn a_contact_shows_its_link_only_when_asked_with_the_client() {
    let env = start().await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let client = data.clients().iter().find(|c| c.contacts.len() >= 2).unwrap();
    let link = client.contacts.iter().find(|l| l.is_primary).unwrap();

    let alone = decode(&env.xml(&format!("client.api/contact/{}", link.contact)).await);
    let alone = alone.contacts.unwrap();
    let contact = &alone[0];
    assert_eq!(contact.uuid.as_deref(), Some(link.contact.as_str()));
    assert_eq!((contact.is_primary, contact.position.clone()), (None, None));

    let path = format!("client.api/contact/{}?clientUuid={}", link.contact, client.uuid);
    let with_client = decode(&env.xml(&path).await).contacts.unwrap();
    assert_eq!(with_client[0].is_primary, Some(true));
    assert_eq!(with_client[0].position, link.position);
    assert_eq!(with_client[0].name, contact.name);

    let stranger = data
        .clients()
        .iter()
        .find(|c| !c.contacts.iter().any(|l| l.contact == link.contact))
        .unwrap();
    let path = format!("client.api/contact/{}?clientUuid={}", link.contact, stranger.uuid);
    assert!(env.xml(&path).await.contains("<Status>ERROR</Status>"));
}

#[tokio::test]
async fn groups_list_and_get_with_members() {
    let env = start().await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let groups = env.decoded("clientgroup.api/list").await.groups.unwrap();
    assert_eq!(groups.len(), data.groups().len());
    assert!(groups.iter().all(|g| g.taxable.is_some() && g.clients.is_empty()));

    let busiest = data
        .groups()
        .iter()
        .max_by_key(|g| data.group_members(&g.uuid).count())
        .unwrap();
    let got = env
        .decoded(&format!("clientgroup.api/get/{}", busiest.uuid))
        .await
        .groups
        .unwrap();
    let got = &got[0];
    let members: Vec<Option<String>> = data
        .group_members(&busiest.uuid)
        .map(|c| Some(c.uuid.clone()))
        .collect();
    assert!(!members.is_empty());
    assert_eq!(
        got.clients.iter().map(|r| r.uuid.clone()).collect::<Vec<_>>(),
        members
    );
    assert_eq!(got.name.as_deref(), Some(busiest.name.as_str()));
}

#[tokio::test]
async fn modifiedsince_narrows_the_list_to_clients_changed_since() {
    let env = start().await;
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let mut times: Vec<_> = data.clients().iter().map(|c| c.modified).collect();
    times.sort();
    let cutoff = times[times.len() / 2];
    let since = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        cutoff.year(),
        u8::from(cutoff.month()),
        cutoff.day(),
        cutoff.hour(),
        cutoff.minute(),
        cutoff.second()
    );
    let got = env
        .decoded(&format!("client.api/list?detailed=true&modifiedsince={since}"))
        .await
        .clients
        .unwrap();
    let expected: Vec<String> = data
        .clients()
        .iter()
        .filter(|c| c.modified >= cutoff)
        .map(|c| c.uuid.clone())
        .collect();
    assert!(!expected.is_empty() && expected.len() < data.clients().len());
    assert_eq!(uuids(&got), expected);
    // The OpenAPI text's spelling works too.
    let camel = env
        .decoded(&format!("client.api/list?modifiedSince={since}"))
        .await
        .clients
        .unwrap();
    assert_eq!(uuids(&camel), expected);
}

#[tokio::test]
async fn version_3_0_serves_the_same_paths() {
    let env = start().await;
    let url = format!(
        "{}/practicemanager/3.0/clientgroup.api/list",
        env.sandbox.api_base()
    );
    let response = env
        .http
        .get(url)
        .bearer_auth(&env.token)
        .header("xero-tenant-id", DEMO_PRACTICE.id)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("<Groups>"));
}

#[tokio::test]
async fn the_second_user_reaches_the_second_practice_through_the_login_pages() {
    let env = start().await;
    let token = env.token_for(&USERS[1]).await;
    let response = env.get_with("client.api/list", &token, SECOND_PRACTICE.id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let clients = decode(&response.text().await.unwrap()).clients.unwrap();
    assert_eq!(clients.len(), hownow_sandbox::practice::SECOND_PRACTICE_CLIENTS);
    let demo = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    assert!(clients
        .iter()
        .all(|c| demo.client(c.uuid.as_deref().unwrap()).is_none()));
}
