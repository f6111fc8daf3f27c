// Admin → Dynamic Secrets: the role list, the role form (Test Connection,
// Save), delete, and "Generate credentials" with its one-time display.

import * as api from './api.js';
import { h, clear, errorBox, errorsOf, notice, formatDuration, formatTime, confirmDialog, openDialog, badge } from './dom.js';
import { navigate, setFlash, refreshStats } from './app.js';

const BASE = '/admin';

export const ENGINES = {
  postgresql: { label: 'PostgreSQL', port: 5432 },
  redis: { label: 'Redis', port: 6379 },
};

// The guide's example for a read-only role ("Read-Only Analytics User",
// with its renewal statement from "SQL Statement Templates").
const GUIDE_READONLY = {
  creation_statements: [
    'CREATE USER "{{username}}" WITH PASSWORD \'{{password}}\' VALID UNTIL \'{{expiration}}\';',
    'GRANT CONNECT ON DATABASE analytics_db TO "{{username}}";',
    'GRANT USAGE ON SCHEMA public TO "{{username}}";',
    'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{username}}";',
    'GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO "{{username}}";',
  ].join('\n'),
  renewal_statements: 'ALTER USER "{{username}}" VALID UNTIL \'{{expiration}}\';',
  revocation_statements: [
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = \'{{username}}\';',
    'DROP USER IF EXISTS "{{username}}";',
  ].join('\n'),
};

// README "Roles: use a group role": scales past a few thousand users and
// revokes cleanly; offered as the second template.
const GROUP_ROLE = {
  creation_statements: 'CREATE ROLE "{{username}}" WITH LOGIN PASSWORD \'{{password}}\'\n  VALID UNTIL \'{{expiration}}\' IN ROLE analytics_readers;',
  renewal_statements: '',
  revocation_statements: '',
};

const REDIS_RULES = '~analytics:* +@read';

const SSLMODES = {
  postgresql: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'],
  redis: ['disable', 'require', 'verify-ca', 'verify-full'],
};

function engineLabel(engine) {
  return ENGINES[engine]?.label ?? engine;
}

function pageHead(title, crumbs, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', {},
      h('div', { class: 'crumbs', text: ['Admin', ...crumbs].join(' \u2192 ') }),
      h('h1', { text: title })),
    h('div', { class: 'page-actions' }, actions));
}

// -- the list ---------------------------------------------------------------

export async function rolesView(container, params) {
  const engine = params.get('engine') || 'postgresql';
  const tabs = h('div', { class: 'tabs', role: 'tablist' },
    [...Object.keys(ENGINES), 'all'].map((e) => h('a', {
      href: `${BASE}/roles?engine=${e}`, 'data-link': true, role: 'tab',
      class: `tab${e === engine ? ' active' : ''}`, text: e === 'all' ? 'All engines' : engineLabel(e),
    })));
  const newEngine = ENGINES[engine] ? engine : 'postgresql';
  container.append(
    pageHead('Dynamic Secrets', ['Dynamic Secrets', engine === 'all' ? 'All engines' : engineLabel(engine)],
      h('a', { class: 'btn btn-primary', href: `${BASE}/roles/new?engine=${newEngine}`, 'data-link': true,
        text: 'New role' })),
    tabs);
  const body = h('div', { class: 'card' }, h('p', { class: 'muted pad', text: 'Loading roles…' }));
  container.append(body);

  let data;
  try {
    data = await api.get('/v1/sys/roles');
  } catch (e) {
    clear(body).append(errorBox(errorsOf(e)));
    return;
  }
  const roles = data.roles
    .filter((r) => engine === 'all' || r.engine === engine)
    .sort((a, b) => a.name.localeCompare(b.name));
  clear(body);
  if (roles.length === 0) {
    body.append(h('div', { class: 'empty' },
      h('p', { text: `No ${engine === 'all' ? '' : `${engineLabel(engine)} `}roles yet.` }),
      h('a', { class: 'btn btn-primary', href: `${BASE}/roles/new?engine=${newEngine}`, 'data-link': true,
        text: 'Create the first one' })));
    return;
  }
  const table = h('table', { class: 'table', id: 'roles-table' },
    h('thead', {}, h('tr', {},
      ['Name', 'Engine', 'Connection', 'SSL', 'TTL (default / max)', 'Active leases', ''].map((t) => h('th', { text: t })))),
    h('tbody', {}, roles.map((r) => roleRow(r, container))));
  body.append(h('div', { class: 'table-wrap' }, table));
}

