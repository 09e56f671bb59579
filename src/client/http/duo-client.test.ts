// The HTTP client against small local servers: a TLS server with a throwaway CA (made with the
// openssl CLI), a second CA for the wrong-certificate case, and a CONNECT proxy.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseForm } from '../../protocol/form.js';
import { parseAuthorization, verifySignature } from '../../protocol/duo-signing.js';
import { responseSignature } from '../../protocol/response-signature.js';
import type { ProxyConfig } from '../config/types.js';
import { DuoClient, duoDate, pushinfoText, type DuoClientOptions } from './duo-client.js';
import { DuoCallError } from './errors.js';
import { makeCa, makeLeaf } from './test-pki.js';

const IKEY = 'DIXYZV6YM8IFYVWBINCA';
const SKEY = 'yWHSMhWucAcp7qvuH3HWTaSaKABs8Gaddiv1NIRo';

interface Pki {
  caPem: string;
  key: string;
  cert: string;
  otherKey: string;
  otherCert: string;
  wrongKey: string;
  wrongCert: string;
}

let dir: string;
let pki: Pki;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-client-tls-'));
  const [good] = await Promise.all([makeCa(dir, 'good'), makeCa(dir, 'other')]);
  const san = 'DNS:localhost,IP:127.0.0.1';
  const [leaf, other, wrong] = await Promise.all([makeLeaf(dir, 'good', 'good', san), makeLeaf(dir, 'other', 'other', san), makeLeaf(dir, 'good', 'wrongname', 'DNS:elsewhere.example')]);
  pki = { caPem: good.caPem, key: leaf.key, cert: leaf.cert, otherKey: other.key, otherCert: other.cert, wrongKey: wrong.key, wrongCert: wrong.cert };
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ------------------------------------------------------------------------------------------------
// A fake server. `handler` decides each answer; `reply` signs it like the Tandem server does.

interface Seen {
  method: string;
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
  params: Array<[string, string]>;
  body: string;
}

type Handler = (seen: Seen, res: ServerResponse) => void;

function reply(seen: Seen, res: ServerResponse, status: number, body: unknown, opts: { sign?: 'good' | 'none' | 'wrong' | 'other-nonce'; raw?: string } = {}): void {
  const text = opts.raw ?? JSON.stringify(body);
  const nonce = seen.headers['x-tandem-nonce'] as string;
  const mode = opts.sign ?? 'good';
  if (mode !== 'none') {
    const sig = responseSignature({ skey: mode === 'wrong' ? 'not-the-skey' : SKEY, nonce: mode === 'other-nonce' ? 'ab'.repeat(32) : nonce, method: seen.method, path: seen.path, body: text });
    res.setHeader('X-Tandem-Signature', sig);
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const ok = (response: unknown) => ({ stat: 'OK', response });

let server: HttpsServer | null = null;
let handler: Handler = () => undefined;
const requests: Seen[] = [];
let connections = 0;

async function startServer(which: 'good' | 'other' | 'wrongname' = 'good'): Promise<number> {
  const pair = { good: [pki.key, pki.cert], other: [pki.otherKey, pki.otherCert], wrongname: [pki.wrongKey, pki.wrongCert] }[which];
  const s = createHttpsServer({ key: pair[0], cert: pair[1], keepAliveTimeout: 30_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [path, query = ''] = (req.url ?? '').split('?') as [string, string?];
      const body = Buffer.concat(chunks).toString();
      const seen: Seen = { method: req.method ?? '', path, query, headers: req.headers, params: parseForm(req.method === 'GET' ? query : body), body };
      requests.push(seen);
      handler(seen, res);
    });
  });
  s.on('secureConnection', () => connections++);
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
}

afterEach(async () => {
  requests.length = 0;
  connections = 0;
  handler = () => undefined;
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    server = null;
  }
});

function client(port: number, extra: Partial<DuoClientOptions> = {}): DuoClient {
  return new DuoClient({ host: '127.0.0.1', port, ca: pki.caPem, verify: true, proxy: null, userAgent: 'pam_tandem/test', ikey: IKEY, skey: SKEY, httpsTimeoutMs: 1000, ...extra });
}

