// Browser test of the admin UI, run by tests/ui/run.sh against a real
// `secrethub server` and the throwaway PostgreSQL. Each step prints
// "ok N - name" or "not ok N - name" (TAP-like); a failure saves
// failure-<step>.png next to the page screenshots and exits 1.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';

const addr = process.env.SECRETHUB_ADDR;
const adminToken = process.env.SECRETHUB_ADMIN_TOKEN;
const artifacts = process.env.SECRETHUB_UI_ARTIFACTS;
const pg = {
  host: process.env.SECRETHUB_TEST_PG_HOST,
  port: process.env.SECRETHUB_TEST_PG_PORT,
  adminPassword: process.env.SECRETHUB_TEST_PG_ADMIN_PASSWORD,
};
for (const [k, v] of Object.entries({ addr, adminToken, artifacts, ...pg })) {
  assert.ok(v, `missing environment for ${k}`);
}

const ROLE = 'readonly-analytics-ui';
const WRONG_PASSWORD = 'wrong-admin-secret-7';

/** Calls the REST API directly, as an agent or script would. */
async function rest(method, p, body) {
  const init = { method, headers: { 'X-Agent-Token': adminToken } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(addr + p, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : null };
}

const browser = await chromium.launch({
  executablePath: process.env.SECRETHUB_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // The machine is offline and runs as root: no sandbox, and none of
  // Chromium's background calls home.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(15000);

const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
page.on('console', (m) => {
  // Failed fetches (401, 404 …) are expected in some steps; a CSP
  // violation or a script error never is.
  if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) {
    pageErrors.push(`console: ${m.text()}`);
  }
});

let stepNo = 0;
let failed = false;
let passedCount = 0;
let skippedCount = 0;
async function step(name, fn) {
  stepNo += 1;
  if (failed) {
    console.log(`ok ${stepNo} - ${name} # SKIP after an earlier failure`);
    skippedCount += 1;
    return;
  }
  try {
    await fn();
    assert.deepEqual(pageErrors, [], 'the page logged errors');
    console.log(`ok ${stepNo} - ${name}`);
    passedCount += 1;
  } catch (e) {
    failed = true;
    console.log(`not ok ${stepNo} - ${name}`);
    console.log(`  ${String(e.stack || e).split('\n').join('\n  ')}`);
    await page.screenshot({ path: path.join(artifacts, `failure-${stepNo}.png`), fullPage: true }).catch(() => {});
  }
}

async function shot(name) {
  // Let the stats header and countdowns settle for a readable picture.
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Nothing secret anywhere in the serialized DOM. */
async function assertNoSecretsInDom(secrets) {
  const html = await page.content();
  for (const [what, value] of Object.entries(secrets)) {
    assert.ok(!html.includes(value), `the ${what} is in the DOM`);
  }
}

let leaseId = '';
let leaseUser = '';
let uiPassword = '';

await step('static assets carry the security headers; deep links fall back to the page', async () => {
  const index = await fetch(`${addr}/admin/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.match(index.headers.get('content-security-policy'), /default-src 'self'/);
  assert.match(index.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(index.headers.get('x-frame-options'), 'DENY');
  assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  for (const deep of ['/admin', '/admin/audit', '/admin/leases', '/admin/roles/x/edit']) {
    const r = await fetch(addr + deep);
    assert.equal(r.status, 200, deep);
    assert.equal(await r.text(), html, `${deep} serves index.html`);
  }
  const js = await fetch(`${addr}/admin/js/app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  const missing = await fetch(`${addr}/admin/js/nope.js`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { errors: ['no such file: /admin/js/nope.js'] });
  const post = await fetch(`${addr}/admin/`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(post.status, 405);
  // The API's own answers keep their no-store.
  const health = await fetch(`${addr}/v1/sys/health`);
  assert.equal(health.headers.get('cache-control'), 'no-store');
});

await step('a wrong token is refused with the API\'s message; the admin token logs in', async () => {
  await page.goto(`${addr}/admin/`);
  await page.locator('#token').waitFor();
  await shot('01-login');
  await page.fill('#token', 'shub_wrong_token_0000000000');
  await page.click('button[type=submit]');
  await page.getByText('invalid token (unknown, revoked or expired)').waitFor();
  await page.fill('#token', adminToken);
  await page.click('button[type=submit]');
  await page.locator('h1', { hasText: 'Dynamic Secrets' }).waitFor();
  assert.ok(!page.url().includes(adminToken), 'token in the URL');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('secrethub.admin_token')), adminToken);
  await assertNoSecretsInDom({ 'admin token': adminToken });
  await page.getByText('No PostgreSQL roles yet.').waitFor();
  await shot('02-roles-empty');
});

await step('the new-role form is prefilled with the guide\'s read-only role', async () => {
  await page.click('text=New role');
  await page.locator('h1', { hasText: 'New PostgreSQL role' }).waitFor();
  assert.equal(await page.inputValue('#port'), '5432');
  assert.equal(await page.inputValue('#default_ttl'), '3600');
  assert.equal(await page.inputValue('#max_ttl'), '86400');
  const creation = await page.inputValue('#creation_statements');
  assert.match(creation, /^CREATE USER "\{\{username\}\}" WITH PASSWORD '\{\{password\}\}' VALID UNTIL '\{\{expiration\}\}';/);
  assert.match(creation, /GRANT SELECT ON ALL TABLES IN SCHEMA public TO "\{\{username\}\}";/);
  assert.match(await page.inputValue('#renewal_statements'), /ALTER USER "\{\{username\}\}" VALID UNTIL/);
  assert.match(await page.inputValue('#revocation_statements'), /DROP USER IF EXISTS "\{\{username\}\}";/);
  await page.fill('#name', ROLE);
  await page.fill('#host', pg.host);
  await page.fill('#port', String(pg.port));
  await page.selectOption('#sslmode', 'disable');
  await shot('03-role-form');
});

/** The form's role body as the UI sends it, to ask the API the same question. */
function formBody(password, statements) {
  return {
    engine: 'postgresql', host: pg.host, port: Number(pg.port), database: 'analytics_db',
    username: 'secrethub_admin', password, sslmode: 'disable', default_ttl: 3600, max_ttl: 86400,
    ...statements,
  };
}

await step('Test Connection with a wrong admin password shows the server\'s exact error', async () => {
  await page.fill('#password', WRONG_PASSWORD);
  await page.click('#test-connection');
  const report = page.locator('#form-result .test-report[data-ok=false]');
  await report.waitFor();
  const expected = await rest('POST', `/v1/sys/roles/${ROLE}/test`, formBody(WRONG_PASSWORD, {
    creation_statements: await page.inputValue('#creation_statements'),
    renewal_statements: await page.inputValue('#renewal_statements'),
    revocation_statements: await page.inputValue('#revocation_statements'),
  }));
  assert.equal(expected.json.ok, false);
  assert.match(expected.json.error, /password authentication failed for user "secrethub_admin"/);
  assert.equal(await report.locator('.server-error').textContent(), expected.json.error);
  assert.equal(await report.locator('.failed-step').textContent(), 'connect');
  await shot('04-test-connection-failed');
});

await step('Test Connection with the right password runs the guide\'s role and names its failing statement', async () => {
  await page.fill('#password', pg.adminPassword);
  await page.click('#test-connection');
  const report = page.locator('#form-result .test-report[data-ok=false]');
  await report.locator('pre', { hasText: 'DROP USER IF EXISTS' }).waitFor();
  const text = await report.locator('.server-error').textContent();
  assert.match(text, /SQLSTATE 2BP01: role "shub_dryrun_[a-z0-9_]+" cannot be dropped because some objects depend on it/);
  await shot('05-test-connection-guide-role');
});

await step('Test Connection succeeds with the group-role template', async () => {
  await page.selectOption('#template', 'group');
  assert.match(await page.inputValue('#creation_statements'), /IN ROLE analytics_readers;$/);
  assert.equal(await page.inputValue('#revocation_statements'), '');
  await page.click('#test-connection');
  await page.locator('#form-result .test-report[data-ok=true]', { hasText: 'Connection OK' }).waitFor();
  await shot('06-test-connection-ok');
});

await step('Save creates the role against the real PostgreSQL', async () => {
  await page.click('#save-role');
  await page.getByText(`Role ${ROLE} created.`).waitFor();
  const row = page.locator(`#roles-table tr[data-role="${ROLE}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(`secrethub_admin@${pg.host}:${pg.port}/analytics_db`));
  const saved = await rest('GET', `/v1/sys/roles/${ROLE}`);
  assert.equal(saved.status, 200);
  assert.equal(saved.json.has_password, true);
  assert.match(saved.json.creation_statements, /IN ROLE analytics_readers/);
  await assertNoSecretsInDom({ 'PostgreSQL admin password': pg.adminPassword, 'admin token': adminToken });
  await shot('07-roles');
});

await step('editing keeps the stored password when the field is left blank', async () => {
  await page.click(`#roles-table tr[data-role="${ROLE}"] >> text=Edit`);
  await page.locator('h1', { hasText: `Edit role ${ROLE}` }).waitFor();
  assert.equal(await page.inputValue('#password'), '');
  assert.equal(await page.getAttribute('#password', 'placeholder'), 'leave blank to keep the stored password');
  await page.fill('#default_ttl', '1h');
  await page.click('#test-connection');
  await page.locator('#form-result .test-report[data-ok=true]').waitFor();
  await shot('08-role-edit');
  await page.click('#save-role');
  await page.getByText(`Role ${ROLE} saved.`).waitFor();
  const saved = await rest('GET', `/v1/sys/roles/${ROLE}`);
  assert.equal(saved.json.default_ttl, 3600);
  assert.equal((await rest('POST', `/v1/sys/roles/${ROLE}/test`, {})).json.ok, true);
});

await step('a credential issued through the API shows in the lease table', async () => {
  const issued = await rest('POST', `/v1/secrets/dynamic/${ROLE}`, { ttl: 3600, metadata: { purpose: 'ui test' } });
  assert.equal(issued.status, 200, issued.text);
  leaseId = issued.json.lease_id;
  leaseUser = issued.json.credentials.username;
  await page.click('nav >> text=Leases');
  await page.locator('h1', { hasText: 'Leases' }).waitFor();
  const row = page.locator(`#leases-table tr[data-lease-id="${leaseId}"]`);
  await row.waitFor();
  const text = await row.textContent();
  assert.ok(text.includes(leaseUser), 'username in the row');
  assert.ok(text.includes(ROLE), 'role in the row');
  assert.equal(await row.getAttribute('data-state'), 'active');
  // The countdown runs.
  const first = await row.locator('td.countdown').textContent();
  assert.match(first, /^in (59m|1h)/);
  await page.waitForFunction(([id, text]) => {
    const cell = document.querySelector(`#leases-table tr[data-lease-id="${id}"] td.countdown`);
    return cell !== null && cell.textContent !== text;
  }, [leaseId, first]);
  await assertNoSecretsInDom({ 'lease password': issued.json.credentials.password });
  // The stats header counts it.
  await page.locator('[data-stat=active] .stat-value', { hasText: /^[1-9]/ }).waitFor();
  await shot('09-leases');
});

/**
 * Waits until the leases page shows page `n` (its label, set in the same task
 * that renders the rows and the buttons) and returns what that page shows.
 * No fixed delay: page changes finish when their request does, which under
 * load can be long after the click.
 */
async function leasesPage(n) {
  await page.waitForFunction((label) => {
    const el = document.querySelector('.pager > span.muted:not(#lease-summary)');
    return el !== null && el.textContent === label;
  }, `Page ${n}`);
  return page.evaluate(() => {
    const buttons = [...document.querySelectorAll('.pager button')];
    const enabled = (word) => buttons.some((b) => b.textContent.includes(word) && !b.disabled);
    return {
      ids: [...document.querySelectorAll('#leases-table tbody tr')].map((r) => r.dataset.leaseId),
      next: enabled('Next'),
      previous: enabled('Previous'),
    };
  });
}

await step('the role filter and paging work', async () => {
  // Two more leases, then one per page.
  for (let i = 0; i < 2; i += 1) {
    assert.equal((await rest('POST', `/v1/secrets/dynamic/${ROLE}`, {})).status, 200);
  }
  await page.goto(`${addr}/admin/leases?role=${ROLE}&limit=25`);
  // The leases and the role list arrive by separate requests, in either order.
  await page.waitForFunction(() => document.querySelectorAll('#leases-table tbody tr').length === 3);
  await page.waitForFunction((role) => document.querySelector('#lease-role').value === role, ROLE);
  await shot('09b-leases-filtered');
  // One lease a page: Next walks all three, Previous comes back. Auto-refresh
  // reloads the page on its own clock and may answer after a click's request:
  // it is switched off here, where the pages themselves are under test.
  await page.goto(`${addr}/admin/leases?role=${ROLE}&limit=1`);
  await page.locator('#lease-auto').uncheck();
  const nextButton = page.locator('.pager button:has-text("Next")');
  const seen = [];
  let shown = await leasesPage(1);
  assert.equal(shown.previous, false, 'no Previous on page 1');
  for (let n = 1; ; n += 1) {
    assert.equal(shown.ids.length, 1, `page ${n}: ${shown.ids}`);
    seen.push(shown.ids[0]);
    if (!shown.next) break;
    assert.ok(n < 3, `paging ends (pages: ${seen})`);
    await nextButton.click();
    shown = await leasesPage(n + 1);
  }
  assert.equal(new Set(seen).size, 3, `pages: ${seen}`);
  await page.click('.pager button:has-text("Previous")');
  shown = await leasesPage(2);
  assert.deepEqual(shown.ids, [seen[1]]);
  assert.ok(shown.next, 'Next is back on page 2');
  await page.goto(`${addr}/admin/leases?role=nobody-here`);
  await page.getByText('No leases for nobody-here.').waitFor();
});

await step('Renew and Revoke buttons act on the lease', async () => {
  await page.goto(`${addr}/admin/leases?role=${ROLE}`);
  const row = page.locator(`#leases-table tr[data-lease-id="${leaseId}"]`);
  await row.waitFor();
  await row.locator('button', { hasText: 'Renew' }).click();
  await page.getByText(`Lease ${leaseId.slice(0, 8)} renewed`).waitFor();
  await row.locator('button', { hasText: 'Revoke' }).click();
  await page.locator('dialog', { hasText: 'Revoke this lease?' }).waitFor();
  await shot('10-revoke-confirm');
  await page.click('dialog >> button:has-text("Revoke lease")');
  await page.getByText(`Lease ${leaseId.slice(0, 8)} revoked`).waitFor();
  assert.equal(await row.getAttribute('data-state'), 'revoked');
  assert.equal(await page.locator('dialog').count(), 0, 'the dialog is gone');
  await shot('11-leases-revoked');
  const lookup = await rest('GET', `/v1/sys/leases/${leaseId}`);
  assert.ok(lookup.status === 404 || lookup.json.state === 'revoked', lookup.text);
  // After a refresh the revoked lease is gone from the table.
  await page.click('button:has-text("Refresh")');
  await page.locator(`#leases-table tr[data-lease-id="${leaseId}"]`).waitFor({ state: 'detached' });
});

await step('Generate credentials shows the password once; closing removes it from the DOM', async () => {
  await page.click('nav >> text=Dynamic Secrets');
  await page.click(`#roles-table tr[data-role="${ROLE}"] >> text=Generate credentials`);
  await page.locator('#credentials-dialog').waitFor();
  await page.fill('#issue-ttl', '10m');
  await page.click('#credentials-dialog button:has-text("Generate")');
  const password = page.locator('#credentials-dialog td[data-field=password]');
  await password.waitFor();
  uiPassword = (await password.textContent()).trim();
  assert.ok(uiPassword.length >= 16, 'a password is shown');
  assert.match(await page.locator('#credentials-dialog').textContent(), /Shown only this once/);
  await shot('12-credentials-once');
  await page.click('#credentials-done');
  await page.locator('#credentials-dialog').waitFor({ state: 'detached' });
  await assertNoSecretsInDom({ 'generated password': uiPassword });
});

await step('revoke-all for the role asks first, then revokes every lease', async () => {
  await page.goto(`${addr}/admin/leases?role=${ROLE}`);
  await page.locator('#leases-table tbody tr').first().waitFor();
  await page.click('#revoke-role');
  await page.locator('dialog', { hasText: `Revoke every lease of ${ROLE}?` }).waitFor();
  await shot('13-revoke-all-confirm');
  await page.click('dialog >> button:has-text("Cancel")');
  assert.ok((await rest('GET', `/v1/sys/leases?role=${ROLE}`)).json.leases.length > 0, 'Cancel revoked nothing');
  await page.click('#revoke-role');
  await page.click('dialog >> button:has-text("Revoke all")');
  await page.getByText(new RegExp(`Role ${ROLE}: [0-9]+ lease\\(s\\) revoked, 0 failed.`)).waitFor();
  await page.getByText(`No leases for ${ROLE}.`).waitFor();
  assert.equal((await rest('GET', `/v1/sys/leases?role=${ROLE}`)).json.leases.length, 0);
});

await step('the audit page shows the issue and the revoke of the lease, newest first', async () => {
  await page.click('nav >> text=Audit');
  await page.locator('#audit-table').waitFor();
  const issue = page.locator(`#audit-table tr[data-operation=issue][data-lease-id="${leaseId}"]`);
  const revoke = page.locator(`#audit-table tr[data-operation=revoke][data-lease-id="${leaseId}"]`);
  await issue.waitFor();
  await revoke.waitFor();
  assert.equal(await issue.getAttribute('data-result'), 'ok');
  assert.equal(await revoke.getAttribute('data-result'), 'ok');
  // Newest first: the revoke row comes before the issue row.
  const order = await page.locator('#audit-table tbody tr').evaluateAll((rows, id) =>
    rows.filter((r) => r.dataset.leaseId === id).map((r) => r.dataset.operation), leaseId);
  assert.ok(order.indexOf('revoke') < order.indexOf('issue'), `order: ${order}`);
  await shot('14-audit');
  // Filters: one lease.
  await page.fill('#audit-lease', leaseId);
  await page.click('form.toolbar button:has-text("Filter")');
  await page.waitForURL(/lease_id=/);
  await page.locator('#audit-table tbody tr').first().waitFor();
  const ops = await page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.operation));
  assert.ok(ops.includes('issue') && ops.includes('revoke') && ops.includes('renew'), `ops: ${ops}`);
  const leaseIds = await page.locator('#audit-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.leaseId));
  assert.ok(leaseIds.every((id) => id === leaseId), 'only that lease');
  await shot('15-audit-filtered');
  // Auto-refresh: a new event appears without a reload.
  await page.goto(`${addr}/admin/audit?operation=role-test`);
  await page.locator('#audit-status').waitFor();
  const before = await page.locator('#audit-table tbody tr').count();
  assert.equal((await rest('POST', `/v1/sys/roles/${ROLE}/test`, {})).status, 200);
  await page.waitForFunction((n) => document.querySelectorAll('#audit-table tbody tr').length > n, before, { timeout: 12000 });
});

await step('the stats header shows the four numbers', async () => {
  await page.goto(`${addr}/admin/roles`);
  for (const key of ['active', 'creation-rate', 'renewal-success', 'failing-revocations']) {
    const value = page.locator(`[data-stat=${key}] .stat-value`);
    await value.waitFor();
    assert.notEqual((await value.textContent()).trim(), '…', key);
  }
  const stats = (await rest('GET', '/v1/sys/leases/stats')).json;
  assert.equal((await page.locator('[data-stat=active] .stat-value').textContent()).trim(), String(stats.active));
  assert.equal((await page.locator('[data-stat=failing-revocations] .stat-value').textContent()).trim(), String(stats.revoke_failing));
  assert.equal((await page.locator('[data-stat=renewal-success] .stat-value').textContent()).trim(), '100.0%');
  assert.match(await page.locator('[data-stat=creation-rate] .stat-value').textContent(), /^[0-9.]+\/min$/);
});

await step('delete asks for confirmation and removes the role', async () => {
  await page.click(`#roles-table tr[data-role="${ROLE}"] >> text=Delete`);
  await page.locator('dialog', { hasText: `Delete role ${ROLE}?` }).waitFor();
  await shot('16-delete-confirm');
  await page.click('dialog >> button:has-text("Delete role")');
  await page.getByText(`Role ${ROLE} deleted.`).waitFor();
  await page.locator(`#roles-table tr[data-role="${ROLE}"]`).waitFor({ state: 'detached' });
  assert.equal((await rest('GET', `/v1/sys/roles/${ROLE}`)).status, 404);
});

await step('API errors are shown verbatim (a role body the server rejects)', async () => {
  await page.goto(`${addr}/admin/roles/new`);
  await page.fill('#name', 'bad-role-ui');
  await page.fill('#host', pg.host);
  await page.fill('#port', '70000');
  await page.fill('#default_ttl', '-5');
  await page.click('#save-role');
  const box = page.locator('#form-result .alert-error');
  await box.waitFor();
  const expected = await rest('POST', '/v1/sys/roles/bad-role-ui', { port: 70000, default_ttl: -5 });
  assert.equal(expected.status, 400);
  for (const e of expected.json.errors) {
    await box.getByText(e, { exact: true }).waitFor();
  }
  await shot('17-role-errors');
});

await step('a deep link after reload keeps the session; logout forgets the token', async () => {
  await page.goto(`${addr}/admin/audit`);
  await page.locator('h1', { hasText: 'Audit trail' }).waitFor();
  await page.click('text=Log out');
  await page.locator('#token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('secrethub.admin_token')), null);
  await assertNoSecretsInDom({ 'admin token': adminToken, 'PostgreSQL admin password': pg.adminPassword });
});

await browser.close();
console.log(`${passedCount} passed, ${failed ? 1 : 0} failed, ${skippedCount} skipped`);
process.exit(failed ? 1 : 0);
