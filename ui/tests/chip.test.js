// The status chip's wording and tone for each connection state (components/chip.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { connectionState } from '../js/components/chip.js';

test('each connection status reads as one state', () => {
  assert.deepEqual(connectionState({ id: 1, status: 'connected' }), { tone: 'ok', text: 'Connected' });
  assert.deepEqual(connectionState({ id: 1, status: 'syncing' }), { tone: 'accent', text: 'Syncing…' });
  assert.deepEqual(connectionState({ id: 1, status: 'needs_reauth' }), { tone: 'warn', text: 'Needs reauthorisation' });
  assert.deepEqual(connectionState({ id: 1, status: 'disconnected' }), { tone: 'neutral', text: 'Disconnected' });
});

test('a failed last sync shows on a connected practice, not on a paused one', () => {
  const failed = { outcome: 'failed' };
  assert.deepEqual(connectionState({ id: 1, status: 'connected', lastSync: failed }), { tone: 'danger', text: 'Failed' });
  assert.equal(connectionState({ id: 1, status: 'needs_reauth', lastSync: failed }).text, 'Needs reauthorisation');
});

test('progress of this connection wins, with its whole percent; another connection\'s does not', () => {
  const connection = { id: 7, status: 'connected' };
  assert.deepEqual(connectionState(connection, { connectionId: 7, percent: 41.9 }), { tone: 'accent', text: 'Syncing 41%' });
  assert.deepEqual(connectionState(connection, { connectionId: 7, percent: null }), { tone: 'accent', text: 'Syncing…' });
  assert.equal(connectionState(connection, { connectionId: 8, percent: 50 }).text, 'Connected');
});
