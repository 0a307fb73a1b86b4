import { h } from '../dom.js';
import { CONNECTION_STATE } from '../kinds.js';

/** The one-word state of a connection, as the admin needs to read it at a glance. */
export function connectionState(connection, progress) {
  if (progress && progress.connectionId === connection.id) {
    return {
      tone: 'accent',
      text: progress.percent != null ? `Syncing ${Math.floor(progress.percent)}%` : 'Syncing…',
    };
  }
  switch (connection.status) {
    case CONNECTION_STATE.syncing:
      return { tone: 'accent', text: 'Syncing…' };
    case CONNECTION_STATE.needsReauth:
      return { tone: 'warn', text: 'Needs reauthorisation' };
    case CONNECTION_STATE.disconnected:
      return { tone: 'neutral', text: 'Disconnected' };
    default:
      if (connection.lastSync && connection.lastSync.outcome === 'failed') {
        return { tone: 'danger', text: 'Failed' };
      }
      return { tone: 'ok', text: 'Connected' };
  }
}

export function chip(text, tone = 'neutral', extra = {}) {
  return h('span', { class: `chip chip-${tone}`, ...extra }, text);
}

export function statusChip(connection, progress) {
  const state = connectionState(connection, progress);
  return chip(state.text, state.tone, { 'data-testid': 'status-chip' });
}
