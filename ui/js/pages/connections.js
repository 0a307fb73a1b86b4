import { h, clear, coalesced, uid } from '../dom.js';
import { chip, statusChip } from '../components/chip.js';
import { CONNECTION_STATE } from '../kinds.js';
import { menuButton } from '../components/menu.js';
import { ask } from '../components/dialog.js';
import { toast } from '../components/toast.js';
import { progressView } from '../components/progress.js';
import { count, countsSummary, dateTime, everyLabel, fromNow, hourLabel, KIND_LABEL, OUTCOME_LABEL, OUTCOME_TONE } from '../format.js';

export const REFRESH_CHOICES = {
  changes: {
    label: 'Changes since last sync',
    badge: 'Recommended',
    description:
      'Quick. Fetches only the clients Xero Practice Manager reports as changed since the last sync, ' +
      'then checks every contact for changes XPM does not report.',
  },
  full: {
    label: 'Re-sync ALL client data',
    description:
      'Slow and uses many API calls: pulls every client and contact again. Use it sparingly, ' +
      'for example when HowNow looks out of step after a large change in XPM.',
  },
};

function timeEl(iso) {
  return h('time', { datetime: iso ?? '', title: dateTime(iso) }, fromNow(iso));
}

function field(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, ...value)];
}

async function confirmFullSync(ctx, connection) {
  let estimate = null;
  try {
    estimate = await ctx.api.estimateFullSync(connection.id);
  } catch (e) {
    toast(`Could not estimate the cost of a full sync: ${e.message}`, 'danger');
    return false;
  }
  const cost = h(
    'p',
    { class: 'estimate', 'data-testid': 'full-sync-estimate' },
    'Estimated cost: about ',
    h('strong', {}, `${count(estimate.apiCalls)} API calls`),
    estimate.dayRemaining != null ? ` of the ${count(estimate.dayRemaining)} left today` : '',
    estimate.dayLimit != null ? ` (Xero allows ${count(estimate.dayLimit)} a day per practice).` : '.',
  );
  const answer = await ask({
    title: 'Re-sync ALL client data?',
    content: [
      h('p', {}, `This pulls every client and contact of ${connection.tenantName} from Xero Practice Manager again. It is slow and uses your API allowance.`),
      cost,
      h(
        'p',
        { class: 'muted' },
        'You rarely need it: “Changes since last sync” plus the contact check catch almost everything, and a full sync already runs every day at the quiet hour set in Settings.',
      ),
    ],
    confirmLabel: 'Re-sync ALL client data',
    cancelLabel: 'Cancel',
    testid: 'full-sync-dialog',
  });
  return answer === true;
}

async function startSync(ctx, connection, kind, reload, force = false) {
  if (kind === 'full' && !force && !(await confirmFullSync(ctx, connection))) return;
  try {
    await ctx.api.startSync(connection.id, kind, force);
    toast(`${KIND_LABEL[kind]} started for ${connection.tenantName}.`);
  } catch (e) {
    toast(e.message, 'danger');
  }
  reload();
}

async function disconnect(ctx, connection, reload) {
  const name = uid('keep');
  const keep = h('input', { type: 'radio', name, value: 'keep', id: `${name}-keep`, checked: true });
  const drop = h('input', { type: 'radio', name, value: 'delete', id: `${name}-delete` });
  const answer = await ask({
    title: `Disconnect ${connection.tenantName}?`,
    content: [
      h(
        'p',
        {},
        'HowNow Admin will revoke its access in Xero and remove the connection. Scheduled syncs stop. You can connect again later.',
      ),
      h(
        'fieldset',
        { class: 'choices' },
        h('legend', {}, 'Local client data'),
        h('div', { class: 'choice' }, keep, h('label', { for: keep.id }, 'Keep the synced clients and history on this computer')),
        h('div', { class: 'choice' }, drop, h('label', { for: drop.id }, 'Delete the synced clients and history from this computer')),
      ),
    ],
    confirmLabel: 'Disconnect',
    tone: 'danger',
    collect: () => ({ keepData: keep.checked }),
    testid: 'disconnect-dialog',
  });
  if (!answer) return;
  try {
    const report = await ctx.api.disconnect(connection.id, answer.keepData);
    toast(`Disconnected ${connection.tenantName}.`, 'ok');
    // The local side is always cleaned up; what Xero could not do is worth knowing.
    for (const warning of report?.warnings ?? []) toast(`Xero: ${warning}`, 'danger');
  } catch (e) {
    toast(e.message, 'danger');
  }
  reload();
}

