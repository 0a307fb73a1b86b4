// The wizard's screens, one function each: given what the screen shows and what its buttons do,
// the nodes to show. No state of their own; the page (../wizard.js) moves between them.

import { h, uid } from '../../dom.js';
import { chip } from '../../components/chip.js';
import { toast } from '../../components/toast.js';
import { guidanceSteps } from './guidance.js';

function breadcrumbs(...items) {
  return h(
    'nav',
    { 'aria-label': 'Breadcrumb', class: 'breadcrumbs' },
    h(
      'ol',
      {},
      items.map(([label, href]) => h('li', {}, href ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label))),
    ),
  );
}

const demoChip = (demo) => (demo ? chip('Demo practice (offline)', 'demo') : null);

/** Create new connection: the providers (one, XPM). */
export function provider({ demo, onChoose }) {
  return [
    breadcrumbs(['Connections', '#/admin/connections'], ['Create new connection']),
    h('h1', {}, 'Create new connection'),
    h('p', { class: 'lead' }, 'Choose the system to connect to HowNow.'),
    h(
      'ul',
      { class: 'tile-grid' },
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', class: 'tile', 'data-testid': 'provider-xpm', onclick: onChoose },
          h('span', { class: 'tile-title' }, 'Xero Practice Manager', demoChip(demo)),
          h('span', { class: 'tile-text' }, 'Keep HowNow’s client directory in step with your XPM clients and contacts.'),
        ),
      ),
    ),
    demo
      ? h(
          'p',
          { class: 'banner banner-info' },
          'No Xero client id is configured, so this connects to the Demo practice (offline): a stand-in for Xero that runs on this computer. ',
          'Set your Xero client id in ',
          h('a', { href: '#/admin/settings' }, 'Settings'),
          ' to connect your real practice.',
        )
      : null,
  ];
}

/** Xero Practice Manager: "Before getting started", then Install Now. */
export function details({ demo, guidance, install }) {
  return [
    breadcrumbs(['Connections', '#/admin/connections'], ['Create new connection', '#/admin/connections/new'], ['Xero Practice Manager']),
    h('h1', {}, 'Xero Practice Manager', demoChip(demo)),
    h(
      'p',
      { class: 'lead' },
      'HowNow Admin copies your clients and their contacts from XPM into HowNow’s client directory, ' +
        'then keeps them up to date: every six hours by default, with a full sync once a day.',
    ),
    h('section', { class: 'card', 'aria-labelledby': 'before' }, h('h2', { id: 'before' }, 'Before getting started'), guidanceSteps(guidance)),
    h(
      'section',
      { class: 'section', 'aria-labelledby': 'next' },
      h('h2', { id: 'next' }, 'What happens next'),
      h(
        'ol',
        { class: 'steps' },
        h('li', {}, 'You log in to Xero in your browser and choose ', h('strong', {}, 'Allow access'), '.'),
        h('li', {}, 'If your login reaches more than one practice, you choose which one.'),
        h('li', {}, 'HowNow Admin runs a first full sync of your clients and contacts.'),
      ),
    ),
    h('div', { class: 'form-actions' }, h('a', { class: 'btn', href: '#/admin/connections' }, 'Cancel'), install),
  ];
}

/** Waiting for the browser: the login link to copy, Open again, Cancel. */
export function waiting({ demo, state, openAgain, cancel }) {
  const linkId = uid('login-link');
  const hintId = `${linkId}-hint`;
  const link = h('input', {
    id: linkId,
    type: 'text',
    readonly: true,
    class: 'mono',
    value: state.authorizeUrl ?? '',
    'aria-describedby': hintId,
    'data-testid': 'login-link',
  });
  const copy = h('button', { type: 'button', class: 'btn', 'data-testid': 'copy-link' }, 'Copy link');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(link.value);
    } catch {
      // Older WebKit without the async clipboard: copy the selected text the old way.
      link.select();
      document.execCommand('copy');
    }
    toast('Login link copied. Paste it into the browser where you use Xero.');
  });
  const again = h('button', { type: 'button', class: 'btn', 'data-testid': 'open-again', onclick: openAgain }, 'Open again');
  const stop = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'cancel-login', onclick: cancel }, 'Cancel');
  const opened = demo
    ? 'We opened the demo practice’s login page in your browser. Log in, choose Allow access, then come back here.'
    : 'We opened Xero’s login page in your default browser. Log in, choose Allow access, then come back here.';
  return [
    h('h1', {}, 'Log in to Xero in your browser…'),
    h(
      'div',
      { class: 'card waiting', 'data-testid': 'login-waiting' },
      h('div', { class: 'spinner', 'aria-hidden': 'true' }),
      h(
        'div',
        {},
        state.browserOpened === false
          ? h(
              'p',
              { 'data-testid': 'browser-not-opened' },
              'Couldn’t open your browser: copy the link below into it, log in, choose Allow access, then come back here.',
            )
          : h('p', {}, opened),
        h('p', { class: 'muted' }, 'This page moves on by itself once Xero sends you back.'),
      ),
    ),
    h(
      'div',
      { class: 'field' },
      h('label', { for: linkId }, 'Login link'),
      link,
      h('p', { class: 'hint', id: hintId }, 'If the browser did not open, or opened the wrong profile, copy the link into the browser you use for Xero.'),
    ),
    // Without a browser, copying the link is the way on: it comes first.
    state.browserOpened === false ? h('div', { class: 'form-actions' }, copy, again, stop) : h('div', { class: 'form-actions' }, stop, copy, again),
  ];
}

