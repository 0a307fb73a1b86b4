//! How times are written in the directory: UTC, fixed width, millisecond precision, so that text
//! comparison in SQL orders them correctly.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const STORED: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

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

/// The current time truncated to what the directory stores, so a value read back compares equal.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
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
}