function lastSyncLine(run) {
  if (!run) return ['Not yet'];
  const tone = OUTCOME_TONE[run.outcome] ?? 'neutral';
  return [
    timeEl(run.ended_at ?? run.started_at),
    ' · ',
    h('span', { 'data-testid': 'last-sync-kind' }, KIND_LABEL[run.kind] ?? run.kind),
    ' ',
    chip(OUTCOME_LABEL[run.outcome] ?? run.outcome, tone, { 'data-testid': 'last-sync-outcome' }),
    h('span', { class: 'muted block', 'data-testid': 'last-sync-counts' }, `${count(run.counts?.fetched)} fetched; ${countsSummary(run.counts)}`),
  ];
}

/** The card's title, with Rename: the administrator's own name, for a practice Xero names badly. */
function titleBlock(ctx, connection, titleId, reload) {
  const root = h('div', { class: 'card-title-block' });
  const show = () => {
    clear(root).append(
      h('p', { class: 'eyebrow' }, 'Xero Practice Manager'),
      h('h2', { class: 'card-title', id: titleId, 'data-testid': 'tenant-name' }, connection.tenantName),
      h('button', { type: 'button', class: 'btn btn-link', 'data-testid': 'rename', onclick: edit }, 'Rename'),
    );
  };
  const edit = () => {
    const hintId = uid('rename-hint');
    const input = h('input', {
      type: 'text',
      value: connection.tenantName,
      maxlength: '100',
      required: true,
      'aria-label': 'Practice name',
      'aria-describedby': hintId,
      'data-testid': 'rename-input',
    });
    const hint = h('p', { class: 'hint', id: hintId }, 'Shown here, in the tray and in the CLI. Xero keeps its own name.');
    const save = async (name) => {
      try {
        await ctx.api.rename(connection.id, name);
        toast(name ? `Renamed to ${name}.` : 'The practice has Xero’s name again.', 'ok');
        reload();
      } catch (e) {
        hint.textContent = e.message;
        hint.setAttribute('role', 'alert');
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
    };
    const form = h(
      'form',
      {
        class: 'rename-form',
        'data-testid': 'rename-form',
        onsubmit: (event) => {
          event.preventDefault();
          save(input.value.trim());
        },
      },
      input,
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'rename-save' }, 'Save'),
      connection.renamedFrom
        ? h('button', { type: 'button', class: 'btn', onclick: () => save(null) }, 'Use Xero’s name')
        : null,
      h('button', { type: 'button', class: 'btn', onclick: show }, 'Cancel'),
      hint,
    );
    clear(root).append(h('p', { class: 'eyebrow' }, 'Xero Practice Manager'), form);
    input.focus();
    input.select();
  };
  show();
  return root;
}

