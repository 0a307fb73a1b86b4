//! The tray menu. The model (what the menu shows in a given app state) and the dispatch of its
//! actions are plain Rust, tested without a display: a Linux tray has no click events to drive.
//! `TrayMenu` (in `tray_menu`) applies a model to Tauri's menu by changing item texts and
//! enabled flags, never by swapping menus (AppIndicator keeps the first one it was given).

use time::OffsetDateTime;

/// The two manual refresh choices, as the window and the tray offer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Refresh {
    /// "Changes since last sync": quick; what XPM reports as modified, plus the contact sweep.
    Changes,
    /// "Re-sync ALL client data": everything, slow and API-hungry.
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    Open,
    Refresh(Refresh),
    Quit,
}

impl TrayAction {
    pub const ALL: [TrayAction; 4] = [
        TrayAction::Open,
        TrayAction::Refresh(Refresh::Changes),
        TrayAction::Refresh(Refresh::Full),
        TrayAction::Quit,
    ];

    /// The menu item id, also what [`TrayAction::from_id`] reads back from a menu event.
    pub fn id(self) -> &'static str {
        match self {
            TrayAction::Open => "open",
            TrayAction::Refresh(Refresh::Changes) => "refresh-changes",
            TrayAction::Refresh(Refresh::Full) => "refresh-full",
            TrayAction::Quit => "quit",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TrayAction::Open => "Open HowNow Admin",
            TrayAction::Refresh(Refresh::Changes) => "Changes since last sync",
            TrayAction::Refresh(Refresh::Full) => "Re-sync ALL client data",
            TrayAction::Quit => "Quit",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.id() == id)
    }
}

pub const REFRESH_SUBMENU_ID: &str = "refresh";
pub const REFRESH_SUBMENU_LABEL: &str = "Refresh";
pub const STATUS_ID: &str = "status";

/// How the last finished sync went, for the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastSync {
    pub finished_at: OffsetDateTime,
    pub succeeded: bool,
}

/// What the tray needs to know about the app.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrayState {
    /// Connections that can sync (not disconnected).
    pub connections: usize,
    /// A sync is running; `Some(percent)` when its size is known.
    pub syncing: Option<Option<f64>>,
    /// The sync waits for XPM to prepare the client list: what to say instead of a percentage.
    pub waiting: Option<String>,
    pub needs_reauth: bool,
    pub last_sync: Option<LastSync>,
}

/// What the menu shows. `Open` and `Quit` are always enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayModel {
    pub status_line: String,
    /// Both refresh choices (and their submenu) are enabled only when a sync could start now.
    pub refresh_enabled: bool,
    /// Shows the busy tray icon.
    pub syncing: bool,
}

impl TrayModel {
    pub fn is_enabled(&self, action: TrayAction) -> bool {
        match action {
            TrayAction::Open | TrayAction::Quit => true,
            TrayAction::Refresh(_) => self.refresh_enabled,
        }
    }
}

pub fn model(state: &TrayState, now: OffsetDateTime) -> TrayModel {
    let status_line = if state.connections == 0 {
        "Not connected to Xero Practice Manager".to_string()
    } else if let (Some(_), Some(waiting)) = (state.syncing, &state.waiting) {
        waiting.clone()
    } else if let Some(percent) = state.syncing {
        match percent {
            Some(p) => format!("Syncing… {}%", p.clamp(0.0, 100.0).floor()),
            None => "Syncing…".to_string(),
        }
    } else if state.needs_reauth {
        "Needs reauthorisation: open the app".to_string()
    } else {
        match state.last_sync {
            None => "No sync yet".to_string(),
            Some(last) if last.succeeded => format!("Last sync: {}", ago(last.finished_at, now)),
            Some(last) => format!("Last sync failed {}", ago(last.finished_at, now)),
        }
    };
    TrayModel {
        status_line,
        refresh_enabled: state.connections > 0 && state.syncing.is_none() && !state.needs_reauth,
        syncing: state.syncing.is_some(),
    }
}

/// "just now", "5 min ago", "3 h ago", "2 days ago": short enough for a menu line.
fn ago(then: OffsetDateTime, now: OffsetDateTime) -> String {
    let minutes = (now - then).whole_minutes().max(0);
    match minutes {
        0 => "just now".to_string(),
        1..=59 => format!("{minutes} min ago"),
        60..=2879 => format!("{} h ago", minutes / 60),
        _ => format!("{} days ago", minutes / 1440),
    }
}

/// What the app does for each tray action; the Tauri implementation is in `lib.rs`.
pub trait TrayTarget {
    fn show_window(&self);
    fn refresh(&self, choice: Refresh);
    fn quit(&self);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatched {
    Done,
    /// The action was disabled when it arrived (a click racing a sync start): nothing was done.
    Ignored,
}

/// Runs a tray action against the app, honouring the menu's current enabled state.
pub fn dispatch(action: TrayAction, current: &TrayModel, target: &impl TrayTarget) -> Dispatched {
    if !current.is_enabled(action) {
        return Dispatched::Ignored;
    }
    match action {
        TrayAction::Open => target.show_window(),
        TrayAction::Refresh(choice) => target.refresh(choice),
        TrayAction::Quit => target.quit(),
    }
    Dispatched::Done
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-03-01 12:00 UTC);

