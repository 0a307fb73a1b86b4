//! [`RunView`]: a sync run as every edge shows it (the CLI's `--json`, the desktop window).

use hownow_xpm::DataWarning;
use serde::Serialize;
use time::OffsetDateTime;

use crate::record::CodeReport;
use crate::store::{RunCounts, RunKind, RunOutcome, RunTrigger, SyncRun};
use crate::sync::SyncReport;

/// A sync run as the CLI (`status --json`, `history --json`, `sync --json`) and the desktop
/// window (connection cards, Sync history, the end-of-sync event) show it: times as RFC 3339,
/// the run's [`RunCounts`] and its [`DataWarning`]s as the engine has them.
///
/// Serialised in snake_case, in the window too, whose other views are camelCase: one shape for
/// every edge, and the CLI's `--json` is a public scripting interface whose field names stay as
/// they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunView {
    pub run_id: i64,
    pub connection_id: i64,
    pub kind: RunKind,
    pub trigger: RunTrigger,
    pub outcome: RunOutcome,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// `None` while the run is going.
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    pub duration_ms: Option<i64>,
    /// The `modifiedsince` a changes run asked for.
    #[serde(with = "time::serde::rfc3339::option")]
    pub modified_since: Option<OffsetDateTime>,
    /// The watermark the run set when it committed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub watermark: Option<OffsetDateTime>,
    pub counts: RunCounts,
    /// Known only for a run just finished here (from its [`SyncReport`]): the contact sweep asked
    /// for a full sync, which runs next.
    pub full_sync_requested: Option<bool>,
    pub error: Option<String>,
    /// In the history: the values XPM sent that could not be read (the first
    /// [`MAX_WARNINGS_PER_RUN`](crate::MAX_WARNINGS_PER_RUN) of `counts.data_warnings`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_warnings: Option<Vec<DataWarning>>,
    /// In the CLI's history: Client Code and name changes, and missing codes (what HowNow's
    /// folders follow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_codes: Option<CodeReport>,
}

fn duration_ms(started_at: OffsetDateTime, ended_at: OffsetDateTime) -> i64 {
    (ended_at - started_at).whole_milliseconds() as i64
}

impl From<&SyncRun> for RunView {
    fn from(run: &SyncRun) -> Self {
        RunView {
            run_id: run.id,
            connection_id: run.connection_id,
            kind: run.kind,
            trigger: run.trigger,
            outcome: run.outcome,
            started_at: run.started_at,
            ended_at: run.ended_at,
            duration_ms: run.ended_at.map(|end| duration_ms(run.started_at, end)),
            modified_since: run.modified_since,
            watermark: run.watermark,
            counts: run.counts.clone(),
            full_sync_requested: None,
            error: run.error.clone(),
            data_warnings: None,
            client_codes: None,
        }
    }
}

/// A run that has just committed.
impl From<&SyncReport> for RunView {
    fn from(report: &SyncReport) -> Self {
        RunView {
            run_id: report.run_id,
            connection_id: report.connection_id,
            kind: report.kind,
            trigger: report.trigger,
            outcome: RunOutcome::Ok,
            started_at: report.started_at,
            ended_at: Some(report.ended_at),
            duration_ms: Some(duration_ms(report.started_at, report.ended_at)),
            modified_since: None,
            watermark: report.watermark,
            counts: report.counts.clone(),
            full_sync_requested: Some(report.full_sync_requested),
            error: None,
            data_warnings: None,
            client_codes: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn run() -> SyncRun {
        SyncRun {
            id: 7,
            connection_id: 2,
            kind: RunKind::Changes,
            trigger: RunTrigger::DailyFull,
            started_at: datetime!(2024-05-01 14:03:00.25 UTC),
            ended_at: Some(datetime!(2024-05-01 14:03:07 UTC)),
            outcome: RunOutcome::NeedsConfirmation,
            modified_since: Some(datetime!(2024-05-01 08:00 UTC)),
            watermark: None,
            counts: RunCounts {
                api_calls: 3,
                missed_by_incremental: Some(1),
                data_warnings: 1,
                ..RunCounts::default()
            },
            error: Some("too many removals".into()),
            retry_after_at: None,
        }
    }

    #[test]
    fn a_run_is_snake_case_with_rfc3339_times_and_the_engine_counts() {
        let run = run();
        let mut view = RunView::from(&run);
        let value = serde_json::to_value(&view).unwrap();
        assert_eq!(
            value,
            json!({
                "run_id": 7,
                "connection_id": 2,
                "kind": "changes",
                "trigger": "daily_full",
                "outcome": "needs_confirmation",
                "started_at": "2024-05-01T14:03:00.25Z",
                "ended_at": "2024-05-01T14:03:07Z",
                "duration_ms": 6750,
                "modified_since": "2024-05-01T08:00:00Z",
                "watermark": null,
                "counts": serde_json::to_value(&run.counts).unwrap(),
                "full_sync_requested": null,
                "error": "too many removals",
            })
        );
        assert_eq!(value["counts"]["api_calls"], 3);
        assert_eq!(value["counts"]["missed_by_incremental"], 1);

        view.data_warnings = Some(vec![DataWarning {
            client_uuid: Some("c1".into()),
            field: "Notes/Note/Date".into(),
            raw_value: "01/03/2024".into(),
            reason: "is an ambiguous date".into(),
        }]);
        view.client_codes = Some(CodeReport::default());
        let value = serde_json::to_value(&view).unwrap();
        assert_eq!(value["data_warnings"][0]["client_uuid"], "c1");
        assert_eq!(value["data_warnings"][0]["raw_value"], "01/03/2024");
        assert_eq!(value["client_codes"]["missing_code_total"], 0);
    }

    #[test]
    fn a_report_is_a_run_that_succeeded() {
        let report = SyncReport {
            run_id: 9,
            connection_id: 2,
            kind: RunKind::Full,
            trigger: RunTrigger::Manual,
            counts: RunCounts::default(),
            watermark: Some(datetime!(2024-05-01 14:00 UTC)),
            full_sync_requested: false,
            started_at: datetime!(2024-05-01 14:00 UTC),
            ended_at: datetime!(2024-05-01 14:01:30 UTC),
        };
        let value = serde_json::to_value(RunView::from(&report)).unwrap();
        assert_eq!(value["outcome"], "ok");
        assert_eq!(value["ended_at"], "2024-05-01T14:01:30Z");
        assert_eq!(value["duration_ms"], 90_000);
        assert_eq!(value["watermark"], "2024-05-01T14:00:00Z");
        assert_eq!(value["full_sync_requested"], false);
        assert!(value.get("data_warnings").is_none() && value.get("client_codes").is_none());
    }
}