const LOGIN = { username: 'alice', ipaddr: '203.0.113.7', hostname: 'vm' };
/** A typed choice (passcode, phone1…): factor=prompt, no preauth txid. */
const PROMPTED = { factor: 'prompt', device: null, txid: null } as const;

async function callError(p: Promise<unknown>): Promise<DuoCallError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DuoCallError);
    return e as DuoCallError;
  }
  throw new Error('expected a DuoCallError');
}

const AUTH_PROMPT = ok({ result: 'auth', status_msg: 'Account is active', prompt: { text: 'Tandem two-factor login for alice\n\nPasscode or option (1-1): ', factors: { '1': 'push1', default: 'push1' } } });

// ------------------------------------------------------------------------------------------------

describe('DuoClient against a signing server', () => {
  it('sends a v2-signed preauth with a fresh nonce and accepts the signed answer', async () => {
    const port = await startServer();
    handler = (seen, res) => reply(seen, res, 200, AUTH_PROMPT);
    const c = client(port);
    const pre = await c.preauth({ ...LOGIN, failmode: 'secure' });
    expect(pre).toEqual({ result: 'auth', promptText: 'Tandem two-factor login for alice\n\nPasscode or option (1-1): ', factors: { '1': 'push1', default: 'push1' } });
    const seen = requests[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.path).toBe('/auth/v2/preauth');
    const nonce = seen.headers['x-tandem-nonce'] as string;
    expect(seen.body).toBe(`client_supports_verified_push=1&failmode=closed&hostname=vm&ipaddr=203.0.113.7&tandem_nonce=${nonce}&text_prompt=1&username=alice`);
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(seen.headers['user-agent']).toBe('pam_tandem/test');
    const date = seen.headers['x-duo-date'] as string;
    expect(date).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    const auth = parseAuthorization(seen.headers['authorization'] as string)!;
    expect(auth.ikey).toBe(IKEY);
    const v = verifySignature({ signature: auth.signature, skeys: [SKEY], hosts: ['127.0.0.1'], method: 'POST', path: '/auth/v2/preauth', date, params: seen.params, body: Buffer.from(seen.body), xDuoHeaders: [], jsonBody: false, allowV1: false });
    expect(v).toMatchObject({ version: 2, digest: 'sha512' });
    c.close();
  });

  it('auth (async, pushinfo), auth_status with a query, all over one kept-alive connection', async () => {
    const port = await startServer();
    handler = (seen, res) => {
      if (seen.path === '/auth/v2/auth') return reply(seen, res, 200, ok({ txid: 'tx-1' }));
      if (seen.path === '/auth/v2/auth_status') return reply(seen, res, 200, ok({ result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' }));
      reply(seen, res, 404, { stat: 'FAIL', code: 40401, message: 'nope' });
    };
    const c = client(port);
    const pushinfo = pushinfoText('192.0.2.2', 'echo HELLO');
    expect(pushinfo).toBe('Server+IP=192.0.2.2&Command=echo%20HELLO');
    expect(c.authSent).toBe(false);
    expect(await c.auth({ ...LOGIN, ...PROMPTED, prompt: 'phone1', async: true, pushinfo })).toEqual({ kind: 'txid', txid: 'tx-1' });
    expect(c.authSent).toBe(true);
    expect(await c.authStatus('tx-1')).toEqual({ result: 'allow', status: 'allow', statusMsg: 'Success. Logging you in...' });
    expect(requests[0]!.body).toBe(
      `async=1&client_supports_verified_push=1&factor=prompt&hostname=vm&ipaddr=203.0.113.7&prompt=phone1&pushinfo=Server%2BIP%3D192.0.2.2%26Command%3Decho%2520HELLO&tandem_nonce=${requests[0]!.headers['x-tandem-nonce'] as string}&username=alice`,
    );
    expect(requests[1]!.method).toBe('GET');
    expect(requests[1]!.query).toBe('txid=tx-1');
    expect(requests[0]!.headers['x-tandem-nonce']).not.toBe(requests[1]!.headers['x-tandem-nonce']);
    expect(connections).toBe(1);
    c.close();
  });

  it('two identical POSTs in the same second are still different requests (the server refuses replays)', async () => {
    const port = await startServer();
    handler = (seen, res) => reply(seen, res, 200, AUTH_PROMPT);
    const c = client(port, { now: () => 1_900_000_000_000 });
    await c.preauth({ ...LOGIN, failmode: 'secure' });
    await c.preauth({ ...LOGIN, failmode: 'secure' });
    expect(requests[0]!.headers['x-duo-date']).toBe(requests[1]!.headers['x-duo-date']);
    expect(requests[0]!.headers['authorization']).not.toBe(requests[1]!.headers['authorization']);
    c.close();
  });

  it('a sync auth returns the final result', async () => {
    const port = await startServer();
    handler = (seen, res) => reply(seen, res, 200, ok({ result: 'deny', status: 'deny', status_msg: 'Incorrect passcode. Please try again.' }));
    const c = client(port);
    expect(await c.auth({ ...LOGIN, ...PROMPTED, ipaddr: null, prompt: '123456', async: false, pushinfo: pushinfoText(null, null) })).toEqual({
      kind: 'final',
      result: 'deny',
      status: 'deny',
      statusMsg: 'Incorrect passcode. Please try again.',
    });
    expect(requests[0]!.body).not.toContain('ipaddr');
    c.close();
  });

  it('push: preauth devices and txid; auth as factor=push with device, txid and the declaration; verification_code', async () => {
    const port = await startServer();
    const devices = [
      { device: 'DPTOKEN', type: 'token', name: 'key' },
      { device: 'DPPHONE1', type: 'phone', name: 'phone', display_name: 'Phone', capabilities: ['auto', 'push'] },
    ];
    handler = (seen, res) => {
      if (seen.path === '/auth/v2/preauth') return reply(seen, res, 200, ok({ ...(AUTH_PROMPT.response as object), devices, txid: 'pre-tx' }));
      if (seen.path === '/auth/v2/auth') return reply(seen, res, 200, ok({ txid: 'tx-2', status_msg: 'Verification code 042: enter it.', verification_code: '042' }));
      return reply(seen, res, 200, ok({ result: 'waiting', status: 'pushed', status_msg: 'Verification code 042: enter it.', verification_code: '042' }));
    };
    const c = client(port);
    const pre = await c.preauth({ ...LOGIN, failmode: 'secure' });
    expect(pre).toMatchObject({ result: 'auth', txid: 'pre-tx', devices: [{ device: 'DPTOKEN', capabilities: [] }, { device: 'DPPHONE1', capabilities: ['auto', 'push'] }] });
    const a = await c.auth({ ...LOGIN, prompt: 'push1', factor: 'push', device: 'DPPHONE1', async: true, pushinfo: '', txid: 'pre-tx' });
    expect(a).toEqual({ kind: 'txid', txid: 'tx-2', statusMsg: 'Verification code 042: enter it.', verificationCode: '042' });
    expect(await c.authStatus('tx-2')).toEqual({ result: 'waiting', status: 'pushed', statusMsg: 'Verification code 042: enter it.', verificationCode: '042' });
    const nonce = requests[1]!.headers['x-tandem-nonce'] as string;
    expect(requests[1]!.body).toBe(`async=1&client_supports_verified_push=1&device=DPPHONE1&factor=push&hostname=vm&ipaddr=203.0.113.7&pushinfo=&tandem_nonce=${nonce}&txid=pre-tx&username=alice`);
    c.close();
  });

  it('a verification_code that is not 1–8 digits is dropped (flagged); an odd status word is ignored', async () => {
    const port = await startServer();
    const c = client(port);
    for (const code of ['12a', '', '123456789', 123, ['1'], '１２３', '12\n3', '1'.repeat(5000)]) {
      handler = (seen, res) =>
        seen.path === '/auth/v2/auth'
          ? reply(seen, res, 200, ok({ txid: 't', verification_code: code }))
          : reply(seen, res, 200, ok({ result: 'waiting', status: 'x'.repeat(500), status_msg: 'm', verification_code: code }));
      expect(await c.auth({ ...LOGIN, ...PROMPTED, prompt: 'push1', async: true, pushinfo: '' })).toEqual({ kind: 'txid', txid: 't', badVerificationCode: true });
      expect(await c.authStatus('t')).toEqual({ result: 'waiting', statusMsg: 'm', badVerificationCode: true });
    }
    handler = (seen, res) => reply(seen, res, 200, ok({ result: 'deny', status: 'fraud', status_msg: 'Reported.', verification_code: '123' }));
    expect(await c.authStatus('t')).toEqual({ result: 'deny', status: 'fraud', statusMsg: 'Reported.' });
    c.close();
  });

  it('ping: a signed time sets the clock offset used in X-Duo-Date', async () => {
    const port = await startServer();
    const serverTime = 2_000_000_000;
    handler = (seen, res) => (seen.path === '/auth/v2/ping' ? reply(seen, res, 200, ok({ time: serverTime })) : reply(seen, res, 200, AUTH_PROMPT));
    const localNow = serverTime * 1000 - 3_600_000;
    const c = client(port, { now: () => localNow });
    await c.ping();
    expect(c.clockOffsetMs).toBe(3_600_000);
    await c.preauth({ ...LOGIN, failmode: 'safe' });
    expect(requests[1]!.headers['x-duo-date']).toBe(duoDate(serverTime * 1000));
    expect(requests[1]!.body).toContain('failmode=open');
    c.close();
  });

  it('ping: an unsigned or odd answer is ignored, not fatal', async () => {
    const port = await startServer();
    handler = (seen, res) => reply(seen, res, 200, ok({ time: Math.floor(Date.now() / 1000) + 3600 }), { sign: 'none' });
    const c = client(port);
    await c.ping();
    expect(c.clockOffsetMs).toBe(0);
    handler = (seen, res) => reply(seen, res, 404, { stat: 'FAIL', code: 40401, message: 'no ping' });
    await c.ping();
    expect(c.clockOffsetMs).toBe(0);
    c.close();
  });

  it('ping: an unreachable server is reported', async () => {
    const port = await freePort();
    expect((await callError(client(port).ping())).kind).toBe('unreachable');
  });
});

describe('response authentication', () => {
  it.each([
    ['no signature', 'none'],
    ['signed with another key', 'wrong'],
    ['signed over another nonce (a replay)', 'other-nonce'],
  ] as const)('%s → failed', async (_name, sign) => {
    const port = await startServer();
    handler = (seen, res) => reply(seen, res, 200, AUTH_PROMPT, { sign });
    const e = await callError(client(port).preauth({ ...LOGIN, failmode: 'safe' }));
    expect(e.kind).toBe('failed');
    expect(e.message).toMatch(/X-Tandem-Signature/);
  });

  it('a body changed after signing → failed', async () => {
    const port = await startServer();
    handler = (seen, res) => {
      const sig = responseSignature({ skey: SKEY, nonce: seen.headers['x-tandem-nonce'] as string, method: seen.method, path: seen.path, body: JSON.stringify(ok({ result: 'deny', status_msg: 'no' })) });
      res.setHeader('X-Tandem-Signature', sig);
      reply(seen, res, 200, ok({ result: 'allow', status_msg: 'yes' }), { sign: 'none' });
    };
    expect((await callError(client(port).preauth({ ...LOGIN, failmode: 'safe' }))).kind).toBe('failed');
  });

  it('signed but malformed answers → failed', async () => {
    const port = await startServer();
    for (const [body, raw] of [
      [null, 'not json'],
      [{ stat: 'FAIL', code: 40002, message: 'x' }, undefined],
      [ok({ result: 'maybe', status_msg: 'x' }), undefined],
      [ok({ result: 'auth', status_msg: 'x' }), undefined],
      [ok({ result: 'auth', prompt: { text: 'p', factors: { '1': 7 } } }), undefined],
      [ok({ result: 'deny' }), undefined],
      [ok({ result: 'auth', prompt: { text: 'p', factors: {} }, devices: 'DP1' }), undefined],
      [ok({ result: 'auth', prompt: { text: 'p', factors: {} }, devices: [{ capabilities: ['push'] }] }), undefined],
      [ok({ result: 'auth', prompt: { text: 'p', factors: {} }, devices: [{ device: 'DP1', capabilities: 'push' }] }), undefined],
      [ok({ result: 'auth', prompt: { text: 'p', factors: {} }, txid: 7 }), undefined],
      [ok({ result: 'auth', prompt: { text: 'p', factors: {} }, txid: 'x'.repeat(300) }), undefined],
    ] as const) {
      handler = (seen, res) => reply(seen, res, 200, body, raw === undefined ? {} : { raw });
      const e = await callError(client(port).preauth({ ...LOGIN, failmode: 'safe' }));
      expect(e.kind).toBe('failed');
    }
  });

  it('auth_status without status_msg, or with an unknown result → failed', async () => {
    const port = await startServer();
    handler = (seen, res) => reply(seen, res, 200, ok({ result: 'waiting' }));
    expect((await callError(client(port).authStatus('tx'))).kind).toBe('failed');
    handler = (seen, res) => reply(seen, res, 200, ok({ result: 'sure', status_msg: 'x' }));
    expect((await callError(client(port).authStatus('tx'))).kind).toBe('failed');
  });
});

describe('failure classes (failmode)', () => {
  it.each([
    [401, { stat: 'FAIL', code: 40101, message: 'Missing request credentials' }, 'failed'],
    [403, { stat: 'FAIL', code: 40301, message: 'Access forbidden' }, 'failed'],
    [500, { stat: 'FAIL', code: 50000, message: 'Internal error' }, 'failed'],
    [503, { stat: 'FAIL', code: 50301, message: 'Service unavailable' }, 'failed'],
    [502, { stat: 'FAIL', code: 50200, message: 'x' }, 'failed'],
    [429, { stat: 'FAIL', code: 42901, message: 'Too many requests' }, 'failed'],
    [400, { stat: 'FAIL', code: 40002, message: 'Invalid request parameters' }, 'failed'],
    [404, null, 'failed'],
    [302, null, 'failed'],
    [503, null, 'unreachable'],
    [502, null, 'unreachable'],
    [504, null, 'unreachable'],
  ] as const)('HTTP %d %s → %s', async (status, envelope, kind) => {
    const port = await startServer();
    handler = (seen, res) => reply(seen, res, status, envelope, envelope === null ? { raw: '<html>Bad Gateway</html>', sign: 'none' } : { sign: 'none' });
    const e = await callError(client(port).preauth({ ...LOGIN, failmode: 'safe' }));
    expect(e.kind).toBe(kind);
    expect(e.httpStatus).toBe(status);
  });

  it('503 without an envelope after an auth request was sent → failed', async () => {
    const port = await startServer();
    handler = (seen, res) => (seen.path === '/auth/v2/auth' ? reply(seen, res, 200, ok({ txid: 't' })) : reply(seen, res, 503, null, { raw: 'down', sign: 'none' }));
    const c = client(port);
    await c.auth({ ...LOGIN, ...PROMPTED, prompt: '123456', async: true, pushinfo: '' });
    expect((await callError(c.preauth({ ...LOGIN, failmode: 'safe' }))).kind).toBe('failed');
    c.close();
  });

  it('connection refused → unreachable', async () => {
    const port = await freePort();
    const e = await callError(client(port).preauth({ ...LOGIN, failmode: 'safe' }));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('an auth request to a refused port → failed (it may have been sent)', async () => {
    const port = await freePort();
    expect((await callError(client(port).auth({ ...LOGIN, ...PROMPTED, prompt: '123456', async: true, pushinfo: '' }))).kind).toBe('failed');
  });

  it('a server that never answers (https_timeout = 1 s) → unreachable', async () => {
    const port = await startServer();
    handler = () => undefined;
    const t0 = Date.now();
    const e = await callError(client(port).preauth({ ...LOGIN, failmode: 'safe' }));
    expect(e.kind).toBe('unreachable');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a TCP listener that never speaks TLS (timeout) → unreachable', async () => {
    const sockets: Socket[] = [];
    const tcp = createNetServer((s) => sockets.push(s));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const e = await callError(client((tcp.address() as AddressInfo).port).preauth({ ...LOGIN, failmode: 'safe' }));
    expect(e.kind).toBe('unreachable');
    sockets.forEach((s) => s.destroy());
    await new Promise((r) => tcp.close(r));
  });

  it('a certificate from another CA → failed', async () => {
    const port = await startServer('other');
    handler = (seen, res) => reply(seen, res, 200, AUTH_PROMPT);
    const e = await callError(client(port).preauth({ ...LOGIN, failmode: 'safe' }));
    expect(e.kind).toBe('failed');
    expect(e.message).toMatch(/TLS/);
    expect(requests).toHaveLength(0);
  });

  it('a certificate for another name → failed', async () => {
    const port = await startServer('wrongname');
    handler = (seen, res) => reply(seen, res, 200, AUTH_PROMPT);
    for (const host of ['127.0.0.1', 'localhost']) {
      const e = await callError(client(port, { host }).preauth({ ...LOGIN, failmode: 'safe' }));
      expect(e.kind).toBe('failed');
      expect(e.message).toMatch(/TLS/);
    }
    expect(requests).toHaveLength(0);
  });

  it('verify off (allow_insecure_tls) accepts another CA', async () => {
    const port = await startServer('other');
    handler = (seen, res) => reply(seen, res, 200, AUTH_PROMPT);
    const pre = await client(port, { verify: false, ca: null }).preauth({ ...LOGIN, failmode: 'safe' });
    expect(pre.result).toBe('auth');
  });

  it('a name that does not resolve → unreachable', async () => {
    const e = await callError(client(443, { host: 'no-such-host.invalid', httpsTimeoutMs: 3000 }).preauth({ ...LOGIN, failmode: 'safe' }));
    expect(e.kind).toBe('unreachable');
  });
});

// ------------------------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

interface Proxy {
  server: HttpServer;
  config: ProxyConfig;
  seen: Array<{ url: string; auth: string | undefined }>;
}

async function startProxy(answer: number | null = null): Promise<Proxy> {
  const seen: Proxy['seen'] = [];
  const srv = createHttpServer();
  srv.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push({ url: req.url ?? '', auth: req.headers['proxy-authorization'] });
    if (answer !== null) {
      client.end(`HTTP/1.1 ${answer} No\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':') as [string, string];
    const upstream = netConnect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { server: srv, seen, config: { host: '127.0.0.1', port: (srv.address() as AddressInfo).port, auth: 'puser:ppass' } };
}

async function stopProxy(p: Proxy): Promise<void> {
  p.server.closeAllConnections();
  await new Promise((r) => p.server.close(r));
}

describe('http_proxy (CONNECT)', () => {
  it('tunnels TLS through the proxy, with Proxy-Authorization, verified end to end', async () => {
    const port = await startServer();
    const proxy = await startProxy();
    handler = (seen, res) => reply(seen, res, 200, AUTH_PROMPT);
    const c = client(port, { host: 'localhost', proxy: proxy.config });
    expect((await c.preauth({ ...LOGIN, failmode: 'safe' })).result).toBe('auth');
    expect((await c.preauth({ ...LOGIN, failmode: 'safe' })).result).toBe('auth');
    expect(proxy.seen).toEqual([{ url: `localhost:${port}`, auth: 'Basic ' + Buffer.from('puser:ppass').toString('base64') }]);
    c.close();
    await stopProxy(proxy);
  });

  it('another CA behind the proxy → failed', async () => {
    const port = await startServer('other');
    const proxy = await startProxy();
    const e = await callError(client(port, { host: 'localhost', proxy: proxy.config }).preauth({ ...LOGIN, failmode: 'safe' }));
    expect(e.kind).toBe('failed');
    await stopProxy(proxy);
  });

  it('proxy refuses (407) → failed; proxy gateway error (502) → unreachable; proxy down → unreachable', async () => {
    const p407 = await startProxy(407);
    expect((await callError(client(443, { host: 'localhost', proxy: p407.config }).preauth({ ...LOGIN, failmode: 'safe' }))).kind).toBe('failed');
    await stopProxy(p407);
    const p502 = await startProxy(502);
    expect((await callError(client(443, { host: 'localhost', proxy: p502.config }).preauth({ ...LOGIN, failmode: 'safe' }))).kind).toBe('unreachable');
    await stopProxy(p502);
    const down = await freePort();
    expect((await callError(client(443, { host: 'localhost', proxy: { host: '127.0.0.1', port: down, auth: null } }).preauth({ ...LOGIN, failmode: 'safe' }))).kind).toBe('unreachable');
  });
});
