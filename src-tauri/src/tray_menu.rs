//! Applies the tray model to Tauri's tray icon and menu.

use std::sync::Mutex;

use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Runtime};

use crate::tray::{Refresh, TrayAction, TrayModel, REFRESH_SUBMENU_ID, REFRESH_SUBMENU_LABEL, STATUS_ID};

const ICON_IDLE: &[u8] = include_bytes!("../../icons/tray.png");
const ICON_SYNCING: &[u8] = include_bytes!("../../icons/tray-syncing.png");

pub struct TrayMenu<R: Runtime> {
    icon: TrayIcon<R>,
    status: MenuItem<R>,
    refresh: Submenu<R>,
    changes: MenuItem<R>,
    full: MenuItem<R>,
    shown: Mutex<TrayModel>,
}

impl<R: Runtime> TrayMenu<R> {
    /// Builds the tray with `initial` applied; `on_action` receives every menu click.
    pub fn install(
        app: &AppHandle<R>,
        initial: TrayModel,
        on_action: impl Fn(&AppHandle<R>, TrayAction) + Send + Sync + 'static,
    ) -> tauri::Result<Self> {
        let item = |action: TrayAction, enabled: bool| {
            MenuItem::with_id(app, action.id(), action.label(), enabled, None::<&str>)
        };
        let open = item(TrayAction::Open, true)?;
        let changes = item(TrayAction::Refresh(Refresh::Changes), initial.refresh_enabled)?;
        let full = item(TrayAction::Refresh(Refresh::Full), initial.refresh_enabled)?;
        let refresh = Submenu::with_id_and_items(
            app,
            REFRESH_SUBMENU_ID,
            REFRESH_SUBMENU_LABEL,
            initial.refresh_enabled,
            &[&changes, &full],
        )?;
        let status = MenuItem::with_id(app, STATUS_ID, &initial.status_line, false, None::<&str>)?;
        let quit = item(TrayAction::Quit, true)?;
        let menu = Menu::with_items(
            app,
            &[
                &open,
                &refresh,
                &PredefinedMenuItem::separator(app)?,
                &status,
                &PredefinedMenuItem::separator(app)?,
                &quit,
            ],
        )?;
        let icon = TrayIconBuilder::with_id("main")
            .icon(Image::from_bytes(ICON_IDLE)?)
            .tooltip("HowNow Admin")
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(move |app, event| {
                if let Some(action) = TrayAction::from_id(event.id().as_ref()) {
                    on_action(app, action);
                }
            })
            .build(app)?;
        Ok(Self {
            icon,
            status,
            refresh,
            changes,
            full,
            shown: Mutex::new(initial),
        })
    }

    /// The model currently on screen (what a click was made against).
    pub fn shown(&self) -> TrayModel {
        self.shown.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Updates texts, enabled flags and the icon where they differ from what is shown.
    pub fn apply(&self, next: TrayModel) -> tauri::Result<()> {
        let mut shown = self.shown.lock().unwrap_or_else(|p| p.into_inner());
        if shown.status_line != next.status_line {
            self.status.set_text(&next.status_line)?;
        }
        if shown.refresh_enabled != next.refresh_enabled {
            self.refresh.set_enabled(next.refresh_enabled)?;
            self.changes.set_enabled(next.refresh_enabled)?;
            self.full.set_enabled(next.refresh_enabled)?;
        }
        if shown.syncing != next.syncing {
            let bytes = if next.syncing { ICON_SYNCING } else { ICON_IDLE };
            self.icon.set_icon(Some(Image::from_bytes(bytes)?))?;
        }
        *shown = next;
        Ok(())
    }
}
