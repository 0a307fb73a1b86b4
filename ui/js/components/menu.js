import { h, uid } from '../dom.js';

/**
 * A button that opens a menu of actions, operable by mouse and keyboard (arrows, Home/End,
 * Enter/Space, Escape, Tab) as the WAI-ARIA menu button pattern describes.
 *
 * items: [{ label, description?, badge?, disabled?, testid?, onSelect }]
 */
export function menuButton({ label, items, buttonClass = 'btn', align = 'start', testid }) {
  const menuId = uid('menu');
  const button = h(
    'button',
    {
      type: 'button',
      class: `${buttonClass} menu-trigger`,
      'aria-haspopup': 'menu',
      'aria-expanded': 'false',
      'aria-controls': menuId,
      'data-testid': testid,
    },
    label,
    h('span', { class: 'caret', 'aria-hidden': 'true' }, '▾'),
  );
  const menu = h('ul', { class: `menu menu-${align}`, role: 'menu', id: menuId, hidden: true });
  const entries = items.map((item) => {
    const entry = h(
      'button',
      {
        type: 'button',
        role: 'menuitem',
        tabindex: '-1',
        class: 'menu-item',
        disabled: item.disabled,
        'aria-disabled': item.disabled ? 'true' : null,
        'data-testid': item.testid,
        onclick: () => {
          close(true);
          item.onSelect();
        },
      },
      h('span', { class: 'menu-item-title' }, item.label, item.badge ? h('span', { class: 'badge' }, item.badge) : null),
      item.description ? h('span', { class: 'menu-item-desc' }, item.description) : null,
    );
    menu.append(h('li', { role: 'none' }, entry));
    return entry;
  });
  const enabled = () => entries.filter((e) => !e.disabled);

  function onOutside(event) {
    if (!wrap.contains(event.target)) close(false);
  }

  function open(focusLast = false) {
    menu.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', onOutside);
    const list = enabled();
    (focusLast ? list[list.length - 1] : list[0])?.focus();
  }

  function close(returnFocus) {
    if (menu.hidden) return;
    menu.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', onOutside);
    if (returnFocus) button.focus();
  }

  button.addEventListener('click', () => (menu.hidden ? open() : close(true)));
  button.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      open(event.key === 'ArrowUp');
    }
  });
  menu.addEventListener('keydown', (event) => {
    const list = enabled();
    const at = list.indexOf(document.activeElement);
    const move = (i) => list[(i + list.length) % list.length]?.focus();
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        move(at + 1);
        break;
      case 'ArrowUp':
        event.preventDefault();
        move(at - 1);
        break;
      case 'Home':
        event.preventDefault();
        move(0);
        break;
      case 'End':
        event.preventDefault();
        move(list.length - 1);
        break;
      case 'Escape':
        event.preventDefault();
        close(true);
        break;
      case 'Tab':
        close(false);
        break;
      default:
    }
  });

  const wrap = h('div', { class: 'menu-wrap' }, button, menu);
  return wrap;
}
