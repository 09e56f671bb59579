// The Tandem Authenticator's static files at /app (src/server/routes/app-static.ts): the
// allow-list, content types, the CSP and security headers on every answer, traversal attempts
// (through inject and through a real socket, so no client-side URL normalisation hides them),
// the "not built" answer, and the registration in the real app.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_CSP, APP_FILES, appDistDir, registerAppStatic } from '../../src/server/routes/app-static.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ensureBuilt, ROOT } from '../support/server-process.js';

const CONTENT: Record<string, string> = {
  'index.html': '<!doctype html><title>app</title>',
  'app.js': 'console.log("app")',
  'sw.js': 'self.addEventListener("push", () => {})',
  'app.css': 'body { margin: 0 }',
  'manifest.webmanifest': '{"name":"Tandem Authenticator"}',
  'icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  'icon-192.png': '\x89PNG-192',
  'icon-512.png': '\x89PNG-512',
};

function expectSecurityHeaders(headers: Record<string, unknown>): void {
  expect(headers['content-security-policy']).toBe(APP_CSP);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
}

/** One raw HTTP/1.1 request, exactly as written (no URL normalisation by any client library). */
function rawGet(port: number, target: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer for ${target}`)));
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), text: data }));
    socket.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  });
}

describe('app static files', () => {
  let dir: string;
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tandem-app-static-'));
    const app_ = join(dir, 'web', 'app');
    mkdirSync(app_, { recursive: true });
    for (const [name, text] of Object.entries(CONTENT)) writeFileSync(join(app_, name), text, 'latin1');
    // Files next to the app and one level up that must never be reachable.
    writeFileSync(join(app_, 'secret.txt'), 'SECRET-NEXT-TO-APP');
    writeFileSync(join(dir, 'package.json'), '{"name":"SECRET-PACKAGE"}');
    app = Fastify();
    registerAppStatic(app, { dir: app_ });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redirects /app to /app/ with 301', async () => {
    const r = await app.inject({ method: 'GET', url: '/app' });
    expect(r.statusCode).toBe(301);
    expect(r.headers.location).toBe('/app/');
    expectSecurityHeaders(r.headers);
  });

  it('serves index.html at /app/ as no-cache HTML', async () => {
    const r = await app.inject({ method: 'GET', url: '/app/' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.body).toBe(CONTENT['index.html']);
    expectSecurityHeaders(r.headers);
  });

  it.each(Object.entries(APP_FILES))('serves %s as %s with the security headers', async (name, type) => {
    const r = await app.inject({ method: 'GET', url: `/app/${name}` });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.rawPayload.toString('latin1')).toBe(CONTENT[name]);
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expectSecurityHeaders(r.headers);
    if (name === 'sw.js') expect(r.headers['service-worker-allowed']).toBe('/app/');
    else expect(r.headers['service-worker-allowed']).toBeUndefined();
  });

  it('uses the expected types for the worker, the manifest and the icons', () => {
    expect(APP_FILES['sw.js']).toMatch(/^text\/javascript/);
    expect(APP_FILES['manifest.webmanifest']).toMatch(/^application\/manifest\+json/);
    expect(APP_FILES['icon.svg']).toBe('image/svg+xml');
    expect(APP_FILES['icon-512.png']).toBe('image/png');
  });

  it('answers a matching If-None-Match with 304', async () => {
    const first = await app.inject({ method: 'GET', url: '/app/app.js' });
    const r = await app.inject({ method: 'GET', url: '/app/app.js', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(r.statusCode).toBe(304);
    expect(r.body).toBe('');
    expectSecurityHeaders(r.headers);
  });

  it('answers HEAD like GET without a body', async () => {
    const r = await app.inject({ method: 'HEAD', url: '/app/app.css' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(r.body).toBe('');
  });

  it.each(['/app/secret.txt', '/app/nothing', '/app/index.htm', '/app/APP.JS', '/app/app.js/', '/app/sub/app.js', '/app/%61pp.js', '/app/app.js%00', '/app//app.js', '/app/__proto__', '/app/constructor', '/app/toString'])(
    'answers %s with 404 JSON and the security headers',
    async (url) => {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode).toBe(404);
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.json()).toEqual({ error: 'not_found', message: 'no such file' });
      expect(r.body).not.toContain('SECRET');
      expectSecurityHeaders(r.headers);
    },
  );

  it('keeps the query string out of the file name', async () => {
    expect((await app.inject({ method: 'GET', url: '/app/app.js?v=1' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/app/?activate=x' })).statusCode).toBe(200);
  });

  const traversals = ['/app/../package.json', '/app/%2e%2e/package.json', '/app/%2E%2E%2Fpackage.json', '/app/..%2fpackage.json', '/app/..%5cpackage.json', '/app/....//package.json', '/app/%252e%252e/package.json', '/app/./secret.txt', '/app/%2e/secret.txt'];

  it.each(traversals)('refuses the traversal %s (inject)', async (url) => {
    const r = await app.inject({ method: 'GET', url });
    expect(r.statusCode).toBe(404);
    expect(r.body).not.toContain('SECRET');
  });

  it.each(traversals)('refuses the traversal %s (raw socket)', async (url) => {
    const r = await rawGet(port, url);
    expect(r.status).toBe(404);
    expect(r.text).not.toContain('SECRET');
  });

  it('leaves /app/api/* to the API routes (the not-found handler here)', async () => {
    const r = await app.inject({ method: 'GET', url: '/app/api/nothing' });
    expect(r.statusCode).toBe(404);
    expect(r.headers['content-security-policy']).toBeUndefined();
  });
});

describe('app static files when the app is not built', () => {
  it('warns once at startup and answers 404 JSON "app not built"', async () => {
    const warnings: string[] = [];
    const app = Fastify();
    registerAppStatic(app, { dir: join(tmpdir(), 'tandem-no-such-dir-' + process.pid), log: { warn: (m) => void warnings.push(m) } });
    try {
      expect(warnings).toHaveLength(1);
      for (const url of ['/app/', '/app/app.js', '/app/sw.js']) {
        const r = await app.inject({ method: 'GET', url });
        expect(r.statusCode).toBe(404);
        expect(r.json()).toEqual({ error: 'not_found', message: 'app not built' });
        expectSecurityHeaders(r.headers);
      }
      expect((await app.inject({ method: 'GET', url: '/app' })).statusCode).toBe(301);
    } finally {
      await app.close();
    }
  });
});

describe('the app in the real server (dist/web/app from scripts/build.mjs)', () => {
  let h: Harness;
  beforeAll(async () => {
    await ensureBuilt();
    h = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  it('finds dist/web/app at the repository root', () => {
    expect(appDistDir()).toBe(join(ROOT, 'dist', 'web', 'app'));
  });

  it('serves every built file with its headers', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/app' })).headers.location).toBe('/app/');
    for (const name of Object.keys(APP_FILES)) {
      const r = await h.app.inject({ method: 'GET', url: `/app/${name}` });
      expect(r.statusCode, name).toBe(200);
      expect(r.rawPayload.equals(readFileSync(join(ROOT, 'dist', 'web', 'app', name))), name).toBe(true);
      expectSecurityHeaders(r.headers);
    }
  });

  it('ships an index.html that loads only allow-listed files, no inline script or style', async () => {
    const html = (await h.app.inject({ method: 'GET', url: '/app/' })).body;
    expect(html).toContain('<script type="module" src="app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="app.css">');
    expect(html).toContain('<link rel="manifest" href="manifest.webmanifest">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(Object.keys(APP_FILES), m[1]).toContain(m[1]);
  });

  it('has a manifest for an installable app scoped to /app/', async () => {
    const m = (await h.app.inject({ method: 'GET', url: '/app/manifest.webmanifest' })).json() as Record<string, unknown>;
    expect(m).toMatchObject({ name: 'Tandem Authenticator', start_url: '/app/', scope: '/app/', display: 'standalone' });
    for (const icon of m.icons as Array<{ src: string }>) expect(Object.keys(APP_FILES)).toContain(icon.src);
    const png = (await h.app.inject({ method: 'GET', url: '/app/icon-512.png' })).rawPayload;
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(512);
  });

  it('bundles app.js and sw.js without node built-ins or imports', () => {
    for (const name of ['app.js', 'sw.js']) {
      const js = readFileSync(join(ROOT, 'dist', 'web', 'app', name), 'utf8');
      expect(js, name).not.toMatch(/\bBuffer\b|\bprocess\.|\brequire\(|^\s*import\s|^export\s/m);
      expect(js, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });
});