function connectionCard(ctx, connection, reload) {
  const syncing = connection.status === CONNECTION_STATE.syncing || Boolean(connection.progress);
  const titleId = uid('conn');
  const chipSlot = h('span', { class: 'chip-slot' }, statusChip(connection, connection.progress));
  const progress = progressView(connection.progress);
  progress.root.hidden = !syncing;

  const refresh = menuButton({
    label: syncing ? 'Sync running…' : 'Refresh',
    testid: 'refresh-menu',
    items: ['changes', 'full'].map((kind) => ({
      ...REFRESH_CHOICES[kind],
      disabled: syncing || connection.status === CONNECTION_STATE.needsReauth,
      testid: `refresh-${kind}`,
      onSelect: () => startSync(ctx, connection, kind, reload),
    })),
  });
  if (syncing) refresh.querySelector('button').disabled = true;

  const disconnected = connection.status === CONNECTION_STATE.disconnected;
  const reauth = (label) =>
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-primary',
        'data-testid': 'reauthorise',
        onclick: () => ctx.navigate(`/admin/connections/new?reauth=${encodeURIComponent(connection.id)}`),
      },
      label,
    );
  const actions = h('div', { class: 'card-actions' });
  if (disconnected) {
    actions.append(reauth('Reconnect'));
  } else {
    if (connection.status === CONNECTION_STATE.needsReauth) actions.append(reauth('Reauthorise'));
    actions.append(
      refresh,
      h('button', { type: 'button', class: 'btn btn-ghost-danger', 'data-testid': 'disconnect', onclick: () => disconnect(ctx, connection, reload) }, 'Disconnect'),
    );
  }

  const banners = [];
  if (connection.status === CONNECTION_STATE.needsReauth) {
    banners.push(
      h(
        'div',
        { class: 'banner banner-warn', role: 'status' },
        'Xero no longer accepts this connection’s sign-in (it was revoked, or unused for 60 days). Syncing is paused until you reauthorise.',
      ),
    );
  } else if (disconnected) {
    banners.push(
      h('div', { class: 'banner banner-info', role: 'status' }, 'Disconnected. The synced clients were kept on this computer; nothing syncs until you reconnect.'),
    );
  } else if (connection.lastSync?.outcome === 'needs_confirmation') {
    banners.push(
      h(
        'div',
        { class: 'banner banner-warn', role: 'status', 'data-testid': 'mass-removal' },
        h('p', {}, connection.lastSync.error ?? 'The last full sync would have removed many clients, so it changed nothing.'),
        h(
          'button',
          { type: 'button', class: 'btn btn-danger', onclick: () => startSync(ctx, connection, 'full', reload, true) },
          'Remove them: run the full sync again',
        ),
      ),
    );
  } else if (connection.lastSync?.outcome === 'failed' && connection.lastSync.error) {
    banners.push(h('div', { class: 'banner banner-danger', role: 'status' }, `Last sync failed: ${connection.lastSync.error}`));
  }

  const card = h(
    'article',
    { class: 'card connection-card', 'aria-labelledby': titleId, 'data-testid': 'connection-card', 'data-connection-id': connection.id },
    h(
      'div',
      { class: 'card-head' },
      titleBlock(ctx, connection, titleId, reload),
      h('div', { class: 'chips' }, connection.demo ? chip('Demo practice (offline)', 'demo') : null, chipSlot),
    ),
    banners,
    h(
      'dl',
      { class: 'facts' },
      field(
        'Tenant',
        connection.tenantName,
        connection.renamedFrom ? h('span', { class: 'muted block', 'data-testid': 'renamed-from' }, `Xero calls it ${connection.renamedFrom}`) : null,
        h('span', { class: 'muted block mono' }, connection.tenantId),
      ),
      field(
        'Authorised by',
        connection.authorisedBy?.name ?? '—',
        connection.authorisedBy?.email ? h('span', { class: 'muted block' }, connection.authorisedBy.email) : null,
      ),
      field('Xero', h('span', { class: 'mono', 'data-testid': 'issuer' }, connection.issuer ?? '—')),
      field('Clients', h('span', { 'data-testid': 'client-count' }, count(connection.clientCount))),
      field('Last sync', ...lastSyncLine(connection.lastSync)),
      field(
        'Next sync',
        connection.nextSync ? [timeEl(connection.nextSync.at), ' · ', KIND_LABEL[connection.nextSync.kind] ?? connection.nextSync.kind] : '—',
      ),
    ),
    progress.root,
    actions,
  );

  function onProgress(p) {
    // A run started elsewhere (schedule, tray): redraw once so Refresh shows it is busy.
    if (!syncing) {
      reload();
      return;
    }
    progress.root.hidden = false;
    progress.update(p);
    clear(chipSlot).append(statusChip(connection, p));
  }
  return { card, onProgress, connection };
}

