// How times, counts and run outcomes read in the UI.

const numberFormat = new Intl.NumberFormat();
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function count(n) {
  return n == null ? '—' : numberFormat.format(n);
}

export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : absolute.format(d);
}

const UNITS = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "5 minutes ago", "in 6 hours"; "just now" under a minute either way. */
export function fromNow(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const seconds = Math.round((t - now) / 1000);
  if (Math.abs(seconds) < 60) return 'just now';
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds / 60), 'minute');
}

export function duration(startIso, endIso) {
  if (!startIso || !endIso) return '—';
  const ms = new Date(endIso).getTime() - new Date(startIso).getTime();
  if (!(ms >= 0)) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s % 60)} s`;
}

export function durationSeconds(startIso, endIso) {
  if (!startIso || !endIso) return null;
  const ms = new Date(endIso).getTime() - new Date(startIso).getTime();
  return ms >= 0 ? ms / 1000 : null;
}

export const KIND_LABEL = {
  full: 'Full sync',
  changes: 'Changes since last sync',
  contacts: 'Contact sweep',
};

export const TRIGGER_LABEL = {
  initial: 'Initial',
  schedule: 'Scheduled',
  manual: 'Manual',
  daily_full: 'Daily full sync',
};

export const OUTCOME_LABEL = {
  ok: 'Succeeded',
  failed: 'Failed',
  running: 'Running',
  interrupted: 'Interrupted',
  needs_confirmation: 'Needs confirmation',
};

export const OUTCOME_TONE = { ok: 'ok', failed: 'danger', running: 'accent', interrupted: 'warn', needs_confirmation: 'warn' };

/** Records a run touched: what an admin means by "changes" (clients, and contacts the sweep updated). */
export function changesOf(counts) {
  if (!counts) return 0;
  return (
    (counts.added ?? 0) + (counts.updated ?? 0) + (counts.archived ?? 0) + (counts.removed ?? 0) + (counts.contacts_changed ?? 0)
  );
}

/**
 * Changes XPM's modified-since filter did not report: found by a full sync's check
 * (missed by incremental) or by the contact sweep of an update.
 */
export function caughtOf(counts) {
  if (!counts) return 0;
  return (counts.missed_by_incremental ?? 0) + (counts.contacts_changed ?? 0);
}

/** "3 added, 12 updated, 1 removed" or "no changes". */
export function countsSummary(counts) {
  if (!counts) return '';
  const parts = [];
  if (counts.added) parts.push(`${count(counts.added)} added`);
  if (counts.updated) parts.push(`${count(counts.updated)} updated`);
  if (counts.archived) parts.push(`${count(counts.archived)} archived`);
  if (counts.removed) parts.push(`${count(counts.removed)} removed`);
  if (counts.contacts_changed) parts.push(`${count(counts.contacts_changed)} contacts caught by the contact check`);
  if (counts.missed_by_incremental) parts.push(`${count(counts.missed_by_incremental)} missed by incremental`);
  return parts.length ? parts.join(', ') : 'no changes';
}

/** "Every six hours", "Every hour", "Every 12 hours": the update interval as the help text says it. */
export function everyLabel(hours) {
  const words = { 1: 'hour', 2: 'two hours', 3: 'three hours', 6: 'six hours' };
  return `Every ${words[hours] ?? `${hours} hours`}`;
}

export function hourLabel(hour) {
  const d = new Date(2000, 0, 1, hour, 0);
  return new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' }).format(d);
}

/** "3 values XPM sent that could not be read", or null when there were none. */
export function dataWarningsLabel(n) {
  if (!n) return null;
  return `${plural(n, 'value')} XPM sent that could not be read`;
}

/** One unreadable value as a line: "DateOfBirth “01/03/2024 09:30” is an ambiguous date (…) — client 1234…". */
export function dataWarningLine(w) {
  const client = w.client_uuid ? ` — client ${w.client_uuid}` : '';
  return `${w.field} “${w.raw_value}” ${w.reason}${client}`;
}

/**
 * A run's Client Code report (the engine's CodeReport, as `hownow history --json` prints it) as
 * a summary and one line per client: HowNow files by code, so a changed or missing code makes a
 * new or a "NULL" folder there.
 */
export function codeReportLines(report) {
  const named = (c) => `“${c.name || c.uuid}”`;
  const value = (v) => (v ? `“${v}”` : 'none');
  const lines = [
    ...report.code_changed.map((c) => `Client code of ${named(c)} changed from ${value(c.old)} to ${value(c.new)}`),
    ...report.name_changed.map((c) => `${value(c.old)} renamed ${value(c.new)}`),
    ...report.missing_code.map((c) => `${named(c)} has no client code`),
  ];
  const parts = [
    report.code_changed.length ? plural(report.code_changed.length, 'code change') : null,
    report.name_changed.length ? plural(report.name_changed.length, 'client renamed', 'clients renamed') : null,
    report.missing_code.length ? `${plural(report.missing_code.length, 'client')} of this run without a code` : null,
  ].filter(Boolean);
  const changes = parts.length ? parts.join(', ') : 'No client code or name changed';
  const directory = report.missing_code_total
    ? `${plural(report.missing_code_total, 'client')} in the directory without a code`
    : 'every client in the directory has a code';
  return { summary: `${changes}; ${directory}.`, lines };
}
