//! The directory as the window and the CLI read it, through the engine's read-only handles (so
//! never behind a running sync): a page of client summaries for lists and search, one client
//! whole, every matching client whole, and the HowNow records and their CSV.
//!
//! The streaming reads hand one client at a time to the caller, so that exporting a directory
//! of 15,000 clients holds one client in memory, not the directory.

use std::io::Write;

use super::{Engine, EngineError, Result};
use crate::record::{CsvValues, HowNowRecord};
use crate::store::{ClientDetail, ClientQuery, ClientSummaryPage};

/// The live clients (archived included) whose name, code, email or UUID, or a contact's name or
/// email, contains `search` (any case); all of them when it is empty.
fn live_matching(search: Option<&str>) -> ClientQuery {
    ClientQuery {
        search: search.map(str::to_string).filter(|s| !s.trim().is_empty()),
        include_removed: false,
    }
}

impl Engine {
    /// A page of the client list (`limit` from `offset`, by name) and how many match in all:
    /// typed columns only, for the window's list and search.
    pub fn client_page(
        &self,
        connection_id: i64,
        search: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<ClientSummaryPage> {
        Ok(self
            .reader()?
            .client_summaries(connection_id, &live_matching(search), offset, limit)?)
    }

    /// One client whole (removed ones too): its fields, contacts, groups, relationships, notes.
    pub fn client_detail(&self, connection_id: i64, uuid: &str) -> Result<Option<ClientDetail>> {
        Ok(self.reader()?.client(connection_id, uuid)?)
    }

    /// Hands each live client `search` matches to `f`, whole, by name.
    pub fn for_each_client(
        &self,
        connection_id: i64,
        search: Option<&str>,
        f: impl FnMut(ClientDetail) -> Result<()>,
    ) -> Result<()> {
        self.reader()?
            .for_each_client(connection_id, &live_matching(search), f)
    }

    /// Hands the HowNow record (SPEC 4.1) of each live client `search` matches to `f`, by name:
    /// what HowNow imports, in the connection's Client Code setting.
    pub fn records(
        &self,
        connection_id: i64,
        search: Option<&str>,
        f: impl FnMut(HowNowRecord) -> Result<()>,
    ) -> Result<()> {
        self.reader()?
            .for_each_record(connection_id, &live_matching(search), f)
    }

    /// Writes [`Engine::records`] to `out` as CSV with HowNow's field names as the header, the
    /// one CSV both the window's Export and `hownow clients --format csv` write. Returns the
    /// number of records.
    pub fn export_csv(
        &self,
        connection_id: i64,
        search: Option<&str>,
        values: CsvValues,
        out: impl Write,
    ) -> Result<u64> {
        let mut csv = csv::Writer::from_writer(out);
        let failed = |e: csv::Error| EngineError::Export(e.into());
        csv.write_record(HowNowRecord::CSV_HEADER).map_err(failed)?;
        let mut rows = 0;
        self.records(connection_id, search, |record| {
            rows += 1;
            csv.write_record(record.csv_row_as(values).iter().map(|cell| cell.as_ref()))
                .map_err(failed)
        })?;
        csv.flush().map_err(EngineError::Export)?;
        Ok(rows)
    }
}
