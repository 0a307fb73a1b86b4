// A stand-in for `window.__TAURI__` so the UI can be previewed in a plain browser. It follows the
// IPC contract in src-tauri/src/commands/ (names, argument names, payload shapes) with canned data,
// including client names with `<`, `&` and emoji to show they render as text.
// Scenario from the page URL: ?scenario=empty | connected | reauth | failed | notenant | multi
(() => {
  const scenario = new URLSearchParams(location.search).get('scenario') || 'connected';
  const listeners = new Map();
  const emit = (event, payload) => (listeners.get(event) || []).forEach((fn) => fn({ event, payload }));
  const now = Date.now();
  const iso = (offsetMin) => new Date(now + offsetMin * 60000).toISOString();

  const names = [
    'Smith & Sons <Holdings> Ltd', 'Āroha Ngata 🎉', 'Blue Harbour Trust', 'Chen, Wei & Li', 'O’Reilly Family Trust',
    'Kōwhai Orchards Ltd', 'Müller Bakery GmbH', 'Te Awa Partnership', '<script>alert(1)</script> Pty', 'Zed Ventures',
  ];
  const clients = names.map((name, i) => ({
    uuid: `c-${i}`,
    name,
    clientCode: i === 3 ? null : `C${String(1000 + i)}`,
    businessStructure: ['Company', 'Individual', 'Trust', 'Partnership'][i % 4],
    email: i % 3 ? `office${i}@example.nz` : null,
    phone: `09 555 01${i}0`,
    isArchived: i === 6,
    isProspect: i === 7,
    removed: i === 9,
    contactCount: i % 3,
  }));

  // The engine's hownow_sync::RunView: snake case, as the CLI's `--json` has it.
  const run = (i, extra = {}) => {
    const start = now - (i * 6 + 1) * 3600000;
    const full = i % 4 === 0;
    const ms = full ? 94000 : 6000 + i * 300;
    return {
      run_id: i + 1,
      connection_id: 1,
      kind: full ? 'full' : 'changes',
      trigger: full ? 'daily_full' : 'schedule',
      outcome: i === 5 ? 'failed' : 'ok',
      started_at: new Date(start).toISOString(),
      ended_at: new Date(start + ms).toISOString(),
      duration_ms: ms,
      modified_since: null,
      watermark: null,
      counts: {
        api_calls: full ? 4 : 2 + (i % 3),
        bytes: 0,
        fetched: full ? 1204 : 3 + (i % 5),
        added: i % 3,
        updated: full ? 7 : (i * 7) % 11,
        unchanged: full ? 1190 : 2,
        archived: i % 7 === 0 ? 1 : 0,
        removed: 0,
        missed_by_incremental: full ? 2 + (i % 3) : null,
        contacts_changed: full ? 0 : i % 4 === 1 ? 1 : 0,
        data_warnings: 0,
      },
      full_sync_requested: null,
      error: i === 5 ? 'Xero answered 503 Service Unavailable three times; will retry at the next schedule.' : null,
      data_warnings: [],
      ...extra,
    };
  };
  const runs = Array.from({ length: 18 }, (_, i) => run(i));

  let connections = [];
  const conn = (id, tenantName, extra = {}) => ({
    id,
    provider: 'xpm',
    tenantId: '6b3c1a52-0f7e-4d3a-9a51-1c2f6e8d4b01',
    tenantName,
    authorisedBy: { name: 'Ava Partner', email: 'ava.partner@harbour.example' },
    status: 'connected',
    demo: true,
    clientCount: 1204,
    lastSync: runs[0],
    nextSync: { at: iso(299), kind: 'changes' },
    progress: null,
    ...extra,
  });
  if (scenario !== 'empty' && scenario !== 'notenant') {
    connections = [conn(1, 'Harbour & Co Chartered Accountants')];
    if (scenario === 'reauth') connections[0].status = 'needs_reauth';
    if (scenario === 'failed') connections[0].lastSync = runs[5];
    if (scenario === 'syncing') {
      connections[0].status = 'syncing';
      connections[0].progress = { connectionId: 1, runKind: 'full', phase: 'clients', message: 'Fetching clients', done: 506, total: 1204, percent: 42 };
    }
    if (scenario === 'multi') connections.push(conn(2, 'Kōwhai Tax Partners 🥝', { demo: false, clientCount: 87 }));
  }

  let login = { stage: 'idle' };
  const setLogin = (state) => {
    login = state;
    emit('login://state', state);
  };

  function simulateSync(c, kind) {
    c.status = 'syncing';
    let done = 0;
    const total = 1204;
    const tick = setInterval(() => {
      done = Math.min(total, done + 301);
      const p = { connectionId: c.id, runKind: kind, phase: 'clients', message: 'Fetching clients', done, total, percent: (done / total) * 100 };
      c.progress = p;
      emit('sync://progress', p);
      if (done >= total) {
        clearInterval(tick);
        const r = run(0, { kind, trigger: 'initial', started_at: iso(-1), ended_at: iso(0), duration_ms: 60000 });
        c.status = 'connected';
        c.progress = null;
        c.lastSync = r;
        c.clientCount = total;
        runs.unshift(r);
        emit('sync://finished', { connectionId: c.id, tenantName: c.tenantName, run: r });
      }
    }, 400);
  }

  const settings = { scheduleAvailable: true, intervalHours: 6, dailyFullEnabled: true, dailyFullHour: 2, xeroClientId: '', loginMode: 'deeplink' };

  const commands = {
    app_info: () => ({
      userName: 'Ava Partner',
      demo: true,
      version: '0.1.0',
      loginMode: 'deeplink',
      privilege: {
        requirement:
          'The Xero user who logs in must have XPM\'s "Authorise 3rd Party Full Access" privilege (in the newer XPM screens: "Connect third-party add-ons"). Without it, Xero shows no Practice Manager account to allow and the connection cannot be made.',
        steps: [
          'In Xero Practice Manager, open Business → Settings → Staff.',
          'Edit the person who will connect HowNow.',
          'Under Privileges, tick "Authorise 3rd Party Full Access" and save.',
          'That person logs in to Xero when HowNow Admin asks.',
        ],
      },
    }),
    connections_list: () => connections,
    // The preview's app schedules its own syncs (no HowNow service running).
    scheduler_status: () => ({ scheduledHere: true, message: null }),
    settings_get: () => settings,
    settings_save: ({ settings: s }) => {
      if (s.dailyFullHour < 0 || s.dailyFullHour > 23) throw { kind: 'invalid', message: 'The daily full sync hour must be 0–23.' };
      Object.assign(settings, s);
      return settings;
    },
    login_state: () => login,
    login_start: () => {
      const state = { stage: 'waiting', authorizeUrl: 'http://127.0.0.1:53682/identity/connect/authorize?response_type=code&client_id=demo&state=3kX…' };
      setLogin(state);
      const next = scenario === 'notenant'
        ? {
            stage: 'no_tenant',
            user: 'cleo.junior@harbour.example',
            guidance:
              'Xero granted HowNow Admin no Xero Practice Manager account. The Xero user who logs in needs XPM\'s "Authorise 3rd Party Full Access" privilege (in the newer XPM screens: "Connect third-party add-ons"). An XPM administrator can grant it under Business → Settings → Staff → edit the person. Then connect again.',
          }
        : { stage: 'choose_tenant', tenants: [{ id: 't1', name: 'Harbour & Co Chartered Accountants' }, { id: 't2', name: 'Kōwhai Tax Partners <NZ> 🥝' }] };
      window.__mockDeliverCallback = () => setLogin(next);
      return state;
    },
    login_open_again: () => null,
    login_cancel: () => setLogin({ stage: 'idle' }),
    login_choose_tenant: ({ tenantId }) => {
      const c = conn(3, tenantId === 't1' ? 'Harbour & Co Chartered Accountants' : 'Kōwhai Tax Partners <NZ> 🥝', { lastSync: null, clientCount: 0, status: 'syncing' });
      connections.push(c);
      const state = { stage: 'connected', connection: c };
      setLogin(state);
      setTimeout(() => simulateSync(c, 'full'), 300);
      return state;
    },
    sync_start: ({ connectionId, kind }) => {
      const c = connections.find((x) => x.id === connectionId);
      if (c.status === 'syncing') throw { kind: 'busy', message: 'A sync is already running for this practice.' };
      simulateSync(c, kind);
      return null;
    },
    sync_estimate_full: () => ({ apiCalls: 5, dayRemaining: 4873, dayLimit: 5000, minuteRemaining: 58 }),
    history_list: () => runs,
    history_codes: () => ({
      code_changed: [{ uuid: 'c-1', name: 'Harbour <Holdings> Ltd', old: 'HAR', new: 'HARB' }],
      name_changed: [{ uuid: 'c-2', name: 'Tōtara & Sons', old: 'Totara & Sons', new: 'Tōtara & Sons' }],
      missing_code: [{ uuid: 'c-3', name: 'No Code Trust 🥝' }],
      missing_code_total: 4,
    }),
    clients_search: ({ query }) => {
      const q = (query || '').toLowerCase();
      const found = clients.filter((c) => !q || c.name.toLowerCase().includes(q) || (c.clientCode || '').toLowerCase().includes(q));
      return { total: found.length, clients: found };
    },
    clients_contacts: ({ clientUuid }) => [
      { uuid: 'k1', name: 'Mere <Primary> Ngata', position: 'Director', email: 'mere@example.nz', phone: '09 555 0100', mobile: '021 555 010', isPrimary: true },
      { uuid: 'k2', name: 'Tom & Jerry 😀', position: null, email: null, phone: null, mobile: '027 555 020', isPrimary: false },
    ].slice(0, clientUuid === 'c-0' ? 2 : 1),
    clients_export_csv: () => ({ path: '/home/ava/Downloads/hownow-clients-2025-01-01.csv', rows: clients.length }),
    reveal_file: () => null,
    connection_disconnect: ({ connectionId }) => {
      const gone = connections.find((c) => c.id === connectionId);
      connections = connections.filter((c) => c.id !== connectionId);
      return { tenantName: gone.tenantName, dataKept: true, warnings: [] };
    },
  };

  window.__TAURI__ = {
    core: {
      invoke: async (cmd, args = {}) => {
        const fn = commands[cmd];
        if (!fn) throw { kind: 'internal', message: `mock: no command ${cmd}` };
        await new Promise((r) => setTimeout(r, 30));
        return structuredClone(fn(args));
      },
    },
    event: {
      listen: async (event, handler) => {
        if (!listeners.has(event)) listeners.set(event, []);
        listeners.get(event).push(handler);
        return () => listeners.set(event, listeners.get(event).filter((h) => h !== handler));
      },
    },
  };
})();
