// Unit tests for the history page's wording of a run's Client Code report.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { codeReportLines } from '../js/format.js';

const empty = { code_changed: [], name_changed: [], missing_code: [], missing_code_total: 0 };

test('a run that changed no code or name says so, and whether every client has a code', () => {
  assert.deepEqual(codeReportLines(empty), {
    summary: 'No client code or name changed; every client in the directory has a code.',
    lines: [],
  });
  assert.equal(
    codeReportLines({ ...empty, missing_code_total: 1 }).summary,
    'No client code or name changed; 1 client in the directory without a code.',
  );
});

test('each changed code, rename and missing code is a line naming the client', () => {
  // The engine's CodeReport, snake case as in the CLI's `history --json`.
  const report = {
    code_changed: [
      { uuid: 'u1', name: 'Acme Pty Ltd', old: 'ACM', new: 'ACME' },
      { uuid: 'u2', name: null, old: null, new: 'NEW1' },
    ],
    name_changed: [{ uuid: 'u3', name: 'Beta Trust', old: 'Beta', new: 'Beta Trust' }],
    missing_code: [{ uuid: 'u4', name: 'Gamma' }],
    missing_code_total: 12,
  };
  const { summary, lines } = codeReportLines(report);
  assert.equal(summary, '2 code changes, 1 client renamed, 1 client of this run without a code; 12 clients in the directory without a code.');
  assert.deepEqual(lines, [
    'Client code of “Acme Pty Ltd” changed from “ACM” to “ACME”',
    'Client code of “u2” changed from none to “NEW1”',
    '“Beta” renamed “Beta Trust”',
    '“Gamma” has no client code',
  ]);
});
