// Driving the real Tandem Authenticator web app (served by a real `tandem serve` at /app) in the
// real Chromium of test/support/browser.ts: activation through `tandem device activate`, waiting
// for login-request cards, an instrumented page (a pausable live channel, the service worker's
// messages, page errors, console errors and dialogs), and signed Auth API calls from the test.
// Loopback only; every wait is bounded and names what it waited for.
import { request as httpsRequest } from 'node:https';
import type { ConsoleMessage, Dialog, Locator, Page } from 'playwright-core';
import { signedPost } from '../../bench/duo-request.js';
import type { TestBrowser } from './browser.js';
import type { ServerProcess } from './server-process.js';

/** The app's origin as the browser must use it: the certificate is for `localhost`, and WebAuthn/SW want a domain. */
export function appOrigin(srv: Pick<ServerProcess, 'port'>): string {
  return `https://localhost:${srv.port}`;
}

/**
 * Runs in the page before the app's own script, on every load of the page:
 *  - `__tandemTest.paused`: while true, the app's live channel (GET /app/api/requests?wait=N, N>0)
 *    is held in the page (never sent) until `__tandemTest.resume()`; refreshes (wait=0) still go out;
 *  - `__tandemTest.swMessages`: every message the service worker posts to this page;
 *  - `__tandemTest.pwned`: set by nothing but a hostile payload that managed to run.
 */
const INSTRUMENT = `(() => {
  const t = { paused: false, heldNow: 0, heldTotal: 0, swMessages: [], pwned: [] , held: [] };
  window.__tandemTest = t;
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (t.paused && /\\/app\\/api\\/requests\\?(?:.*&)?wait=(?!0(?:&|$))/.test(url)) {
      t.heldNow++;
      t.heldTotal++;
      return new Promise((resolve, reject) => {
        t.held.push(() => { t.heldNow--; realFetch(input, init).then(resolve, reject); });
        init && init.signal && init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    }
    return realFetch(input, init);
  };
  t.resume = () => { t.paused = false; for (const go of t.held.splice(0)) go(); };
  if (navigator.serviceWorker) navigator.serviceWorker.addEventListener('message', (e) => t.swMessages.push(e.data));
})();`;

export interface PageWatch {
  /** Uncaught page errors, console errors and dialogs seen so far (each a line of text). */
  problems(): string[];
}

/**
 * Instruments `page` (INSTRUMENT above) and records what must never happen in these tests: an
 * uncaught error, a console error, a dialog (dismissed at once). Call before the first goto.
 */
