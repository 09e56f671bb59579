// Attack: several hundred malformed, oversized, mis-signed and plain garbage requests against a
// real `tandem serve` over TLS (see hostile-generator.ts for the cases, generated from a seed).
//
// Every answer must be Duo's envelope — {"stat":"OK","response":…} or
// {"stat":"FAIL","code":NNNNN,"message":…} — with the right code, the HTTP status the code implies
// (authentication failures are 403, never 401: duo_unix lets users in on a 401 with
// failmode=safe), never a 5xx, never a stack trace, and always with a Content-Length. Afterwards
// the server must still work and nothing may have changed: the user is not locked, the audit
// chain verifies, and the server log was not flooded.
import { request as httpsRequest, Agent } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect, type Socket } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import { rfc2822 } from '../support/harness.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { buildSigned, CATEGORIES, generateHostile, type Built, type Category, type GenContext, type HostileRequest, type RawCase } from './hostile-generator.js';

const SEED = 0x7a4d3e21;
const USER = 'alice';
const REQUEST_TIMEOUT_MS = 10_000;
const RAW_TIMEOUT_MS = 5_000;
const CONCURRENCY = 8;

type Answer =
  | { kind: 'response'; status: number; headers: IncomingHttpHeaders; body: Buffer }
  | { kind: 'closed'; error: string }
  | { kind: 'timeout' };

let srv: ServerProcess;
let agent: Agent;
let creds: { ikey: string; skey: string };
let totpSecret: string;
let bypassCodes: string[];
let genCtx: GenContext;
let cases: HostileRequest[] = [];
let raws: RawCase[] = [];
const answers = new Map<number, Answer>();
const rawAnswers = new Map<number, { bytes: Buffer; error: string | null; timedOut: boolean }>();
let elapsedMs = 0;

function send(b: Built & { chunked?: boolean }): Promise<Answer> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Answer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(a);
    };
    // Node sends no Content-Length for a body on GET/DELETE/OPTIONS unless told to: the body
    // would then be read as the next request on the connection.
    const headers = b.body !== undefined && !b.chunked ? { ...b.headers, 'content-length': String(b.body.length) } : b.headers;
    const req = httpsRequest({
      host: '127.0.0.1',
      port: srv.port,
      method: b.method,
      path: b.path,
      headers,
      setHost: !('host' in b.headers),
      agent,
      ca: srv.caPem,
      servername: 'localhost',
    });
    const timer = setTimeout(() => {
      finish({ kind: 'timeout' });
      req.destroy();
    }, REQUEST_TIMEOUT_MS);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => finish({ kind: 'closed', error: String(e) }));
      res.on('aborted', () => finish({ kind: 'closed', error: 'response aborted' }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      finish({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0) });
    });
    req.on('error', (e) => finish({ kind: 'closed', error: String(e) }));
    if (b.body === undefined) req.end();
    else if (b.chunked) {
      for (let i = 0; i < b.body.length; i += 16_384) req.write(b.body.subarray(i, i + 16_384));
      req.end();
    } else req.end(b.body);
  });
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Bytes the server sends back for a raw payload, until it closes, goes quiet, or the cap. */
function sendRaw(c: RawCase): Promise<{ bytes: Buffer; error: string | null; timedOut: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    let settled = false;
    const socket: Socket = c.plain
      ? netConnect({ host: '127.0.0.1', port: srv.port })
      : tlsConnect({ host: '127.0.0.1', port: srv.port, ca: srv.caPem, servername: 'localhost' });
    const finish = (timedOut: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), error, timedOut });
    };
    const timer = setTimeout(() => finish(true), RAW_TIMEOUT_MS);
    socket.once(c.plain ? 'connect' : 'secureConnect', () => {
      socket.write(c.bytes);
      // Half-close: the server sees EOF after the payload and must not wait for more.
      socket.end();
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e) => (error = String(e)));
    socket.on('close', () => finish(false));
  });
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits HTTP/1.1 responses off a byte stream; what cannot be parsed comes back as `rest`. */
function parseResponses(bytes: Buffer): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  while (at < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (end === -1) break;
    const lines = bytes.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) break;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const len = headers['content-length'] === undefined ? null : Number(headers['content-length']);
    const bodyStart = end + 4;
    const bodyEnd = len === null ? bytes.length : bodyStart + len;
    responses.push({ status: Number(m[1]), headers, body: bytes.subarray(bodyStart, Math.min(bodyEnd, bytes.length)) });
    at = bodyEnd;
  }
  return { responses, rest: bytes.subarray(Math.min(at, bytes.length)) };
}

// ---------------------------------------------------------------- contract checks