function helpSection(settings) {
  const hour = settings && settings.dailyFullEnabled ? hourLabel(settings.dailyFullHour) : null;
  return h(
    'section',
    { class: 'section help', 'aria-labelledby': 'conn-help' },
    h('h2', { id: 'conn-help' }, 'How syncing works'),
    h(
      'p',
      {},
      `${everyLabel(settings?.intervalHours ?? 6)} HowNow Admin fetches the clients Xero Practice Manager reports as changed. ` +
        'You can also run it any time from Refresh, here or in the tray menu.',
    ),
    h(
      'p',
      {},
      'XPM has a known defect: its “modified since” filter does not report some contact changes, such as a new primary contact. ' +
        'HowNow recommends a full sync by hand once a day to catch them. HowNow Admin does it for you: ',
      hour ? `a full sync runs every day at ${hour}` : 'a daily full sync (currently switched off in Settings)',
      ', and every update also checks all contacts for changes XPM did not report. The Sync history shows what was caught.',
    ),
  );
}

export async function mount(root, ctx) {
  const header = h(
    'div',
    { class: 'page-head' },
    h('h1', {}, 'Connections'),
    h('a', { class: 'btn btn-primary', href: '#/admin/connections/new', 'data-testid': 'create-connection' }, 'Create new connection'),
  );
  // Who runs the scheduled syncs when it is not this app (the HowNow service).
  const schedulerSlot = h('p', { class: 'hint scheduler-line', 'data-testid': 'scheduled-by', hidden: true });
  const listSlot = h('div', { class: 'connection-list' });
  const helpSlot = h('div');
  root.append(header, schedulerSlot, listSlot, helpSlot);

  let cards = new Map();
  // Coalesced: a "sync finished" arriving while the running state is being fetched still redraws.
  const reload = coalesced(async () => {
    try {
      const [list, settings, scheduler] = await Promise.all([
        ctx.api.connections(),
        ctx.api.settings().catch(() => null),
        ctx.api.schedulerStatus().catch(() => null),
      ]);
      if (!ctx.isCurrent()) return;
      schedulerSlot.textContent = scheduler?.message ?? '';
      schedulerSlot.hidden = !scheduler?.message;
      cards = new Map();
      clear(listSlot);
      if (list.length === 0) {
        listSlot.append(
          h(
            'div',
            { class: 'card empty' },
            h('h2', {}, 'No connections yet'),
            h('p', {}, 'Connect Xero Practice Manager so HowNow’s client directory stays in step with your practice.'),
          ),
        );
      }
      for (const connection of list) {
        const view = connectionCard(ctx, connection, reload);
        cards.set(connection.id, view);
        listSlot.append(view.card);
      }
      clear(helpSlot).append(helpSection(settings));
    } catch (e) {
      clear(listSlot).append(h('div', { class: 'banner banner-danger', role: 'alert' }, e.message));
    }
  });
  await reload();
  // From the tray's "Re-sync ALL client data": show the estimate and ask here.
  if (ctx.query.get('confirm') === 'full') {
    const first = [...cards.values()].find((v) => v.connection.status === CONNECTION_STATE.connected);
    if (first) startSync(ctx, first.connection, 'full', reload);
  }

  const stops = [
    ctx.events.onSyncProgress((p) => {
      const view = cards.get(p.connectionId);
      if (view) view.onProgress(p);
      else reload();
    }),
    ctx.events.onSyncFinished(() => reload()),
    ctx.events.onConnectionsChanged(() => reload()),
  ];
  // Relative times ("5 minutes ago") age while the page stays open.
  const timer = setInterval(() => {
    if (!document.querySelector('dialog[open]') && !root.querySelector('[aria-expanded="true"]')) reload();
  }, 60000);
  return () => {
    stops.forEach((stop) => stop());
    clearInterval(timer);
  };
}
