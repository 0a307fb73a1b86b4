//! Where a sync reads XPM from. The engine's algorithms are written against [`PracticeSource`]
//! so they run the same over the real client ([`hownow_xpm::PracticeClient`], see `xpm.rs`)
//! and over the in-memory [`MemorySource`] the tests and benchmarks use.

mod memory;
mod xpm;

use std::future::Future;

use hownow_xpm::{Attempts, Client, Contact, DataWarning, Fetched, Page, ResponseMeta, XpmError};
use time::OffsetDateTime;

pub use memory::{MemoryListing, MemorySource};

/// A client list being received: clients one at a time, in document order.
pub trait ClientListing: Send {
    /// The next client; `None` after the last one of a complete response. An `Err` means the
    /// response is incomplete and the run must not commit.
    fn next_client(&mut self) -> impl Future<Output = Option<Result<Client, XpmError>>> + Send;

    /// Metadata of the response (server date, remaining budget), bytes received so far.
    fn meta(&self) -> ResponseMeta;

    /// Values received so far that could not be read (left absent in their clients), since the
    /// last call: a client's come just after it, so take them after each client and at the end.
    fn take_warnings(&mut self) -> Vec<DataWarning> {
        Vec::new()
    }
}

/// The XPM calls a sync makes.
pub trait PracticeSource: Send + Sync {
    type Listing: ClientListing;

    /// `client.api/list?detailed=true[&modifiedsince=…]`.
    fn list_clients(
        &self,
        modified_since: Option<OffsetDateTime>,
    ) -> impl Future<Output = Result<Self::Listing, XpmError>> + Send;

    /// [`PracticeSource::list_clients`], also telling how many tries it took and how many of
    /// them timed out, whether it succeeded or not (so a failed run records what it cost).
    fn list_clients_counted(
        &self,
        modified_since: Option<OffsetDateTime>,
    ) -> impl Future<Output = (Result<Self::Listing, XpmError>, Attempts)> + Send {
        async move {
            let result = self.list_clients(modified_since).await;
            let timeouts = u32::from(matches!(result, Err(XpmError::Timeout(_))));
            (
                result,
                Attempts {
                    attempts: 1,
                    timeouts,
                },
            )
        }
    }

    /// `client.api/get/{uuid}`.
    fn get_client(&self, uuid: &str) -> impl Future<Output = Result<Fetched<Client>, XpmError>> + Send;

    /// One page of `client.api/contacts`.
    fn contacts_page(
        &self,
        page_size: u32,
        page_token: Option<&str>,
    ) -> impl Future<Output = Result<Fetched<Page<Contact>>, XpmError>> + Send;
}
