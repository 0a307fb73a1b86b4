//! Progress events of a run, for a progress bar, the desktop app's status chip, or a test
//! harness that kills the process at a chosen point.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for XPM to prepare the client list (`done` = whole seconds waited so far): a large
    /// practice's detailed list can take minutes before its first byte.
    Preparing,
    /// Receiving and applying the client list (`done` = clients applied).
    Listing,
    /// Tombstoning clients absent from a complete list.
    Removing,
    /// Asking XPM what `modifiedsince` reports, to measure `missed_by_incremental`.
    CheckingMissed,
    /// Paging through `client.api/contacts` (`done` = contacts compared).
    SweepingContacts,
    /// Fetching single clients (`total` known).
    Refetching,
    Committing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub run_id: i64,
    pub phase: Phase,
    pub done: u64,
    /// Known for some phases only (the client list's length is not known until its end).
    pub total: Option<u64>,
}

impl Progress {
    /// What the run is waiting for, in the words every front end shows, when it is waiting for
    /// XPM (the `Preparing` phase): "Waiting for Xero Practice Manager to prepare the client
    /// list… 2 min". `None` in the other phases.
    pub fn waiting_message(&self) -> Option<String> {
        (self.phase == Phase::Preparing).then(|| {
            let waited = match self.done {
                0 => String::new(),
                s @ 1..=59 => format!(" {s} s"),
                s => format!(" {} min", s / 60),
            };
            format!("Waiting for Xero Practice Manager to prepare the client list…{waited}")
        })
    }
}

/// Receives progress events. Called on the sync's task: keep it quick.
pub trait ProgressSink: Send + Sync {
    fn progress(&self, event: &Progress);
}

impl<F: Fn(&Progress) + Send + Sync> ProgressSink for F {
    fn progress(&self, event: &Progress) {
        self(event)
    }
}

/// For callers that do not show progress.
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn progress(&self, _: &Progress) {}
}

/// Emits events at phase changes and every `EVERY` items, and carries the crash-test hook.
pub(crate) struct Reporter<'a> {
    sink: &'a dyn ProgressSink,
    run_id: i64,
    phase: Phase,
    done: u64,
    total: Option<u64>,
    rows: u64,
    kill_after_rows: Option<u64>,
}

const EVERY: u64 = 200;

impl<'a> Reporter<'a> {
    pub(crate) fn new(sink: &'a dyn ProgressSink, run_id: i64) -> Self {
        Reporter {
            sink,
            run_id,
            phase: Phase::Listing,
            done: 0,
            total: None,
            rows: 0,
            kill_after_rows: kill_after_rows(),
        }
    }

    fn emit(&self) {
        self.sink.progress(&Progress {
            run_id: self.run_id,
            phase: self.phase,
            done: self.done,
            total: self.total,
        });
    }

    pub(crate) fn phase(&mut self, phase: Phase, total: Option<u64>) {
        self.phase = phase;
        self.done = 0;
        self.total = total;
        self.emit();
    }

    /// One item of the current phase done. `wrote_row`: it was a client applied to the
    /// directory (what the crash hook counts).
    pub(crate) fn step(&mut self, wrote_row: bool) {
        self.done += 1;
        if wrote_row {
            self.rows += 1;
            if self.kill_after_rows == Some(self.rows) {
                // Crash tests: die like a SIGKILL, with the run's transaction open.
                eprintln!("HOWNOW_TEST_KILL_AFTER_ROWS reached ({}): aborting", self.rows);
                std::process::abort();
            }
        }
        if self.done % EVERY == 0 || Some(self.done) == self.total {
            self.emit();
        }
    }

    /// Still waiting for XPM in the `Preparing` phase: reports the seconds waited.
    pub(crate) fn waiting(&mut self, waited: std::time::Duration) {
        self.done = waited.as_secs();
        self.emit();
    }

    pub(crate) fn finish_phase(&self) {
        if self.done % EVERY != 0 && Some(self.done) != self.total {
            self.emit();
        }
    }
}

/// `HOWNOW_TEST_KILL_AFTER_ROWS=N`: abort the process after the N-th client of a run. Read only
/// in debug builds, so a release binary cannot be made to crash by its environment.
fn kill_after_rows() -> Option<u64> {
    if cfg!(debug_assertions) {
        std::env::var("HOWNOW_TEST_KILL_AFTER_ROWS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_for_xpm_is_said_in_seconds_then_minutes() {
        let at = |phase, done| Progress {
            run_id: 1,
            phase,
            done,
            total: None,
        };
        let text = |done| at(Phase::Preparing, done).waiting_message().unwrap();
        assert_eq!(
            text(0),
            "Waiting for Xero Practice Manager to prepare the client list…"
        );
        assert_eq!(
            text(45),
            "Waiting for Xero Practice Manager to prepare the client list… 45 s"
        );
        assert_eq!(
            text(150),
            "Waiting for Xero Practice Manager to prepare the client list… 2 min"
        );
        assert_eq!(at(Phase::Listing, 150).waiting_message(), None);
    }
}
