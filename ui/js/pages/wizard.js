// Create new connection, step by step as HowNow documents it:
// provider → Xero Practice Manager ("Before getting started") → Install Now → Yes/No →
// log in to Xero in the browser → choose the practice (skipped when there is one) → Connected,
// with the initial full sync's progress.
//
// The login itself lives in Rust (PKCE, state, the callback); this page shows its state
// (`login_state` and `login://state` events) and so resumes correctly if it is left and reopened.

import { h, clear, uid } from '../dom.js';
import { chip } from '../components/chip.js';
import { ask } from '../components/dialog.js';
import { toast } from '../components/toast.js';
import { progressView } from '../components/progress.js';
import { count } from '../format.js';

const PRIVILEGE = 'Authorise 3rd Party Full Access';
const PRIVILEGE_NEW_UI = 'Connect third-party add-ons';

function privilegeGuidance() {
  return [
    h(
      'p',
      {},
      'The Xero user who logs in must have the Xero Practice Manager privilege ',
      h('strong', {}, PRIVILEGE),
      ' (in the newer XPM screens it is called ',
      h('strong', {}, PRIVILEGE_NEW_UI),
      '). Without it, Xero shows no Practice Manager account to allow and the connection cannot be made.',
    ),
    h(
      'ol',
      { class: 'steps' },
      h('li', {}, 'In Xero Practice Manager, open ', h('strong', {}, 'Business → Settings → Staff'), '.'),
      h('li', {}, 'Edit the person who will connect HowNow.'),
      h('li', {}, 'Under Privileges, tick ', h('strong', {}, PRIVILEGE), ' and save.'),
      h('li', {}, 'That person logs in to Xero when HowNow Admin asks.'),
    ),
  ];
}

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

