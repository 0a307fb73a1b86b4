//! The engine's read-only handles on the directory: a few kept open and reused, so that a status,
//! a search or the tray's refresh neither reopens the file nor ever takes the write lock.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::error::Result;
use crate::store::Store;

/// Idle handles kept for reuse; more may be open at once while many reads run together.
const KEEP_IDLE: usize = 4;

pub(super) struct ReadPool {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    idle: Mutex<Vec<Store>>,
}

impl ReadPool {
    pub(super) fn new(path: PathBuf, clock: Arc<dyn Clock>) -> ReadPool {
        ReadPool {
            path,
            clock,
            idle: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn get(&self) -> Result<Reader<'_>> {
        let reused = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let store = match reused {
            Some(store) => store,
            None => Store::open_reader(&self.path, self.clock.clone())?,
        };
        Ok(Reader {
            store: Some(store),
            pool: self,
        })
    }
}

/// A read-only [`Store`] borrowed from the engine's pool.
pub struct Reader<'a> {
    store: Option<Store>,
    pool: &'a ReadPool,
}

impl Deref for Reader<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        self.store.as_ref().expect("present until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < KEEP_IDLE {
                idle.push(store);
            }
        }
    }
}
