// Unit tests for the UI's DOM-free helpers, run by `cargo xtask test` with Node's own test runner
// (`node --test ui/tests/`): no npm packages.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { coalesced } from '../js/dom.js';

/** A promise and the function that settles it. */
function gate() {
  let open;
  const promise = new Promise((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

test('a call made while one runs is not lost: it runs once more afterwards', async () => {
  const gates = [gate(), gate()];
  let runs = 0;
  let inFlight = 0;
  let overlapped = false;
  const reload = coalesced(async () => {
    inFlight += 1;
    overlapped ||= inFlight > 1;
    const mine = runs;
    runs += 1;
    await gates[mine].promise;
    inFlight -= 1;
  });

  const first = reload();
  // The "sync finished" event arrives while the first reload still fetches the running state.
  const second = reload();
  const third = reload();
  assert.equal(runs, 1, 'no second run while the first is in flight');
  gates[0].open();
  await Promise.resolve();
  gates[1].open();
  await Promise.all([first, second, third]);
  assert.equal(runs, 2, 'exactly one more run for the calls made meanwhile');
  assert.equal(overlapped, false, 'runs never overlap');
});

test('calls after a run has finished start a new run', async () => {
  let runs = 0;
  const load = coalesced(async () => {
    runs += 1;
  });
  await load();
  await load();
  assert.equal(runs, 2);
});

test('a failing run does not wedge later calls', async () => {
  let runs = 0;
  const load = coalesced(async () => {
    runs += 1;
    if (runs === 1) throw new Error('offline');
  });
  await assert.rejects(load(), /offline/);
  await load();
  assert.equal(runs, 2);
});
