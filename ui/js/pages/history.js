import { h, clear, coalesced } from '../dom.js';
import { chip } from '../components/chip.js';
import { historyChart, chartLegend } from '../components/chart.js';
import { connectionSelect, noConnection, pickConnection } from '../components/picker.js';
import {
  codeReportLines,
  count,
  dataWarningLine,
  dataWarningsLabel,
  dateTime,
  duration,
  KIND_LABEL,
  OUTCOME_LABEL,
  OUTCOME_TONE,
  TRIGGER_LABEL,
} from '../format.js';

const COLUMNS = [
  ['fetched', 'Fetched'],
  ['added', 'Added'],
  ['updated', 'Updated'],
  ['unchanged', 'Unchanged'],
  ['archived', 'Archived'],
  ['removed', 'Removed'],
  ['contacts_changed', 'Contacts caught'],
  ['missed_by_incremental', 'Missed by incremental'],
];

// Not every run measures every figure (only full syncs measure missed-by-incremental): a missing
// figure shows as a dash, not as zero.
const MEASURED_ONLY = new Set(['missed_by_incremental']);

function runRow(run, api) {
  const caught = (key) => (key === 'missed_by_incremental' || key === 'contacts_changed') && (run.counts?.[key] ?? 0) > 0;
  return h(
    'tr',
    { 'data-testid': 'history-row' },
    h('td', { class: 'nowrap' }, h('time', { datetime: run.started_at }, dateTime(run.started_at))),
    h('td', {}, KIND_LABEL[run.kind] ?? run.kind, h('span', { class: 'muted block' }, TRIGGER_LABEL[run.trigger] ?? run.trigger)),
    h(
      'td',
      {},
      chip(OUTCOME_LABEL[run.outcome] ?? run.outcome, OUTCOME_TONE[run.outcome] ?? 'neutral'),
      run.error ? h('span', { class: 'error-text block' }, run.error) : null,
      dataWarnings(run),
      clientCodes(run, api),
    ),
    h('td', { class: 'num nowrap' }, duration(run.started_at, run.ended_at)),
    COLUMNS.map(([key]) =>
      h('td', { class: caught(key) ? 'num missed' : 'num' }, count(run.counts?.[key] ?? (MEASURED_ONLY.has(key) ? null : 0))),
    ),
    h('td', { class: 'num' }, count(run.counts?.api_calls)),
  );
}

// Values XPM sent that could not be read were left empty; the run still completed. The list says
// which, so the practice can correct them in XPM.
function dataWarnings(run) {
  const label = dataWarningsLabel(run.counts?.data_warnings);
  if (!label) return null;
  const shown = run.data_warnings ?? [];
  return h(
    'details',
    { class: 'block', 'data-testid': 'data-warnings' },
    h('summary', {}, label),
    h('ul', {}, shown.map((w) => h('li', {}, dataWarningLine(w)))),
    run.counts.data_warnings > shown.length ? h('p', { class: 'muted' }, `The first ${count(shown.length)} are kept.`) : null,
  );
}

// The Client Code report of a run that added or changed clients: HowNow files by code, so a code
// that changed or is missing makes a new or a "NULL" folder there. Read when first opened: it
// looks at the whole directory, which the list of runs does not.
function clientCodes(run, api) {
  const changed = (run.counts?.added ?? 0) + (run.counts?.updated ?? 0);
  if (run.outcome !== 'ok' || changed === 0) return null;
  const body = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const details = h('details', { class: 'block', 'data-testid': 'client-codes' }, h('summary', {}, 'Client codes'), body);
  let asked = false;
  details.addEventListener('toggle', async () => {
    if (!details.open || asked) return;
    asked = true;
    try {
      const { summary, lines } = codeReportLines(await api.codeReport(run.run_id));
      clear(body).append(h('p', {}, summary), lines.length ? h('ul', {}, lines.map((line) => h('li', {}, line))) : '');
    } catch (e) {
      // Asked again the next time it is opened.
      asked = false;
      clear(body).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
    }
  });
  return details;
}

export async function mount(root, ctx) {
  const list = await ctx.api.connections();
  if (!ctx.isCurrent()) return;
  if (list.length === 0) {
    root.append(...noConnection('Sync history'));
    return;
  }
  let connection = pickConnection(list);
  const body = h('div');
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Sync history'), connectionSelect(list, connection, (c) => {
      connection = c;
      load();
    })),
    h(
      'p',
      { class: 'lead' },
      'XPM’s “modified since” filter does not report some contact changes. “Contacts caught” counts those the contact check of each update found; “Missed by incremental” counts those a full sync found that no update had brought.',
    ),
    body,
  );

  // Coalesced: runs finishing close together cannot leave an older history drawn last.
  const load = coalesced(async () => {
    try {
      const runs = await ctx.api.history(connection.id, 100);
      if (!ctx.isCurrent()) return;
      clear(body).append(
        h('section', { class: 'card', 'aria-label': 'Chart' }, historyChart(runs), chartLegend(h)),
        runs.length === 0
          ? h('p', { class: 'muted' }, 'No sync has run yet.')
          : h(
              'div',
              { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Sync runs' },
              h(
                'table',
                { class: 'table', 'data-testid': 'history-table' },
                h('caption', { class: 'visually-hidden' }, `Sync runs of ${connection.tenantName}, newest first`),
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    h('th', { scope: 'col' }, 'Started'),
                    h('th', { scope: 'col' }, 'Run'),
                    h('th', { scope: 'col' }, 'Outcome'),
                    h('th', { scope: 'col', class: 'num' }, 'Duration'),
                    COLUMNS.map(([, label]) => h('th', { scope: 'col', class: 'num' }, label)),
                    h('th', { scope: 'col', class: 'num' }, 'API calls'),
                  ),
                ),
                h('tbody', {}, runs.map((run) => runRow(run, ctx.api))),
              ),
            ),
      );
    } catch (e) {
      clear(body).append(h('div', { class: 'banner banner-danger', role: 'alert' }, e.message));
    }
  });
  await load();
  return ctx.events.onSyncFinished((e) => {
    if (e.connectionId === connection.id) load();
  });
}
