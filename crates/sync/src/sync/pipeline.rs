//! Clients of a listing prepared ahead on a thread of their own, while the run's thread writes
//! the ones before them.
//!
//! Preparing a client (canonical form, hashes, long tail, search text: [`Preparer`]) needs no
//! database and is about a quarter of the CPU of applying a new one; the writes must stay on the
//! run's thread, in its one transaction. (Measured gain: a few percent of a full sync's
//! clients/s, see BENCHMARKS.md; the rest of the writer's time is SQLite's.) A plain thread, not
//! a task: it runs in parallel whatever runtime the run is on, and it never holds up the
//! runtime's clock in tests that pause time.
//!
//! Clients go over in chunks of [`CHUNK`], so the two threads wake each other once a chunk
//! rather than once a client; a partial chunk goes as soon as the writer would otherwise wait
//! ([`Pipeline::flush`]). They come out in the order they went in. At most [`DEPTH`] are in
//! flight, so memory stays bounded however long the list. Dropping the pipeline (a run cancelled
//! or failed) closes the thread's inbox; the thread ends after the chunk it is on.

use std::collections::VecDeque;
use std::sync::mpsc as std_mpsc;

use hownow_xpm::{Client, DataWarning};
use tokio::sync::mpsc;

use crate::error::{Result, SyncError};
use crate::store::{PreparedClient, Preparer};

/// Clients in flight: enough to keep the preparing thread busy while the writer is, small
/// enough to be nothing in memory (a client is a few kilobytes).
pub(crate) const DEPTH: usize = 64;

/// Clients handed over at once.
pub(crate) const CHUNK: usize = 16;

pub(crate) struct Pipeline {
    inbox: std_mpsc::SyncSender<Vec<Client>>,
    prepared: mpsc::Receiver<Vec<PreparedClient>>,
    /// Handed in, not yet sent to the thread: the chunk being filled.
    filling: Vec<Client>,
    /// Prepared, received, not yet taken out.
    ready: VecDeque<PreparedClient>,
    /// Each client's unreadable values, for every client in flight, in order: they stay here.
    warnings: VecDeque<Vec<DataWarning>>,
}