const STACK_LIKE = /\n\s*at |\bat [\w$.<>[\]]+ \(|(?:file|node):\/\/|node_modules|\.[cm]?[jt]s:\d+|Error:|SQLITE|TypeError|RangeError|ECONN|ENOENT/;

/** The HTTP status a FAIL code implies: its first three digits, except 401xx, which Tandem answers 403. */
function httpStatusForCode(code: number): number {
  const s = Math.floor(code / 100);
  return s === 401 ? 403 : s;
}

function summarize(c: { method: string; path: string; headers: Record<string, string | string[]>; body?: Buffer }): string {
  const hs = Object.entries(c.headers)
    .map(([k, v]) => {
      const val = Array.isArray(v) ? `[${v.map((x) => x.slice(0, 40)).join(' | ')}]` : v;
      return k === 'host' || k === 'date' || k === 'x-duo-date' || k === 'content-type' || k === 'authorization'
        ? `${k}=${JSON.stringify(val.length > 60 ? `${val.slice(0, 60)}…(${val.length})` : val)}`
        : `${k}(${val.length})`;
    })
    .join(' ');
  const path = c.path.length > 100 ? `${c.path.slice(0, 100)}…(${c.path.length})` : c.path;
  const body = c.body === undefined ? 'no body' : `body ${c.body.length} B ${JSON.stringify(c.body.subarray(0, 80).toString('latin1'))}`;
  return `${c.method} ${JSON.stringify(path)} {${hs}} ${body}`;
}

/** Problems with one envelope (body already read); empty when it keeps the contract. */
function envelopeProblems(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): { problems: string[]; env: Record<string, unknown> | null } {
  const problems: string[] = [];
  if (status >= 500) problems.push(`status ${status} (5xx)`);
  const cl = headers['content-length'];
  if (cl === undefined) problems.push('no Content-Length');
  else if (Number(cl) !== body.length) problems.push(`Content-Length ${String(cl)} but ${body.length} body bytes`);
  const ct = String(headers['content-type'] ?? '');
  if (!ct.startsWith('application/json')) problems.push(`Content-Type ${JSON.stringify(ct)}`);
  const text = body.toString('utf8');
  if (STACK_LIKE.test(text)) problems.push('stack-trace-like text in the body');
  if (headers['access-control-allow-origin'] !== undefined) problems.push('CORS allow header');
  let env: Record<string, unknown> | null = null;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) env = v as Record<string, unknown>;
    else problems.push('body is JSON but not an object');
  } catch {
    problems.push('body is not JSON');
  }
  if (env === null) return { problems, env };
  if (env['stat'] === 'OK') {
    const r = env['response'];
    if (!((typeof r === 'object' && r !== null && !Array.isArray(r)) || typeof r === 'string')) problems.push('OK without an object or string response');
    if (status !== 200) problems.push(`stat OK with HTTP ${status}`);
  } else if (env['stat'] === 'FAIL') {
    const code = env['code'];
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 10_000 || code > 99_999) problems.push(`code ${JSON.stringify(code)} is not a 5-digit integer`);
    else {
      if (code === 50000) problems.push('code 50000 (internal error)');
      if (status !== httpStatusForCode(code)) problems.push(`HTTP ${status} for code ${code} (expected ${httpStatusForCode(code)})`);
      if (code === 42901 && headers['retry-after'] === undefined) problems.push('42901 without Retry-After');
    }
    if (typeof env['message'] !== 'string' || env['message'] === '') problems.push('message is not a non-empty string');
    if (env['message_detail'] !== undefined && typeof env['message_detail'] !== 'string') problems.push('message_detail is not a string');
    const extra = Object.keys(env).filter((k) => !['stat', 'code', 'message', 'message_detail'].includes(k));
    if (extra.length > 0) problems.push(`extra FAIL keys ${extra.join(',')}`);
    // An error must not echo the hostile input back.
    if (body.length > 1024) problems.push(`FAIL body of ${body.length} bytes`);
  } else problems.push(`stat ${JSON.stringify(env['stat'])}`);
  return { problems, env };
}

