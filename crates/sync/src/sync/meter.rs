//! Counting what a run costs (calls, bytes) and what Xero says is left.

use std::sync::Arc;

use hownow_xpm::ResponseMeta;

use crate::clock::{self, Clock};
use crate::store::{Quota, RunCounts};

#[derive(Debug)]
pub(crate) struct Meter {
    pub quota: Quota,
    clock: Arc<dyn Clock>,
}

impl Meter {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Meter {
            quota: Quota::default(),
            clock,
        }
    }

    /// A call that answered: its tries count, and its headers update the quota.
    pub(crate) fn answered(&mut self, counts: &mut RunCounts, meta: &ResponseMeta) {
        counts.api_calls += u64::from(meta.attempts.max(1));
        counts.bytes += meta.bytes_received;
        counts.bytes_on_wire += meta.bytes_on_wire;
        if meta.min_limit_remaining.is_some() || meta.day_limit_remaining.is_some() {
            if meta.min_limit_remaining.is_some() {
                self.quota.min_remaining = meta.min_limit_remaining;
            }
            if meta.day_limit_remaining.is_some() {
                self.quota.day_remaining = meta.day_limit_remaining;
            }
            self.quota.observed_at = Some(clock::now_stored(self.clock.as_ref()));
        }
    }

    /// A call that failed: it still cost at least one call.
    pub(crate) fn failed(&mut self, counts: &mut RunCounts) {
        counts.api_calls += 1;
    }
}
