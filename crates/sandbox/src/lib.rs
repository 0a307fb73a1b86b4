//! An offline Xero for the demo and every test (filled in by the sandbox work).
