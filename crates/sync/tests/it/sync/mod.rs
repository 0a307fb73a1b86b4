//! The sync algorithms over the in-memory source: full, changes, contact sweep, guards, failures.
//! The tests are in the submodules by topic; the settings builder they share is here.

mod contacts;
mod full_and_changes;
mod guards;
mod reports;

use hownow_sync::SyncSettings;

pub(super) fn settings(f: impl FnOnce(&mut SyncSettings)) -> SyncSettings {
    let mut s = SyncSettings::default();
    f(&mut s);
    s
}
