// The admin console in Debian's Chromium against a real `tandem serve` (the console on its own
// listener, port 0, its URL read from the server log): an admin's first run through the setup
// link from `tandem admin create` (the test computes TOTP codes from the key on the page, as an
// app would), sign-in with password + code, creating a user and an integration, unlocking a user
// locked by failed logins, watching a login appear in the live log, the dashboard's chart, sign-out. The page must run with no CSP violation or script error.
// Screenshots: test-artifacts/screenshots/console-*.png.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import { signedAuthPost } from '../support/authenticator-app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import type { Integration } from '../support/duo-unix.js';
import { cleanupAll, startServerProcess, type ServerProcess } from '../support/server-process.js';

let srv: ServerProcess | undefined;
let browser: TestBrowser | undefined;
let page: Page;
let origin: string;
const errors: string[] = [];

const PASSWORD = 'a long console password';
const code = (secret: string, stepsAhead = 0): string => hotp(base32Decode(secret), totpStep(Date.now(), 30) + stepsAhead, { digits: 6, algorithm: 'sha1' });

beforeAll(async () => {
  srv = await startServerProcess({ env: { TANDEM_LOCKOUT_THRESHOLD: '3' } });
  // The console's real port (it listens on port 0 next to the main port 0).
  const deadline = Date.now() + 10_000;
  let m: RegExpExecArray | null = null;
  while (!(m = /"admin console listening".*?"url":"https:\/\/localhost:(\d+)\/console\/"/.exec(srv.serverLog())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (!m) throw new Error(`no console URL in the server log:\n${srv.serverLog()}`);
  origin = `https://localhost:${m[1]}`;
  browser = await launchBrowser({ caPem: srv.caPem });
  page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
}, 120_000);

afterAll(async () => {
  await cleanupAll('console browser test', [() => browser?.close(), () => srv?.stop()]);
});

it('first run, sign-in, a user and an integration, unlocking a locked user, a login in the live log, the dashboard, sign-out', async () => {
  const created = await srv!.cli(['admin', 'create', 'alice']);
  expect(created.code).toBe(0);
  const token = /\/console\/setup\/([A-Za-z0-9_-]{43})/.exec(created.stdout)![1]!;

  // Not signed in: the console sends us to sign-in.
  await page.goto(`${origin}/console/users`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await browser!.screenshot(page, 'console-signin');

  // First run: password + authenticator in one form.
  await page.goto(`${origin}/console/setup/${token}`);
  await page.getByRole('heading', { name: 'Set up your console account' }).waitFor();
  expect(await page.locator('img.qr').evaluate((img) => { const i = img as unknown as { complete: boolean; naturalWidth: number }; return i.complete && i.naturalWidth > 0; })).toBe(true);
  const secret = (await page.locator('code').first().textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await browser!.screenshot(page, 'console-setup');
  await page.getByLabel(/New password/).fill(PASSWORD);
  await page.getByLabel('The same password again').fill(PASSWORD);
  await page.getByLabel('Code the app now shows').fill(code(secret));
  await page.getByRole('button', { name: 'Finish setup' }).click();
  await page.getByRole('heading', { name: 'Setup complete' }).waitFor();

  // The link is spent.
  await page.goto(`${origin}/console/setup/${token}`);
  await page.getByText('already been used').waitFor();

  // Sign-in: a wrong code fails, then the right one (the next step: the setup code is spent).
  await page.goto(`${origin}/console/signin`);
  await page.getByLabel('Name').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel(/Code from your authenticator/).fill('000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Sign-in failed.').waitFor();
  await page.getByLabel('Name').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel(/Code from your authenticator/).fill(code(secret, 1));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Users' }).waitFor();
  expect(await page.getByText('Signed in as alice').count()).toBe(1);

  // A user, with a hostile alias shown as text.
  await page.getByLabel('Username').fill('pat');
  await page.getByLabel(/Aliases/).fill('<img src=x onerror=alert(1)>');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('heading', { name: 'User pat' }).waitFor();
  await page.getByText('User created.').waitFor();
  // As text in the user's table and in the aliases list; never an element.
  expect(await page.getByText('<img src=x onerror=alert(1)>').count()).toBe(2);
  expect(await page.locator('img[src="x"]').count()).toBe(0);

  // An integration: the skey and the client configs shown once.
  await page.getByRole('link', { name: 'Integrations' }).click();
  await page.getByLabel(/^Name/).fill('web hosts');
  await page.getByRole('button', { name: 'Create integration' }).click();
  await page.getByText('The skey is shown only now').waitFor();
  const config = (await page.locator('pre').first().textContent())!;
  const ikey = /ikey = (DI[A-Z0-9]{18})/.exec(config)![1]!;
  const skey = /skey = ([A-Za-z0-9]{40})/.exec(config)![1]!;
  await browser!.screenshot(page, 'console-integration-created');

  // Three failed logins through that integration lock pat; the console unlocks.
  const api: Integration = { ikey, skey, host: `localhost:${srv!.port}`, cafile: srv!.caFile };
  for (let i = 0; i < 3; i++) await signedAuthPost(srv!, api, '/auth/v2/auth', { username: 'pat', factor: 'passcode', passcode: '000000' });
  await page.getByRole('link', { name: 'Users' }).click();
  await page.locator('td.status-locked', { hasText: 'locked' }).waitFor();
  await browser!.screenshot(page, 'console-users');
  await page.getByRole('link', { name: 'pat', exact: true }).click();
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByText('User unlocked.').waitFor();
  expect(await page.locator('td.status-active').count()).toBe(1);
  await browser!.screenshot(page, 'console-user');

  // A bypass code for pat, shown once; then the live log: a login made now appears at the top
  // without reloading (only console.js makes rows with class "new").
  await page.getByRole('button', { name: 'Create' }).click();
  const bypass = /^(\d{9})$/.exec((await page.locator('div.secret pre').textContent())!.trim())![1]!;
  await page.getByRole('link', { name: 'Log', exact: true }).click();
  await page.getByRole('heading', { name: 'Authentication log' }).waitFor();
  await page.locator('table#log[data-live]').waitFor();
  const before = await page.locator('table#log tbody tr').count();
  const r = await signedAuthPost(srv!, api, '/auth/v2/auth', { username: 'pat', factor: 'passcode', passcode: bypass });
  expect(JSON.stringify(r)).toContain('allow');
  const fresh = page.locator('table#log tbody tr.new', { hasText: 'pat' }).first();
  await fresh.waitFor({ timeout: 15_000 });
  expect(await fresh.locator('td.result-ok').textContent()).toBe('allow');
  expect(await page.locator('table#log tbody tr').first().getAttribute('class')).toBe('new');
  expect(await page.locator('table#log tbody tr').count()).toBeGreaterThan(before);
  await fresh.locator('summary').click();
  await fresh.locator('dt', { hasText: 'seq' }).waitFor();
  await browser!.screenshot(page, 'console-log');

  // The dashboard: the chart has bars for these logins (by result and by factor).
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  expect(await page.locator('figure.chart svg rect[data-key="allow"]').count()).toBeGreaterThan(0);
  expect(await page.locator('figure.chart svg rect[data-key="deny"]').count()).toBeGreaterThan(0);
  expect(await page.locator('figure.chart svg rect[data-key="passcode"]').count()).toBeGreaterThan(0);
  await browser!.screenshot(page, 'console-dashboard');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.goto(`${origin}/console/users`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();

  // The one error is the spent setup link's 410 (the page itself says why).
  expect(errors, errors.join('\n')).toEqual([expect.stringContaining('status of 410')]);
  const log = await srv!.json<{ reason: string; detail: unknown }[]>(['log', '--admin', '--limit', '100']);
  const actions = log.filter((e) => JSON.stringify(e.detail).includes('"actor":"alice"')).map((e) => e.reason);
  expect(actions).toEqual(expect.arrayContaining(['console_sign_in', 'user_created', 'integration_created', 'user_unlocked', 'console_sign_out']));
}, 90_000);