function checkAnswer(c: HostileRequest, a: Answer | undefined): string[] {
  const where = `#${c.id} [${c.category}] ${c.note} :: ${summarize(c)}`;
  if (a === undefined) return [`${where} → never sent`];
  if (a.kind === 'timeout') return [`${where} → no answer within ${REQUEST_TIMEOUT_MS} ms`];
  if (a.kind === 'closed') return c.expect.close ? [] : [`${where} → connection closed without an answer (${a.error})`];
  const answer = `HTTP ${a.status} ${JSON.stringify(a.body.subarray(0, 300).toString('utf8'))}`;
  const problems: string[] = [];
  if (c.expect.headStatus) {
    if (a.status >= 500) problems.push(`status ${a.status}`);
    if (!c.expect.headStatus.includes(a.status)) problems.push(`expected HTTP ${c.expect.headStatus.join('/')}`);
    if (a.headers['content-length'] === undefined) problems.push('no Content-Length');
    if (a.body.length > 0) problems.push('HEAD answer with a body');
    return problems.map((p) => `${where} → ${answer}: ${p}`);
  }
  const { problems: envProblems, env } = envelopeProblems(a.status, a.headers, a.body);
  problems.push(...envProblems);
  if (env?.['stat'] === 'FAIL' && typeof env['code'] === 'number' && !c.expect.codes.includes(env['code'])) {
    problems.push(`expected ${c.expect.ok ? 'OK or ' : ''}code ${c.expect.codes.join('/') || '(none)'}, got ${env['code']}`);
  }
  if (env?.['stat'] === 'OK') {
    if (!c.expect.ok) problems.push(`expected FAIL ${c.expect.codes.join('/')}, got stat OK`);
    else if (c.expect.ok === 'no-access') {
      const result = (env['response'] as Record<string, unknown> | undefined)?.['result'];
      if (result === 'allow' || result === 'auth') problems.push(`hostile request answered result ${String(result)}`);
    }
  }
  return problems.map((p) => `${where} → ${answer}: ${p}`);
}

function checkRaw(c: RawCase, r: { bytes: Buffer; error: string | null; timedOut: boolean } | undefined): string[] {
  const where = `raw #${c.id} ${c.note} :: ${JSON.stringify(c.bytes.subarray(0, 120).toString('latin1'))}${c.bytes.length > 120 ? `…(${c.bytes.length} B)` : ''}`;
  if (r === undefined) return [`${where} → never sent`];
  if (r.bytes.length === 0) return r.timedOut ? [`${where} → no answer and no close within ${RAW_TIMEOUT_MS} ms`] : [];
  if (c.plain) {
    // Not TLS: whatever comes back (a TLS alert) must not be an HTTP answer.
    const head = r.bytes.subarray(0, 12).toString('latin1');
    return /^HTTP\/1\.[01] [25]/.test(head) ? [`${where} → ${JSON.stringify(r.bytes.subarray(0, 200).toString('latin1'))}: HTTP 2xx/5xx on the TLS port without TLS`] : [];
  }
  const { responses, rest } = parseResponses(r.bytes);
  const shown = JSON.stringify(r.bytes.subarray(0, 300).toString('latin1'));
  const problems: string[] = [];
  if (responses.length === 0) problems.push('bytes that are not an HTTP response');
  if (rest.length > 0 && responses.length > 0) problems.push(`${rest.length} unparseable bytes after the responses`);
  responses.forEach((res, i) => {
    const { problems: p, env } = envelopeProblems(res.status, res.headers, res.body);
    problems.push(...p.map((x) => `response ${i + 1}: ${x}`));
    if (c.expect === 'reject' && (res.status !== 400 || env?.['code'] !== 40002)) problems.push(`response ${i + 1}: expected a 400 envelope with code 40002 or a close`);
  });
  if (r.timedOut) problems.push(`connection still open after ${RAW_TIMEOUT_MS} ms`);
  return problems.map((p) => `${where} → ${shown}: ${p}`);
}

// ---------------------------------------------------------------- the run

beforeAll(async () => {
  srv = await startServerProcess({
    env: { TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE: '100000', TANDEM_RATE_LIMIT_USER_PER_MINUTE: '100000' },
  });
  agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: srv.caPem, servername: 'localhost' });
  creds = await srv.json<{ ikey: string; skey: string }>(['integration', 'create', '--name', 'hostile']);
  expect((await srv.cli(['user', 'create', USER])).code).toBe(0);
  totpSecret = (await srv.json<{ secret: string }>(['token', 'add', USER, '--type', 'totp'])).secret;
  bypassCodes = (await srv.json<{ codes: string[] }>(['bypass', 'create', USER, '--count', '3'])).codes;

  genCtx = { ikey: creds.ikey, skey: creds.skey, port: srv.port, username: USER, now: Date.now(), seed: SEED };
  const g = generateHostile(genCtx);
  cases = g.requests;
  raws = g.raw;
  const t0 = Date.now();
  await pool(cases, CONCURRENCY, async (c) => void answers.set(c.id, await send(c)));
  await pool(raws, 4, async (c) => void rawAnswers.set(c.id, await sendRaw(c)));
  elapsedMs = Date.now() - t0;
}, 120_000);

afterAll(async () => {
  agent?.destroy();
  await srv?.stop();
});

