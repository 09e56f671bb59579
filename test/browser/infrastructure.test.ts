// Proves the browser-test helpers (test/support/browser.ts) against a tiny HTTPS site on loopback,
// independent of Tandem's own features: the site CA is really trusted (and only that CA), a service
// worker registers and activates, a CDP push reaches the page, the virtual authenticator answers
// navigator.credentials.create(), and screenshots are written.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSiteCa, issueServerCert, type PemPair } from '../../src/core/pki.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { cleanupAll } from '../support/server-process.js';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>browser infrastructure</title></head>
<body><h1>Tandem browser test page</h1><p id="status">loading</p>
<script>
  window.pushes = [];
  navigator.serviceWorker.addEventListener('message', (e) => {
    window.pushes.push(e.data);
    document.getElementById('status').textContent = 'push: ' + e.data;
  });
  navigator.serviceWorker.startMessages();
  window.swReady = navigator.serviceWorker.register('/sw.js', { scope: '/' })
    .then(() => navigator.serviceWorker.ready)
    // ready resolves once there is an active worker, which may still be 'activating'.
    .then((r) => r.active.state === 'activated' ? r.active : new Promise((resolve) => {
      r.active.addEventListener('statechange', (e) => { if (e.target.state === 'activated') resolve(e.target); });
    }))
    .then((w) => { document.getElementById('status').textContent = 'worker ' + w.state; return w.state; });
</script></body></html>`;

const WORKER = `
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('push', (e) => {
  const text = e.data ? e.data.text() : '';
  e.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then((all) => all.forEach((c) => c.postMessage(text))));
});`;

function serial(): string {
  return '1' + randomBytes(8).toString('hex');
}

async function makeSite(hosts: string[]): Promise<{ ca: PemPair; leaf: PemPair }> {
  const now = new Date();
  const ca = await createSiteCa({ now, serialHex: serial(), commonName: `browser test CA ${serial()}` });
  const leaf = await issueServerCert({ ca, hosts, now, serialHex: serial() });
  return { ca, leaf };
}

async function serve(leaf: PemPair): Promise<{ server: Server; url: string }> {
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (path === '/sw.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(WORKER);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // "localhost": a WebAuthn RP ID must be a domain, not an IP; Chromium resolves it to loopback.
  return { server, url: `https://localhost:${(server.address() as AddressInfo).port}` };
}

function stop(server: Server | undefined): Promise<void> | undefined {
  if (!server?.listening) return undefined;
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('browser test infrastructure (Debian chromium via playwright-core)', () => {
  let browser: TestBrowser | undefined;
  let trusted: { server: Server; url: string } | undefined;
  let untrusted: { server: Server; url: string } | undefined;
  let page: Page;

  beforeAll(async () => {
    const site = await makeSite(['localhost']);
    const other = await makeSite(['localhost']);
    trusted = await serve(site.leaf);
    untrusted = await serve(other.leaf);
    browser = await launchBrowser({ caPem: site.ca.certPem });
    page = await browser.newPage();
  }, 60_000);

  afterAll(() => cleanupAll('browser infrastructure test', [() => browser?.close(), () => stop(trusted?.server), () => stop(untrusted?.server)]));

  it('loads a page whose certificate chains to the trusted site CA', async () => {
    const res = await page.goto(`${trusted!.url}/`);
    expect(res?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe('Tandem browser test page');
    expect(await page.evaluate('window.isSecureContext')).toBe(true);
    const tls = await res!.securityDetails();
    expect(tls?.issuer).toMatch(/^browser test CA/);
  });

  it('refuses a certificate from a CA it was not given', async () => {
    const other = await browser!.newPage();
    try {
      await expect(other.goto(`${untrusted!.url}/`)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await other.close();
    }
  });

  it('registers and activates a service worker and finds its registration id', async () => {
    expect(await page.evaluate('window.swReady')).toBe('activated');
    const id = await browser!.serviceWorkerRegistrationId(page, `${trusted!.url}/`);
    expect(id).toMatch(/^\d+$/);
    await expect(browser!.serviceWorkerRegistrationId(page, `${trusted!.url}/nowhere/`, 500)).rejects.toThrow(/timed out after 500 ms waiting for a service worker registration with scope .*\/nowhere\//);
  });

  it('delivers a push message that the page observes through its service worker', async () => {
    const registrationId = await browser!.serviceWorkerRegistrationId(page, `${trusted!.url}/`);
    const data = `hello ${serial()}`;
    await browser!.deliverPush(page, { origin: trusted!.url, registrationId, data });
    await page.waitForFunction(`window.pushes.includes(${JSON.stringify(data)})`, undefined, { timeout: 5_000 });
    // Without a registration id: the origin's only registration.
    await browser!.deliverPush(page, { origin: trusted!.url, data: 'second' });
    await page.waitForFunction(`window.pushes.includes('second')`, undefined, { timeout: 5_000 });
    expect(await page.textContent('#status')).toBe('push: second');
  });

  it('answers navigator.credentials.create() with the virtual authenticator', async () => {
    const authenticator = await browser!.addVirtualAuthenticator(page);
    expect(await authenticator.credentials()).toEqual([]);
    // Page-side code as a string: the project's TypeScript has no DOM types.
    const created = await page.evaluate<{ id: string; type: string }>(`(async () => {
      const cred = await navigator.credentials.create({
        publicKey: {
          rp: { id: 'localhost', name: 'Tandem test' },
          user: { id: new Uint8Array([1, 2, 3, 4]), name: 'alice', displayName: 'Alice' },
          challenge: crypto.getRandomValues(new Uint8Array(32)),
          pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
          authenticatorSelection: { authenticatorAttachment: 'platform', residentKey: 'required', userVerification: 'required' },
          timeout: 5000,
        },
      });
      return { id: cred.id, type: cred.type };
    })()`);
    expect(created.type).toBe('public-key');
    const creds = await authenticator.credentials();
    expect(creds).toHaveLength(1);
    expect(creds[0]!.rpId).toBe('localhost');
    expect(creds[0]!.isResidentCredential).toBe(true);
    expect(Buffer.from(creds[0]!.credentialId, 'base64').toString('base64url')).toBe(created.id);
    expect(Buffer.from(creds[0]!.userHandle ?? '', 'base64')).toEqual(Buffer.from([1, 2, 3, 4]));
    await authenticator.remove();
  });

  it('writes a screenshot', async () => {
    const path = await browser!.screenshot(page, 'browser-infrastructure');
    expect(path).toMatch(/test-artifacts\/screenshots\/browser-infrastructure\.png$/);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).size).toBeGreaterThan(100);
    expect(readFileSync(path).subarray(1, 4).toString()).toBe('PNG');
    await expect(browser!.screenshot(page, '../escape')).rejects.toThrow(/screenshot name/);
  });
});
