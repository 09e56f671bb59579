// Push approvals end to end in a real browser: a real `tandem serve` (short push timers), Debian's
// Chromium trusting only the site CA, and the real Tandem Authenticator app served at /app.
//   - activation from the link `tandem device activate --json` prints; the service worker registers;
//   - Debian's stock login_duo 1.11.3 (menu option 1 = push) approved, denied and left unanswered
//     in the app, with the login's user/host/address/command shown as text;
//   - Web Push events dispatched to the app's service worker through CDP
//     (ServiceWorker.deliverPushMessage) wake the page while its live channel is held, a push made
//     while the app was closed is listed when it opens, and malformed push data breaks nothing;
//   - hostile login context (markup in hostname, display name, type, pushinfo) stays literal text;
//   - the TOTP view's code logs in through login_duo.
// Screenshots: test-artifacts/screenshots/push-*.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateInBrowser, appOrigin, card, gone, instrumentPage, onlyCard, signedAuthPost, textOf, visible, waitInPage, type PageWatch } from '../support/authenticator-app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import {
  clientConf,
  clientHostname,
  copyCa,
  createLegacyIntegration,
  loginDuo,
  makeWorkDir,
  removeWorkDir,
  requireDuoUnix,
  writeDuoConf,
  type Integration,
  type LogEntry,
  type RunResult,
} from '../support/duo-unix.js';
import { cleanupAll, startServerProcess, type ServerProcess } from '../support/server-process.js';
import type { Page } from 'playwright-core';

const USER = 'alice';
const DEVICE_NAME = 'Alice’s browser phone';
const PUSH_TIMEOUT_S = 6;
/** login_duo's menu line (the server's text): "Passcode or option (1-1): ". */
const MENU = /passcode or option[^\n]*: ?$/im;
const PASSCODE_PROMPT = /passcode[^\n]*: ?$/im;

let srv: ServerProcess | undefined;
let browser: TestBrowser | undefined;
let work: string | undefined;
let legacy: Integration;
let v2: Integration;
let conf: string;
let page: Page;
let watch: PageWatch;
let registrationId: string;
let origin: string;

