//! Everything HowNow Admin knows about talking to Xero.
//!
//! * [`model`]: the typed values XPM returns (`Client`, `Contact`, `Group`, …), one type per concept.
//! * [`decode`]: a streaming decoder from XPM's XML to those values; it never holds a whole
//!   response in memory, so a 50 MB client list costs a few kilobytes of buffer.
//! * [`error`]: the failures a caller can act on (reauthorise, back off, report).
//!
//! This crate has no storage and no UI: the sync engine (`hownow-sync`) owns both.

pub mod decode;
pub mod error;
pub mod model;

pub use error::{DecodeError, RateLimitKind, XpmError};
pub use model::*;