export async function instrumentPage(page: Page): Promise<PageWatch> {
  const problems: string[] = [];
  page.on('pageerror', (e: Error) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  page.on('dialog', (d: Dialog) => {
    problems.push(`dialog ${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => undefined);
  });
  await page.addInitScript(INSTRUMENT);
  return { problems: () => problems.slice() };
}

/**
 * Polls a page expression (through CDP evaluation, which the app's CSP does not block, unlike
 * waitForFunction's string form) until it evaluates to `true`; the error names `what` and the last value.
 */
export async function waitInPage(page: Page, expression: string, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await page.evaluate(expression);
    } catch (e) {
      last = `evaluation failed: ${(e as Error).message.split('\n')[0]}`;
    }
    if (last === true) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `locator` is visible; the error names `what` and the page's status line. */
export async function visible(page: Page, locator: Locator, what: string, timeoutMs = 5_000): Promise<Locator> {
  try {
    await locator.waitFor({ state: 'visible', timeout: timeoutMs });
    return locator;
  } catch {
    const status = await page.getByTestId('status').textContent({ timeout: 1_000 }).catch(() => '(no status)');
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the app's status line says: ${JSON.stringify(status)}`);
  }
}

/** Waits until `locator` is gone (detached or hidden). */
export async function gone(locator: Locator, what: string, timeoutMs = 5_000): Promise<void> {
  try {
    await locator.waitFor({ state: 'hidden', timeout: timeoutMs });
  } catch {
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} to go away`);
  }
}

/** The request card for `txid`, or the only card when txid is omitted. */
export function card(page: Page, txid?: string): Locator {
  return txid === undefined ? page.getByTestId('request') : page.locator(`[data-testid="request"][data-txid="${txid.replace(/[^A-Za-z0-9-]/g, '')}"]`);
}

/** Waits for exactly one request card (a login this test started) and returns it with its txid. */
export async function onlyCard(page: Page, what: string, timeoutMs = 5_000): Promise<{ card: Locator; txid: string }> {
  const c = await visible(page, card(page).first(), what, timeoutMs);
  const n = await card(page).count();
  if (n !== 1) throw new Error(`${what}: expected one request card, found ${n}`);
  const txid = await c.getAttribute('data-txid');
  if (!txid) throw new Error(`${what}: the card has no data-txid`);
  return { card: c, txid };
}

/** The text of the element with this data-testid inside `scope` (bounded). */
export async function textOf(scope: Locator | Page, testid: string): Promise<string> {
  return (await scope.getByTestId(testid).textContent({ timeout: 3_000 })) ?? '';
}

export interface ActivatedApp {
  page: Page;
  watch: PageWatch;
  deviceId: string;
  registrationId: string;
  link: string;
}

/**
 * `tandem device activate USER --json` through the real CLI, the printed link opened in Chromium
 * (its host rewritten to localhost:PORT, which the server's certificate covers), the device named
 * and activated in the app; waits for the device id and the service worker's registration.
 */
export async function activateInBrowser(browser: TestBrowser, srv: ServerProcess, username: string, deviceName: string, o: { screenshot?: string } = {}): Promise<ActivatedApp> {
  const act = await srv.json<{ link: string; username: string }>(['device', 'activate', username]);
  const printed = new URL(act.link);
  if (printed.pathname !== '/app/' || !/^#activate=[A-Za-z0-9_-]{20,}$/.test(printed.hash)) throw new Error(`tandem device activate printed an unexpected link: ${act.link}`);
  const link = `${appOrigin(srv)}${printed.pathname}${printed.hash}`;
  const page = await browser.newPage();
  const watch = await instrumentPage(page);
  await page.goto(link);
  const name = await visible(page, page.getByTestId('activate-name'), 'the activation form (activate-name)');
  await name.fill(deviceName);
  if (o.screenshot) await browser.screenshot(page, o.screenshot);
  await page.getByTestId('activate-submit').click();
  const id = await visible(page, page.getByTestId('device-id'), 'the activated device (device-id)', 10_000);
  await waitInPage(page, `/^DP/.test(document.querySelector('[data-testid="device-id"]').textContent)`, 'a DP… device id');
  const deviceId = (await id.textContent()) ?? '';
  const registrationId = await browser.serviceWorkerRegistrationId(page, `${appOrigin(srv)}/app/`);
  // The fragment (the one-time code) is gone from the address bar once used.
  if (new URL(page.url()).hash !== '') throw new Error(`the activation code stayed in the URL: ${page.url()}`);
  return { page, watch, deviceId, registrationId, link };
}

export interface SignedAnswer {
  status: number;
  body: { stat?: string; response?: Record<string, unknown>; code?: number; message?: string };
}

let lastSecond = 0;
/**
 * A signed Auth API v2 POST (v2 HMAC-SHA512, form body, as duo_unix/duo_client_python send it)
 * to the real server over TLS, trusting only its CA. Each call signs with a fresh second so no
 * two calls of this process can collide as a replay.
 */
export async function signedAuthPost(srv: ServerProcess, creds: { ikey: string; skey: string }, path: string, params: Record<string, string>): Promise<SignedAnswer> {
  let second = Math.floor(Date.now() / 1000);
  if (second <= lastSecond) second = lastSecond + 1;
  lastSecond = second;
  const { headers, body } = signedPost(creds, srv.port, path, Object.entries(params), second * 1000);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: srv.port, servername: 'localhost', method: 'POST', path, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, ca: srv.caPem, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as SignedAnswer['body'] });
          } catch {
            reject(new Error(`${path}: answer is not JSON (${res.statusCode}): ${text.slice(0, 300)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}
