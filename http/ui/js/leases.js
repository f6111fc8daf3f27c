// Admin → Leases: a paged table with live countdowns, a role filter,
// Renew / Revoke per lease and revoke-all for a role.

import * as api from './api.js';
import { h, clear, errorBox, errorsOf, notice, formatDuration, formatTime, countdown, confirmDialog, badge } from './dom.js';
import { navigate, refreshStats } from './app.js';

const BASE = '/admin';
const PAGE_SIZES = [25, 50, 100, 250];
const AUTO_REFRESH_MS = 15000;

export async function leasesView(container, params) {
  const role = params.get('role') || '';
  // Any page size the API takes (1 to 1000) works from the address bar.
  const asked = Number(params.get('limit'));
  const limit = Number.isInteger(asked) && asked >= 1 && asked <= 1000 ? asked : 50;
  const sizes = PAGE_SIZES.includes(limit) ? PAGE_SIZES : [...PAGE_SIZES, limit].sort((a, b) => a - b);

  // Paging: the cursor of each page seen, so "Previous" can go back.
  const cursors = [''];
  let page = 0;
  let timers = [];
  let disposed = false;

  const flashArea = h('div', { class: 'flash-area' });
  const roleSelect = h('select', { id: 'lease-role', name: 'role' }, h('option', { value: '', text: 'All roles' }));
  const sizeSelect = h('select', { id: 'lease-limit', name: 'limit' },
    sizes.map((n) => h('option', { value: String(n), text: `${n} per page`, selected: n === limit })));
  const auto = h('input', { type: 'checkbox', id: 'lease-auto', checked: true });
  const lookup = h('input', { id: 'lease-lookup', placeholder: 'Look up a lease ID', autocomplete: 'off', spellcheck: 'false' });
  const revokeAll = h('button', { type: 'button', class: 'btn btn-danger-outline', id: 'revoke-role', text: 'Revoke all for role',
    disabled: !role, title: role ? '' : 'Choose a role first' });
  const summary = h('span', { class: 'muted', id: 'lease-summary' });
  const tableArea = h('div', { class: 'card' });
  const prev = h('button', { type: 'button', class: 'btn btn-small', text: '\u2190 Previous', disabled: true });
  const next = h('button', { type: 'button', class: 'btn btn-small', text: 'Next \u2192', disabled: true });
  const pageLabel = h('span', { class: 'muted' });

  container.append(
    h('div', { class: 'page-head' },
      h('div', {}, h('div', { class: 'crumbs', text: 'Admin \u2192 Leases' }), h('h1', { text: 'Leases' })),
      h('div', { class: 'page-actions' }, revokeAll)),
    flashArea,
    h('div', { class: 'toolbar' },
      h('label', { class: 'inline', for: 'lease-role' }, 'Role ', roleSelect),
      sizeSelect,
      h('form', { class: 'inline-form', on: { submit: (e) => { e.preventDefault(); lookupLease(); } } },
        lookup, h('button', { type: 'submit', class: 'btn btn-small', text: 'Find' })),
      h('span', { class: 'spacer' }),
      h('label', { class: 'inline checkbox', for: 'lease-auto' }, auto, 'Auto-refresh'),
      h('button', { type: 'button', class: 'btn btn-small', text: 'Refresh', on: { click: () => load() } })),
    tableArea,
    h('div', { class: 'pager' }, prev, pageLabel, next, h('span', { class: 'spacer' }), summary));

  function setFilter(newRole, newLimit) {
    const q = api.query({ role: newRole, limit: newLimit === 50 ? '' : newLimit });
    navigate(`${BASE}/leases${q}`);
  }
  roleSelect.addEventListener('change', () => setFilter(roleSelect.value, limit));
  sizeSelect.addEventListener('change', () => setFilter(role, Number(sizeSelect.value)));
  prev.addEventListener('click', () => { if (page > 0) { page -= 1; load(); } });
  next.addEventListener('click', () => { page += 1; load(); });

  // Roles for the filter, with their active counts for the summary.
  let roleInfo = null;
  api.get('/v1/sys/roles').then((data) => {
    const names = data.roles.map((r) => r.name).sort();
    if (role && !names.includes(role)) names.unshift(role);
    roleSelect.append(...names.map((n) => h('option', { value: n, text: n, selected: n === role })));
    roleInfo = data.roles.find((r) => r.name === role) ?? null;
    updateSummary();
  }).catch(() => {});

  let rows = [];
  let shown = 0;
  function updateSummary() {
    const total = role ? (roleInfo ? `${roleInfo.active_leases} active for ${role}` : '') : '';
    summary.textContent = [`${shown} shown on this page`, total].filter(Boolean).join(' \u00b7 ');
  }

  function say(node) {
    clear(flashArea).append(node);
  }

  async function load() {
    const after = cursors[page] ?? '';
    let data;
    try {
      data = await api.get(`/v1/sys/leases${api.query({ role, after, limit })}`);
    } catch (e) {
      clear(tableArea).append(errorBox(errorsOf(e)));
      return;
    }
    if (disposed) return;
    if (data.next_after) {
      cursors[page + 1] = data.next_after;
    } else {
      cursors.length = page + 1;
    }
    renderTable(data.leases);
    prev.disabled = page === 0;
    next.disabled = !data.next_after;
    pageLabel.textContent = `Page ${page + 1}`;
  }

  async function lookupLease() {
    const id = lookup.value.trim();
    if (!id) { load(); return; }
    try {
      const lease = await api.get(`/v1/sys/leases/${encodeURIComponent(id)}`);
      auto.checked = false;
      renderTable([lease]);
      pageLabel.textContent = 'Lookup';
      prev.disabled = true;
      next.disabled = true;
    } catch (e) {
      say(errorBox(errorsOf(e)));
    }
  }

  function renderTable(leases) {
    rows = [];
    shown = leases.length;
    updateSummary();
    clear(tableArea);
    if (leases.length === 0) {
      tableArea.append(h('div', { class: 'empty' }, h('p', { text: role ? `No leases for ${role}.` : 'No leases.' })));
      return;
    }
    const tbody = h('tbody');
    for (const lease of leases) {
      const row = leaseRow(lease);
      rows.push(row);
      tbody.append(row.tr);
    }
    tableArea.append(h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'leases-table' },
      h('thead', {}, h('tr', {}, ['Lease', 'Role', 'Username', 'Issued', 'Expires', 'State', 'Last error', '']
        .map((t) => h('th', { text: t })))),
      tbody)));
    tick();
  }

  function leaseRow(lease) {
    const expires = h('td', { class: 'countdown', title: formatTime(lease.expires_at) });
    const state = h('td', {}, badge(lease.state));
    const lastError = h('td', { class: 'last-error', text: lease.last_error ?? '' });
    const renew = h('button', { type: 'button', class: 'btn btn-small', text: 'Renew' });
    const revoke = h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', text: 'Revoke' });
    const live = () => lease.state === 'active';
    renew.disabled = !live() || !lease.renewable;
    revoke.disabled = lease.state === 'revoked';
    const tr = h('tr', { dataset: { leaseId: lease.lease_id, state: lease.state } },
      h('td', { class: 'mono small', title: lease.lease_id, text: lease.lease_id.slice(0, 8) }),
      h('td', {}, h('a', { href: `${BASE}/leases?role=${encodeURIComponent(lease.role)}`, 'data-link': true, text: lease.role })),
      h('td', { class: 'mono', text: lease.username }),
      h('td', { text: formatTime(lease.issued_at) }),
      expires,
      state,
      lastError,
      h('td', { class: 'actions' }, renew, revoke));
    const row = { tr, lease, expiresMs: Date.parse(lease.expires_at), expires };

    renew.addEventListener('click', async () => {
      renew.disabled = true;
      try {
        const r = await api.post('/v1/sys/leases/renew', { lease_id: lease.lease_id });
        row.expiresMs = Date.parse(r.expires_at);
        expires.title = formatTime(r.expires_at);
        tick();
        say(notice('success', `Lease ${lease.lease_id.slice(0, 8)} renewed: expires ${formatTime(r.expires_at)} ` +
          `(${formatDuration(r.lease_duration)})${r.capped ? ', capped at the role\u2019s max TTL' : ''}.`));
        refreshStats();
      } catch (e) {
        say(errorBox(errorsOf(e), `Could not renew ${lease.lease_id.slice(0, 8)}`));
      } finally {
        renew.disabled = !live() || !lease.renewable;
      }
    });

    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: 'Revoke this lease?',
        message: `The database user ${lease.username} is dropped and its sessions are ended now.`,
        confirmLabel: 'Revoke lease',
      });
      if (!ok) return;
      revoke.disabled = true;
      renew.disabled = true;
      try {
        const r = await api.post('/v1/sys/leases/revoke', { lease_id: lease.lease_id });
        lease.state = r.state ?? 'revoked';
        tr.dataset.state = lease.state;
        tr.classList.add('row-done');
        clear(state).append(badge(lease.state));
        lastError.textContent = r.last_error ?? '';
        say(notice('success', `Lease ${lease.lease_id.slice(0, 8)} revoked: ${lease.username} is gone` +
          `${r.revoked_with_fallback ? ' (the fallback revocation was needed)' : ''}.`));
        refreshStats();
      } catch (e) {
        say(errorBox(errorsOf(e), `Could not revoke ${lease.lease_id.slice(0, 8)}`));
        revoke.disabled = false;
        renew.disabled = !live() || !lease.renewable;
      }
    });
    return row;
  }

  revokeAll.addEventListener('click', async () => {
    const count = roleInfo ? roleInfo.active_leases : null;
    const ok = await confirmDialog({
      title: `Revoke every lease of ${role}?`,
      message: `${count === null ? 'Every' : `All ${count}`} lease(s) of role ${role} are revoked: their database users are dropped and their sessions ended. Clients holding them lose access now.`,
      confirmLabel: 'Revoke all',
    });
    if (!ok) return;
    revokeAll.disabled = true;
    try {
      const r = await api.post('/v1/sys/leases/revoke-role', { role });
      say(notice(r.failed ? 'warn' : 'success', `Role ${role}: ${r.revoked} lease(s) revoked, ${r.failed} failed.`));
      refreshStats();
      page = 0;
      await load();
    } catch (e) {
      say(errorBox(errorsOf(e), `Could not revoke the leases of ${role}`));
    } finally {
      revokeAll.disabled = false;
    }
  });

  // Live countdowns: only the text of the Expires cells changes.
  function tick() {
    const now = Date.now();
    for (const row of rows) {
      if (row.lease.state === 'revoked') {
        row.expires.textContent = '—';
        continue;
      }
      row.expires.textContent = countdown(row.expiresMs, now);
      row.expires.classList.toggle('soon', row.expiresMs - now < 60_000);
    }
  }
  timers.push(setInterval(tick, 1000));
  timers.push(setInterval(() => {
    if (auto.checked && !document.hidden) load();
  }, AUTO_REFRESH_MS));

  await load();
  return () => {
    disposed = true;
    timers.forEach(clearInterval);
    timers = [];
  };
}
