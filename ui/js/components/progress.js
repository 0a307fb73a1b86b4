import { h, uid } from '../dom.js';
import { count } from '../format.js';

/** A labelled progress bar: a percentage when the size is known, counts otherwise. */
export function progressView(progress) {
  const bar = h('progress', { max: '100' });
  const label = h('span', { class: 'progress-label' });
  const root = h('div', { class: 'progress', 'data-testid': 'sync-progress' }, bar, label);
  const labelId = uid('progress-label');
  label.id = labelId;
  bar.setAttribute('aria-labelledby', labelId);

  function update(p) {
    if (!p) {
      bar.removeAttribute('value');
      label.textContent = 'Starting…';
      return;
    }
    if (p.percent != null) {
      bar.value = Math.max(0, Math.min(100, p.percent));
    } else {
      bar.removeAttribute('value');
    }
    const parts = [p.message || p.phase || 'Working'];
    // Waiting for XPM: the message says how long; `done` counts seconds, not records.
    if (p.phase === 'preparing') {
      label.textContent = parts[0];
      return;
    }
    if (p.total != null) parts.push(`${count(p.done)} of ${count(p.total)}`);
    else if (p.done != null) parts.push(`${count(p.done)} so far`);
    if (p.percent != null) parts.push(`${Math.floor(p.percent)}%`);
    label.textContent = parts.join(' · ');
  }

  update(progress);
  return { root, update };
}