    #[derive(Default)]
    struct Recorder(RefCell<Vec<String>>);

    impl TrayTarget for Recorder {
        fn show_window(&self) {
            self.0.borrow_mut().push("show".into());
        }
        fn refresh(&self, choice: Refresh) {
            self.0.borrow_mut().push(format!("refresh {choice:?}"));
        }
        fn quit(&self) {
            self.0.borrow_mut().push("quit".into());
        }
    }

    fn connected(last: Option<LastSync>) -> TrayState {
        TrayState {
            connections: 1,
            syncing: None,
            waiting: None,
            needs_reauth: false,
            last_sync: last,
        }
    }

    #[test]
    fn ids_round_trip_and_are_unique() {
        for action in TrayAction::ALL {
            assert_eq!(TrayAction::from_id(action.id()), Some(action));
        }
        assert_eq!(TrayAction::from_id("refresh"), None);
        assert_eq!(TrayAction::from_id("status"), None);
    }

    #[test]
    fn labels_are_the_documented_choices() {
        assert_eq!(
            TrayAction::Refresh(Refresh::Changes).label(),
            "Changes since last sync"
        );
        assert_eq!(
            TrayAction::Refresh(Refresh::Full).label(),
            "Re-sync ALL client data"
        );
    }

    #[test]
    fn status_line_follows_the_app_state() {
        let ok = LastSync {
            finished_at: datetime!(2025-03-01 11:55 UTC),
            succeeded: true,
        };
        assert_eq!(
            model(&connected(Some(ok)), NOW).status_line,
            "Last sync: 5 min ago"
        );
        let failed = LastSync {
            finished_at: datetime!(2025-03-01 09:00 UTC),
            succeeded: false,
        };
        assert_eq!(
            model(&connected(Some(failed)), NOW).status_line,
            "Last sync failed 3 h ago"
        );
        assert_eq!(model(&connected(None), NOW).status_line, "No sync yet");
        assert_eq!(
            model(&TrayState::default(), NOW).status_line,
            "Not connected to Xero Practice Manager"
        );
        let syncing = TrayState {
            syncing: Some(Some(42.7)),
            ..connected(Some(ok))
        };
        assert_eq!(model(&syncing, NOW).status_line, "Syncing… 42%");
        let waiting = TrayState {
            syncing: Some(None),
            waiting: Some("Waiting for Xero Practice Manager to prepare the client list… 2 min".into()),
            ..syncing.clone()
        };
        assert_eq!(
            model(&waiting, NOW).status_line,
            "Waiting for Xero Practice Manager to prepare the client list… 2 min"
        );
        let no_size = TrayState {
            syncing: Some(None),
            ..connected(None)
        };
        assert_eq!(model(&no_size, NOW).status_line, "Syncing…");
        let reauth = TrayState {
            needs_reauth: true,
            ..connected(Some(ok))
        };
        assert_eq!(
            model(&reauth, NOW).status_line,
            "Needs reauthorisation: open the app"
        );
        let old = LastSync {
            finished_at: datetime!(2025-02-26 12:00 UTC),
            succeeded: true,
        };
        assert_eq!(
            model(&connected(Some(old)), NOW).status_line,
            "Last sync: 3 days ago"
        );
    }

    #[test]
    fn refresh_is_disabled_while_syncing_without_connection_or_needing_reauth() {
        assert!(model(&connected(None), NOW).refresh_enabled);
        assert!(
            !model(
                &TrayState {
                    syncing: Some(None),
                    ..connected(None)
                },
                NOW
            )
            .refresh_enabled
        );
        assert!(!model(&TrayState::default(), NOW).refresh_enabled);
        assert!(
            !model(
                &TrayState {
                    needs_reauth: true,
                    ..connected(None)
                },
                NOW
            )
            .refresh_enabled
        );
    }

    #[test]
    fn dispatch_runs_each_enabled_action() {
        let idle = model(&connected(None), NOW);
        let target = Recorder::default();
        for action in TrayAction::ALL {
            assert_eq!(dispatch(action, &idle, &target), Dispatched::Done);
        }
        assert_eq!(
            *target.0.borrow(),
            ["show", "refresh Changes", "refresh Full", "quit"]
        );
    }

    #[test]
    fn dispatch_ignores_refresh_during_a_sync_but_still_opens_and_quits() {
        let busy = model(
            &TrayState {
                syncing: Some(Some(10.0)),
                ..connected(None)
            },
            NOW,
        );
        let target = Recorder::default();
        assert_eq!(
            dispatch(TrayAction::Refresh(Refresh::Changes), &busy, &target),
            Dispatched::Ignored
        );
        assert_eq!(
            dispatch(TrayAction::Refresh(Refresh::Full), &busy, &target),
            Dispatched::Ignored
        );
        assert_eq!(dispatch(TrayAction::Open, &busy, &target), Dispatched::Done);
        assert_eq!(dispatch(TrayAction::Quit, &busy, &target), Dispatched::Done);
        assert_eq!(*target.0.borrow(), ["show", "quit"]);
    }
}