function connectionText(r) {
  const db = r.engine === 'redis' ? '' : `/${r.database}`;
  return `${r.username}@${r.host}:${r.port}${db}`;
}

function roleRow(r, container) {
  const status = h('div', { class: 'row-status' });
  const testButton = h('button', {
    type: 'button', class: 'btn btn-small', text: 'Test',
    on: { click: () => testSaved(r, testButton, status) },
  });
  return h('tr', { dataset: { role: r.name } },
    h('td', { class: 'role-name' }, h('a', { href: `${BASE}/roles/${encodeURIComponent(r.name)}/edit`, 'data-link': true,
      class: 'strong', text: r.name }), status),
    h('td', {}, badge(engineLabel(r.engine), 'engine')),
    h('td', { class: 'mono wrap', text: connectionText(r) }),
    h('td', { text: r.sslmode }),
    h('td', { text: `${formatDuration(r.default_ttl)} / ${formatDuration(r.max_ttl)}` }),
    h('td', {}, h('a', { href: `${BASE}/leases?role=${encodeURIComponent(r.name)}`, 'data-link': true,
      text: String(r.active_leases) })),
    h('td', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-small btn-primary', text: 'Generate credentials',
        on: { click: () => generateCredentials(r.name) } }),
      testButton,
      h('a', { class: 'btn btn-small', href: `${BASE}/roles/${encodeURIComponent(r.name)}/edit`,
        'data-link': true, text: 'Edit' }),
      h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', text: 'Delete',
        on: { click: () => deleteRole(r, container) } })));
}

async function testSaved(r, button, status) {
  button.disabled = true;
  clear(status).append(h('span', { class: 'muted', text: 'testing…' }));
  try {
    const report = await api.post(`${api.rolePath(r.name)}/test`, {});
    clear(status).append(testReport(report, true));
  } catch (e) {
    clear(status).append(errorBox(errorsOf(e)));
  } finally {
    button.disabled = false;
  }
}

async function deleteRole(r, container) {
  const live = r.active_leases > 0;
  const ok = await confirmDialog({
    title: `Delete role ${r.name}?`,
    message: live
      ? `It has ${r.active_leases} active lease(s). Deleting it revokes them: their database users are dropped and their sessions ended.`
      : 'The role configuration is removed. No lease uses it.',
    confirmLabel: live ? `Revoke ${r.active_leases} lease(s) and delete` : 'Delete role',
  });
  if (!ok) return;
  try {
    await api.del(`${api.rolePath(r.name)}${live ? '?revoke=true' : ''}`);
    setFlash(notice('success', `Role ${r.name} deleted.`));
    refreshStats();
    navigate(location.pathname + location.search, { replace: true });
  } catch (e) {
    container.prepend(errorBox(errorsOf(e), `Could not delete ${r.name}`));
  }
}

// -- credentials, shown once --------------------------------------------------

/**
 * Issues a credential and shows it in a dialog. Closing the dialog removes
 * it from the DOM, so the password is gone from the page.
 */
export function generateCredentials(roleName) {
  return openDialog((close) => {
    const body = h('div', { class: 'dialog-body', id: 'credentials-dialog' });
    const ttl = h('input', { id: 'issue-ttl', name: 'ttl', placeholder: 'role default', autocomplete: 'off' });
    const feedback = h('div');
    const issueButton = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Generate' });
    const form = h('form', {
      on: {
        submit: async (e) => {
          e.preventDefault();
          issueButton.disabled = true;
          clear(feedback);
          const req = {};
          const t = ttl.value.trim();
          if (t) req.ttl = numberOrText(t);
          try {
            const issued = await api.post(`/v1/secrets/dynamic/${encodeURIComponent(roleName)}`, req);
            refreshStats();
            showCredentials(body, issued, close);
          } catch (err) {
            feedback.append(errorBox(errorsOf(err)));
            issueButton.disabled = false;
          }
        },
      },
    },
    h('h2', { text: `Generate credentials: ${roleName}` }),
    h('p', { class: 'muted', text: 'Creates a new database user with a lease. The password is shown once.' }),
    h('div', { class: 'field' }, h('label', { for: 'issue-ttl', text: 'TTL (seconds or 5m, 1h, …)' }), ttl),
    feedback,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn', text: 'Cancel', on: { click: () => close() } }),
      issueButton));
    body.append(form);
    return body;
  }, { className: 'dialog-wide' });
}

