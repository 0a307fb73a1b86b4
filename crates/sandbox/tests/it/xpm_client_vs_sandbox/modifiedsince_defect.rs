//! XPM's defect: a contact edit does not move its client's `modifiedsince`, though every read
//! serves the edit.

use std::time::Duration;

use crate::common::uuids;
use hownow_sandbox::Switches;
use hownow_xpm::Client;
use time::OffsetDateTime;

use super::{list_all, record_uuids, snapshot, start};

fn contact_email<'a>(client: &'a Client, contact: &str) -> Option<&'a str> {
    client
        .contacts
        .iter()
        .find(|c| c.uuid.as_deref() == Some(contact))
        .unwrap_or_else(|| panic!("{:?} lacks contact {contact}", client.uuid))
        .email
        .as_deref()
}

#[tokio::test]
async fn a_contact_edit_is_invisible_to_modifiedsince_though_served_everywhere() {
    let (env, practice) = start(40, Switches::unlimited()).await;
    let handle = env.sandbox.practice();
    let data = snapshot(&env);
    let edited = data
        .clients()
        .iter()
        .find(|c| !c.contacts.is_empty() && !c.details.is_deleted())
        .unwrap();
    let link = edited.contacts[0].clone();
    let linked = record_uuids(data.clients_of_contact(&link.contact));
    let other = data.clients().iter().find(|c| !linked.contains(&c.uuid)).unwrap();

    // The sandbox stamps whole UTC seconds; a second's margin keeps the boundary out of play.
    let since = OffsetDateTime::now_utc() - Duration::from_secs(1);
    assert!(
        list_all(&practice, Some(since)).await.is_empty(),
        "generated clients are older"
    );

    let new_email = "moved.on@example.org";
    handle
        .edit_contact(&link.contact, |c| c.email = Some(new_email.into()))
        .unwrap();
    let changed = list_all(&practice, Some(since)).await;
    assert!(changed.is_empty(), "XPM's defect: {:?}", uuids(&changed));

    // Every endpoint already serves the new address.
    let contact = practice
        .contact(&link.contact, Some(&edited.uuid))
        .await
        .unwrap()
        .value;
    assert_eq!(contact.email.as_deref(), Some(new_email));
    assert_eq!(contact.is_primary, Some(link.is_primary));
    let contacts = practice.all_contacts(500).await.unwrap().value;
    let listed = contacts
        .iter()
        .find(|c| c.uuid.as_deref() == Some(link.contact.as_str()))
        .unwrap();
    assert_eq!(listed.email.as_deref(), Some(new_email));
    let detail = practice.client(&edited.uuid).await.unwrap().value;
    assert_eq!(contact_email(&detail, &link.contact), Some(new_email));
    let everyone = list_all(&practice, None).await;
    for client in everyone
        .iter()
        .filter(|c| linked.contains(c.uuid.as_ref().unwrap()))
    {
        assert_eq!(contact_email(client, &link.contact), Some(new_email));
    }

    // An edit of a client's own field does show up.
    handle
        .edit_client(&other.uuid, |d| d.values.phone = Some("+64 9 555 0100".into()))
        .unwrap();
    let changed = list_all(&practice, Some(since)).await;
    assert_eq!(uuids(&changed), [other.uuid.as_str()]);
    assert_eq!(changed[0].phone.as_deref(), Some("+64 9 555 0100"));

    // Without the defect, the same kind of contact edit moves every client of the contact.
    handle.update_switches(|s| s.defect = false).unwrap();
    handle
        .edit_contact(&link.contact, |c| c.phone = Some("+64 21 555 0199".into()))
        .unwrap();
    let expected = record_uuids(
        data.clients()
            .iter()
            .filter(|c| c.uuid == other.uuid || linked.contains(&c.uuid)),
    );
    assert_eq!(uuids(&list_all(&practice, Some(since)).await), expected);
}