function show(r: RunResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

/** login_duo for alice on a pty, choosing menu option `choice` (1 = push). */
function loginDuoChoosing(choice: string, ip: string): Promise<RunResult> {
  return loginDuo(conf, { user: USER, host: ip, command: ['echo', 'HELLO'] }, { pty: true, answers: [{ when: MENU, send: choice }], timeoutMs: 25_000 });
}

/** The push's settlement in the audit log (`tandem log` lists `push` events only with --admin). */
async function pushEntry(txid: string, result: string): Promise<LogEntry | undefined> {
  const log = await srv!.json<LogEntry[]>(['log', '--admin', '--limit', '10000']);
  return log.find((e) => e.event === 'push' && e.txid === txid && e.result === result);
}

/** An async push for alice through the signed Auth API (what a v2 client sends). */
async function startPush(extra: Record<string, string> = {}): Promise<string> {
  const r = await signedAuthPost(srv!, v2, '/auth/v2/auth', { username: USER, factor: 'push', device: 'auto', async: '1', ...extra });
  const txid = r.body.response?.['txid'];
  if (r.status !== 200 || typeof txid !== 'string') throw new Error(`/auth/v2/auth push did not start: ${r.status} ${JSON.stringify(r.body)}`);
  return txid;
}

function noProblems(): void {
  expect(watch.problems(), 'page errors, console errors or dialogs').toEqual([]);
}

beforeAll(async () => {
  requireDuoUnix({ loginDuo: true });
  srv = await startServerProcess({
    env: {
      TANDEM_PUSH_TIMEOUT_SECONDS: String(PUSH_TIMEOUT_S),
      TANDEM_LONG_POLL_SECONDS: '2',
      TANDEM_APP_LONG_POLL_SECONDS: '2',
      TANDEM_TRANSACTION_TIMEOUT_SECONDS: '30',
      TANDEM_PUSH_MAX_PENDING: '10',
      TANDEM_PUSH_DENIAL_THRESHOLD: '1000',
      TANDEM_RATE_LIMIT_USER_PER_MINUTE: '100000',
      TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE: '1000000',
    },
  });
  origin = appOrigin(srv);
  work = makeWorkDir('browser-push');
  const ca = copyCa(work, srv);
  [legacy, v2] = await Promise.all([createLegacyIntegration(srv, 'login-duo-browser'), srv.json<Integration>(['integration', 'create', '--name', 'auth-api-browser'])]);
  await srv.json(['user', 'create', USER]);
  conf = writeDuoConf(work, 'alice.conf', clientConf(srv, legacy, ca, { prompts: 1, pushinfo: true }));
  browser = await launchBrowser({ caPem: srv.caPem });
  await browser.context.grantPermissions(['notifications'], { origin });
}, 90_000);

afterAll(() => cleanupAll('browser push approvals', [() => browser?.close(), () => srv?.stop(), () => removeWorkDir(work)]), 60_000);

describe('the Tandem Authenticator in Chromium against a real tandem serve', () => {
  it('activates from the link `tandem device activate --json` prints; the service worker registers', async () => {
    const app = await activateInBrowser(browser!, srv!, USER, DEVICE_NAME, { screenshot: 'push-activation-form' });
    ({ page, watch, registrationId } = app);
    expect(app.deviceId).toMatch(/^DP[A-Z0-9]{18}$/);
    expect(await textOf(page, 'device-user')).toBe(USER);
    expect(await textOf(page, 'device-name')).toBe(DEVICE_NAME);
    expect(await textOf(page, 'status')).toBe(`This device is now registered for ${USER}.`);
    expect(registrationId).toMatch(/^\d+$/);
    // The server knows the device under the id the app shows, with the name typed in the app.
    const devices = await srv!.json<Array<{ deviceId: string; name: string }>>(['device', 'list', USER]);
    expect(devices).toEqual([expect.objectContaining({ deviceId: app.deviceId, name: DEVICE_NAME })]);
    // The worker controls the app once active (claim), and the list is live.
    await waitInPage(page, 'navigator.serviceWorker.controller !== null', 'the service worker to control the page');
    await visible(page, page.getByText('No login is waiting for you.'), 'the empty request list');
    await browser!.screenshot(page, 'push-activated');
    // The one-time link cannot be used again.
    const again = await browser!.newPage();
    try {
      await again.goto(app.link);
      await again.getByTestId('activate-submit').click();
      await waitInPage(again, `document.querySelector('[data-testid="status"]').textContent.includes('invalid, has expired or was already used')`, 'the refusal of a used activation link');
    } finally {
      await again.close();
    }
    noProblems();
  });

  it('login_duo 1.11.3, option 1 (push): the request shows its context as text; Approve → the command runs', async () => {
    const run = loginDuoChoosing('1', '203.0.113.9');
    const { card: c, txid } = await onlyCard(page, 'login_duo\'s push in the app', 10_000);
    expect(await textOf(c, 'req-user')).toBe(USER);
    expect(await textOf(c, 'req-host')).toBe(clientHostname());
    expect(await textOf(c, 'req-ip')).toBe('203.0.113.9');
    expect(await textOf(c, 'req-integration')).toBe('login-duo-browser');
    expect(await textOf(c, 'req-type')).toBe('Login');
    expect(await textOf(c, 'req-expires')).toMatch(/^\d s$/);
    expect(await textOf(c, 'req-time')).toMatch(/\d\d.\d\d.\d\d/);
    // pushinfo = yes: login_duo's "Server IP" and the command, decoded once, as rows.
    const pushinfo = c.getByTestId('req-pushinfo');
    expect(await pushinfo.locator('dt').allTextContents()).toEqual(['Server IP', 'Command']);
    expect(await pushinfo.locator('dd').nth(1).textContent()).toBe('echo HELLO');
    await browser!.screenshot(page, 'push-pending-request');
    await c.getByTestId('approve').click();
    await waitInPage(page, `document.querySelector('[data-testid="status"]').textContent === 'Approved. The login can continue.'`, 'the app to confirm the approval');
    const r = await run;
    expect(r.code, show(r)).toBe(0);
    expect(r.output, show(r)).toMatch(/1\. Tandem Push to Alice’s browser phone/);
    expect(r.output).toContain('Success. Logging you in...');
    expect(r.stdout).toMatch(/^HELLO$/m);
    await gone(card(page, txid), 'the approved request card');
    expect(await pushEntry(txid, 'allow')).toMatchObject({ reason: 'approved', username: USER });
    noProblems();
  });

  it('login_duo push, Deny in the app → refused, the command does not run', async () => {
    const run = loginDuoChoosing('1', '203.0.113.10');
    const { card: c, txid } = await onlyCard(page, 'login_duo\'s second push in the app', 10_000);
    expect(await textOf(c, 'req-ip')).toBe('203.0.113.10');
    await c.getByTestId('deny').click();
    await waitInPage(page, `document.querySelector('[data-testid="status"]').textContent === 'Denied. The login was refused.'`, 'the app to confirm the denial');
    const r = await run;
    expect(r.code, show(r)).toBe(1);
    expect(r.output).toContain('Login request denied.');
    expect(r.stdout).not.toMatch(/^HELLO$/m);
    expect(await pushEntry(txid, 'deny')).toMatchObject({ reason: 'denied' });
    noProblems();
  });

  it('login_duo push left unanswered → refused once the push times out; the card says it expired', async () => {
    const t0 = Date.now();
    const run = loginDuoChoosing('1', '203.0.113.11');
    const { card: c, txid } = await onlyCard(page, 'login_duo\'s third push in the app', 10_000);
    // The card counts down and disables itself at expiry (nothing is sent from the app).
    await waitInPage(page, `(() => { const c = document.querySelector('[data-txid="${txid}"]'); return c === null || c.querySelector('.item-message').textContent === 'This request expired.'; })()`, 'the card to show the expiry', (PUSH_TIMEOUT_S + 3) * 1000);
    if (await c.count()) expect(await c.getByTestId('approve').isDisabled()).toBe(true);
    const r = await run;
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).not.toMatch(/^HELLO$/m);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(PUSH_TIMEOUT_S * 1000 - 500);
    expect(await pushEntry(txid, 'timeout')).toMatchObject({ reason: 'timeout' });
    await gone(card(page, txid), 'the expired request card', 6_000);
    noProblems();
  });

  it('a push event through CDP wakes the app while its live channel is held; the worker posts it to the page', async () => {
    await page.evaluate('window.__tandemTest.paused = true');
    // The poll already in flight ends within appLongPollSeconds; the next one is held in the page.
    await waitInPage(page, 'window.__tandemTest.heldNow > 0', 'the app\'s next live-channel poll to be held', 6_000);
    const txid = await startPush({ hostname: 'cdp.example.org', ipaddr: '198.51.100.4' });
    // Without a push event nothing tells the app: the card does not show up.
    await page.waitForTimeout(1_500);
    expect(await card(page, txid).count(), 'the held live channel still delivered the push').toBe(0);
    await browser!.deliverPush(page, { origin, registrationId, data: JSON.stringify({ kind: 'login-request', txid, username: USER, hostname: 'cdp.example.org' }) });
    const c = await visible(page, card(page, txid), 'the request card after the CDP push event', 5_000);
    expect(await page.evaluate('window.__tandemTest.swMessages')).toEqual([{ kind: 'login-request', txid }]);
    expect(await page.evaluate('window.__tandemTest.heldNow')).toBeGreaterThan(0);
    expect(await textOf(c, 'req-host')).toBe('cdp.example.org');
    expect(await textOf(c, 'req-ip')).toBe('198.51.100.4');
    expect(await textOf(c, 'req-integration')).toBe('auth-api-browser');
    await c.getByTestId('deny').click();
    await waitInPage(page, `document.querySelector('[data-testid="status"]').textContent === 'Denied. The login was refused.'`, 'the denial of the CDP-delivered push');
    expect(await pushEntry(txid, 'deny')).toBeDefined();
    await page.evaluate('window.__tandemTest.resume()');
    noProblems();
  });

  it('malformed push data reaches the worker without breaking the app; a real push still works after it', async () => {
    await page.evaluate('window.__tandemTest.swMessages = []');
    const junk = ['', 'not json {', 'null', '[]', '"login-request"', '{"kind":"login-request"}', '{"kind":"login-request","txid":42}', '{"kind":"other","txid":"x"}', 'x'.repeat(3000), '\u0000\u202e<script>alert(1)</script>'];
    for (const data of junk) await browser!.deliverPush(page, { origin, registrationId, data });
    // Each one still nudges the page (the worker cannot tell which request it was: txid null).
    await waitInPage(page, `window.__tandemTest.swMessages.length === ${junk.length}`, `${junk.length} worker messages`);
    expect(await page.evaluate('window.__tandemTest.swMessages')).toEqual(junk.map(() => ({ kind: 'login-request', txid: null })));
    expect(await card(page).count()).toBe(0);
    // The same worker (the registration survived) still relays a real push, and the page still decides.
    expect(await browser!.serviceWorkerRegistrationId(page, `${origin}/app/`)).toBe(registrationId);
    await page.evaluate('window.__tandemTest.paused = true');
    await waitInPage(page, 'window.__tandemTest.heldNow > 0', 'the app\'s next live-channel poll to be held', 6_000);
    const txid = await startPush({ hostname: 'after-junk.example.org' });
    await browser!.deliverPush(page, { origin, registrationId, data: JSON.stringify({ kind: 'login-request', txid, username: USER, hostname: 'after-junk.example.org' }) });
    const c = await visible(page, card(page, txid), 'the request card of a real push after malformed ones');
    await c.getByTestId('deny').click();
    await gone(card(page, txid), 'the denied card');
    await page.evaluate('window.__tandemTest.resume()');
    noProblems();
  });

  it('a push made while the app was closed is listed when the app opens (no live channel, no push event)', async () => {
    await page.close();
    const txid = await startPush({ hostname: 'while-closed.example.org', ipaddr: '198.51.100.5' });
    page = await browser!.newPage();
    watch = await instrumentPage(page);
    await page.goto(`${origin}/app/`);
    const c = await visible(page, card(page, txid), 'the push made while the app was closed', 5_000);
    expect(await textOf(c, 'req-host')).toBe('while-closed.example.org');
    await c.getByTestId('approve').click();
    await waitInPage(page, `document.querySelector('[data-testid="status"]').textContent === 'Approved. The login can continue.'`, 'the approval after reopening');
    expect(await pushEntry(txid, 'allow')).toBeDefined();
    noProblems();
  });

  it('hostile login context is shown as literal text: no element, no script, no dialog', async () => {
    const host = '<img src=x onerror="window.__tandemTest.pwned.push(\'host\')">';
    const display = '<script>window.__tandemTest.pwned.push("user")</script>';
    const type = '<b onmouseover=alert(1)>Login</b>';
    const command = '<script>alert(document.domain)</script>';
    const serverIp = '<img src=/app/x onerror=alert(2)>';
    const pushinfo = `Command=${encodeURIComponent(command)}&Server+IP=${serverIp}`;
    const rawPushinfo = '%ZZ<svg onload=alert(3)>';
    const scriptsBefore = await page.evaluate('document.querySelectorAll("script").length');
    const imgsBefore = await page.evaluate('document.querySelectorAll("img").length');
    const txid = await startPush({ hostname: host, display_username: display, type, pushinfo, ipaddr: '198.51.100.6' });
    const raw = await startPush({ hostname: 'raw.example.org', pushinfo: rawPushinfo });
    const c = await visible(page, card(page, txid), 'the hostile request card', 5_000);
    const r = await visible(page, card(page, raw), 'the undecodable-pushinfo card', 5_000);
    expect(await textOf(c, 'req-host')).toBe(host);
    expect(await textOf(c, 'req-user')).toBe(display);
    expect(await textOf(c, 'req-type')).toBe(type);
    expect(await c.locator('h3').textContent()).toBe(`${type} request`);
    const rows = c.getByTestId('req-pushinfo');
    expect(await rows.locator('dt').allTextContents()).toEqual(['Command', 'Server IP']);
    expect(await rows.locator('dd').allTextContents()).toEqual([command, serverIp]);
    expect(await r.getByTestId('req-pushinfo').locator('pre').textContent()).toBe(rawPushinfo);
    // Nothing from the payload became an element, and nothing ran.
    expect(await c.locator('img, script, b, svg').count()).toBe(0);
    expect(await r.locator('img, script, b, svg').count()).toBe(0);
    expect(await page.evaluate('document.querySelectorAll("script").length')).toBe(scriptsBefore);
    expect(await page.evaluate('document.querySelectorAll("img").length')).toBe(imgsBefore);
    await c.hover();
    await page.waitForTimeout(300);
    expect(await page.evaluate('window.__tandemTest.pwned')).toEqual([]);
    await browser!.screenshot(page, 'push-hostile-context');
    noProblems();
    for (const [t, label] of [
      [txid, 'hostile'],
      [raw, 'raw-pushinfo'],
    ] as const) {
      await card(page, t).getByTestId('deny').click();
      await gone(card(page, t), `the denied ${label} card`);
    }
    noProblems();
  });

  it('the TOTP view: the code the app shows logs in through login_duo\'s passcode prompt', async () => {
    await visible(page, page.getByTestId('totp-code'), 'the TOTP code');
    // A code close to its step's end could expire between reading and typing: wait for a fresh one.
    const left = Number((await textOf(page, 'totp-left')).replace(/\D/g, ''));
    if (left < 4) await page.waitForTimeout((left + 1) * 1000);
    await waitInPage(page, `/^\\d{6}$/.test(document.querySelector('[data-testid="totp-code"]').textContent)`, 'a six-digit TOTP code');
    const code = await textOf(page, 'totp-code');
    expect(await textOf(page, 'totp-left')).toMatch(/^\d{1,2} s$/);
    await browser!.screenshot(page, 'push-totp');
    const r = await loginDuo(conf, { user: USER, host: '203.0.113.12', command: ['echo', 'HELLO'] }, { pty: true, answers: [{ when: PASSCODE_PROMPT, send: code }], timeoutMs: 15_000 });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^HELLO$/m);
    noProblems();
  });
});
