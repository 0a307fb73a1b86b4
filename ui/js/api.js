// The one place that talks to the Rust side. Pages call these functions and never see Tauri's IPC,
// so a command can be renamed or reshaped here without touching them.

import { ERROR_KIND } from './kinds.js';

const tauri = window.__TAURI__;

/** An error from a command: Rust sends `{ kind, message }`; anything else becomes `kind: "internal"`. */
export class ApiError extends Error {
  constructor(raw) {
    const message =
      raw && typeof raw === 'object' && typeof raw.message === 'string'
        ? raw.message
        : typeof raw === 'string'
          ? raw
          : 'Something went wrong.';
    super(message);
    this.kind = raw && typeof raw === 'object' && typeof raw.kind === 'string' ? raw.kind : ERROR_KIND.internal;
  }
}

async function call(command, args) {
  if (!tauri) {
    throw new ApiError({ kind: ERROR_KIND.internal, message: 'HowNow Admin must run inside its desktop window.' });
  }
  try {
    return await tauri.core.invoke(command, args);
  } catch (e) {
    throw new ApiError(e);
  }
}

/** Subscribes to an event from Rust; returns a function that unsubscribes. */
function on(event, handler) {
  if (!tauri) return () => {};
  const pending = tauri.event.listen(event, (e) => handler(e.payload));
  return () => {
    pending.then((unlisten) => unlisten()).catch(() => {});
  };
}

export const api = {
  // The window's UTC offset and time zone: the daily full sync hour is the firm's local time,
  // kept across DST changes when the zone is named.
  appInfo: () =>
    call('app_info', {
      utcOffsetMinutes: -new Date().getTimezoneOffset(),
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || null,
    }),
  // Whether this app runs the scheduled syncs; if not, who does (the HowNow service).
  schedulerStatus: () => call('scheduler_status'),

  connections: () => call('connections_list'),
  disconnect: (connectionId, keepData) => call('connection_disconnect', { connectionId, keepData }),
  rename: (connectionId, name) => call('connection_rename', { connectionId, name }),

  // Reauthorising is the same login: choosing the practice again restores its connection.
  startLogin: () => call('login_start'),
  openLoginAgain: () => call('login_open_again'),
  cancelLogin: () => call('login_cancel'),
  loginState: () => call('login_state'),
  chooseTenant: (tenantId) => call('login_choose_tenant', { tenantId }),

  // force: go past the mass-removal guard of a full sync, after the admin confirmed.
  startSync: (connectionId, kind, force = false) => call('sync_start', { connectionId, kind, force }),
  estimateFullSync: (connectionId) => call('sync_estimate_full', { connectionId }),
  history: (connectionId, limit = 50) => call('history_list', { connectionId, limit }),
  codeReport: (runId) => call('history_codes', { runId }),

  clients: (connectionId, query, limit = 200) => call('clients_search', { connectionId, query, limit }),
  contacts: (connectionId, clientUuid) => call('clients_contacts', { connectionId, clientUuid }),
  exportCsv: (connectionId, query, raw = false) => call('clients_export_csv', { connectionId, query, raw }),
  revealFile: (path) => call('reveal_file', { path }),
  // The support bundle (logs, settings without secrets, recent runs) written to Downloads.
  saveDiagnostics: () => call('diagnostics_save'),

  settings: () => call('settings_get'),
  saveSettings: (settings) => call('settings_save', { settings }),
};

export const events = {
  onSyncProgress: (handler) => on('sync://progress', handler),
  onSyncFinished: (handler) => on('sync://finished', handler),
  onLoginState: (handler) => on('login://state', handler),
  onConnectionsChanged: (handler) => on('connections://changed', handler),
  onNavigate: (handler) => on('app://navigate', handler),
};
