// The wizard's state machine, without the DOM: which screen a login state calls for. The login
// lives in Rust; this decides what the page shows for each `login_state` answer or event, so it
// can be tested on its own (ui/tests/wizard.test.js).

import { CONNECTION_STATE } from '../../kinds.js';

/** Login stages in which a reopened page resumes rather than starting over. */
export const RESUMABLE = ['waiting', 'choose_tenant', 'no_tenant', 'connecting'];

/** Stages the page keeps asking about, in case an event was missed while the window reloaded. */
export const POLLED = ['waiting', 'connecting'];

/**
 * The screen for `state`, given the page's current `stage` and the connection it already shows
 * (`connectedId`); `null` when nothing changes (the same stage again, or an unknown one).
 */
export function screenFor(state, stage, connectedId) {
  if (!state || state.stage === stage) return null;
  switch (state.stage) {
    case 'waiting':
    case 'choose_tenant':
    case 'no_tenant':
    case 'connecting':
    case 'failed':
      return state.stage;
    case 'connected':
      // The same connection again (a repeated event) keeps its progress view.
      return state.connection && state.connection.id !== connectedId ? 'connected' : null;
    default:
      return null;
  }
}

/** Where the page starts: a login under way resumes; Reauthorise starts one; else the provider tiles. */
export function startScreen(current, reauthorising) {
  if (current && RESUMABLE.includes(current.stage)) return 'resume';
  return reauthorising ? 'login' : 'provider';
}

/** What the initial sync's result box says, from the connection as listed; `null` while it runs. */
export function initialSyncResult(connection) {
  if (!connection || connection.status === CONNECTION_STATE.syncing || !connection.lastSync || connection.lastSync.outcome === 'running') {
    return null;
  }
  return connection.lastSync.outcome === 'ok'
    ? { ok: true, clients: connection.clientCount }
    : { ok: false, error: connection.lastSync.error ?? 'unknown error' };
}
