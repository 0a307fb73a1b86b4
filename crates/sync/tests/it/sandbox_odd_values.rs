//! Real practices' odd values and XPM's error envelopes, against the sandbox over loopback: a full
//! sync through clients with unreadable values completes and records what it could not read, and
//! a 500 carrying XPM's XML `ERROR` envelope is retried like any 5xx.

use std::collections::HashSet;

use crate::sandbox_support::{start_with, Options};
use hownow_sandbox::Switches;
use hownow_sync::RunKind;

#[tokio::test]
async fn a_full_sync_through_odd_values_completes_and_records_what_it_could_not_read() {
    const EVERY: u32 = 3;
    let mut env = start_with(Options {
        clients: 60,
        switches: Switches {
            odd_values: EVERY,
            ..Switches::unlimited()
        },
        ..Options::default()
    })
    .await;
    let data = env.data();
    // The sandbox's odd clients: every third in the practice's order. Their first note's date is
    // written `dd/mm/yyyy HH:mm`, the one value of theirs no reader can be sure of.
    let odd: Vec<_> = data
        .clients()
        .iter()
        .enumerate()
        .filter(|(i, _)| (i + 1) % EVERY as usize == 0)
        .map(|(_, c)| c.clone())
        .collect();
    let unreadable: HashSet<&str> = odd
        .iter()
        .filter(|c| !c.details.values.notes.is_empty())
        .map(|c| c.uuid.as_str())
        .collect();
    assert!(!unreadable.is_empty(), "some odd client has a note");

    let report = env
        .sync(RunKind::Full)
        .await
        .expect("odd values never stop a sync");
    assert_eq!(report.counts.data_warnings, unreadable.len() as u64);
    // Everything else is as XPM holds it: flags written True/False included.
    env.assert_matches_sandbox();

    let warnings = env.store.warnings(report.run_id).unwrap();
    assert_eq!(warnings.len(), unreadable.len());
    for w in &warnings {
        assert_eq!(w.field, "Notes/Note/Date");
        assert!(unreadable.contains(w.client_uuid.as_deref().unwrap()), "{w:?}");
        assert!(
            w.reason.contains("ambiguous") || w.reason.contains("not a date"),
            "{w:?}"
        );
        assert!(w.raw_value.contains('/'), "{w:?}");
    }
    // The run's history row counts them too.
    let run = env.store.run(report.run_id).unwrap().unwrap();
    assert_eq!(run.counts.data_warnings, unreadable.len() as u64);

    for client in &odd {
        let stored = env
            .store
            .client(env.connection_id, &client.uuid)
            .unwrap()
            .unwrap()
            .client;
        // A date of birth with a UTC offset is read as the date written.
        assert_eq!(
            stored.date_of_birth.map(|d| d.date()),
            client.details.values.date_of_birth.map(|d| d.date()),
            "{}",
            client.uuid
        );
        if let (Some(first), Some(expected)) = (stored.notes.first(), client.details.values.notes.first()) {
            assert_eq!(first.date, None, "an unreadable note date is left empty");
            assert_eq!(first.title, expected.title);
        }
    }

    // A second run receives the same values: warned again, nothing rewritten.
    let again = env.sync(RunKind::Full).await.unwrap();
    assert_eq!(again.counts.data_warnings, unreadable.len() as u64);
    assert_eq!(again.counts.client_rows_written, 0);
}

#[tokio::test]
async fn a_500_with_xpms_error_envelope_is_retried_and_the_sync_succeeds() {
    let mut env = start_with(Options {
        clients: 20,
        switches: Switches {
            fail_next: 1,
            fail_status: 500,
            fail_with_xml_error: true,
            ..Switches::unlimited()
        },
        max_attempts: 3,
        ..Options::default()
    })
    .await;
    let report = env.sync(RunKind::Full).await.expect("the 500 is retried");
    assert_eq!(report.counts.api_calls, 2, "the failed try and the retry");
    env.assert_matches_sandbox();
}
