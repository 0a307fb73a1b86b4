import { h, uid } from '../dom.js';

/**
 * A modal question. Resolves to `null` when dismissed (No, Cancel, Escape) and to `collect()`'s
 * value (or `true`) when confirmed. The native <dialog> keeps focus inside while open.
 */
export function ask({ title, content, confirmLabel = 'OK', cancelLabel = 'Cancel', tone = 'primary', collect, testid }) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const confirm = h(
      'button',
      { type: 'button', class: `btn btn-${tone === 'danger' ? 'danger' : 'primary'}`, 'data-testid': testid ? `${testid}-confirm` : null },
      confirmLabel,
    );
    const cancel = h(
      'button',
      { type: 'button', class: 'btn', 'data-testid': testid ? `${testid}-cancel` : null },
      cancelLabel,
    );
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': testid },
      h('h2', { id: titleId }, title),
      h('div', { class: 'dialog-body' }, content),
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    let result = null;
    confirm.addEventListener('click', () => {
      result = collect ? collect() : true;
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    // Destructive questions start on the safe answer.
    (tone === 'danger' ? cancel : confirm).focus();
  });
}
