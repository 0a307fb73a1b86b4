import { h } from '../dom.js';

/** A short message in the corner, read out by screen readers (the region is aria-live). */
export function toast(message, tone = 'neutral') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: `toast toast-${tone}` }, message);
  region.append(item);
  // Only the latest few: older news is in the page itself.
  while (region.children.length > 3) region.firstElementChild.remove();
  setTimeout(() => item.remove(), tone === 'danger' ? 10000 : 6000);
}