impl Pipeline {
    pub(crate) fn start(preparer: Preparer) -> Result<Pipeline> {
        // Counted in chunks; never more chunks than clients in flight, so sending never waits.
        let (inbox, chunks) = std_mpsc::sync_channel::<Vec<Client>>(DEPTH);
        let (outbox, prepared) = mpsc::channel(DEPTH);
        std::thread::Builder::new()
            .name("hownow-prepare".into())
            .spawn(move || {
                for chunk in chunks {
                    let chunk = chunk.into_iter().map(|c| preparer.prepare(c)).collect();
                    if outbox.blocking_send(chunk).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| SyncError::Preparing(format!("its thread did not start ({e})")))?;
        Ok(Pipeline {
            inbox,
            prepared,
            filling: Vec::with_capacity(CHUNK),
            ready: VecDeque::with_capacity(CHUNK),
            warnings: VecDeque::with_capacity(DEPTH),
        })
    }

    /// Clients handed in and not yet taken out.
    pub(crate) fn in_flight(&self) -> usize {
        self.warnings.len()
    }

    /// Whether another client can be handed in.
    pub(crate) fn has_room(&self) -> bool {
        self.in_flight() < DEPTH
    }

    /// Hands in a client with the unreadable values XPM sent in it. Call only when
    /// [`Pipeline::has_room`]: it never waits.
    pub(crate) fn push(&mut self, client: Client, warnings: Vec<DataWarning>) -> Result<()> {
        self.filling.push(client);
        self.warnings.push_back(warnings);
        if self.filling.len() == CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends the chunk being filled to be prepared now, however small it is.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if !self.filling.is_empty() {
            let chunk = std::mem::replace(&mut self.filling, Vec::with_capacity(CHUNK));
            self.inbox.try_send(chunk).map_err(|_| stopped())?;
        }
        Ok(())
    }

    /// The next client, if it is prepared already.
    pub(crate) fn try_next(&mut self) -> Result<Option<(PreparedClient, Vec<DataWarning>)>> {
        if self.ready.is_empty() && self.in_flight() > self.filling.len() {
            match self.prepared.try_recv() {
                Ok(chunk) => self.ready.extend(chunk),
                Err(mpsc::error::TryRecvError::Empty) => {}
                Err(mpsc::error::TryRecvError::Disconnected) => return Err(stopped()),
            }
        }
        Ok(self.take_ready())
    }

    /// The next client, waiting for it to be prepared; `None` when none is in flight.
    pub(crate) async fn next(&mut self) -> Result<Option<(PreparedClient, Vec<DataWarning>)>> {
        if self.ready.is_empty() && self.in_flight() > 0 {
            self.flush()?;
            match self.prepared.recv().await {
                Some(chunk) => self.ready.extend(chunk),
                None => return Err(stopped()),
            }
        }
        Ok(self.take_ready())
    }

    fn take_ready(&mut self) -> Option<(PreparedClient, Vec<DataWarning>)> {
        let client = self.ready.pop_front()?;
        let warnings = self.warnings.pop_front().unwrap_or_default();
        Some((client, warnings))
    }
}

/// The preparing thread ended with clients in flight: it panicked.
fn stopped() -> SyncError {
    SyncError::Preparing("its thread stopped unexpectedly".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn client(i: usize) -> Client {
        Client {
            uuid: Some(format!("c{i:04}")),
            name: Some(format!("Client {i}")),
            ..Default::default()
        }
    }

    fn warning(i: usize) -> DataWarning {
        DataWarning {
            client_uuid: Some(format!("c{i:04}")),
            field: "DateOfBirth".into(),
            raw_value: "31/02/1980".into(),
            reason: "is not a date".into(),
        }
    }

    fn preparer() -> (tempfile::TempDir, Preparer) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("hownow.sqlite3")).unwrap();
        let preparer = Preparer::new(store.db()).unwrap();
        (dir, preparer)
    }

    /// Several times its depth, handed in and taken out as the listing loop does: every client
    /// comes out once, in order, prepared, with its own warnings; never more than DEPTH in flight.
    #[tokio::test]
    async fn clients_come_out_prepared_in_order_with_their_warnings() {
        let (_dir, preparer) = preparer();
        let mut pipeline = Pipeline::start(preparer).unwrap();
        let total = DEPTH * 5 + 3;
        let (mut handed, mut out) = (0, Vec::new());
        while out.len() < total {
            while let Some(item) = pipeline.try_next().unwrap() {
                out.push(item);
            }
            if handed < total && pipeline.has_room() {
                // Every third client has a warning.
                let warnings = if handed % 3 == 0 {
                    vec![warning(handed)]
                } else {
                    vec![]
                };
                pipeline.push(client(handed), warnings).unwrap();
                handed += 1;
                continue;
            }
            assert!(pipeline.in_flight() <= DEPTH);
            if let Some(item) = pipeline.next().await.unwrap() {
                out.push(item);
            }
        }
        assert!(
            pipeline.next().await.unwrap().is_none(),
            "nothing is left in flight"
        );
        for (i, (prepared, warnings)) in out.iter().enumerate() {
            let expected = client(i);
            assert_eq!(prepared.client.uuid, expected.uuid);
            assert_eq!(prepared.hash, crate::hash::client_hash(&expected));
            assert!(prepared.search_text.starts_with(&format!("Client {i}\n")));
            let uuids: Vec<_> = warnings.iter().map(|w| w.client_uuid.clone()).collect();
            let want = if i % 3 == 0 {
                vec![expected.uuid.clone()]
            } else {
                vec![]
            };
            assert_eq!(uuids, want, "client {i}");
        }
    }

    /// A full pipeline refuses more rather than waiting, and says so.
    #[tokio::test]
    async fn a_full_pipeline_has_no_room() {
        let (_dir, preparer) = preparer();
        let mut pipeline = Pipeline::start(preparer).unwrap();
        for i in 0..DEPTH {
            assert!(pipeline.has_room());
            pipeline.push(client(i), vec![]).unwrap();
        }
        assert!(!pipeline.has_room());
        assert_eq!(pipeline.in_flight(), DEPTH);
        pipeline.next().await.unwrap().unwrap();
        assert!(pipeline.has_room());
    }
}
