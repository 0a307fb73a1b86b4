// Unit tests for the history page's wording of values XPM sent that could not be read.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { dataWarningLine, dataWarningsLabel } from '../js/format.js';

test('the count of unreadable values reads as a sentence, and nothing when there are none', () => {
  assert.equal(dataWarningsLabel(0), null);
  assert.equal(dataWarningsLabel(undefined), null);
  assert.equal(dataWarningsLabel(1), '1 value XPM sent that could not be read');
  assert.equal(dataWarningsLabel(3), '3 values XPM sent that could not be read');
});

test('an unreadable value names its field, the value, why, and the client', () => {
  // The engine's hownow_xpm::DataWarning, snake case as in the CLI's `history --json`.
  const w = { client_uuid: 'abc', field: 'Notes/Note/Date', raw_value: '01/03/2024 09:30', reason: 'is an ambiguous date' };
  assert.equal(dataWarningLine(w), 'Notes/Note/Date “01/03/2024 09:30” is an ambiguous date — client abc');
  assert.equal(dataWarningLine({ ...w, client_uuid: null }), 'Notes/Note/Date “01/03/2024 09:30” is an ambiguous date');
});

import { caughtOf, changesOf, countsSummary, duration, durationSeconds, everyLabel, fromNow, plural, OUTCOME_LABEL, OUTCOME_TONE } from '../js/format.js';

test('relative times use the given now, and say "just now" within a minute either way', () => {
  const now = Date.parse('2026-03-01T10:00:00Z');
  assert.equal(fromNow('2026-03-01T10:00:30Z', now), 'just now');
  assert.equal(fromNow('2026-03-01T09:59:31Z', now), 'just now');
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  assert.equal(fromNow('2026-03-01T16:00:00Z', now), rtf.format(6, 'hour'));
  assert.equal(fromNow('2026-03-01T09:55:00Z', now), rtf.format(-5, 'minute'));
  assert.equal(fromNow('2026-02-27T10:00:00Z', now), rtf.format(-2, 'day'));
  assert.equal(fromNow(null, now), '—');
  assert.equal(fromNow('not a time', now), '—');
});

test('durations read in ms, seconds or minutes, and never negative', () => {
  const at = (s) => new Date(Date.parse('2026-03-01T10:00:00Z') + s * 1000).toISOString();
  assert.equal(duration(at(0), at(0.25)), '250 ms');
  assert.equal(duration(at(0), at(4.26)), '4.3 s');
  assert.equal(duration(at(0), at(42)), '42 s');
  assert.equal(duration(at(0), at(125)), '2 min 5 s');
  assert.equal(duration(at(10), at(0)), '—');
  assert.equal(duration(null, at(1)), '—');
  assert.equal(durationSeconds(at(0), at(1.5)), 1.5);
  assert.equal(durationSeconds(at(2), at(1)), null);
});

test('a run\'s counts read as what changed, and caught changes are the ones XPM did not flag', () => {
  // The engine's RunCounts (snake case), as a run view carries them.
  const counts = { added: 3, updated: 12, archived: 0, removed: 1, contacts_changed: 2, missed_by_incremental: 4 };
  assert.equal(
    countsSummary(counts),
    '3 added, 12 updated, 1 removed, 2 contacts caught by the contact check, 4 missed by incremental',
  );
  assert.equal(countsSummary({ added: 0 }), 'no changes');
  assert.equal(countsSummary(null), '');
  assert.equal(changesOf(counts), 18);
  assert.equal(changesOf(undefined), 0);
  assert.equal(caughtOf(counts), 6);
  assert.equal(plural(1, 'client'), '1 client');
  assert.equal(plural(2, 'client'), '2 clients');
});

test('every run outcome has a label and a tone', () => {
  for (const outcome of ['ok', 'failed', 'running', 'interrupted', 'needs_confirmation']) {
    assert.ok(OUTCOME_LABEL[outcome], outcome);
    assert.ok(OUTCOME_TONE[outcome], outcome);
  }
});

test('the update interval reads as the settings say, not always six hours', () => {
  assert.equal(everyLabel(6), 'Every six hours');
  assert.equal(everyLabel(1), 'Every hour');
  assert.equal(everyLabel(12), 'Every 12 hours');
});
