import { h } from '../dom.js';

/** A short message in the corner, read out by screen readers (the region is aria-live). */
export function toast(message, tone = 'neutral') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: `toast toast-${tone}` }, message);
  region.append(item);
  setTimeout(() => item.remove(), tone === 'danger' ? 10000 : 6000);
}
