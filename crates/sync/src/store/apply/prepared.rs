//! A client made ready to be written: everything about writing it that needs no database (its
//! canonical form, its hash and its contacts' hashes, its long tail and its search text). About
//! a quarter of the CPU of applying a new client, so a sync listing prepares clients on a thread
//! of their own while the run's thread writes the ones before them (`sync::pipeline`).

use hownow_xpm::Client;

use crate::error::Result;
use crate::hash::{self, ContentHash};
use crate::store::client_row::ClientColumns;
use crate::store::search;

/// Makes [`PreparedClient`]s. Holds nothing of the database once made, so it can be sent to
/// another thread.
#[derive(Clone, Copy)]
pub(crate) struct Preparer {
    columns: &'static ClientColumns,
}

/// A client as it will be written, with what its rows are made of.
pub(crate) struct PreparedClient {
    /// In canonical order (`hash::canonicalize`).
    pub(crate) client: Client,
    /// XPM's order of the contacts, before canonical sorting: the order to show them in.
    pub(crate) contact_order: Vec<Option<String>>,
    pub(crate) hash: ContentHash,
    /// The hash of each of `client.contacts`, in that order.
    pub(crate) contact_hashes: Vec<ContentHash>,
    pub(crate) long_tail: String,
    pub(crate) search_text: String,
}

impl Preparer {
    /// A preparer for the directory `db` (its `clients` columns decide the long tail).
    pub(crate) fn new(db: &rusqlite::Connection) -> Result<Preparer> {
        Ok(Preparer {
            columns: ClientColumns::get(db)?,
        })
    }

    pub(crate) fn prepare(&self, client: Client) -> PreparedClient {
        PreparedClient::new(client, |c| self.columns.long_tail(c))
    }
}

impl PreparedClient {
    /// `client` in canonical order with what its rows are made of; `long_tail` writes the tail
    /// of the canonical client.
    fn new(mut client: Client, long_tail: impl FnOnce(&Client) -> String) -> PreparedClient {
        let contact_order = client.contacts.iter().map(|c| c.uuid.clone()).collect();
        hash::canonicalize(&mut client);
        PreparedClient {
            contact_order,
            hash: hash::client_hash(&client),
            contact_hashes: client.contacts.iter().map(hash::contact_hash).collect(),
            long_tail: long_tail(&client),
            search_text: search::search_text(&client),
            client,
        }
    }

    /// For a test that writes only a client's child rows: prepared without the directory's
    /// columns (the long tail is left empty), so it works on a directory of any schema.
    #[cfg(test)]
    pub(crate) fn children_only(client: Client) -> PreparedClient {
        PreparedClient::new(client, |_| String::new())
    }
}
