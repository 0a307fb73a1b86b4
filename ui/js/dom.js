// Building the DOM without HTML strings: every piece of data goes in as a text node or an
// attribute value, so names like `Smith & <Sons> 🎉` show as written and can never become markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function setProps(el, props) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key === 'class') {
      el.setAttribute('class', value);
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'value' && 'value' in el) {
      el.value = value;
    } else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden') {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** `h('button', { class: 'btn', onclick }, 'Save')`: an HTML element with text-only children. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  appendChildren(el, children);
  return el;
}

/** The SVG counterpart of `h`. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  appendChildren(el, children);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** A unique id for label/aria wiring. */
let nextId = 0;
export function uid(prefix = 'id') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** Calls `fn` once the user has paused typing. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * Wraps an async `fn` so that calls never overlap and none is lost: a call made while one runs
 * makes exactly one more run after it (however many calls came in meanwhile). A page reloading on
 * "sync finished" must not drop that reload because an earlier one was still fetching the
 * running state.
 */
export function coalesced(fn) {
  let running = null;
  let again = false;
  const loop = async () => {
    try {
      do {
        again = false;
        await fn();
      } while (again);
    } finally {
      running = null;
    }
  };
  return () => {
    if (running) {
      again = true;
    } else {
      running = loop();
    }
    return running;
  };
}
