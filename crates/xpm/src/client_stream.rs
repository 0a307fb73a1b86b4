//! The detailed client list as a stream: one client at a time as the download is decoded, the
//! values it could not read beside them, and the response's metadata as it grows.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::body::ItemStream;
use crate::decode::Item;
use crate::http::ResponseMeta;
use crate::{Client, DataWarning, XpmError};

/// The clients of `client.api/list`, one at a time as they are decoded.
///
/// Ends with `None` only after a complete, well-formed response; any failure (broken or stalled
/// download, truncated or malformed XML, an `ERROR` envelope) is yielded as an `Err`, after which
/// the stream ends. Dropping the stream cancels the download. Also a `futures::Stream`.
#[derive(Debug)]
pub struct ClientStream {
    pub(crate) items: ItemStream,
    pub(crate) meta: ResponseMeta,
    /// Warnings received and not yet taken.
    pub(crate) warnings: Vec<DataWarning>,
}

impl ClientStream {
    /// The response's metadata, with `bytes_received` (decoded) and `bytes_on_wire` counted so
    /// far.
    pub fn meta(&self) -> ResponseMeta {
        ResponseMeta {
            bytes_received: self.items.bytes_received(),
            bytes_on_wire: self.items.bytes_on_wire(),
            ..self.meta.clone()
        }
    }

    /// The values received so far that could not be read (left absent in their clients), since
    /// the last call. A client's warnings arrive just after it: take them after each client and
    /// once more at the end of the list.
    pub fn take_warnings(&mut self) -> Vec<DataWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// The next client; `None` at the end of the list (or after an error was returned).
    pub async fn next_client(&mut self) -> Option<Result<Client, XpmError>> {
        std::future::poll_fn(|cx| self.poll_client(cx)).await
    }

    fn poll_client(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Client, XpmError>>> {
        loop {
            match self.items.poll_item(cx) {
                Poll::Ready(Some(Ok(Item::Client(client)))) => return Poll::Ready(Some(Ok(*client))),
                Poll::Ready(Some(Ok(Item::Warning(warning)))) => self.warnings.push(warning),
                Poll::Ready(Some(Ok(_))) => continue,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl futures_util::Stream for ClientStream {
    type Item = Result<Client, XpmError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_client(cx)
    }
}
