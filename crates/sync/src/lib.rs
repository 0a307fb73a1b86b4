//! The HowNow Admin engine (filled in by the sync work).
