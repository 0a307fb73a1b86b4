// The app shell: navigation, the "Welcome back" menu, routing between pages, and the app-wide
// reactions to sync events (toasts). Each page is its own module with `mount(root, ctx)`.

import { api, events } from './api.js';
import { h, clear } from './dom.js';
import { menuButton } from './components/menu.js';
import { toast } from './components/toast.js';
import { countsSummary, KIND_LABEL } from './format.js';
import * as home from './pages/home.js';
import * as admin from './pages/admin.js';
import * as connections from './pages/connections.js';
import * as wizard from './pages/wizard.js';
import * as history from './pages/history.js';
import * as clients from './pages/clients.js';
import * as settings from './pages/settings.js';

const ROUTES = {
  '/': { page: home, nav: 'home', title: 'Home' },
  '/admin': { page: admin, nav: null, title: 'Administration' },
  '/admin/connections': { page: connections, nav: 'connections', title: 'Connections' },
  '/admin/connections/new': { page: wizard, nav: 'connections', title: 'Create new connection' },
  '/admin/history': { page: history, nav: 'history', title: 'Sync history' },
  '/admin/clients': { page: clients, nav: 'clients', title: 'Clients' },
  '/admin/settings': { page: settings, nav: 'settings', title: 'Settings' },
};

const main = document.getElementById('main');
let appInfo = { userName: '', demo: false, version: '' };
let cleanup = null;
let navigation = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, queryString = ''] = raw.split('?');
  return { path: path.replace(/\/+$/, '') || '/', query: new URLSearchParams(queryString) };
}

export function navigate(path) {
  if (location.hash === `#${path}`) {
    render(true);
  } else {
    location.hash = path;
  }
}

function renderUserMenu() {
  const slot = document.getElementById('user-menu');
  clear(slot).append(
    menuButton({
      label: appInfo.userName ? `Welcome back, ${appInfo.userName}` : 'Welcome back',
      buttonClass: 'btn btn-ghost',
      align: 'end',
      testid: 'welcome-menu',
      items: [
        { label: 'Administration', testid: 'menu-administration', onSelect: () => navigate('/admin') },
        { label: 'Connections', onSelect: () => navigate('/admin/connections') },
        { label: 'Settings', onSelect: () => navigate('/admin/settings') },
      ],
    }),
  );
  document.getElementById('demo-badge').hidden = !appInfo.demo;
  document.getElementById('app-version').textContent = appInfo.version ? `Version ${appInfo.version}` : '';
}

async function refreshAppInfo() {
  try {
    appInfo = await api.appInfo();
  } catch (e) {
    toast(e.message, 'danger');
  }
  renderUserMenu();
  return appInfo;
}

async function render(moveFocus) {
  const { path, query } = parseHash();
  const route = ROUTES[path] ?? ROUTES['/'];
  navigation += 1;
  const mine = navigation;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page that fails to clean up must not block navigation */
    }
    cleanup = null;
  }
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === route.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${route.title} · HowNow Admin`;
  clear(main);
  const ctx = {
    api,
    events,
    navigate,
    query,
    appInfo: () => appInfo,
    refreshAppInfo,
    isCurrent: () => mine === navigation,
  };
  try {
    const dispose = await route.page.mount(main, ctx);
    if (mine === navigation) cleanup = typeof dispose === 'function' ? dispose : null;
    else if (typeof dispose === 'function') dispose();
  } catch (e) {
    if (mine !== navigation) return;
    clear(main).append(
      h('h1', {}, route.title),
      h('div', { class: 'banner banner-danger', role: 'alert' }, e.message || String(e)),
    );
  }
  // Keyboard and screen-reader users start at the new page, unless they already went into it
  // while it loaded (typing in a search box): focus is never pulled away from under them.
  const alreadyInPage = main.contains(document.activeElement) && document.activeElement !== main;
  if (moveFocus && mine === navigation && !alreadyInPage) main.focus();
}

function watchSyncs() {
  events.onSyncFinished(({ run, tenantName }) => {
    if (!run) return;
    const what = KIND_LABEL[run.kind] ?? 'Sync';
    const where = tenantName ? ` (${tenantName})` : '';
    if (run.outcome === 'failed') {
      toast(`${what} failed${where}: ${run.error || 'unknown error'}`, 'danger');
    } else if (run.outcome === 'ok') {
      toast(`${what} finished${where}: ${countsSummary(run.counts)}.`, 'ok');
    }
  });
  // The greeting names whoever authorised the first connection: refresh it when they change.
  events.onConnectionsChanged(() => refreshAppInfo());
  events.onNavigate(({ route }) => {
    if (typeof route === 'string' && ROUTES[route.split('?')[0]]) navigate(route);
  });
}

window.addEventListener('hashchange', () => render(true));
watchSyncs();
refreshAppInfo().then(() => render(false));
