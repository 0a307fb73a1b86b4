//! Staff at work: the admin API changes the practice while the sandbox serves it, each change
//! moving (or, through XPM's defect, not moving) the client's modified time.

use crate::common::{decode, since_a_moment_ago, start, start_with, uuids, Env};
use hownow_sandbox::tenants::DEMO_PRACTICE;
use hownow_sandbox::Switches;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// UUIDs `modifiedsince` reports.
async fn changed_since(env: &Env, since: &str) -> Vec<String> {
    uuids(
        &decode(&env.xml(&format!("client.api/list?modifiedsince={since}")).await)
            .clients
            .unwrap(),
    )
}

/// A live client with two contacts or more.
fn busy_client(env: &Env) -> std::sync::Arc<hownow_sandbox::practice::Client> {
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    data.clients()
        .iter()
        .find(|c| c.contacts.len() >= 2 && !c.details.is_deleted())
        .unwrap()
        .clone()
}

#[tokio::test]
async fn state_reports_the_practices_and_switches() {
    let env = start().await;
    let state = env.admin_ok(Method::GET, "/state", None).await;
    let demo = &state["tenants"][0];
    assert_eq!(demo["id"], DEMO_PRACTICE.id);
    assert_eq!(demo["counts"]["clients"], 120);
    let counts = env
        .sandbox
        .practice()
        .snapshot(DEMO_PRACTICE.id)
        .unwrap()
        .counts();
    assert_eq!(demo["counts"]["contacts"], counts.contacts);
    assert_eq!(demo["counts"]["active"], counts.active);
    assert_eq!(state["switches"]["defect"], true);
    assert_eq!(state["tenants"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_client_edit_shows_up_under_modifiedsince() {
    let env = start().await;
    let since = since_a_moment_ago();
    assert!(changed_since(&env, &since).await.is_empty());

    let client = busy_client(&env);
    let edited = env
        .admin_ok(
            Method::PATCH,
            &format!("/clients/{}", client.uuid),
            Some(json!({"name": "Renamed <& Co>", "phone": null})),
        )
        .await;
    assert_eq!(edited["client"]["name"], "Renamed <& Co>");
    assert_eq!(changed_since(&env, &since).await, [client.uuid.as_str()]);
    let got = decode(&env.xml(&format!("client.api/get/{}", client.uuid)).await)
        .clients
        .unwrap();
    assert_eq!(got[0].name.as_deref(), Some("Renamed <& Co>"));
    assert_eq!(got[0].phone, None);

    let (status, body) = env
        .admin(
            Method::PATCH,
            &format!("/clients/{}", client.uuid),
            Some(json!({"nmae": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = env
        .admin(
            Method::PATCH,
            "/clients/no-such-client",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn xpms_defect_hides_contact_edits_and_primary_moves_from_modifiedsince() {
    let env = start().await;
    let client = busy_client(&env);
    let since = since_a_moment_ago();
    let secondary = client
        .contacts
        .iter()
        .find(|l| !l.is_primary)
        .unwrap()
        .contact
        .clone();
    let primary = client
        .contacts
        .iter()
        .find(|l| l.is_primary)
        .unwrap()
        .contact
        .clone();

    env.admin_ok(
        Method::PATCH,
        &format!("/contacts/{primary}"),
        Some(json!({"email": "moved@example.co.nz"})),
    )
    .await;
    env.admin_ok(
        Method::PUT,
        &format!("/clients/{}/primary-contact", client.uuid),
        Some(json!({"contact": secondary})),
    )
    .await;

    // Invisible to modifiedsince…
    assert!(changed_since(&env, &since).await.is_empty());
    // …yet XPM serves the new data to anyone who reads the client or the contacts.
    let got = decode(&env.xml(&format!("client.api/get/{}", client.uuid)).await)
        .clients
        .unwrap();
    let contacts = &got[0].contacts;
    let find = |uuid: &str| contacts.iter().find(|c| c.uuid.as_deref() == Some(uuid)).unwrap();
    assert_eq!(find(&secondary).is_primary, Some(true));
    assert_eq!(find(&primary).is_primary, Some(false));
    assert_eq!(find(&primary).email.as_deref(), Some("moved@example.co.nz"));
    let contact = decode(&env.xml(&format!("client.api/contact/{primary}")).await)
        .contacts
        .unwrap();
    assert_eq!(contact[0].email.as_deref(), Some("moved@example.co.nz"));
}

#[tokio::test]
async fn without_the_defect_contact_changes_move_their_clients() {
    let env = start_with(|c| {
        c.switches = Switches {
            defect: false,
            ..Switches::unlimited()
        }
    })
    .await;
    let client = busy_client(&env);
    let since = since_a_moment_ago();
    let secondary = client
        .contacts
        .iter()
        .find(|l| !l.is_primary)
        .unwrap()
        .contact
        .clone();
    env.admin_ok(
        Method::PUT,
        &format!("/clients/{}/primary-contact", client.uuid),
        Some(json!({"contact": secondary})),
    )
    .await;
    assert_eq!(changed_since(&env, &since).await, [client.uuid.as_str()]);

    // A contact edit moves every client the contact belongs to.
    let since = since_a_moment_ago();
    let data = env.sandbox.practice().snapshot(DEMO_PRACTICE.id).unwrap();
    let shared = data
        .contacts()
        .iter()
        .find(|c| data.clients_of_contact(&c.uuid).count() >= 2)
        .expect("a shared contact")
        .uuid
        .clone();
    let owners: Vec<String> = data.clients_of_contact(&shared).map(|c| c.uuid.clone()).collect();
    env.admin_ok(
        Method::PATCH,
        &format!("/contacts/{shared}"),
        Some(json!({"mobile": "021 000 0000"})),
    )
    .await;
    let changed = changed_since(&env, &since).await;
    assert!(
        owners.iter().all(|o| changed.contains(o)),
        "{owners:?} ⊄ {changed:?}"
    );
    // The primary move above may fall inside the same two seconds; nothing else may appear.
    assert!(
        changed.iter().all(|c| owners.contains(c) || *c == client.uuid),
        "{changed:?}"
    );
}

#[tokio::test]
async fn clients_are_added_archived_and_deleted_as_in_xpm() {
    let env = start().await;
    let since = since_a_moment_ago();
    let created = env
        .admin_ok(
            Method::POST,
            "/clients",
            Some(json!({"name": "Ōtaki Orchards Limited", "client_code": "OTAK001", "business_structure": "Company"})),
        )
        .await;
    let uuid = created["client"]["uuid"].as_str().unwrap().to_string();
    assert_eq!(changed_since(&env, &since).await, [uuid.as_str()]);
    let paged = decode(&env.xml("client.api/paged-list?pageSize=500").await)
        .clients
        .unwrap();
    assert!(uuids(&paged).contains(&uuid));

    env.admin_ok(Method::POST, &format!("/clients/{uuid}/archive"), None)
        .await;
    let got = decode(&env.xml(&format!("client.api/get/{uuid}")).await)
        .clients
        .unwrap();
    assert_eq!(got[0].is_archived, Some(true));
    let paged = decode(&env.xml("client.api/paged-list?pageSize=500").await)
        .clients
        .unwrap();
    assert!(
        !uuids(&paged).contains(&uuid),
        "archived clients leave the paged list"
    );

    env.admin_ok(Method::DELETE, &format!("/clients/{uuid}"), None)
        .await;
    let listed = decode(&env.xml("client.api/list").await).clients.unwrap();
    let deleted = listed
        .iter()
        .find(|c| c.uuid.as_deref() == Some(uuid.as_str()))
        .unwrap();
    assert_eq!(
        deleted.is_deleted,
        Some(true),
        "deleted clients stay in the full list"
    );

    let (status, _) = env
        .admin(Method::POST, "/clients", Some(json!({"name": " "})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = env
        .admin(Method::POST, "/clients?tenant=nope", Some(json!({"name": "X"})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn contacts_are_added_linked_unlinked_and_deleted() {
    let env = start().await;
    let client = busy_client(&env);
    let since = since_a_moment_ago();
    let created = env
        .admin_ok(
            Method::POST,
            "/contacts",
            Some(json!({"name": "Mere Parata", "email": "mere@example.co.nz",
                        "link": {"client": client.uuid, "position": "Director", "primary": true}})),
        )
        .await;
    let contact = created["contact"]["uuid"].as_str().unwrap().to_string();
    assert_eq!(created["clients"][0]["is_primary"], true);
    // Adding a contact to a client is a change of the client.
    assert_eq!(changed_since(&env, &since).await, [client.uuid.as_str()]);

    let view = env
        .admin_ok(Method::GET, &format!("/clients/{}", client.uuid), None)
        .await;
    let primaries: Vec<_> = view["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["is_primary"] == true)
        .collect();
    assert_eq!(primaries.len(), 1);
    assert_eq!(primaries[0]["uuid"], contact.as_str());

    let (status, _) = env
        .admin(
            Method::POST,
            &format!("/clients/{}/contacts", client.uuid),
            Some(json!({"contact": contact})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "already linked");

    env.admin_ok(
        Method::DELETE,
        &format!("/clients/{}/contacts/{contact}", client.uuid),
        None,
    )
    .await;
    let view = env
        .admin_ok(Method::GET, &format!("/clients/{}", client.uuid), None)
        .await;
    let contacts = view["contacts"].as_array().unwrap();
    assert!(contacts.iter().all(|c| c["uuid"] != contact.as_str()));
    assert_eq!(contacts.iter().filter(|c| c["is_primary"] == true).count(), 1);

    env.admin_ok(Method::DELETE, &format!("/contacts/{contact}"), None)
        .await;
    let live = decode(&env.xml("client.api/contacts?pageSize=500").await)
        .contacts
        .unwrap();
    assert!(live.iter().all(|c| c.uuid.as_deref() != Some(contact.as_str())));
    let (status, _) = env
        .admin(
            Method::PATCH,
            &format!("/contacts/{contact}"),
            Some(json!({"name": "Ghost"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_in_process_handle_makes_the_same_changes() {
    let env = start().await;
    let practice = env.sandbox.practice();
    let client = busy_client(&env);
    let since = since_a_moment_ago();
    practice
        .edit_client(&client.uuid, |d| d.values.client_code = Some("NEW001".into()))
        .unwrap();
    let listed = decode(&env.xml(&format!("client.api/list?modifiedsince={since}")).await)
        .clients
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].client_code.as_deref(), Some("NEW001"));

    let switches = practice.update_switches(|s| s.ignore_page = true).unwrap();
    assert!(switches.ignore_page);
    let over_http = env.admin_ok(Method::GET, "/switches", None).await;
    assert_eq!(over_http["ignore_page"], true);
}

#[tokio::test]
async fn the_admin_api_answers_only_requests_addressed_to_a_loopback_name() {
    let env = start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/state", env.sandbox.admin_base());
    let ok = http.get(&url).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // A page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) sends that name.
    let rebound = http
        .get(&url)
        .header(reqwest::header::HOST, "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    let localhost = http
        .get(&url)
        .header(
            reqwest::header::HOST,
            format!("localhost:{}", env.sandbox.addr().port()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(localhost.status(), StatusCode::OK);
}
