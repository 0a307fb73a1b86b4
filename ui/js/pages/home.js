import { h } from '../dom.js';
import { statusChip } from '../components/chip.js';
import { count, fromNow, dateTime } from '../format.js';

export async function mount(root, ctx) {
  const info = ctx.appInfo();
  const list = await ctx.api.connections();
  if (!ctx.isCurrent()) return;

  const summary = list.length
    ? h(
        'div',
        { class: 'card-grid' },
        list.map((c) =>
          h(
            'a',
            { class: 'card card-link', href: '#/admin/connections' },
            h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, c.tenantName), statusChip(c, c.progress)),
            h(
              'p',
              { class: 'muted' },
              `${count(c.clientCount)} clients · last sync `,
              h('time', { datetime: c.lastSync?.ended_at ?? '', title: dateTime(c.lastSync?.ended_at) }, fromNow(c.lastSync?.ended_at)),
            ),
          ),
        ),
      )
    : h(
        'div',
        { class: 'card empty' },
        h('h2', {}, 'Connect your practice'),
        h(
          'p',
          {},
          'HowNow Admin keeps HowNow’s client directory in step with Xero Practice Manager. ' +
            'Open Administration, then Connections, to create the connection.',
        ),
        h('a', { class: 'btn btn-primary', href: '#/admin/connections' }, 'Go to Connections'),
      );

  root.append(
    h('h1', {}, info.userName ? `Welcome back, ${info.userName}` : 'Welcome back'),
    h('p', { class: 'lead' }, 'Your practice’s connections at a glance.'),
    summary,
    h(
      'section',
      { class: 'section', 'aria-labelledby': 'home-admin' },
      h('h2', { id: 'home-admin' }, 'Administration'),
      h(
        'p',
        {},
        'Manage connections, review sync history, look up clients and change settings from ',
        h('a', { href: '#/admin' }, 'Administration'),
        '.',
      ),
    ),
  );
  const stop = ctx.events.onConnectionsChanged(() => ctx.navigate('/'));
  return stop;
}
