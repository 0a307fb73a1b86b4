//! Every read endpoint: the detailed list, the paged lists, single records by UUID, and each
//! connected practice through its own connection.

use std::sync::Arc;

use crate::common::{start_with, uuids};
use hownow_sandbox::tenants::{DEMO_ORGANISATION, DEMO_PRACTICE, SECOND_PRACTICE, USERS};
use hownow_sandbox::Switches;
use hownow_xpm::{Secret, StaticToken, XeroApi, XpmError};
use time::UtcOffset;

use super::{
    active, api_config, assert_matches_record, drain, list_all, practice_client, record_uuids, snapshot,
    start,
};

#[tokio::test]
async fn the_detailed_list_streams_every_client_as_the_sandbox_holds_it() {
    let (env, practice) = start(60, Switches::unlimited()).await;
    let data = snapshot(&env);
    let counts = data.counts();
    assert!(
        counts.archived > 0 && counts.deleted > 0 && counts.prospects > 0,
        "the practice should hold every kind of client: {counts:?}"
    );

    let mut stream = practice.list_clients(None).await.unwrap();
    let meta = stream.meta();
    assert_eq!((meta.status, meta.attempts), (200, 1));
    assert!(meta.date.is_some() && meta.min_limit_remaining.is_some());
    let (clients, error) = drain(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert!(stream.meta().bytes_received > 10_000);

    // Archived and deleted clients are listed too: the sync needs them to archive locally.
    assert_eq!(clients.len(), counts.clients);
    assert_eq!(
        clients.iter().filter(|c| c.is_archived == Some(true)).count(),
        counts.archived
    );
    assert_eq!(
        clients.iter().filter(|c| c.is_deleted == Some(true)).count(),
        counts.deleted
    );
    for (got, record) in clients.iter().zip(data.clients()) {
        assert_matches_record(&data, got, record);
    }

    // `modifiedsince` from a local time with an offset: converted to UTC, inclusive.
    let mut times: Vec<_> = data.clients().iter().map(|c| c.modified).collect();
    times.sort();
    let since = times[times.len() / 2];
    let expected = record_uuids(data.clients().iter().filter(|c| c.modified >= since));
    assert!(expected.len() < counts.clients);
    let auckland = since
        .assume_utc()
        .to_offset(UtcOffset::from_hms(13, 0, 0).unwrap());
    let changed = list_all(&practice, Some(auckland)).await;
    assert_eq!(uuids(&changed), expected);
    for got in &changed {
        let record = data.client(got.uuid.as_deref().unwrap()).unwrap();
        assert_matches_record(&data, got, record);
    }
}

#[tokio::test]
async fn paged_lists_walk_active_clients_and_live_contacts_to_the_end() {
    let (env, practice) = start(60, Switches::unlimited()).await;
    let data = snapshot(&env);
    let expected_active = record_uuids(data.clients().iter().filter(|c| active(c)));
    assert!(expected_active.len() < data.clients().len());

    // Page by page, as a caller with bounded memory would.
    let mut walked = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        assert!(pages < 100, "paging did not end");
        let page = practice.paged_clients(7, token.as_deref()).await.unwrap().value;
        pages += 1;
        assert!(page.items.len() <= 7);
        assert!(page
            .items
            .iter()
            .all(|c| c.contacts.is_empty() && c.notes.is_empty()));
        walked.extend(page.items);
        match page.next_page_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, expected_active.len().div_ceil(7));
    assert_eq!(uuids(&walked), expected_active);

    let all = practice.all_paged_clients(13).await.unwrap();
    assert_eq!(all.value, walked);
    assert!(all.meta.bytes_received > 0);
    assert_eq!(practice.all_paged_clients(500).await.unwrap().value, walked);
    for bad in [0, 501] {
        assert!(matches!(
            practice.paged_clients(bad, None).await,
            Err(XpmError::Config(_))
        ));
    }

    let live: Vec<_> = data.contacts().iter().filter(|c| !c.is_deleted).collect();
    let first = practice.contacts_page(9, None).await.unwrap().value;
    assert_eq!(first.items.len(), 9.min(live.len()));
    assert_eq!(first.next_page_token.is_some(), live.len() > 9);
    let contacts = practice.all_contacts(9).await.unwrap().value;
    assert_eq!(contacts.len(), live.len());
    for (got, record) in contacts.iter().zip(&live) {
        assert_eq!(got.uuid.as_deref(), Some(record.uuid.as_str()));
        assert_eq!(got.name.as_deref(), Some(record.name()));
        assert_eq!(
            (&got.email, &got.phone),
            (&record.details.email, &record.details.phone)
        );
        // The contacts endpoint knows no client, so no link.
        assert_eq!((got.is_primary, got.position.as_deref()), (None, None));
    }
}

