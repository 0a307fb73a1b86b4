import { h, uid } from '../dom.js';

// The connection the admin last looked at, shared by the History and Clients pages.
let remembered = null;

/** Picks the connection to show: the remembered one if it still exists, else the first. */
export function pickConnection(list) {
  const found = list.find((c) => String(c.id) === remembered) ?? list[0] ?? null;
  remembered = found ? String(found.id) : null;
  return found;
}

/** A labelled select when there is a choice to make; nothing when there is one connection. */
export function connectionSelect(list, selected, onChange) {
  if (list.length < 2) return null;
  const id = uid('connection');
  const select = h(
    'select',
    { id },
    list.map((c) => h('option', { value: c.id, selected: c.id === selected?.id }, c.tenantName)),
  );
  select.addEventListener('change', () => {
    remembered = select.value;
    onChange(list.find((c) => String(c.id) === select.value));
  });
  return h('div', { class: 'field inline' }, h('label', { for: id }, 'Practice'), select);
}

export function noConnection(h1) {
  return [
    h('h1', {}, h1),
    h(
      'div',
      { class: 'card empty' },
      h('p', {}, 'There is no connection yet.'),
      h('a', { class: 'btn btn-primary', href: '#/admin/connections/new' }, 'Create new connection'),
    ),
  ];
}