function copyButton(value, label = 'Copy') {
  const b = h('button', {
    type: 'button', class: 'btn btn-small', text: label,
    on: {
      click: async () => {
        try {
          await navigator.clipboard.writeText(value);
          b.textContent = 'Copied';
        } catch {
          b.textContent = 'Copy failed';
        }
        setTimeout(() => { b.textContent = label; }, 1500);
      },
    },
  });
  return b;
}

function showCredentials(body, issued, close) {
  const c = issued.credentials;
  const rows = [
    ['Username', c.username],
    ['Password', c.password],
    ['Host', c.host],
    ['Port', String(c.port)],
  ];
  if (c.database) rows.push(['Database', c.database]);
  rows.push(['Lease ID', issued.lease_id], ['Expires', `${formatTime(issued.expires_at)} (${formatDuration(issued.lease_duration)})`]);
  let url = null;
  if (c.database) {
    const enc = encodeURIComponent;
    url = `postgresql://${enc(c.username)}:${enc(c.password)}@${c.host}:${c.port}/${enc(c.database)}`;
  }
  clear(body).append(
    h('h2', { text: 'Credentials issued' }),
    h('div', { class: 'alert alert-warn' },
      h('strong', { text: 'Shown only this once. ' }),
      'SecretHub keeps no copy of the password: copy it now. Closing this dialog removes it from the page.'),
    h('table', { class: 'kv' }, h('tbody', {}, rows.map(([k, v]) => h('tr', {},
      h('th', { text: k }),
      h('td', { class: 'mono', dataset: { field: k.toLowerCase().replace(/\s+/g, '_') }, text: v }),
      h('td', {}, k === 'Password' || k === 'Username' || k === 'Lease ID' ? copyButton(v) : null))))),
    url ? h('div', { class: 'field' }, h('label', { text: 'Connection URL' }),
      h('div', { class: 'url-row' }, h('code', { class: 'mono wrap', text: url }), copyButton(url))) : null,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', text: 'Done', id: 'credentials-done',
        on: { click: () => close() } })));
}

// -- the form -----------------------------------------------------------------

function field(id, label, input, hint) {
  return h('div', { class: 'field', dataset: { field: id } },
    h('label', { for: id, text: label }), input, hint ? h('p', { class: 'hint', text: hint }) : null);
}

function textInput(id, value = '', attrs = {}) {
  return h('input', { id, name: id, value: value ?? '', autocomplete: 'off', spellcheck: 'false', ...attrs });
}

function statements(id, value) {
  return h('textarea', { id, name: id, class: 'mono', rows: 6, spellcheck: 'false', value: value ?? '' });
}

/** A number when the text is digits only; else the text, for the server to judge. */
function numberOrText(text) {
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) : t;
}

