// The wizard's state machine (pages/wizard/flow.js): which screen each login state calls for.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { initialSyncResult, screenFor, startScreen, POLLED } from '../js/pages/wizard/flow.js';

test('each login stage has its screen, once', () => {
  for (const stage of ['waiting', 'choose_tenant', 'no_tenant', 'connecting', 'failed']) {
    assert.equal(screenFor({ stage }, null), stage);
    assert.equal(screenFor({ stage }, stage), null, `${stage} again changes nothing`);
  }
  assert.equal(screenFor({ stage: 'idle' }, 'waiting'), null, 'an unknown stage changes nothing');
  assert.equal(screenFor(null, 'waiting'), null);
});

test('connected shows the new connection once, and not a repeated event for it', () => {
  const state = { stage: 'connected', connection: { id: 4 } };
  assert.equal(screenFor(state, 'connecting', null), 'connected');
  assert.equal(screenFor(state, 'waiting', 4), null);
  assert.equal(screenFor({ stage: 'connected' }, 'connecting', null), null, 'no connection, nothing to show');
});

test('the page resumes a login under way, else starts one for Reauthorise, else offers providers', () => {
  for (const stage of ['waiting', 'choose_tenant', 'no_tenant', 'connecting']) {
    assert.equal(startScreen({ stage }, false), 'resume');
    assert.equal(startScreen({ stage }, true), 'resume');
  }
  assert.equal(startScreen({ stage: 'idle' }, true), 'login');
  assert.equal(startScreen(null, false), 'provider');
  assert.equal(startScreen({ stage: 'connected' }, false), 'provider');
  assert.deepEqual(POLLED, ['waiting', 'connecting']);
});

test('the initial sync result waits for the run, then says how it ended', () => {
  assert.equal(initialSyncResult(undefined), null);
  assert.equal(initialSyncResult({ status: 'syncing', lastSync: { outcome: 'ok' } }), null);
  assert.equal(initialSyncResult({ status: 'connected', lastSync: { outcome: 'running' } }), null);
  assert.equal(initialSyncResult({ status: 'connected' }), null);
  assert.deepEqual(initialSyncResult({ status: 'connected', clientCount: 250, lastSync: { outcome: 'ok' } }), { ok: true, clients: 250 });
  assert.deepEqual(initialSyncResult({ status: 'connected', lastSync: { outcome: 'failed', error: 'Xero said no' } }), {
    ok: false,
    error: 'Xero said no',
  });
});