/** The login reaches several practices: choose one. */
export function chooseTenant({ state, choose }) {
  const name = uid('tenant');
  const radios = state.tenants.map((t, i) =>
    h('input', { type: 'radio', name, value: t.id, id: `${name}-${i}`, checked: i === 0, 'data-testid': 'tenant-option' }),
  );
  const connect = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'choose-tenant' }, 'Connect');
  const form = h(
    'form',
    { class: 'card' },
    h(
      'fieldset',
      { class: 'choices' },
      h('legend', {}, 'Practice'),
      state.tenants.map((t, i) => h('div', { class: 'choice' }, radios[i], h('label', { for: radios[i].id }, t.name))),
    ),
    h('div', { class: 'form-actions' }, connect),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const picked = radios.find((r) => r.checked);
    if (!picked) return;
    connect.disabled = true;
    if (!(await choose(picked.value))) connect.disabled = false;
  });
  return [
    h('h1', {}, 'Choose your practice'),
    h('p', { class: 'lead' }, 'Your Xero login reaches more than one Xero Practice Manager account. Choose the one HowNow should use.'),
    form,
  ];
}

/** Xero granted no Practice Manager account: who logged in, and what to fix. */
export function noTenant({ state, guidance, tryAgain }) {
  return [
    h('h1', {}, 'No Practice Manager account was shared'),
    h(
      'div',
      { class: 'banner banner-warn', role: 'alert', 'data-testid': 'no-tenant' },
      state.user ? h('p', {}, `You logged in to Xero as ${state.user}.`) : null,
      h('p', { class: 'no-margin' }, state.guidance || 'Xero did not give HowNow Admin access to any Xero Practice Manager account.'),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'fix' }, h('h2', { id: 'fix' }, 'How to fix it'), guidanceSteps(guidance)),
    h(
      'div',
      { class: 'form-actions' },
      h('a', { class: 'btn', href: '#/admin/connections' }, 'Back to Connections'),
      h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'try-again', onclick: tryAgain }, 'Try again'),
    ),
  ];
}

export function connecting() {
  return [
    h('h1', {}, 'Connecting…'),
    h('div', { class: 'card waiting' }, h('div', { class: 'spinner', 'aria-hidden': 'true' }), h('p', {}, 'Saving the connection…')),
  ];
}

export function failed({ message, tryAgain }) {
  return [
    h('h1', {}, 'The connection was not made'),
    h('div', { class: 'banner banner-danger', role: 'alert' }, message || 'Xero did not complete the login.'),
    h(
      'div',
      { class: 'form-actions' },
      h('a', { class: 'btn', href: '#/admin/connections' }, 'Back to Connections'),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: tryAgain }, 'Try again'),
    ),
  ];
}

/** Connected: the initial sync's progress box (or, after Reauthorise, that schedules resume). */
export function connected({ connection, reauthorising, progress, result }) {
  return [
    h('h1', {}, 'Connected'),
    h(
      'p',
      { class: 'lead', 'data-testid': 'connected-tenant' },
      reauthorising ? `HowNow Admin is authorised again for ${connection.tenantName}.` : `HowNow Admin is connected to ${connection.tenantName}.`,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'initial' },
      h('h2', { id: 'initial' }, reauthorising ? 'Sync' : 'Initial sync'),
      progress.root,
      result,
    ),
    h('div', { class: 'form-actions' }, h('a', { class: 'btn btn-primary', href: '#/admin/connections', 'data-testid': 'go-connections' }, 'Go to Connections')),
  ];
}