export async function mount(root, ctx) {
  // Reauthorise (and Reconnect) start here with ?reauth=<id>: straight to the login.
  const reauthorising = ctx.query.has('reauth');
  const stops = [];
  let disposed = false;
  let connectedId = null;
  let stage = null;

  const info = ctx.appInfo();
  const demo = Boolean(info.demo);

  function show(...children) {
    if (disposed) return;
    clear(root).append(...children);
    const heading = root.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }

  function stepProvider() {
    show(
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
            { type: 'button', class: 'tile', 'data-testid': 'provider-xpm', onclick: stepDetails },
            h('span', { class: 'tile-title' }, 'Xero Practice Manager', demo ? chip('Demo practice (offline)', 'demo') : null),
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
    );
  }

  function stepDetails() {
    const install = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'install-now' }, 'Install Now');
    install.addEventListener('click', async () => {
      const yes = await ask({
        title: 'Install Xero Practice Manager?',
        content: h(
          'p',
          {},
          demo
            ? 'HowNow Admin will open the demo practice’s login page in your browser. Log in there and choose Allow access.'
            : 'HowNow Admin will open Xero’s login page in your browser. Log in there and choose Allow access.',
        ),
        confirmLabel: 'Yes',
        cancelLabel: 'No',
        testid: 'install-confirm',
      });
      if (yes) beginLogin();
    });
    show(
      breadcrumbs(['Connections', '#/admin/connections'], ['Create new connection', '#/admin/connections/new'], ['Xero Practice Manager']),
      h('h1', {}, 'Xero Practice Manager', demo ? chip('Demo practice (offline)', 'demo') : null),
      h(
        'p',
        { class: 'lead' },
        'HowNow Admin copies your clients and their contacts from XPM into HowNow’s client directory, ' +
          'then keeps them up to date: every six hours, with a full sync once a day.',
      ),
      h('section', { class: 'card', 'aria-labelledby': 'before' }, h('h2', { id: 'before' }, 'Before getting started'), privilegeGuidance()),
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
    );
  }

  async function beginLogin() {
    try {
      const state = await ctx.api.startLogin();
      onState(state);
    } catch (e) {
      stepFailed(e.message);
    }
  }

  function stepWaiting(state) {
    const linkId = uid('login-link');
    const link = h('input', { id: linkId, type: 'text', readonly: true, class: 'mono', value: state.authorizeUrl ?? '', 'data-testid': 'login-link' });
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
    const again = h('button', { type: 'button', class: 'btn', 'data-testid': 'open-again' }, 'Open again');
    again.addEventListener('click', () => ctx.api.openLoginAgain().catch((e) => toast(e.message, 'danger')));
    const cancel = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'cancel-login' }, 'Cancel');
    cancel.addEventListener('click', async () => {
      await ctx.api.cancelLogin().catch(() => {});
      ctx.navigate('/admin/connections');
    });
    show(
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
            : h(
                'p',
                {},
                demo
                  ? 'We opened the demo practice’s login page in your browser. Log in, choose Allow access, then come back here.'
                  : 'We opened Xero’s login page in your default browser. Log in, choose Allow access, then come back here.',
              ),
          h('p', { class: 'muted' }, 'This page moves on by itself once Xero sends you back.'),
        ),
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: linkId }, 'Login link'),
        link,
        h('p', { class: 'hint' }, 'If the browser did not open, or opened the wrong profile, copy the link into the browser you use for Xero.'),
      ),
      // Without a browser, copying the link is the way on: it comes first.
      state.browserOpened === false
        ? h('div', { class: 'form-actions' }, copy, again, cancel)
        : h('div', { class: 'form-actions' }, cancel, copy, again),
    );
  }

  function stepChooseTenant(state) {
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
      try {
        onState(await ctx.api.chooseTenant(picked.value));
      } catch (e) {
        connect.disabled = false;
        toast(e.message, 'danger');
      }
    });
    show(
      h('h1', {}, 'Choose your practice'),
      h('p', { class: 'lead' }, 'Your Xero login reaches more than one Xero Practice Manager account. Choose the one HowNow should use.'),
      form,
    );
  }

  function stepNoTenant(state) {
    show(
      h('h1', {}, 'No Practice Manager account was shared'),
      h(
        'div',
        { class: 'banner banner-warn', role: 'alert', 'data-testid': 'no-tenant' },
        state.user ? h('p', {}, `You logged in to Xero as ${state.user}.`) : null,
        h('p', { class: 'no-margin' }, state.guidance || 'Xero did not give HowNow Admin access to any Xero Practice Manager account.'),
      ),
      h('section', { class: 'card', 'aria-labelledby': 'fix' }, h('h2', { id: 'fix' }, 'How to fix it'), privilegeGuidance()),
      h(
        'div',
        { class: 'form-actions' },
        h('a', { class: 'btn', href: '#/admin/connections' }, 'Back to Connections'),
        h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'try-again', onclick: () => beginLogin() }, 'Try again'),
      ),
    );
  }

  function stepFailed(message) {
    stage = 'failed';
    show(
      h('h1', {}, 'The connection was not made'),
      h('div', { class: 'banner banner-danger', role: 'alert' }, message || 'Xero did not complete the login.'),
      h(
        'div',
        { class: 'form-actions' },
        h('a', { class: 'btn', href: '#/admin/connections' }, 'Back to Connections'),
        h('button', { type: 'button', class: 'btn btn-primary', onclick: () => beginLogin() }, 'Try again'),
      ),
    );
  }

  function stepConnected(state) {
    const connection = state.connection;
    connectedId = connection.id;
    const progress = progressView(connection.progress);
    const result = h('div', { class: 'sync-result', 'aria-live': 'polite' });
    show(
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
    );

    if (reauthorising) {
      progress.root.hidden = true;
      result.append(h('p', {}, 'Scheduled syncs resume now. Use Refresh on the connection card to sync at once.'));
      return;
    }

    async function showResult() {
      const list = await ctx.api.connections().catch(() => []);
      const now = list.find((c) => c.id === connectedId);
      if (!now || now.status === 'syncing' || !now.lastSync || now.lastSync.outcome === 'running') return false;
      progress.root.hidden = true;
      if (now.lastSync.outcome === 'ok') {
        clear(result).append(
          h(
            'p',
            { class: 'banner banner-ok', 'data-testid': 'initial-sync-result' },
            'Sync complete: ',
            h('strong', { 'data-testid': 'synced-client-count' }, count(now.clientCount)),
            ' clients are in the directory.',
          ),
        );
      } else {
        clear(result).append(h('p', { class: 'banner banner-danger', role: 'alert' }, `The sync failed: ${now.lastSync.error ?? 'unknown error'}`));
      }
      return true;
    }
    stops.push(
      ctx.events.onSyncProgress((p) => {
        if (p.connectionId === connectedId) progress.update(p);
      }),
      ctx.events.onSyncFinished((e) => {
        if (e.connectionId === connectedId) showResult();
      }),
    );
    // The initial sync may already have finished before this page subscribed.
    showResult();
  }

  function onState(state) {
    if (disposed || !state || state.stage === stage) return;
    stage = state.stage;
    switch (state.stage) {
      case 'waiting':
        stepWaiting(state);
        break;
      case 'choose_tenant':
        stepChooseTenant(state);
        break;
      case 'no_tenant':
        stepNoTenant(state);
        break;
      case 'connecting':
        show(h('h1', {}, 'Connecting…'), h('div', { class: 'card waiting' }, h('div', { class: 'spinner', 'aria-hidden': 'true' }), h('p', {}, 'Saving the connection…')));
        break;
      case 'connected':
        if (state.connection && state.connection.id !== connectedId) stepConnected(state);
        break;
      case 'failed':
        stepFailed(state.message);
        break;
      default:
        break;
    }
  }

  stops.push(ctx.events.onLoginState(onState));
  // Events are the fast path; a slow poll covers an event sent while the window was reloading.
  const poll = setInterval(() => {
    if (stage === 'waiting' || stage === 'connecting') ctx.api.loginState().then(onState, () => {});
  }, 2000);
  stops.push(() => clearInterval(poll));

  // Resume a login already under way (the page was left, or the window reopened from the tray).
  const current = await ctx.api.loginState().catch(() => null);
  if (!ctx.isCurrent()) return () => stops.forEach((stop) => stop());
  if (current && ['waiting', 'choose_tenant', 'no_tenant', 'connecting'].includes(current.stage)) {
    onState(current);
  } else if (reauthorising) {
    beginLogin();
  } else {
    stepProvider();
  }

  return () => {
    disposed = true;
    stops.forEach((stop) => stop());
  };
}
