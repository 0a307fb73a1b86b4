//! The engine's notion of "now", and how times are written in the directory.
//!
//! Every time the engine stamps (a run's start, the watermark's local fallback, a token's refresh)
//! and every decision that depends on the time of day (the daily full sync's hour, what is due)
//! comes from one injected [`Clock`]. Production uses [`SystemClock`]; tests use a
//! [`ShiftedClock`] placed at a chosen hour of a chosen day, so that no test depends on when or
//! where it runs. Stored times are UTC, fixed width, millisecond precision, so that text
//! comparison in SQL orders them correctly.

use std::fmt::Debug;
use std::sync::Mutex;

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Where the engine reads the current time.
pub trait Clock: Send + Sync + Debug {
    /// The current time (UTC).
    fn now(&self) -> OffsetDateTime;
}

/// The computer's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The computer's clock moved by a settable offset: time passes at its real pace (timeouts and
/// token lifetimes behave), but the date and hour are the test's choice, and a test can make
/// hours pass at once with [`ShiftedClock::advance`].
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset: Mutex<Duration>,
}

impl ShiftedClock {
    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: OffsetDateTime) -> ShiftedClock {
        ShiftedClock {
            offset: Mutex::new(start - OffsetDateTime::now_utc()),
        }
    }

    /// Moves the clock `by` (forward when positive), as if that much time passed at once.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }

    /// Sets the clock to read `at` now.
    pub fn set(&self, at: OffsetDateTime) {
        *self.offset.lock().unwrap_or_else(|p| p.into_inner()) = at - OffsetDateTime::now_utc();
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `t` as stored in SQLite (`2024-05-01T02:00:00.000Z`).
pub fn to_db(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(STORED)
        .expect("every UTC time formats with a four-digit year")
}

/// Reads a time written by [`to_db`]. Also accepts any RFC 3339 value, for hand-edited rows.
pub fn from_db(s: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(s, STORED)
        .map(|t| t.assume_utc())
        .ok()
        .or_else(|| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
}

/// `clock`'s time truncated to what the directory stores, so a value read back compares equal.
pub fn now_stored(clock: &dyn Clock) -> OffsetDateTime {
    let t = clock.now();
    t.replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trips_and_sorts_as_text() {
        let a = datetime!(2024-05-01 02:00:00.123 UTC);
        let b = datetime!(2024-05-01 12:00:00 +10:00);
        assert_eq!(to_db(a), "2024-05-01T02:00:00.123Z");
        assert_eq!(to_db(b), "2024-05-01T02:00:00.000Z");
        assert_eq!(from_db(&to_db(a)), Some(a));
        assert!(to_db(b) < to_db(a));
        assert_eq!(
            from_db("2024-05-01T02:00:00Z"),
            Some(datetime!(2024-05-01 02:00:00 UTC))
        );
        assert_eq!(from_db("yesterday"), None);
    }

    #[test]
    fn a_shifted_clock_reads_its_start_and_moves_when_told() {
        let start = datetime!(2031-07-09 21:30 UTC);
        let clock = ShiftedClock::starting_at(start);
        let first = clock.now();
        assert!(first >= start && first - start < Duration::minutes(1), "{first}");
        clock.advance(Duration::hours(5));
        let later = clock.now();
        assert!(later - first >= Duration::hours(5), "{later}");
        clock.set(datetime!(2020-01-01 00:00 UTC));
        assert_eq!(clock.now().year(), 2020);
        let stored = now_stored(&clock);
        assert_eq!(from_db(&to_db(stored)), Some(stored));
    }
}
