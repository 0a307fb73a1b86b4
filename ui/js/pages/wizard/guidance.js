// What the Xero user needs before connecting: XPM's privilege and where an administrator grants
// it. The words come from the engine (app_info's `privilege`), which the CLI prints too, so the
// window and the CLI cannot drift apart.

import { h } from '../../dom.js';

/** The requirement as a paragraph, then the steps to grant it. */
export function guidanceSteps(guidance) {
  return [
    h('p', {}, guidance.requirement),
    h(
      'ol',
      { class: 'steps' },
      guidance.steps.map((step) => h('li', {}, step)),
    ),
  ];
}
