// The stats header: the guide's monitoring numbers from
// GET /v1/sys/leases/stats, polled.

import * as api from './api.js';
import { h, clear } from './dom.js';

const POLL_MS = 5000;
/** Readings of created_total kept for the creation rate. */
const RATE_WINDOW_MS = 60_000;

function card(key, label) {
  const value = h('div', { class: 'stat-value', text: '…' });
  const detail = h('div', { class: 'stat-detail', text: '' });
  const el = h('div', { class: 'stat', dataset: { stat: key } },
    h('div', { class: 'stat-label', text: label }), value, detail);
  return { el, value, detail };
}

/**
 * Fills `container` with the four stat cards and keeps them fresh.
 * Returns { stop(), refresh() }.
 */
export function startStats(container) {
  const active = card('active', 'Active leases');
  const rate = card('creation-rate', 'Creation rate');
  const renewal = card('renewal-success', 'Renewal success');
  const failing = card('failing-revocations', 'Failing revocations');
  const error = h('div', { class: 'stat-error', hidden: true });
  clear(container).append(active.el, rate.el, renewal.el, failing.el, error);

  /** [time ms, created_total] of recent readings, oldest first. */
  const readings = [];
  let timer = null;
  let stopped = false;

  async function refresh() {
    let s;
    try {
      s = await api.get('/v1/sys/leases/stats');
    } catch (e) {
      error.hidden = false;
      error.textContent = `stats: ${(e.errors ?? [e.message]).join('; ')}`;
      return;
    }
    error.hidden = true;
    const now = Date.now();
    readings.push([now, s.created_total]);
    while (readings.length > 2 && now - readings[1][0] > RATE_WINDOW_MS) {
      readings.shift();
    }

    active.value.textContent = String(s.active);
    active.detail.textContent = `${s.created_total} created, ${s.revoked_total} revoked, ${s.expired_total} expired`;

    // Per minute over the readings of the last minute; until there are two,
    // the server's own figure.
    let perMinute = (s.creation_rate_per_s ?? 0) * 60;
    let basis = 'server estimate';
    if (readings.length >= 2) {
      const [t0, c0] = readings[0];
      const dt = (now - t0) / 1000;
      if (dt > 0) {
        perMinute = ((s.created_total - c0) / dt) * 60;
        basis = `over the last ${Math.round(dt)}s`;
      }
    }
    rate.value.textContent = `${perMinute.toFixed(perMinute < 10 ? 1 : 0)}/min`;
    rate.detail.textContent = basis;

    const attempts = s.renewed_total + s.renewal_failures_total;
    renewal.value.textContent = attempts === 0 ? '—' : `${((100 * s.renewed_total) / attempts).toFixed(1)}%`;
    renewal.detail.textContent = attempts === 0
      ? 'no renewals yet'
      : `${s.renewed_total} of ${attempts} renewals`;
    renewal.el.classList.toggle('stat-warn', attempts > 0 && s.renewal_failures_total > 0);

    failing.value.textContent = String(s.revoke_failing);
    failing.detail.textContent = `${s.revocation_failures_total} failed attempts in total`;
    failing.el.classList.toggle('stat-bad', s.revoke_failing > 0);
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(async () => {
      if (!document.hidden) await refresh();
      schedule();
    }, POLL_MS);
  }

  refresh().then(schedule);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    refresh,
  };
}
