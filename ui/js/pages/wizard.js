// Create new connection, step by step as HowNow documents it:
// provider → Xero Practice Manager ("Before getting started") → Install Now → Yes/No →
// log in to Xero in the browser → choose the practice (skipped when there is one) → Connected,
// with the initial full sync's progress.
//
// The login itself lives in Rust (PKCE, state, the callback); this page shows its state
// (`login_state` and `login://state` events) and so resumes correctly if it is left and reopened.
// Which screen each state calls for is decided in wizard/flow.js; the screens are in
// wizard/steps.js; this page wires them to the API and events.

import { h, clear } from '../dom.js';
import { ask } from '../components/dialog.js';
import { toast } from '../components/toast.js';
import { progressView } from '../components/progress.js';
import { count } from '../format.js';
import { initialSyncResult, screenFor, startScreen, POLLED } from './wizard/flow.js';
import * as steps from './wizard/steps.js';

export async function mount(root, ctx) {
  // Reauthorise (and Reconnect) start here with ?reauth=<id>: straight to the login.
  const reauthorising = ctx.query.has('reauth');
  const stops = [];
  let disposed = false;
  let connectedId = null;
  let stage = null;

  const info = ctx.appInfo();
  const demo = Boolean(info.demo);
  const guidance = info.privilege;

  function show(nodes) {
    if (disposed) return;
    clear(root).append(...nodes.filter(Boolean));
    const heading = root.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus();
    }
  }

  function showDetails() {
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
    show(steps.details({ demo, guidance, install }));
  }

  async function beginLogin() {
    try {
      onState(await ctx.api.startLogin());
    } catch (e) {
      showFailed(e.message);
    }
  }

  function showFailed(message) {
    stage = 'failed';
    show(steps.failed({ message, tryAgain: beginLogin }));
  }

  async function choose(tenantId) {
    try {
      onState(await ctx.api.chooseTenant(tenantId));
      return true;
    } catch (e) {
      toast(e.message, 'danger');
      return false;
    }
  }

  function showConnected(state) {
    const connection = state.connection;
    connectedId = connection.id;
    const progress = progressView(connection.progress);
    const result = h('div', { class: 'sync-result', 'aria-live': 'polite' });
    show(steps.connected({ connection, reauthorising, progress, result }));
    if (reauthorising) {
      progress.root.hidden = true;
      result.append(h('p', {}, 'Scheduled syncs resume now. Use Refresh on the connection card to sync at once.'));
      return;
    }
    async function showResult() {
      const list = await ctx.api.connections().catch(() => []);
      const outcome = initialSyncResult(list.find((c) => c.id === connectedId));
      if (!outcome) return;
      progress.root.hidden = true;
      clear(result).append(
        outcome.ok
          ? h(
              'p',
              { class: 'banner banner-ok', 'data-testid': 'initial-sync-result' },
              'Sync complete: ',
              h('strong', { 'data-testid': 'synced-client-count' }, count(outcome.clients)),
              ' clients are in the directory.',
            )
          : h('p', { class: 'banner banner-danger', role: 'alert' }, `The sync failed: ${outcome.error}`),
      );
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
    if (disposed) return;
    const screen = screenFor(state, stage, connectedId);
    if (!screen) return;
    stage = state.stage;
    switch (screen) {
      case 'waiting':
        show(
          steps.waiting({
            demo,
            state,
            openAgain: () => ctx.api.openLoginAgain().catch((e) => toast(e.message, 'danger')),
            cancel: async () => {
              await ctx.api.cancelLogin().catch(() => {});
              ctx.navigate('/admin/connections');
            },
          }),
        );
        break;
      case 'choose_tenant':
        show(steps.chooseTenant({ state, choose }));
        break;
      case 'no_tenant':
        show(steps.noTenant({ state, guidance, tryAgain: beginLogin }));
        break;
      case 'connecting':
        show(steps.connecting());
        break;
      case 'connected':
        showConnected(state);
        break;
      case 'failed':
        showFailed(state.message);
        break;
    }
  }

  stops.push(ctx.events.onLoginState(onState));
  // Events are the fast path; a slow poll covers an event sent while the window was reloading.
  const poll = setInterval(() => {
    if (POLLED.includes(stage)) ctx.api.loginState().then(onState, () => {});
  }, 2000);
  stops.push(() => clearInterval(poll));

  // Resume a login already under way (the page was left, or the window reopened from the tray).
  const current = await ctx.api.loginState().catch(() => null);
  if (!ctx.isCurrent()) return () => stops.forEach((stop) => stop());
  switch (startScreen(current, reauthorising)) {
    case 'resume':
      onState(current);
      break;
    case 'login':
      beginLogin();
      break;
    default:
      show(steps.provider({ demo, onChoose: showDetails }));
  }

  return () => {
    disposed = true;
    stops.forEach((stop) => stop());
  };
}
