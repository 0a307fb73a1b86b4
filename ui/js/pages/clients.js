import { h, clear, uid, debounce } from '../dom.js';
import { chip } from '../components/chip.js';
import { toast } from '../components/toast.js';
import { connectionSelect, noConnection, pickConnection } from '../components/picker.js';
import { count } from '../format.js';

function flags(client) {
  return [
    client.isArchived ? chip('Archived', 'neutral') : null,
    client.isProspect ? chip('Prospect', 'accent') : null,
  ];
}

function contactsPanel(client, contacts) {
  const titleId = uid('contacts');
  return h(
    'section',
    { class: 'card contacts-panel', 'aria-labelledby': titleId, 'data-testid': 'contacts-panel' },
    h('h2', { id: titleId, tabindex: '-1' }, `Contacts of ${client.name ?? 'this client'}`),
    contacts.length === 0
      ? h('p', { class: 'muted' }, 'This client has no contacts in XPM.')
      : h(
          'ul',
          { class: 'contact-list' },
          contacts.map((c) =>
            h(
              'li',
              { 'data-testid': 'contact' },
              h('p', { class: 'contact-name' }, c.name ?? '(no name)', c.isPrimary ? chip('Primary', 'accent') : null),
              c.position ? h('p', { class: 'muted' }, c.position) : null,
              h(
                'p',
                { class: 'contact-details' },
                c.email ? h('span', {}, c.email) : null,
                c.phone ? h('span', {}, `Phone ${c.phone}`) : null,
                c.mobile ? h('span', {}, `Mobile ${c.mobile}`) : null,
              ),
            ),
          ),
        ),
  );
}

export async function mount(root, ctx) {
  const list = await ctx.api.connections();
  if (!ctx.isCurrent()) return;
  if (list.length === 0) {
    root.append(...noConnection('Clients'));
    return;
  }
  let connection = pickConnection(list);
  const searchId = uid('search');
  const search = h('input', { id: searchId, type: 'search', placeholder: 'Name, code, email or contact', autocomplete: 'off', 'data-testid': 'client-search' });
  const exportButton = h('button', { type: 'button', class: 'btn', 'data-testid': 'export-csv' }, 'Export CSV');
  const rawId = uid('raw');
  const rawHintId = uid('raw-hint');
  const raw = h('input', { type: 'checkbox', id: rawId, 'aria-describedby': rawHintId, 'data-testid': 'export-raw' });
  const rawChoice = h(
    'div',
    { class: 'choice' },
    raw,
    h('label', { for: rawId }, 'Raw values'),
    h('p', { class: 'hint', id: rawHintId }, 'For a machine import: cells that look like spreadsheet formulas are not made safe.'),
  );
  const summary = h('p', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'client-summary' });
  const exportNote = h('div', { class: 'export-note', 'aria-live': 'polite' });
  const table = h('div');
  const panel = h('div', { class: 'contacts-slot' });

  root.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', {}, 'Clients'),
      connectionSelect(list, connection, (c) => {
        connection = c;
        load();
      }),
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('div', { class: 'field grow' }, h('label', { for: searchId }, 'Search clients'), search),
      exportButton,
      rawChoice,
    ),
    exportNote,
    summary,
    h('div', { class: 'split' }, table, panel),
  );

  let selectedUuid = null;
  let request = 0;
  async function load() {
    request += 1;
    const mine = request;
    try {
      const page = await ctx.api.clients(connection.id, search.value.trim(), 200);
      if (mine !== request || !ctx.isCurrent()) return;
      summary.textContent =
        page.total > page.clients.length
          ? `Showing the first ${count(page.clients.length)} of ${count(page.total)} clients.`
          : `${count(page.total)} ${page.total === 1 ? 'client' : 'clients'}.`;
      clear(table).append(
        page.clients.length === 0
          ? h('p', { class: 'muted' }, search.value ? 'No client matches the search.' : 'No clients synced yet.')
          : h(
              'div',
              { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Clients' },
              h(
                'table',
                { class: 'table', 'data-testid': 'clients-table' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    h('th', { scope: 'col' }, 'Name'),
                    h('th', { scope: 'col' }, 'Client code'),
                    h('th', { scope: 'col' }, 'Type'),
                    h('th', { scope: 'col' }, 'Email'),
                    h('th', { scope: 'col' }, 'Phone'),
                    h('th', { scope: 'col', class: 'num' }, 'Contacts'),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  page.clients.map((c) =>
                    h(
                      'tr',
                      { 'data-testid': 'client-row', 'aria-selected': c.uuid === selectedUuid ? 'true' : null },
                      h(
                        'td',
                        {},
                        h(
                          'button',
                          {
                            type: 'button',
                            class: 'link-button',
                            'data-testid': 'client-name',
                            onclick: (event) => showContacts(c, event.currentTarget.closest('tr')),
                          },
                          c.name ?? '(no name)',
                        ),
                        flags(c),
                      ),
                      h('td', { class: 'mono' }, c.clientCode ?? '—'),
                      h('td', {}, c.businessStructure ?? '—'),
                      h('td', {}, c.email ?? '—'),
                      h('td', {}, c.phone ?? '—'),
                      h('td', { class: 'num' }, count(c.contactCount)),
                    ),
                  ),
                ),
              ),
            ),
      );
    } catch (e) {
      clear(table).append(h('div', { class: 'banner banner-danger', role: 'alert' }, e.message));
    }
  }

  async function showContacts(client, row) {
    selectedUuid = client.uuid;
    for (const other of table.querySelectorAll('tr[aria-selected]')) other.removeAttribute('aria-selected');
    row?.setAttribute('aria-selected', 'true');
    try {
      const contacts = await ctx.api.contacts(connection.id, client.uuid);
      const view = contactsPanel(client, contacts);
      clear(panel).append(view);
      view.querySelector('h2').focus();
    } catch (e) {
      toast(e.message, 'danger');
    }
  }

  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true;
    try {
      const result = await ctx.api.exportCsv(connection.id, search.value.trim(), raw.checked);
      const reveal = h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => ctx.api.revealFile(result.path).catch((e) => toast(e.message, 'danger')) }, 'Show in folder');
      clear(exportNote).append(
        h('p', { class: 'banner banner-ok' }, `Exported ${count(result.rows)} clients as HowNow contact records to `, h('span', { class: 'mono' }, result.path), '. ', reveal),
      );
    } catch (e) {
      toast(e.message, 'danger');
    } finally {
      exportButton.disabled = false;
    }
  });

  search.addEventListener('input', debounce(load, 200));
  await load();
  return ctx.events.onSyncFinished((e) => {
    if (e.connectionId === connection.id) load();
  });
}
