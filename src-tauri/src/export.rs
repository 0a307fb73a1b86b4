//! The Clients page's CSV export: the HowNow contact record of each matching client (SPEC 4.1),
//! one row per client, with HowNow's field names as the header.

use std::path::{Path, PathBuf};

use hownow_sync::engine::Engine;
use hownow_sync::CsvValues;
use time::OffsetDateTime;

use crate::error::{CommandError, CommandResult};

/// Writes the records of the clients `search` matches (all when empty) and returns the file and
/// the number of rows. Formula-like cells are made inert unless `values` is raw.
pub fn write_csv(
    engine: &Engine,
    connection_id: i64,
    search: Option<&str>,
    folder: &Path,
    values: CsvValues,
) -> CommandResult<(PathBuf, u64)> {
    let path = unique_path(folder, OffsetDateTime::now_utc());
    // The export holds the directory's personal data: 0600, like the data dir's own files; it is
    // written as the directory is read, one client at a time.
    let rows = hownow_sync::private::write_private_with(&path, |file| {
        engine.export_csv(connection_id, search, values, std::io::BufWriter::new(file))
    })
    .map_err(|e| CommandError::internal(format!("could not write {}: {e}", path.display())))??;
    Ok((path, rows))
}

/// `hownow-clients-2025-03-01.csv`, or `…-2.csv`, `…-3.csv` when it exists: never overwrite.
fn unique_path(dir: &Path, now: OffsetDateTime) -> PathBuf {
    let date = format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day());
    let mut path = dir.join(format!("hownow-clients-{date}.csv"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("hownow-clients-{date}-{n}.csv"));
        n += 1;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let now = time::macros::datetime!(2025-03-01 10:00 UTC);
        let first = unique_path(dir.path(), now);
        assert!(first.ends_with("hownow-clients-2025-03-01.csv"));
        std::fs::write(&first, "x").unwrap();
        assert!(unique_path(dir.path(), now).ends_with("hownow-clients-2025-03-01-2.csv"));
    }
}
