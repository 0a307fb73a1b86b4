//! Xero's call budget (SPEC 5.5): 60 calls a minute and 5,000 a day per practice. The engine
//! records what Xero's headers say is left ([`crate::Quota`], updated by every run), estimates
//! what a run will cost before it starts, and keeps a reserve of day calls for scheduled runs so
//! that manual "Re-sync ALL" clicks cannot starve the six-hourly sync.
//!
//! The `minute` limit is the HTTP client's business (it paces and waits `Retry-After`); a `day`
//! 429 stops a run, which is recorded as failed with Xero's reset time, and the schedule waits
//! for that reset.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::error::{Result, SyncError};
use crate::settings::SyncSettings;
use crate::store::{DirectoryCounts, Quota, RunKind, RunTrigger};

/// What Xero's detailed list costs in bytes per client, roughly (50 MB for 15,000 clients).
const BYTES_PER_CLIENT: u64 = 3_500;

/// Remaining-call figures older than this are not trusted (the day window has rolled).
const QUOTA_VALID_FOR: Duration = Duration::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Estimate {
    pub api_calls: u64,
    /// Download size, for "this will take a while" messages.
    pub bytes: u64,
}

/// The calls a run of `kind` should cost for a directory of this size.
///
/// * full: one list call, plus one `modifiedsince` list to measure missed-by-incremental;
/// * changes: one list call, the contact-sweep pages, and the verify slice;
/// * contacts: the contact-sweep pages and the verify slice.
///
/// Re-fetches of clients whose contacts changed come on top (bounded by
/// `max_refetch_per_run`); they are not predictable.
pub fn estimate(kind: RunKind, counts: &DirectoryCounts, settings: &SyncSettings) -> Estimate {
    let page = u64::from(settings.contacts_page_size.clamp(1, 500));
    let sweep_pages = counts.contacts.div_ceil(page).max(1);
    let verify = u64::from(settings.verify_per_run).min(counts.clients);
    match kind {
        RunKind::Full => Estimate {
            api_calls: 2,
            bytes: (counts.clients + counts.removed).max(1) * BYTES_PER_CLIENT,
        },
        RunKind::Changes => Estimate {
            api_calls: 1 + sweep_pages + verify,
            bytes: sweep_pages * page * 300,
        },
        RunKind::Contacts => Estimate {
            api_calls: sweep_pages + verify,
            bytes: sweep_pages * page * 300,
        },
    }
}

/// Day calls known to be left, if Xero said so recently.
pub fn day_remaining(quota: &Quota, now: OffsetDateTime) -> Option<u64> {
    let observed = quota.observed_at?;
    (now - observed <= QUOTA_VALID_FOR)
        .then_some(quota.day_remaining.map(u64::from))
        .flatten()
}

/// When the day-calls figure in `quota` stops being trusted (the day window has rolled by then).
pub fn day_figure_expires(quota: &Quota) -> Option<OffsetDateTime> {
    quota.observed_at.map(|at| at + QUOTA_VALID_FOR)
}

/// Refuses a run the day budget cannot pay for. Scheduled runs may use the reserve; manual ones
/// may not.
pub fn check(
    quota: &Quota,
    now: OffsetDateTime,
    needed: &Estimate,
    trigger: RunTrigger,
    settings: &SyncSettings,
) -> Result<()> {
    let Some(left) = day_remaining(quota, now) else {
        return Ok(());
    };
    let reserve = if trigger == RunTrigger::Manual {
        u64::from(settings.budget_reserve)
    } else {
        0
    };
    let available = left.saturating_sub(reserve);
    if needed.api_calls > available {
        return Err(SyncError::OverBudget {
            needed: needed.api_calls,
            available,
            reserve,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2024-05-01 12:00 UTC);

    fn counts(clients: u64, contacts: u64) -> DirectoryCounts {
        DirectoryCounts {
            clients,
            archived: 0,
            removed: 0,
            contacts,
        }
    }

    #[test]
    fn estimates() {
        let s = SyncSettings::default();
        let c = counts(15_000, 30_000);
        assert_eq!(estimate(RunKind::Full, &c, &s).api_calls, 2);
        assert_eq!(estimate(RunKind::Full, &c, &s).bytes, 15_000 * BYTES_PER_CLIENT);
        // 1 list + 60 pages of 500 + 25 verified clients.
        assert_eq!(estimate(RunKind::Changes, &c, &s).api_calls, 1 + 60 + 25);
        assert_eq!(estimate(RunKind::Contacts, &counts(10, 0), &s).api_calls, 1 + 10);
    }

    #[test]
    fn manual_runs_keep_the_reserve() {
        let s = SyncSettings::default(); // reserve 250
        let quota = Quota {
            min_remaining: Some(60),
            day_remaining: Some(300),
            observed_at: Some(NOW),
        };
        let needs = |n| Estimate {
            api_calls: n,
            bytes: 0,
        };
        assert!(check(&quota, NOW, &needs(50), RunTrigger::Manual, &s).is_ok());
        let err = check(&quota, NOW, &needs(51), RunTrigger::Manual, &s).unwrap_err();
        assert!(
            matches!(
                err,
                SyncError::OverBudget {
                    needed: 51,
                    available: 50,
                    reserve: 250
                }
            ),
            "{err:?}"
        );
        assert!(check(&quota, NOW, &needs(300), RunTrigger::Schedule, &s).is_ok());
        assert!(check(&quota, NOW, &needs(301), RunTrigger::Schedule, &s).is_err());
    }

    #[test]
    fn stale_or_unknown_quota_does_not_block() {
        let s = SyncSettings::default();
        let old = Quota {
            min_remaining: None,
            day_remaining: Some(0),
            observed_at: Some(NOW - Duration::hours(25)),
        };
        assert!(check(
            &old,
            NOW,
            &Estimate {
                api_calls: 10,
                bytes: 0
            },
            RunTrigger::Manual,
            &s
        )
        .is_ok());
        assert!(check(
            &Quota::default(),
            NOW,
            &Estimate {
                api_calls: 10,
                bytes: 0
            },
            RunTrigger::Manual,
            &s
        )
        .is_ok());
    }
}
