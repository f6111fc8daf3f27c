// /admin/audit: the audit trail, newest first, with the API's filters,
// paging to older events and auto-refresh.

import * as api from './api.js';
import { h, clear, errorBox, errorsOf, formatTime, badge } from './dom.js';
import { navigate } from './app.js';

const BASE = '/admin';
const AUTO_REFRESH_MS = 5000;

const OPERATIONS = [
  'issue', 'renew', 'revoke', 'revoke-role', 'expire', 'role-write', 'role-delete', 'role-test',
  'token-create', 'token-revoke', 'lease-list', 'lease-lookup', 'role-list', 'role-read',
  'token-list', 'audit-read',
];
/** Reads the UI itself makes all the time; hidden unless asked for. */
const READS = new Set(['lease-list', 'lease-lookup', 'role-list', 'role-read', 'token-list', 'audit-read']);
const SINCE = [['', 'any time'], ['15m', 'last 15 minutes'], ['1h', 'last hour'], ['24h', 'last 24 hours'], ['7d', 'last 7 days']];

export async function auditView(container, params) {
  const filters = {
    operation: params.get('operation') || '',
    role: params.get('role') || '',
    lease_id: params.get('lease_id') || '',
    since: params.get('since') || '',
  };
  const showReads = params.get('reads') === '1';
  let before = 0;
  const older = [];  // the `before` of each page seen, for "Newer"
  let timer = null;
  let disposed = false;

  const operation = h('select', { id: 'audit-operation', name: 'operation' },
    h('option', { value: '', text: 'all operations' }),
    OPERATIONS.map((o) => h('option', { value: o, text: o, selected: o === filters.operation })));
  const role = h('input', { id: 'audit-role', name: 'role', placeholder: 'role', value: filters.role, autocomplete: 'off' });
  const lease = h('input', { id: 'audit-lease', name: 'lease_id', placeholder: 'lease ID', value: filters.lease_id,
    autocomplete: 'off', spellcheck: 'false', class: 'wide' });
  const since = h('select', { id: 'audit-since', name: 'since' },
    SINCE.map(([v, t]) => h('option', { value: v, text: t, selected: v === filters.since })));
  const reads = h('input', { type: 'checkbox', id: 'audit-reads', checked: showReads });
  const auto = h('input', { type: 'checkbox', id: 'audit-auto', checked: true });
  const status = h('span', { class: 'muted', id: 'audit-status' });
  const tableArea = h('div', { class: 'card' });
  const newer = h('button', { type: 'button', class: 'btn btn-small', text: '\u2190 Newer', disabled: true });
  const olderButton = h('button', { type: 'button', class: 'btn btn-small', text: 'Older \u2192', disabled: true });

  function apply(e) {
    if (e) e.preventDefault();
    const q = api.query({
      operation: operation.value, role: role.value.trim(), lease_id: lease.value.trim(),
      since: since.value, reads: reads.checked ? '1' : '',
    });
    navigate(`${BASE}/audit${q}`);
  }
  operation.addEventListener('change', apply);
  since.addEventListener('change', apply);
  reads.addEventListener('change', apply);

  container.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('div', { class: 'crumbs', text: 'Admin \u2192 Audit' }), h('h1', { text: 'Audit trail' }))),
    h('form', { class: 'toolbar', on: { submit: apply } },
      operation, role, lease, since,
      h('button', { type: 'submit', class: 'btn btn-small', text: 'Filter' }),
      h('a', { class: 'btn btn-small btn-ghost', href: `${BASE}/audit`, 'data-link': true, text: 'Clear' }),
      h('label', { class: 'inline checkbox', for: 'audit-reads', title: 'lease-list, role-read, audit-read …: the UI makes these itself' },
        reads, 'Show reads'),
      h('span', { class: 'spacer' }),
      h('label', { class: 'inline checkbox', for: 'audit-auto' }, auto, 'Auto-refresh')),
    tableArea,
    h('div', { class: 'pager' }, newer, olderButton, h('span', { class: 'spacer' }), status));

  newer.addEventListener('click', () => { before = older.pop() ?? 0; load(); });
  olderButton.addEventListener('click', () => {
    older.push(before);
    before = Number(olderButton.dataset.before);
    load();
  });

  async function load() {
    let data;
    try {
      data = await api.get(`/v1/sys/audit${api.query({ ...filters, limit: 100, before: before || '' })}`);
    } catch (e) {
      clear(tableArea).append(errorBox(errorsOf(e)));
      return;
    }
    if (disposed) return;
    const events = data.events.filter((e) => e && (showReads || filters.operation || !READS.has(e.operation)));
    const hidden = data.events.length - events.length;
    render(events);
    newer.disabled = before === 0;
    olderButton.disabled = !data.next_before;
    olderButton.dataset.before = data.next_before ?? '';
    status.textContent = `${events.length} event(s)${hidden ? `, ${hidden} read(s) hidden` : ''} \u00b7 updated ${formatTime(new Date().toISOString()).slice(11)}`;
  }

  function render(events) {
    clear(tableArea);
    if (events.length === 0) {
      tableArea.append(h('div', { class: 'empty' }, h('p', { text: 'No events match.' })));
      return;
    }
    tableArea.append(h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'audit-table' },
      h('thead', {}, h('tr', {}, ['Time', 'Operation', 'Result', 'Status', 'Role', 'Lease', 'Username', 'Actor', 'Error']
        .map((t) => h('th', { text: t })))),
      h('tbody', {}, events.map((e) => h('tr', { dataset: { operation: e.operation ?? '', result: e.result ?? '', leaseId: e.lease_id ?? '' } },
        h('td', { class: 'nowrap', text: formatTime(e.time) }),
        h('td', {}, h('span', { class: 'op', text: e.operation ?? '' })),
        h('td', {}, badge(e.result ?? '', e.result === 'ok' ? 'ok' : 'error')),
        h('td', { text: e.status ? String(e.status) : '' }),
        h('td', {}, e.role ? h('a', { href: `${BASE}/audit${api.query({ role: e.role })}`, 'data-link': true, text: e.role }) : ''),
        h('td', { class: 'mono small', title: e.lease_id ?? '' },
          e.lease_id ? h('a', { href: `${BASE}/audit${api.query({ lease_id: e.lease_id })}`, 'data-link': true, text: e.lease_id.slice(0, 8) }) : ''),
        h('td', { class: 'mono small', text: e.username ?? '' }),
        h('td', { class: 'mono small', text: e.actor ?? '' }),
        h('td', { class: 'last-error', text: e.error ?? '' })))))));
  }

  function schedule() {
    if (disposed) return;
    timer = setTimeout(async () => {
      if (auto.checked && before === 0 && !document.hidden) await load();
      schedule();
    }, AUTO_REFRESH_MS);
  }

  await load();
  schedule();
  return () => {
    disposed = true;
    clearTimeout(timer);
  };
}
