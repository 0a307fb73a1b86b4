import { h } from '../dom.js';

const SECTIONS = [
  ['#/admin/connections', 'Connections', 'Connect Xero Practice Manager, refresh, reauthorise or disconnect.', 'admin-connections'],
  ['#/admin/history', 'Sync history', 'Every sync run: what changed, how long it took, what XPM failed to flag.', 'admin-history'],
  ['#/admin/clients', 'Clients', 'Search the synced client directory, see contacts, export CSV for HowNow.', 'admin-clients'],
  ['#/admin/settings', 'Settings', 'Sync schedule, daily full sync hour, Xero client id and login mode.', 'admin-settings'],
];

export async function mount(root) {
  root.append(
    h('h1', {}, 'Administration'),
    h(
      'ul',
      { class: 'tile-grid' },
      SECTIONS.map(([href, title, text, testid]) =>
        h('li', {}, h('a', { class: 'tile', href, 'data-testid': testid }, h('span', { class: 'tile-title' }, title), h('span', { class: 'tile-text' }, text))),
      ),
    ),
  );
}
