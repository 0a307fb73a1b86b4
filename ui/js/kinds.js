// The values the Rust side serialises across the boundary, listed once for the whole UI:
// a command error's `kind` and a connection card's `status`. A Rust test
// (src-tauri/src/kinds_test.rs) checks these lists against the enums' serialisation, so a
// variant added on one side and not the other fails the build's tests.

/** `CommandError.kind` (src-tauri/src/error.rs, `ErrorKind`). */
export const ERROR_KIND = Object.freeze({
  busy: 'busy',
  needsReauth: 'needs_reauth',
  invalid: 'invalid',
  notFound: 'not_found',
  login: 'login',
  syncFailed: 'sync_failed',
  internal: 'internal',
});

/** `ConnectionView.status` (src-tauri/src/views.rs, `ConnectionState`). */
export const CONNECTION_STATE = Object.freeze({
  connected: 'connected',
  syncing: 'syncing',
  needsReauth: 'needs_reauth',
  disconnected: 'disconnected',
});
