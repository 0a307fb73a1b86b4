//! Streaming decoder for XPM's XML responses (filled in by the decoder work).