describe('hostile input against a real server', () => {
  it('generates several hundred cases, the same ones for the same seed', () => {
    expect(cases.length).toBeGreaterThanOrEqual(400);
    expect(raws.length).toBeGreaterThanOrEqual(20);
    for (const cat of CATEGORIES) expect(cases.filter((c) => c.category === cat).length, cat).toBeGreaterThan(0);
    const shape = (g: ReturnType<typeof generateHostile>) =>
      JSON.stringify([g.requests.map((c) => [c.id, c.category, c.method, c.path, c.headers, c.body?.toString('base64'), c.expect]), g.raw.map((r) => r.bytes.toString('base64'))]);
    expect(shape(generateHostile(genCtx))).toBe(shape(generateHostile(genCtx)));
    expect(shape(generateHostile({ ...genCtx, seed: SEED + 1 }))).not.toBe(shape(generateHostile(genCtx)));
    // Sending must stay well inside the signature skew window the dates were taken from.
    expect(elapsedMs).toBeLessThan(60_000);
  });

  it.each([...CATEGORIES])('%s: every answer is a clean Duo envelope with the expected code', (cat: Category) => {
    const mine = cases.filter((c) => c.category === cat);
    const problems = mine.flatMap((c) => checkAnswer(c, answers.get(c.id)));
    expect(problems.length, `${problems.length} contract violations:\n${problems.join('\n')}`).toBe(0);
  });

  it('raw malformed HTTP over TLS: a 400 envelope or a close, never a non-JSON answer', () => {
    const problems = raws.flatMap((c) => checkRaw(c, rawAnswers.get(c.id)));
    expect(problems.length, `${problems.length} contract violations:\n${problems.join('\n')}`).toBe(0);
  });

  describe('afterwards', () => {
    const call = async (b: Built): Promise<{ status: number; body: Record<string, unknown> & { response?: Record<string, unknown> } }> => {
      const a = await send(b);
      if (a.kind !== 'response') throw new Error(`${b.method} ${b.path}: ${a.kind}`);
      return { status: a.status, body: JSON.parse(a.body.toString('utf8')) as Record<string, unknown> & { response?: Record<string, unknown> } };
    };
    const signedNow = (spec: Parameters<typeof buildSigned>[1]): Built => buildSigned({ ...creds, port: srv.port }, { date: rfc2822(Date.now()), ...spec });

    it('the user is neither locked nor charged with failures', async () => {
      const shown = await srv.json<{ status: string; failures: number }>(['user', 'show', USER]);
      expect(shown.status).toBe('active');
      expect(shown.failures).toBe(0);
    });

    it('still serves: ping, preauth, TOTP and bypass code', async () => {
      const ping = await call({ method: 'GET', path: '/auth/v2/ping', headers: { host: `localhost:${srv.port}` } });
      expect(ping.status).toBe(200);
      expect(ping.body.stat).toBe('OK');
      expect(typeof ping.body.response?.['time']).toBe('number');

      const pre = await call(signedNow({ method: 'POST', path: '/auth/v2/preauth', form: [['username', USER], ['ipaddr', '192.0.2.77']] }));
      expect(pre.status).toBe(200);
      expect(pre.body.response).toMatchObject({ result: 'auth' });

      const code = hotp(base32Decode(totpSecret), totpStep(Date.now(), 30), { digits: 6, algorithm: 'sha1' });
      const ok = await call(signedNow({ method: 'POST', path: '/auth/v2/auth', form: [['username', USER], ['factor', 'passcode'], ['passcode', code]] }));
      expect(ok.status).toBe(200);
      expect(ok.body.response).toMatchObject({ result: 'allow' });
      const byp = await call(signedNow({ method: 'POST', path: '/auth/v2/auth', version: 5, json: JSON.stringify({ username: USER, factor: 'passcode', passcode: bypassCodes[0]! }) }));
      expect(byp.status).toBe(200);
      expect(byp.body.response).toMatchObject({ result: 'allow' });
    });

    it('the audit chain still verifies', async () => {
      const audit = await srv.cli(['audit', 'verify']);
      expect(audit.code, JSON.stringify(audit)).toBe(0);
    });

    it('the server log has rate-limited refusals, not hundreds of lines, and no internal errors', () => {
      const lines = srv
        .serverLog()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level?: string; msg?: string });
      const garbage = lines.filter((l) => l.msg === 'request refused' || l.msg === 'unknown path');
      expect(garbage.length).toBeGreaterThan(0);
      // 30 a minute plus a summary line; the run may straddle one window boundary.
      expect(garbage.length).toBeLessThanOrEqual(65);
      expect(lines.filter((l) => l.msg === 'rejected requests not logged (rate limit)').length).toBeLessThanOrEqual(2);
      // Unauthenticated garbage (e.g. a body cut off mid-way) must not be an "internal error": that
      // would be a 50000 answer and an error line no rate limit holds back.
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    });
  });
});