export async function roleFormView(container, name, params) {
  const editing = name !== null;
  let saved = null;
  if (editing) {
    container.append(h('p', { class: 'muted', text: 'Loading role…' }));
    try {
      saved = await api.get(api.rolePath(name));
    } catch (e) {
      clear(container).append(pageHead(`Role ${name}`, ['Dynamic Secrets']), errorBox(errorsOf(e)));
      return;
    }
    clear(container);
  }
  const initialEngine = saved?.engine ?? (ENGINES[params.get('engine')] ? params.get('engine') : 'postgresql');
  const start = saved ?? {
    engine: initialEngine,
    host: '',
    port: ENGINES[initialEngine]?.port ?? 5432,
    database: 'analytics_db',
    username: 'secrethub_admin',
    sslmode: initialEngine === 'redis' ? 'disable' : 'require',
    default_ttl: 3600,
    max_ttl: 86400,
    ...(initialEngine === 'redis'
      ? { creation_statements: REDIS_RULES, renewal_statements: '', revocation_statements: '' }
      : GUIDE_READONLY),
  };

  const els = {
    name: textInput('name', saved?.name ?? '', { placeholder: 'readonly-analytics', required: true, disabled: editing,
      pattern: '[A-Za-z0-9_-]{1,64}' }),
    engine: h('select', { id: 'engine', name: 'engine' },
      Object.entries(ENGINES).map(([k, v]) => h('option', { value: k, text: v.label, selected: k === start.engine }))),
    host: textInput('host', start.host, { placeholder: 'postgres.production.internal' }),
    port: textInput('port', String(start.port), { inputmode: 'numeric', class: 'narrow' }),
    database: textInput('database', start.database, { placeholder: 'analytics_db' }),
    username: textInput('username', start.username, { placeholder: 'secrethub_admin' }),
    password: h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'new-password',
      placeholder: editing && saved.has_password ? 'leave blank to keep the stored password' : '' }),
    sslmode: h('select', { id: 'sslmode', name: 'sslmode' }),
    default_ttl: textInput('default_ttl', String(start.default_ttl), { class: 'narrow' }),
    max_ttl: textInput('max_ttl', String(start.max_ttl), { class: 'narrow' }),
    creation_statements: statements('creation_statements', start.creation_statements),
    renewal_statements: statements('renewal_statements', start.renewal_statements),
    revocation_statements: statements('revocation_statements', start.revocation_statements),
  };
  const advancedKeys = ['connect_timeout', 'password_format', 'scram_iterations', 'password_length', 'pool_size', 'queue_limit'];
  const advancedDefaults = { connect_timeout: '5', password_format: 'scram-sha-256', scram_iterations: '4096',
    password_length: '32', pool_size: '4', queue_limit: '4096' };
  for (const k of advancedKeys) {
    els[k] = textInput(k, saved ? String(saved[k]) : '', { placeholder: advancedDefaults[k], class: 'narrow' });
  }

  function fillSslmodes(engine, current) {
    const modes = SSLMODES[engine] ?? SSLMODES.postgresql;
    const pick = modes.includes(current) ? current : modes[0];
    clear(els.sslmode).append(...modes.map((m) => h('option', { value: m, text: m, selected: m === pick })));
  }
  fillSslmodes(start.engine, start.sslmode);

  const templateSelect = h('select', { id: 'template', class: 'inline-select' },
    h('option', { value: '', text: 'Insert a template…' }),
    h('option', { value: 'guide', text: 'Guide: read-only analytics user' }),
    h('option', { value: 'group', text: 'Group role (recommended at scale)' }));
  templateSelect.addEventListener('change', () => {
    const t = templateSelect.value === 'guide' ? GUIDE_READONLY : templateSelect.value === 'group' ? GROUP_ROLE : null;
    if (t) {
      els.creation_statements.value = t.creation_statements;
      els.renewal_statements.value = t.renewal_statements;
      els.revocation_statements.value = t.revocation_statements;
    }
    templateSelect.value = '';
  });

  const pgOnly = [];
  const dbField = field('database', 'Database', els.database);
  pgOnly.push(dbField);
  const creationField = field('creation_statements', 'Creation statements (required)', els.creation_statements,
    'Placeholders: {{username}}, {{password}}, {{expiration}}.');
  const renewalField = field('renewal_statements', 'Renewal statements (optional)', els.renewal_statements,
    'Empty: ALTER ROLE … VALID UNTIL the new expiry.');
  const revocationField = field('revocation_statements', 'Revocation statements', els.revocation_statements,
    'Empty: the safe default (no login, end sessions, drop owned objects and privileges, drop the user).');
  pgOnly.push(renewalField, revocationField);
  const pgAdvanced = [];

  const result = h('div', { class: 'form-result', id: 'form-result', 'aria-live': 'polite' });
  const testButton = h('button', { type: 'button', class: 'btn', id: 'test-connection', text: 'Test Connection' });
  const saveButton = h('button', { type: 'submit', class: 'btn btn-primary', id: 'save-role', text: editing ? 'Save changes' : 'Save role' });

  const advanced = h('details', { class: 'advanced' }, h('summary', { text: 'Advanced: connection timeout, passwords, pool' }),
    h('div', { class: 'grid' }, advancedKeys.map((k) => {
      const f = field(k, k.replace(/_/g, ' '), els[k]);
      if (['password_format', 'scram_iterations'].includes(k)) pgAdvanced.push(f);
      return f;
    })));

  function applyEngine(engine, isSwitch) {
    const redis = engine === 'redis';
    for (const f of [...pgOnly, ...pgAdvanced]) f.hidden = redis;
    templateSelect.hidden = redis;
    creationField.querySelector('label').textContent = redis ? 'ACL rules (required)' : 'Creation statements (required)';
    creationField.querySelector('.hint').textContent = redis
      ? 'Redis ACL rules for each generated user, e.g. ~analytics:* +@read (keys analytics:*, read commands).'
      : 'Placeholders: {{username}}, {{password}}, {{expiration}}.';
    if (isSwitch) {
      els.port.value = String(ENGINES[engine].port);
      els.creation_statements.value = redis ? REDIS_RULES : GUIDE_READONLY.creation_statements;
      els.renewal_statements.value = redis ? '' : GUIDE_READONLY.renewal_statements;
      els.revocation_statements.value = redis ? '' : GUIDE_READONLY.revocation_statements;
      fillSslmodes(engine, redis ? 'disable' : 'require');
    }
    crumbs.textContent = ['Admin', 'Dynamic Secrets', engineLabel(engine), editing ? name : 'New role'].join(' \u2192 ');
    if (!editing) title.textContent = `New ${engineLabel(engine)} role`;
  }
  els.engine.addEventListener('change', () => applyEngine(els.engine.value, true));
  els.engine.disabled = editing;  // a role keeps its engine: its leases were made by it

  function body() {
    const engine = els.engine.value;
    const b = {
      engine,
      host: els.host.value.trim(),
      port: numberOrText(els.port.value),
      username: els.username.value.trim(),
      sslmode: els.sslmode.value,
      default_ttl: numberOrText(els.default_ttl.value),
      max_ttl: numberOrText(els.max_ttl.value),
      creation_statements: els.creation_statements.value,
    };
    if (engine !== 'redis') {
      b.database = els.database.value.trim();
      b.renewal_statements = els.renewal_statements.value;
      b.revocation_statements = els.revocation_statements.value;
    }
    // Blank on an edit: the server keeps the stored password.
    if (els.password.value !== '') b.password = els.password.value;
    for (const k of advancedKeys) {
      if (engine === 'redis' && ['password_format', 'scram_iterations'].includes(k)) continue;
      const v = els[k].value.trim();
      if (v !== '') b[k] = k === 'password_format' ? v : numberOrText(v);
    }
    return b;
  }

  function roleName() {
    return editing ? name : els.name.value.trim();
  }

  testButton.addEventListener('click', async () => {
    clear(result).append(h('p', { class: 'muted', text: 'Testing the connection…' }));
    testButton.disabled = true;
    try {
      // The unsaved form; a new role without a name yet is tested under a
      // placeholder name (names are part of the path).
      const report = await api.post(`${api.rolePath(roleName() || 'connection-test')}/test`, body());
      clear(result).append(testReport(report, false));
    } catch (e) {
      clear(result).append(errorBox(errorsOf(e), 'Test Connection failed'));
    } finally {
      testButton.disabled = false;
    }
  });

  const form = h('form', {
    class: 'role-form', id: 'role-form', novalidate: true,
    on: {
      submit: async (e) => {
        e.preventDefault();
        const n = roleName();
        clear(result);
        if (!n) {
          result.append(errorBox(['enter a role name (1 to 64 characters of A-Z a-z 0-9 _ -)']));
          els.name.focus();
          return;
        }
        saveButton.disabled = true;
        try {
          const written = await api.post(api.rolePath(n), body());
          els.password.value = '';
          const warnings = written.warnings ?? [];
          setFlash(notice(warnings.length ? 'warn' : 'success',
            `Role ${n} ${written.created ? 'created' : 'saved'}${warnings.length ? '; the dry run found problems:' : '.'}`,
            warnings));
          navigate(`${BASE}/roles?engine=${encodeURIComponent(els.engine.value)}`);
        } catch (err) {
          result.append(errorBox(errorsOf(err), 'The role was not saved'));
          saveButton.disabled = false;
        }
      },
    },
  },
  h('section', { class: 'card form-section' },
    h('h2', { text: 'Connection' }),
    h('div', { class: 'grid' },
      field('name', 'Role name', els.name, editing ? 'A role cannot be renamed.' : 'Letters, digits, _ and -; up to 64.'),
      field('engine', 'Engine', els.engine),
      field('host', 'Host', els.host),
      field('port', 'Port', els.port),
      dbField,
      field('username', 'Username (admin user)', els.username,
        'Needs CREATEROLE (PostgreSQL) or ACL admin rights (Redis).'),
      field('password', 'Password', els.password,
        editing && saved.has_password ? 'Blank keeps the stored password.' : 'Never shown again after saving.'),
      field('sslmode', 'SSL mode', els.sslmode))),
  h('section', { class: 'card form-section' },
    h('h2', { text: 'Lease TTLs' }),
    h('div', { class: 'grid' },
      field('default_ttl', 'Default TTL', els.default_ttl, 'Seconds or a duration (300, 5m, 1h). Guide: 300 – 86400.'),
      field('max_ttl', 'Max TTL', els.max_ttl, 'Renewals never go past issue time + max TTL. Guide: 3600 – 604800.'))),
  h('section', { class: 'card form-section' },
    h('div', { class: 'section-head' }, h('h2', { text: 'Statements' }), templateSelect),
    creationField, renewalField, revocationField, advanced),
  h('div', { class: 'form-footer' },
    result,
    h('div', { class: 'form-buttons' },
      h('a', { class: 'btn', href: `${BASE}/roles`, 'data-link': true, text: 'Cancel' }),
      testButton, saveButton)));

  const title = h('h1', { text: editing ? `Edit role ${name}` : 'New role' });
  const crumbs = h('div', { class: 'crumbs' });
  container.append(h('div', { class: 'page-head' }, h('div', {}, crumbs, title),
    editing ? h('div', { class: 'page-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', text: 'Generate credentials',
        on: { click: () => generateCredentials(name) } })) : null), form);
  applyEngine(start.engine, false);
  (editing ? els.host : els.name).focus();
}

