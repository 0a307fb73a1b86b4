//! Versioned schema migrations, applied in order at open. A migration is never edited once
//! released: a change is a new file with the next number.

use std::path::Path;

use crate::error::{Result, SyncError};

/// A migration's step in Rust, run after its SQL in the same transaction: for data the SQL of
/// the store computes (one form of it, rather than a copy frozen in the migration).
type DataStep = fn(&rusqlite::Connection) -> Result<()>;

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_directory.sql")),
    (2, include_str!("migrations/0002_sync_state_index.sql")),
    (3, include_str!("migrations/0003_run_pace.sql")),
    (4, include_str!("migrations/0004_data_warnings.sql")),
    (5, include_str!("migrations/0005_connection_user.sql")),
    (6, include_str!("migrations/0006_contact_search.sql")),
    (7, include_str!("migrations/0007_client_once.sql")),
    (8, include_str!("migrations/0008_search_text.sql")),
];

const DATA_STEPS: &[(i64, DataStep)] = &[(8, super::search::fill)];

/// The schema version this build writes.
pub const LATEST_SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

pub(super) fn migrate(db: &mut rusqlite::Connection, path: &Path) -> Result<()> {
    // Read without a lock first: a current schema (every open but the first after an upgrade)
    // must not wait on a sync's write transaction, in this process or another.
    let current: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current == LATEST_SCHEMA_VERSION {
        return Ok(());
    }
    loop {
        // Re-read the version inside the write lock: two processes opening a fresh file at the
        // same moment must not both run migration 1.
        let tx = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if current > LATEST_SCHEMA_VERSION {
            return Err(SyncError::SchemaTooNew {
                path: path.to_path_buf(),
                found: current,
                known: LATEST_SCHEMA_VERSION,
            });
        }
        let Some(&(version, sql)) = MIGRATIONS.iter().find(|(v, _)| *v > current) else {
            return Ok(());
        };
        tracing::info!(version, "migrating the client directory");
        tx.execute_batch(sql)?;
        for (_, step) in DATA_STEPS.iter().filter(|(v, _)| *v == version) {
            step(&tx)?;
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
}

/// Brings a new database to schema `version` only: for the tests of a later migration.
#[cfg(test)]
pub(super) fn migrate_until(db: &mut rusqlite::Connection, version: i64) -> Result<()> {
    for (v, sql) in MIGRATIONS.iter().take_while(|(v, _)| *v <= version) {
        db.execute_batch(sql)?;
        for (_, step) in DATA_STEPS.iter().filter(|(s, _)| s == v) {
            step(db)?;
        }
    }
    db.pragma_update(None, "user_version", version)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_from_one() {
        for (i, (v, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v, i as i64 + 1);
        }
    }
}
