import { s, uid } from '../dom.js';
import { caughtOf, changesOf, count, dateTime, durationSeconds, KIND_LABEL, OUTCOME_LABEL } from '../format.js';

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { left: 44, right: 48, top: 14, bottom: 26 };

/** 1, 2, 5, 10, 20, 50… at or above `n`, so axis labels are round. */
function niceMax(n) {
  if (!(n > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) {
    if (step * magnitude >= n) return step * magnitude;
  }
  return 10 * magnitude;
}

function secondsLabel(v) {
  if (v === 0) return '0';
  if (v < 1) return `${Math.round(v * 1000)} ms`;
  if (v < 10) return `${Number(v.toFixed(1))} s`;
  return v >= 120 ? `${Math.round(v / 60)} min` : `${Math.round(v)} s`;
}

/**
 * Changes per run as bars (the part XPM's modified-since filter did not report, found by a full sync
 * or the contact sweep, in the warning colour) and duration per run as a line. Oldest run on the left.
 * The history table beside it carries the same numbers for screen readers.
 */
export function historyChart(runs, maxRuns = 30) {
  const shown = runs
    .filter((r) => r.outcome !== 'running')
    .slice(0, maxRuns)
    .reverse();
  const titleId = uid('chart-title');
  const descId = uid('chart-desc');
  const svg = s('svg', {
    class: 'chart',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-labelledby': `${titleId} ${descId}`,
    preserveAspectRatio: 'xMidYMid meet',
    'data-testid': 'history-chart',
  });
  svg.append(
    s('title', { id: titleId }, 'Changes and duration per sync run'),
    s('desc', { id: descId }, `${shown.length} most recent runs, oldest first. The table lists the same figures.`),
  );
  if (shown.length === 0) {
    svg.append(s('text', { x: WIDTH / 2, y: HEIGHT / 2, class: 'chart-empty', 'text-anchor': 'middle' }, 'No runs yet'));
    return svg;
  }

  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const maxChanges = niceMax(Math.max(...shown.map((r) => changesOf(r.counts))));
  const seconds = shown.map((r) => durationSeconds(r.started_at, r.ended_at));
  const maxSeconds = niceMax(Math.max(...seconds.map((v) => v ?? 0)));
  const slot = plotW / shown.length;
  const barW = Math.max(2, Math.min(28, slot * 0.6));
  const y = (v) => PAD.top + plotH - (v / maxChanges) * plotH;
  const yDur = (v) => PAD.top + plotH - (v / maxSeconds) * plotH;

  // Grid and axes: 0, half, max on both sides.
  for (const frac of [0, 0.5, 1]) {
    const gy = PAD.top + plotH - frac * plotH;
    svg.append(s('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: gy, y2: gy, class: 'chart-grid' }));
    svg.append(
      s('text', { x: PAD.left - 6, y: gy + 4, 'text-anchor': 'end', class: 'chart-axis' }, count(Math.round(maxChanges * frac))),
      s('text', { x: WIDTH - PAD.right + 6, y: gy + 4, class: 'chart-axis' }, secondsLabel(maxSeconds * frac)),
    );
  }
  svg.append(
    s('text', { x: PAD.left, y: HEIGHT - 6, class: 'chart-axis' }, 'older'),
    s('text', { x: WIDTH - PAD.right, y: HEIGHT - 6, 'text-anchor': 'end', class: 'chart-axis' }, 'latest'),
  );

  const points = [];
  shown.forEach((run, i) => {
    const cx = PAD.left + slot * i + slot / 2;
    const changes = changesOf(run.counts);
    const missed = Math.min(caughtOf(run.counts), changes);
    const group = s('g', { class: `chart-run chart-run-${run.outcome}` });
    group.append(
      s(
        'title',
        {},
        `${dateTime(run.started_at)} · ${KIND_LABEL[run.kind] ?? run.kind} · ${OUTCOME_LABEL[run.outcome] ?? run.outcome}\n` +
          `${count(changes)} changes, ${count(caughtOf(run.counts))} not flagged by XPM` +
          (seconds[i] != null ? `, ${secondsLabel(seconds[i])}` : ''),
      ),
    );
    // A transparent full-height hit area makes the tooltip reachable on tiny bars.
    group.append(s('rect', { x: cx - slot / 2, y: PAD.top, width: slot, height: plotH, class: 'chart-hit' }));
    if (changes > 0) {
      group.append(s('rect', { x: cx - barW / 2, y: y(changes), width: barW, height: y(0) - y(changes), rx: 2, class: 'chart-bar' }));
    }
    if (missed > 0) {
      group.append(s('rect', { x: cx - barW / 2, y: y(missed), width: barW, height: y(0) - y(missed), rx: 2, class: 'chart-bar-missed' }));
    }
    if (run.outcome === 'failed') {
      group.append(s('text', { x: cx, y: y(0) - 4, 'text-anchor': 'middle', class: 'chart-failed' }, '✕'));
    }
    svg.append(group);
    if (seconds[i] != null) points.push([cx, yDur(seconds[i])]);
  });
  if (points.length > 1) {
    svg.append(s('polyline', { points: points.map((p) => p.join(',')).join(' '), class: 'chart-line' }));
  }
  for (const [px, py] of points) svg.append(s('circle', { cx: px, cy: py, r: 3, class: 'chart-dot' }));
  return svg;
}

/** The key under the chart; plain HTML so it wraps on narrow windows. */
export function chartLegend(h) {
  return h(
    'ul',
    { class: 'chart-legend' },
    h('li', {}, h('span', { class: 'swatch swatch-bar', 'aria-hidden': 'true' }), 'Changes (clients added, updated, archived, removed; contacts updated)'),
    h('li', {}, h('span', { class: 'swatch swatch-missed', 'aria-hidden': 'true' }), 'Not flagged by XPM (caught by the contact check or a full sync)'),
    h('li', {}, h('span', { class: 'swatch swatch-line', 'aria-hidden': 'true' }), 'Duration (right axis)'),
  );
}
