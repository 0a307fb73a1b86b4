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
  const w = { clientUuid: 'abc', field: 'Notes/Note/Date', rawValue: '01/03/2024 09:30', reason: 'is an ambiguous date' };
  assert.equal(dataWarningLine(w), 'Notes/Note/Date “01/03/2024 09:30” is an ambiguous date — client abc');
  assert.equal(dataWarningLine({ ...w, clientUuid: null }), 'Notes/Note/Date “01/03/2024 09:30” is an ambiguous date');
});
