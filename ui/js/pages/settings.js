import { h, uid } from '../dom.js';
import { hourLabel } from '../format.js';

const INTERVALS = [1, 2, 3, 6, 12, 24];

function checkbox(label, checked, hint, testid) {
  const id = uid('check');
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', { type: 'checkbox', id, checked, 'aria-describedby': hintId, 'data-testid': testid });
  return { input, el: h('div', { class: 'choice' }, input, h('label', { for: id }, label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null) };
}

function select(label, options, value) {
  const id = uid('select');
  const input = h('select', { id }, options.map(([v, text]) => h('option', { value: String(v), selected: v === value }, text)));
  return { input, el: h('div', { class: 'field' }, h('label', { for: id }, label), input) };
}

export async function mount(root, ctx) {
  const settings = await ctx.api.settings();
  if (!ctx.isCurrent()) return;

  const interval = select(
    'Sync changes since the last sync',
    INTERVALS.map((n) => [n, n === 1 ? 'Every hour' : `Every ${n} hours`]),
    settings.intervalHours,
  );
  const dailyOn = checkbox(
    'Run a full sync every day',
    settings.dailyFullEnabled,
    'Catches the contact changes Xero Practice Manager does not report to “changes since” requests.',
  );
  const hour = select(
    'At',
    Array.from({ length: 24 }, (_, i) => [i, hourLabel(i)]),
    settings.dailyFullHour,
  );

  const startAtLogin = checkbox(
    'Start HowNow Admin when I log in',
    settings.startAtLogin,
    'It starts in the tray, without a window, so the scheduled syncs run. On once a practice is connected.',
    'start-at-login',
  );

  const clientIdId = uid('client-id');
  const clientIdHintId = `${clientIdId}-hint`;
  const clientId = h('input', {
    id: clientIdId,
    type: 'text',
    class: 'mono',
    value: settings.xeroClientId ?? '',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': clientIdHintId,
    'data-testid': 'client-id',
  });

  const modeName = uid('mode');
  const modes = [
    ['deeplink', 'Through the HowNow sign-in page (deep link)', 'Xero returns to an https page that hands the login back to this app.'],
    ['loopback', 'Directly to this computer (loopback)', 'Xero returns to http://localhost on one of the registered ports. Use it when deep links are blocked.'],
  ].map(([value, label, hint]) => {
    const id = `${modeName}-${value}`;
    const hintId = `${id}-hint`;
    const input = h('input', { type: 'radio', name: modeName, id, value, checked: settings.loginMode === value, 'aria-describedby': hintId });
    return { input, el: h('div', { class: 'choice' }, input, h('label', { for: id }, label), h('p', { class: 'hint', id: hintId }, hint)) };
  });

  const status = h('p', { class: 'form-status', role: 'status', 'data-testid': 'settings-status' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'save-settings' }, 'Save settings');

  function syncEnabled() {
    hour.input.disabled = !dailyOn.input.checked;
  }
  dailyOn.input.addEventListener('change', syncEnabled);
  syncEnabled();
  // Schedules belong to connections: before the first one there is nothing to set.
  const scheduleNoteId = uid('schedule-note');
  const scheduleNote = settings.scheduleAvailable
    ? null
    : h('p', { class: 'hint', id: scheduleNoteId }, 'The schedule applies once a practice is connected; until then it shows the defaults.');
  for (const input of [interval.input, dailyOn.input, hour.input]) {
    if (!settings.scheduleAvailable) {
      input.disabled = true;
      input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), scheduleNoteId].filter(Boolean).join(' '));
    }
  }

  const form = h(
    'form',
    { class: 'settings', novalidate: true },
    h('fieldset', { class: 'card' }, h('legend', {}, 'Schedule'), scheduleNote, interval.el),
    h('fieldset', { class: 'card' }, h('legend', {}, 'Daily full sync'), dailyOn.el, hour.el),
    h('fieldset', { class: 'card' }, h('legend', {}, 'This computer'), startAtLogin.el),
    h(
      'fieldset',
      { class: 'card' },
      h('legend', {}, 'Xero'),
      h(
        'div',
        { class: 'field' },
        h('label', { for: clientIdId }, 'Xero client id'),
        clientId,
        h(
          'p',
          { class: 'hint', id: clientIdHintId },
          'The client id of your firm’s app in Xero’s developer portal (an “Auth Code with PKCE” app). ',
          'Leave it empty to use the Demo practice (offline).',
        ),
      ),
      h('fieldset', { class: 'choices' }, h('legend', {}, 'Login mode'), modes.map((m) => m.el)),
    ),
    h('div', { class: 'form-actions' }, status, save),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    save.disabled = true;
    status.textContent = 'Saving…';
    status.className = 'form-status';
    try {
      await ctx.api.saveSettings({
        intervalHours: Number(interval.input.value),
        dailyFullEnabled: dailyOn.input.checked,
        dailyFullHour: Number(hour.input.value),
        xeroClientId: clientId.value.trim(),
        loginMode: modes.find((m) => m.input.checked)?.input.value ?? 'deeplink',
        startAtLogin: startAtLogin.input.checked,
      });
      status.textContent = 'Saved.';
      status.className = 'form-status ok';
      await ctx.refreshAppInfo();
    } catch (e) {
      status.textContent = e.message;
      status.className = 'form-status error';
    } finally {
      save.disabled = false;
    }
  });

  // Support: the same zip as `hownow support-bundle`, saved in Downloads.
  const diagStatus = h('p', { class: 'form-status', role: 'status' });
  const diagHintId = uid('diagnostics-hint');
  const diagButton = h(
    'button',
    { type: 'button', class: 'btn', 'aria-describedby': diagHintId, 'data-testid': 'save-diagnostics' },
    'Save diagnostics…',
  );
  diagButton.addEventListener('click', async () => {
    diagButton.disabled = true;
    diagStatus.className = 'form-status';
    diagStatus.textContent = 'Saving…';
    try {
      const saved = await ctx.api.saveDiagnostics();
      if (!ctx.isCurrent()) return;
      const show = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Show in folder');
      show.addEventListener('click', () => ctx.api.revealFile(saved.path).catch(() => {}));
      diagStatus.className = 'form-status ok';
      diagStatus.replaceChildren(`Saved ${saved.path} `, show);
    } catch (e) {
      diagStatus.className = 'form-status error';
      diagStatus.textContent = e.message;
    } finally {
      diagButton.disabled = false;
    }
  });
  const support = h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Support'),
    h(
      'p',
      { class: 'hint', id: diagHintId },
      'Saves a zip for HowNow support: recent logs, settings, the last 50 syncs and version details. It never holds your Xero sign-in; it does name your practices and clients.',
    ),
    h('div', { class: 'form-actions' }, diagStatus, diagButton),
  );

  root.append(h('h1', {}, 'Settings'), form, support);
}