/** The Test Connection report: the server's own words, step and statement. */
export function testReport(report, compact) {
  const warnings = report.warnings ?? [];
  if (report.ok) {
    return h('div', { class: `alert ${warnings.length ? 'alert-warn' : 'alert-success'} test-report`, dataset: { ok: 'true' } },
      h('strong', { text: 'Connection OK' }),
      compact ? null : h('span', { text: ' \u2014 the admin user connected and the statements ran in a rolled-back dry run.' }),
      warnings.length ? h('ul', {}, warnings.map((w) => h('li', { text: w }))) : null);
  }
  return h('div', { class: 'alert alert-error test-report', role: 'alert', dataset: { ok: 'false' } },
    h('strong', { text: 'Connection failed' }),
    report.failed_step ? h('div', { class: 'report-line' }, h('span', { class: 'label', text: 'Step: ' }),
      h('code', { class: 'failed-step', text: report.failed_step })) : null,
    report.failed_statement ? h('div', { class: 'report-line' }, h('span', { class: 'label', text: 'Statement:' }),
      h('pre', { class: 'mono', text: report.failed_statement })) : null,
    h('div', { class: 'report-line' }, h('span', { class: 'label', text: 'Error: ' }),
      h('span', { class: 'server-error', text: report.error ?? 'unknown error' })),
    warnings.length ? h('ul', {}, warnings.map((w) => h('li', { text: w }))) : null);
}

