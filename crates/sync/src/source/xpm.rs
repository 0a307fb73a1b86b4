//! The real source: Xero Practice Manager through `hownow_xpm::PracticeClient`.

use hownow_xpm::{
    Attempts, Client, ClientStream, Contact, DataWarning, Fetched, Page, PracticeClient, ResponseMeta,
    XpmError,
};
use time::OffsetDateTime;

use super::{ClientListing, PracticeSource};

impl ClientListing for ClientStream {
    async fn next_client(&mut self) -> Option<Result<Client, XpmError>> {
        ClientStream::next_client(self).await
    }

    fn meta(&self) -> ResponseMeta {
        ClientStream::meta(self)
    }

    fn take_warnings(&mut self) -> Vec<DataWarning> {
        ClientStream::take_warnings(self)
    }
}

impl PracticeSource for PracticeClient {
    type Listing = ClientStream;

    async fn list_clients(&self, modified_since: Option<OffsetDateTime>) -> Result<ClientStream, XpmError> {
        PracticeClient::list_clients(self, modified_since).await
    }

    async fn list_clients_counted(
        &self,
        modified_since: Option<OffsetDateTime>,
    ) -> (Result<ClientStream, XpmError>, Attempts) {
        PracticeClient::list_clients_counted(self, modified_since).await
    }

    async fn get_client(&self, uuid: &str) -> Result<Fetched<Client>, XpmError> {
        PracticeClient::client(self, uuid).await
    }

    async fn contacts_page(
        &self,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<Fetched<Page<Contact>>, XpmError> {
        PracticeClient::contacts_page(self, page_size, page_token).await
    }
}