#[tokio::test]
async fn single_clients_contacts_and_groups_by_uuid() {
    let (env, practice) = start(60, Switches::unlimited()).await;
    let data = snapshot(&env);

    let record = data
        .clients()
        .iter()
        .find(|c| c.details.values.web_url.is_some() && c.contacts.len() >= 2 && !c.relationships.is_empty())
        .expect("a client with a web URL, contacts and relationships");
    let got = practice.client(&record.uuid).await.unwrap();
    assert_eq!(got.meta.status, 200);
    assert_matches_record(&data, &got.value, record);
    // XPM writes it beside the client, not inside.
    assert_eq!(got.value.web_url, record.details.values.web_url);

    for bad in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"] {
        match practice.client(bad).await {
            Err(XpmError::Api { description }) => {
                assert!(description.contains("Invalid client identifier"), "{description}")
            }
            other => panic!("{bad}: expected an API error, got {other:?}"),
        }
    }

    let link = &record.contacts[1];
    let contact = data.contact(&link.contact).unwrap();
    let with_link = practice
        .contact(&contact.uuid, Some(&record.uuid))
        .await
        .unwrap()
        .value;
    assert_eq!(with_link.name.as_deref(), Some(contact.name()));
    assert_eq!(with_link.email, contact.details.email);
    assert_eq!(with_link.is_primary, Some(link.is_primary));
    assert_eq!(with_link.position, link.position);
    let alone = practice.contact(&contact.uuid, None).await.unwrap().value;
    assert_eq!(alone.uuid.as_deref(), Some(contact.uuid.as_str()));
    assert_eq!(alone.is_primary, None);
    assert!(matches!(
        practice.contact("no-such-contact", None).await,
        Err(XpmError::Api { .. })
    ));

    let groups = practice.groups().await.unwrap().value;
    let expected: Vec<_> = data
        .groups()
        .iter()
        .map(|g| (Some(g.uuid.as_str()), Some(g.name.as_str()), Some(g.taxable)))
        .collect();
    let got_groups: Vec<_> = groups
        .iter()
        .map(|g| (g.uuid.as_deref(), g.name.as_deref(), g.taxable))
        .collect();
    assert_eq!(got_groups, expected);
    assert!(groups.iter().all(|g| g.clients.is_empty()));
    let (group, members) = data
        .groups()
        .iter()
        .map(|g| (g, record_uuids(data.group_members(&g.uuid))))
        .find(|(_, members)| members.len() >= 2)
        .expect("a group with members");
    let got = practice.group(&group.uuid).await.unwrap().value;
    assert_eq!(got.name.as_deref(), Some(group.name.as_str()));
    let got_members: Vec<String> = got.clients.iter().filter_map(|r| r.uuid.clone()).collect();
    assert_eq!(got_members, members);
    assert!(matches!(
        practice.group("no-such-group").await,
        Err(XpmError::Api { .. })
    ));
}

#[tokio::test]
async fn each_connected_practice_is_reached_through_its_connection() {
    let env = start_with(|c| c.clients = 30).await;
    let token = env.token_for(&USERS[1]).await;
    let secret = Secret::new(token.clone());
    let api = XeroApi::new(api_config(&env)).unwrap();

    let connections = api.connections(&secret).await.unwrap();
    assert_eq!(connections.meta.status, 200);
    let mut tenants: Vec<&str> = connections.value.iter().map(|c| c.tenant_id.as_str()).collect();
    tenants.sort_unstable();
    let mut expected = vec![DEMO_PRACTICE.id, SECOND_PRACTICE.id, DEMO_ORGANISATION.id];
    expected.sort_unstable();
    assert_eq!(tenants, expected);

    let practices = api.practice_manager_connections(&secret).await.unwrap();
    let names: Vec<_> = practices.iter().map(|c| c.tenant_name.as_deref()).collect();
    assert_eq!(names, [Some(DEMO_PRACTICE.name), Some(SECOND_PRACTICE.name)]);
    for connection in &practices {
        let practice = api.practice(
            connection.tenant_id.clone(),
            Arc::new(StaticToken::new(token.clone())),
        );
        let data = env.sandbox.practice().snapshot(&connection.tenant_id).unwrap();
        assert_eq!(
            uuids(&list_all(&practice, None).await),
            record_uuids(data.clients())
        );
    }

    // The organisation is connected too, but it has no Practice Manager.
    let organisation = api.practice(DEMO_ORGANISATION.id, Arc::new(StaticToken(secret.clone())));
    assert!(matches!(
        organisation.groups().await,
        Err(XpmError::Forbidden { .. })
    ));
    // Nor can the first user, who did not connect it, reach the second practice.
    assert!(matches!(
        practice_client(&env, SECOND_PRACTICE.id).groups().await,
        Err(XpmError::Forbidden { .. })
    ));
}
