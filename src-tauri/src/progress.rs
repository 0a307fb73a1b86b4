//! Turns the engine's progress events into what the window shows: words, counts, and a
//! percentage when the size of the work is known or can be estimated from the directory.

use hownow_sync::{Phase, Progress, RunKind};

use crate::views::ProgressView;

/// How a run's progress maps onto 0–100 %: each phase fills its band.
fn band(kind: RunKind, phase: Phase) -> (f64, f64) {
    match (kind, phase) {
        (_, Phase::Preparing) => (0.0, 0.0),
        (RunKind::Full, Phase::Listing) => (0.0, 90.0),
        (RunKind::Full, Phase::Removing) => (90.0, 93.0),
        (RunKind::Full, Phase::CheckingMissed) => (93.0, 97.0),
        (_, Phase::Listing) => (0.0, 15.0),
        (_, Phase::SweepingContacts) => (15.0, 85.0),
        (_, Phase::Refetching) => (85.0, 97.0),
        (_, Phase::Committing) => (97.0, 99.0),
        (_, Phase::Removing) | (_, Phase::CheckingMissed) => (90.0, 97.0),
    }
}

fn words(phase: Phase) -> (&'static str, &'static str) {
    match phase {
        Phase::Preparing => (
            "preparing",
            "Waiting for Xero Practice Manager to prepare the client list…",
        ),
        Phase::Listing => ("listing", "Receiving clients"),
        Phase::Removing => ("removing", "Marking clients no longer in XPM"),
        Phase::CheckingMissed => ("checking_missed", "Checking what XPM did not flag"),
        Phase::SweepingContacts => ("sweeping_contacts", "Checking contacts"),
        Phase::Refetching => ("refetching", "Re-fetching changed clients"),
        Phase::Committing => ("committing", "Saving"),
    }
}

/// What the directory suggests the run will process, for phases whose size the engine cannot
/// know in advance (the client list's length arrives with its end).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SizeHint {
    /// Clients a full list should return (live and removed ones: XPM lists deleted clients too).
    pub clients: u64,
    pub contacts: u64,
}

pub fn view(connection_id: i64, kind: RunKind, event: &Progress, hint: SizeHint) -> ProgressView {
    let (phase, message) = words(event.phase);
    // While XPM prepares the list, the time waited is the news (a bar would look frozen).
    let message = event.waiting_message().unwrap_or_else(|| message.to_string());
    let estimated = match (kind, event.phase) {
        (RunKind::Full, Phase::Listing) => Some(hint.clients),
        (_, Phase::SweepingContacts) => Some(hint.contacts),
        _ => None,
    };
    let size = event.total.or(estimated).filter(|&t| t > 0);
    let (lo, hi) = band(kind, event.phase);
    let percent = match size {
        // An estimate can be exceeded (clients added since): stay inside the band.
        Some(size) => Some(lo + (event.done as f64 / size as f64).min(1.0) * (hi - lo)),
        // Phases without counts: their band's start, once earlier phases had a size.
        None if !matches!(event.phase, Phase::Listing | Phase::Preparing)
            && (hint.clients > 0 || event.phase == Phase::Committing) =>
        {
            Some(lo)
        }
        None => None,
    };
    ProgressView {
        connection_id,
        run_kind: kind.as_str(),
        phase,
        message,
        done: event.done,
        total: event.total,
        percent: percent.map(|p| (p * 10.0).round() / 10.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(phase: Phase, done: u64, total: Option<u64>) -> Progress {
        Progress {
            run_id: 1,
            phase,
            done,
            total,
        }
    }

    #[test]
    fn an_initial_full_sync_shows_counts_until_its_size_is_known() {
        let v = view(
            3,
            RunKind::Full,
            &event(Phase::Listing, 400, None),
            SizeHint::default(),
        );
        assert_eq!(
            (v.percent, v.done, v.message.as_str()),
            (None, 400, "Receiving clients")
        );
        assert_eq!(v.connection_id, 3);
        assert_eq!(v.run_kind, "full");
        let commit = view(
            3,
            RunKind::Full,
            &event(Phase::Committing, 0, None),
            SizeHint::default(),
        );
        assert_eq!(commit.percent, Some(97.0));
    }

    #[test]
    fn the_wait_for_xpm_says_how_long_not_a_frozen_bar() {
        let hint = SizeHint {
            clients: 1000,
            contacts: 0,
        };
        let v = view(1, RunKind::Full, &event(Phase::Preparing, 130, None), hint);
        assert_eq!(v.phase, "preparing");
        assert_eq!(
            v.message,
            "Waiting for Xero Practice Manager to prepare the client list… 2 min"
        );
        assert_eq!(v.percent, None, "no bar while nothing arrives");
    }

    #[test]
    fn a_resync_estimates_from_the_directory_size() {
        let hint = SizeHint {
            clients: 1000,
            contacts: 0,
        };
        let v = view(1, RunKind::Full, &event(Phase::Listing, 500, None), hint);
        assert_eq!(v.percent, Some(45.0));
        // More clients than expected: the bar stops at the end of the listing band.
        let over = view(1, RunKind::Full, &event(Phase::Listing, 5000, None), hint);
        assert_eq!(over.percent, Some(90.0));
    }

    #[test]
    fn known_totals_win_over_estimates() {
        let hint = SizeHint {
            clients: 10,
            contacts: 999,
        };
        let v = view(
            1,
            RunKind::Changes,
            &event(Phase::SweepingContacts, 50, Some(100)),
            hint,
        );
        assert_eq!(v.percent, Some(50.0));
        let refetch = view(1, RunKind::Changes, &event(Phase::Refetching, 3, Some(4)), hint);
        assert_eq!(refetch.percent, Some(94.0));
    }

    #[test]
    fn percentages_never_go_backwards_within_a_changes_run() {
        let hint = SizeHint {
            clients: 100,
            contacts: 200,
        };
        let steps = [
            event(Phase::Listing, 0, None),
            event(Phase::SweepingContacts, 0, None),
            event(Phase::SweepingContacts, 200, None),
            event(Phase::Refetching, 0, Some(2)),
            event(Phase::Refetching, 2, Some(2)),
            event(Phase::Committing, 0, None),
        ];
        let mut last = 0.0;
        for step in &steps {
            if let Some(p) = view(1, RunKind::Changes, step, hint).percent {
                assert!(p >= last, "{p} after {last} at {step:?}");
                last = p;
            }
        }
        assert_eq!(last, 97.0);
    }
}
