// Small DOM helpers. Text always goes in as text (textContent), never as
// HTML, so nothing the server or a database says can become markup.

/**
 * Creates an element. `attrs`: `class`, `text`, `dataset` (object), `on`
 * (event → handler), properties such as `value`, `disabled`, `hidden`,
 * `checked`, and anything else as an attribute. Children: nodes, strings,
 * arrays of them; null/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key === 'class') {
      el.className = value;
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) {
        el.addEventListener(event, handler);
      }
    } else if (['value', 'disabled', 'hidden', 'checked', 'selected', 'required', 'open'].includes(key)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
}

export function clear(el) {
  while (el.firstChild) {
    el.removeChild(el.firstChild);
  }
  return el;
}

/** An alert listing the API's error messages verbatim. */
export function errorBox(errors, title) {
  const list = Array.isArray(errors) ? errors : [String(errors)];
  return h('div', { class: 'alert alert-error', role: 'alert' },
    title ? h('strong', { text: title }) : null,
    h('ul', { class: 'error-list' }, list.map((e) => h('li', { text: e }))));
}

/** Errors of a rejected call: ApiError's list, or the message. */
export function errorsOf(e) {
  return e && Array.isArray(e.errors) ? e.errors : [e && e.message ? e.message : String(e)];
}

export function notice(kind, title, lines = []) {
  return h('div', { class: `alert alert-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('strong', { text: title }),
    lines.length ? h('ul', {}, lines.map((l) => h('li', { text: l }))) : null);
}

/** "1h 2m 3s"; "0s" for zero. */
export function formatDuration(totalSeconds) {
  let s = Math.max(0, Math.floor(totalSeconds));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  const parts = [];
  if (d) parts.push(`${d}d`);
  if (hr) parts.push(`${hr}h`);
  if (m && !d) parts.push(`${m}m`);
  if ((s || parts.length === 0) && !d && !hr) parts.push(`${s}s`);
  return parts.join(' ');
}

const pad = (n) => String(n).padStart(2, '0');

/** Local "YYYY-MM-DD HH:MM:SS" of an RFC 3339 time; "—" when absent. */
export function formatTime(iso) {
  if (!iso) return '—';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ` +
    `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

/** "in 59m 12s" or "expired 3s ago". */
export function countdown(expiresAtMs, nowMs = Date.now()) {
  const left = (expiresAtMs - nowMs) / 1000;
  return left >= 0 ? `in ${formatDuration(left)}` : `expired ${formatDuration(-left)} ago`;
}

/**
 * A modal dialog built from `content`; resolves with the value passed to
 * `close(value)` (undefined for Escape). The dialog is removed from the
 * DOM when it closes, so nothing it showed stays behind.
 */
export function openDialog(build, { className = '' } = {}) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: `dialog ${className}` });
    let result;
    const close = (value) => {
      result = value;
      dialog.close();
    };
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    append(dialog, [build(close)]);
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/** Asks before something destructive. Resolves true only on confirm. */
export function confirmDialog({ title, message, details = [], confirmLabel = 'Confirm', danger = true }) {
  return openDialog((close) => h('form', { class: 'dialog-body', method: 'dialog',
    on: { submit: (e) => { e.preventDefault(); close(true); } } },
  h('h2', { text: title }),
  h('p', { text: message }),
  details.length ? h('ul', { class: 'details' }, details.map((d) => h('li', { text: d }))) : null,
  h('div', { class: 'dialog-actions' },
    h('button', { type: 'button', class: 'btn', text: 'Cancel', on: { click: () => close(false) } }),
    h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary', text: confirmLabel,
      autofocus: true })))).then((v) => v === true);
}

/** A state badge ("active", "revoked", "ok", "error" …). */
export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${String(kind).replace(/[^a-z_-]/gi, '')}`, text });
}
