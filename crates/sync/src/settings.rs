//! Per-connection sync settings, stored as JSON in `connections.settings`. Every field has a
//! default, so settings written by an older version load unchanged.

use serde::{Deserialize, Serialize};
use time::Duration;

/// Where the HowNow Client Code comes from when XPM's `ClientCode` is empty (HowNow files
/// documents in folders named by the code, so an empty one creates a "NULL" folder).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeFallback {
    /// No fallback: a client without `ClientCode` has no code (and is reported).
    #[default]
    None,
    /// XPM's `ExportCode` (often the code of the practice's accounting export).
    ExportCode,
    /// The client's XPM UUID: unique and stable, but not readable.
    Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncSettings {
    /// Changes-since-last-sync runs this often (SPEC: every 6 hours).
    pub changes_interval_minutes: u32,
    /// Run a full sync once a day at `daily_full_hour` (local time of `utc_offset_minutes`).
    pub daily_full_sync: bool,
    pub daily_full_hour: u8,
    /// The firm's UTC offset, used for the daily full sync hour when `time_zone` is not set.
    pub utc_offset_minutes: i32,
    /// The firm's time zone (IANA name, e.g. `Australia/Sydney`), as the window reports it: the
    /// daily full sync keeps its local hour across DST changes.
    pub time_zone: Option<String>,
    /// How far before the watermark `modifiedsince` reaches, to cover clock skew and changes
    /// committed in XPM while the previous list was being computed.
    pub overlap_minutes: u32,
    /// A full sync that would tombstone more than this share of the live clients stops and asks.
    pub mass_removal_share: f64,
    /// ... unless fewer than this many would go (removing 1 of 3 clients is not a mass removal).
    pub mass_removal_min: u32,
    /// The HowNow Client Code fallback.
    pub client_code_fallback: CodeFallback,
    /// Clients re-fetched one by one on every changes sync, in rotation, to catch what neither
    /// `modifiedsince` nor the contacts list shows (a primary-contact move). 0 turns it off.
    pub verify_per_run: u32,
    /// Cap on clients re-fetched because a contact of theirs changed, per run; beyond it the
    /// engine asks for a full sync instead (one call however many clients).
    pub max_refetch_per_run: u32,
    /// Day calls kept for scheduled syncs: manual runs may not eat into them.
    pub budget_reserve: u32,
    /// `pageSize` of `client.api/contacts` (XPM allows 1–500).
    pub contacts_page_size: u32,
    /// Refresh the token at least this often while idle (the refresh token dies after 60 days
    /// unused).
    pub token_refresh_hours: u32,
    /// Back-off after a failed run: `base × 2^(failures−1)`, capped.
    pub backoff_base_minutes: u32,
    pub backoff_cap_minutes: u32,
}

impl Default for SyncSettings {
    fn default() -> Self {
        SyncSettings {
            changes_interval_minutes: 6 * 60,
            daily_full_sync: true,
            daily_full_hour: 2,
            utc_offset_minutes: 0,
            time_zone: None,
            overlap_minutes: 5,
            mass_removal_share: 0.2,
            mass_removal_min: 5,
            client_code_fallback: CodeFallback::None,
            verify_per_run: 25,
            max_refetch_per_run: 100,
            budget_reserve: 250,
            contacts_page_size: 500,
            token_refresh_hours: 12,
            backoff_base_minutes: 5,
            backoff_cap_minutes: 6 * 60,
        }
    }
}

/// A setting out of its range: said in the administrator's terms, without naming any control.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSettings(pub String);

impl SyncSettings {
    /// The widest UTC offset a firm can have (Kiribati's +14 h; the furthest west is −12 h).
    pub const MAX_UTC_OFFSET_MINUTES: i32 = 14 * 60;
    /// The schedule's interval may be set from an hour to a day.
    pub const INTERVAL_MINUTES: std::ops::RangeInclusive<u32> = 60..=24 * 60;

    /// Whether the settings the administrator can change are in range: the one check the window,
    /// the CLI and the engine share.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        if !Self::INTERVAL_MINUTES.contains(&self.changes_interval_minutes) {
            return Err(InvalidSettings(
                "the sync interval must be between 1 and 24 hours".to_string(),
            ));
        }
        if self.daily_full_hour > 23 {
            return Err(InvalidSettings(
                "the daily full sync hour must be between 0 and 23".to_string(),
            ));
        }
        if self.utc_offset_minutes.abs() > Self::MAX_UTC_OFFSET_MINUTES {
            return Err(InvalidSettings(format!(
                "a UTC offset of {} minutes is beyond any time zone's (±14 hours)",
                self.utc_offset_minutes
            )));
        }
        if let Some(zone) = self
            .time_zone
            .as_deref()
            .filter(|z| !crate::schedule::is_known_zone(z))
        {
            return Err(InvalidSettings(format!("\"{zone}\" is not a known time zone")));
        }
        Ok(())
    }

    pub fn changes_interval(&self) -> Duration {
        Duration::minutes(self.changes_interval_minutes.max(1) as i64)
    }

    pub fn overlap(&self) -> Duration {
        Duration::minutes(self.overlap_minutes as i64)
    }

    pub fn token_refresh_interval(&self) -> Duration {
        Duration::hours(self.token_refresh_hours.clamp(1, 24 * 30) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_administrators_settings_are_checked_once() {
        assert_eq!(SyncSettings::default().validate(), Ok(()));
        let with = |edit: fn(&mut SyncSettings)| {
            let mut s = SyncSettings::default();
            edit(&mut s);
            s.validate()
        };
        assert!(with(|s| s.changes_interval_minutes = 59).is_err());
        assert!(with(|s| s.changes_interval_minutes = 24 * 60 + 1).is_err());
        assert!(with(|s| s.changes_interval_minutes = 24 * 60).is_ok());
        assert!(with(|s| s.daily_full_hour = 24).is_err());
        assert!(with(|s| s.utc_offset_minutes = 14 * 60).is_ok());
        assert!(with(|s| s.utc_offset_minutes = -(14 * 60 + 1)).is_err());
        assert!(with(|s| s.time_zone = Some("Pacific/Auckland".into())).is_ok());
        let err = with(|s| s.time_zone = Some("Mars/Olympus".into())).unwrap_err();
        assert_eq!(err.to_string(), "\"Mars/Olympus\" is not a known time zone");
    }

    #[test]
    fn missing_fields_take_defaults() {
        let s: SyncSettings = serde_json::from_str(r#"{"daily_full_hour": 23}"#).unwrap();
        assert_eq!(s.daily_full_hour, 23);
        assert_eq!(s.changes_interval_minutes, 360);
        assert!(s.daily_full_sync);
        let round: SyncSettings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(round, s);
    }
}
