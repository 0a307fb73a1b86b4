//! The engine facade against the sandbox: token trouble during syncs, reauthorisation, one sync
//! per connection, status, and disconnecting.

use crate::connect_support::*;
use hownow_sandbox::Sandbox;
use hownow_sync::engine::{Engine, EngineError};
use hownow_sync::schedule::Paused;
use hownow_sync::{Connection, ConnectionStatus, NoProgress, RunKind, RunTrigger, SyncError, SyncRequest};

async fn connect(engine: &Engine) -> Connection {
    log_in(engine, None, None).await
}

async fn connected(clients: usize) -> (Sandbox, tempfile::TempDir, Engine, Connection) {
    let sandbox = sandbox(true, clients).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(dir.path(), &sandbox, TEN_MINUTES);
    let connection = log_in_and_sync(&engine).await;
    (sandbox, dir, engine, connection)
}

fn changes() -> SyncRequest {
    SyncRequest::new(RunKind::Changes, RunTrigger::Manual)
}

#[tokio::test]
async fn an_access_token_that_dies_early_is_refreshed_and_the_sync_goes_on() {
    let (sandbox, _dir, engine, connection) = connected(20).await;
    sandbox.practice().expire_all_access_tokens();
    let report = engine.sync(connection.id, changes(), &NoProgress).await.unwrap();
    assert_eq!(report.kind, RunKind::Changes);
    // The dead access token was renewed on the first refusal: one run, and it succeeded.
    let runs = engine.history(connection.id, 3).unwrap();
    assert_eq!(runs.len(), 2, "the initial full sync and this one: {runs:?}");
    assert_eq!(
        (runs[0].kind, runs[0].outcome),
        (RunKind::Changes, hownow_sync::RunOutcome::Ok)
    );
    let status = engine.status().unwrap();
    assert_eq!(status[0].connection.status, ConnectionStatus::Connected);
    assert!(status[0].connection.token_refreshed_at.is_some());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_dead_refresh_token_pauses_the_connection_until_it_is_reauthorised() {
    let (sandbox, _dir, engine, connection) = connected(20).await;
    sandbox.practice().revoke_all_refresh_tokens();
    sandbox.practice().expire_all_access_tokens();
    let err = engine
        .sync(connection.id, changes(), &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Sync(SyncError::NeedsReauth { .. })),
        "{err}"
    );
    let status = engine.status().unwrap();
    assert_eq!(status[0].connection.status, ConnectionStatus::NeedsReauth);
    assert_eq!(status[0].plan.paused, Some(Paused::NeedsReauth));
    let clients_before = crate::common::live_clients(&engine, connection.id, None).len();
    assert!(clients_before > 0, "nothing was deleted");

    // Logging in again reconnects the same practice: same connection, directory and history.
    let again = connect(&engine).await;
    assert_eq!(again.id, connection.id);
    assert_eq!(again.status, ConnectionStatus::Connected);
    engine.sync(connection.id, changes(), &NoProgress).await.unwrap();
    assert_eq!(
        crate::common::live_clients(&engine, connection.id, None).len(),
        clients_before
    );
    assert!(engine.history(connection.id, 10).unwrap().len() >= 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn two_syncs_of_one_connection_at_once_the_second_is_told() {
    let (sandbox, _dir, engine, connection) = connected(20).await;
    let (first, second) = tokio::join!(
        engine.sync(connection.id, changes(), &NoProgress),
        engine.sync(connection.id, changes(), &NoProgress),
    );
    let outcomes = [first.is_ok(), second.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
    let err = first.err().or(second.err()).unwrap();
    assert!(
        matches!(err, EngineError::Sync(SyncError::AlreadyRunning { pid: Some(pid), .. }) if pid == std::process::id()),
        "{err}"
    );
    sandbox.shutdown().await;
}

#[tokio::test]
async fn status_tells_last_and_next_syncs_and_the_cost_of_a_full_one() {
    let (sandbox, _dir, engine, connection) = connected(30).await;
    let status = engine.status().unwrap();
    assert_eq!(status.len(), 1);
    let o = &status[0];
    assert_eq!(o.connection.id, connection.id);
    assert_eq!(o.last_run.as_ref().unwrap().trigger, RunTrigger::Initial);
    assert_eq!(o.last_success, o.last_run);
    assert!(o.plan.next_changes_at.is_some());
    assert_eq!(o.running_pid, None);
    assert!(o.full_sync_estimate.api_calls >= 1);
    assert_eq!(
        o.counts.clients,
        crate::common::live_clients(&engine, connection.id, None).len() as u64
    );
    // Selecting a connection by name, id or not at all.
    assert_eq!(engine.connection(None).unwrap().id, connection.id);
    assert_eq!(
        engine
            .connection(Some(&connection.tenant_name.to_uppercase()))
            .unwrap()
            .id,
        connection.id
    );
    assert!(matches!(
        engine.connection(Some("nobody")),
        Err(EngineError::NoSuchConnection(_))
    ));
    sandbox.shutdown().await;
}

#[tokio::test]
async fn disconnect_removes_the_connection_at_xero_and_deletes_or_keeps_the_data() {
    let (sandbox, _dir, engine, connection) = connected(10).await;
    let report = engine.disconnect(connection.id, true).await.unwrap();
    assert!(
        report.xero_connection_removed && report.token_revoked,
        "{report:?}"
    );
    assert!(report.warnings.is_empty(), "{report:?}");
    assert_eq!(
        engine.store().unwrap().connection(connection.id).unwrap().status,
        ConnectionStatus::Disconnected
    );
    assert!(
        !crate::common::live_clients(&engine, connection.id, None).is_empty(),
        "data kept"
    );
    assert!(matches!(engine.connection(None), Err(EngineError::NotConnected)));
    // Syncing a disconnected connection is refused, not attempted.
    let err = engine
        .sync(connection.id, changes(), &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Sync(SyncError::Disconnected(_))),
        "{err}"
    );

    // Connect again (a new connection), then disconnect deleting the data.
    let fresh = connect(&engine).await;
    assert_ne!(fresh.id, connection.id);
    let report = engine.disconnect(fresh.id, false).await.unwrap();
    assert!(
        report.xero_connection_removed && report.token_revoked,
        "{report:?}"
    );
    assert!(engine.connections().unwrap().iter().all(|c| c.id != fresh.id));
    sandbox.shutdown().await;
}

/// The CSV both the window's Export and `hownow clients --format csv` write: HowNow's header, a
/// row per live client the search matches, cells quoted as CSV needs, and formula-like cells made
/// inert unless raw values are asked for.
#[tokio::test]
async fn the_export_writes_each_matching_client_once_as_hownow_imports_it() {
    use hownow_sync::{CsvValues, HowNowRecord};
    let (sandbox, _dir, engine, connection) = connected(40).await;
    let live = engine.client_page(connection.id, None, 0, 1).unwrap().total;
    let uuid = engine.client_page(connection.id, None, 0, 1).unwrap().clients[0]
        .uuid
        .clone();
    sandbox
        .practice()
        .edit_client(&uuid, |d| {
            d.values.name = Some("=HYPERLINK(\"x\"), \"Jones\" & Sons\nLevel 2".into())
        })
        .unwrap();
    engine.sync(connection.id, changes(), &NoProgress).await.unwrap();

    let read = |values: CsvValues, search: Option<&str>| {
        let mut out = Vec::new();
        let rows = engine
            .export_csv(connection.id, search, values, &mut out)
            .unwrap();
        let mut csv = csv::Reader::from_reader(out.as_slice());
        assert_eq!(
            csv.headers().unwrap().iter().collect::<Vec<_>>(),
            HowNowRecord::CSV_HEADER
        );
        let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
        assert_eq!(records.len() as u64, rows);
        records
    };
    let all = read(CsvValues::Inert, None);
    assert_eq!(all.len() as u64, live);
    let mut uuids: Vec<&str> = all.iter().map(|r| &r[0]).collect();
    uuids.sort_unstable();
    uuids.dedup();
    assert_eq!(uuids.len(), all.len(), "each client once");

    let edited =
        |records: &[csv::StringRecord]| records.iter().find(|r| r[0] == uuid).unwrap()[2].to_string();
    assert_eq!(edited(&all), "'=HYPERLINK(\"x\"), \"Jones\" & Sons\nLevel 2");
    let raw = read(CsvValues::Raw, Some("hyperlink"));
    assert_eq!(raw.len(), 1, "the search narrows the export");
    assert_eq!(edited(&raw), "=HYPERLINK(\"x\"), \"Jones\" & Sons\nLevel 2");
    sandbox.shutdown().await;
}
