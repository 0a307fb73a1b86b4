//! The Clients page's CSV export: the HowNow contact record of each matching client (SPEC 4.1),
//! one row per client, with HowNow's field names as the header.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use hownow_sync::engine::Engine;
use hownow_sync::{CsvValues, HowNowRecord};
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
) -> CommandResult<(PathBuf, usize)> {
    let wanted: HashSet<String> = engine
        .clients(connection_id, search)?
        .into_iter()
        .filter_map(|c| c.client.uuid)
        .collect();
    let records: Vec<HowNowRecord> = engine
        .reader()?
        .records(connection_id)
        .map_err(CommandError::from)?
        .into_iter()
        .filter(|r| wanted.contains(&r.uuid))
        .collect();
    let path = unique_path(folder, OffsetDateTime::now_utc());
    write(&path, &records, values)
        .map_err(|e| CommandError::internal(format!("could not write {}: {e}", path.display())))?;
    Ok((path, records.len()))
}

fn write(path: &Path, records: &[HowNowRecord], values: CsvValues) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HowNowRecord::CSV_HEADER)?;
    for r in records {
        out.write_record(r.csv_row_as(values).iter().map(|cell| cell.as_ref()))?;
    }
    // The export holds the directory's personal data: 0600, like the data dir's own files.
    hownow_sync::private::write_private(path, &out.into_inner()?)?;
    Ok(())
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
    use hownow_sync::record::{AddressSource, RecordAddress};

    fn record(name: &str) -> HowNowRecord {
        HowNowRecord {
            uuid: "u-1".into(),
            client_code: Some("C1".into()),
            name: Some(name.into()),
            phone_number: None,
            web_url: None,
            address: RecordAddress {
                source: AddressSource::Postal,
                lines: Some("1 Quay St\nLevel 2".into()),
                city: Some("Auckland".into()),
                region: None,
                post_code: Some("1010".into()),
                country: None,
            },
            given_name: "Mere".into(),
            family_name: "Ngata".into(),
            email: None,
            contact_phone: None,
            is_individual: false,
            is_active: true,
            is_archived: false,
        }
    }

    #[test]
    fn names_with_commas_quotes_and_newlines_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write(&path, &[record("Smith, \"Jones\" & <Sons> 🎉")], CsvValues::Inert).unwrap();
        let mut reader = csv::Reader::from_path(&path).unwrap();
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            HowNowRecord::CSV_HEADER
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][2], "Smith, \"Jones\" & <Sons> 🎉");
        assert_eq!(&rows[0][5], "1 Quay St\nLevel 2");
        assert_eq!(&rows[0][15], "Yes");
    }

    #[test]
    fn formulas_are_inert_unless_raw_is_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let read = |path: &Path| {
            let mut reader = csv::Reader::from_path(path).unwrap();
            reader.records().next().unwrap().unwrap()[2].to_string()
        };
        let inert = dir.path().join("inert.csv");
        write(&inert, &[record("=HYPERLINK(\"x\")")], CsvValues::Inert).unwrap();
        assert_eq!(read(&inert), "'=HYPERLINK(\"x\")");
        let raw = dir.path().join("raw.csv");
        write(&raw, &[record("=HYPERLINK(\"x\")")], CsvValues::Raw).unwrap();
        assert_eq!(read(&raw), "=HYPERLINK(\"x\")");
    }

    #[cfg(unix)]
    #[test]
    fn exports_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        write(&path, &[record("Harbour")], CsvValues::Inert).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

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
