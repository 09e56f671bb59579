// `npm run bench:push`: push approvals against a real `tandem serve` (SQLite, TLS on 127.0.0.1).
//
//  1. Round trips, one after another: a sync POST /auth/v2/auth factor=push is answered `allow`
//     once a scripted Tandem Authenticator (test/support/device.ts: WebCrypto P-256, like the app)
//     that long-polls GET /app/api/requests has seen it and posted a signed approval. Baseline in
//     the same run, interleaved round by round over the same keep-alive connection: a sync
//     passcode auth with a valid TOTP code (a fresh user each time, so nothing is a replay).
//  2. Memory: VmRSS/VmHWM of the server idle, with N pending async pushes, with N more idle
//     keep-alive TLS connections (the connection share, as a baseline), and with an auth_status
//     long-poll held on each of those connections.
//
// Loopback only; every phase is bounded in time; numbers are reported, never asserted. The exit
// status says only whether every round trip was allowed and every push and long-poll established.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { runWithCleanup, type Cleanups } from './lifecycle.js';
import { createActivation } from '../src/core/devices.js';
import type { Logger } from '../src/core/deps.js';
import { createIntegration } from '../src/core/integrations.js';
import { addToken } from '../src/core/tokens.js';
import { createUser } from '../src/core/users.js';
import { base32Decode } from '../src/protocol/base32.js';
import { duoEncode } from '../src/protocol/duo-canon.js';
import { authorizationHeader, sign } from '../src/protocol/duo-signing.js';
import { hotp } from '../src/protocol/hotp.js';
import { totpStep } from '../src/protocol/totp.js';
import { openRuntime } from '../src/server/runtime.js';
import { ScriptedDevice, type ListedRequest } from '../test/support/device.js';
import { SIGNED_HOST, rfc2822, signedPost, type Creds } from './duo-request.js';
import { UsageError } from './options.js';
import { cpuSeconds, runNode, startServer, type ServerChild } from './processes.js';
import { machine, type Machine } from './report.js';

// dist/bench-push.mjs (or bench/push.ts) → the repository root.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TANDEM_BIN = join(ROOT, 'bin/tandem.mjs');
const TANDEM_BUNDLE = join(ROOT, 'dist/tandem.mjs');

const AUTH = '/auth/v2/auth';
const STATUS = '/auth/v2/auth_status';
const LOGIN = { ipaddr: '203.0.113.7', hostname: 'bastion.example.org' };
/** The server's own cap on pending pushes per user (TANDEM_PUSH_MAX_PENDING is 1..100). */
const MAX_PENDING_PER_USER = 100;
const WARMUP_ROUNDS = 10;
/** One round (either kind) failing to finish within this is a failure, and ends the phase. */
const ROUND_TIMEOUT_MS = 20_000;
/** The app's live-channel wait (appLongPollSeconds' default). */
const DEVICE_WAIT_SECONDS = 25;
const ACTIVATION_BUDGET_MS = 60_000;
const CREATE_BUDGET_MS = 180_000;
const CREATE_CONCURRENCY = 16;
const CONNECT_BUDGET_MS = 90_000;
const CONNECT_CONCURRENCY = 64;
const HOLD_BUDGET_MS = 30_000;
/** Keep this many file descriptors for everything else when sizing the memory phase. */
const FD_RESERVE = 500;
/** The server counts as quiet when it used less than this share of one core over QUIET_WINDOW_MS. */
const QUIET_SHARE = 0.03;
const QUIET_WINDOW_MS = 500;
const QUIET_BUDGET_MS = 20_000;

const say = (s: string): void => void process.stderr.write(`bench:push: ${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

// ---------------------------------------------------------------------------------------------
// Options

export interface PushBenchOptions {
  rounds: number;
  budgetSeconds: number;
  pending: number;
  json: boolean;
}

const USAGE = [
  'Usage: npm run bench:push [-- options]',
  '',
  'Push round trips (sync auth → scripted device long-poll → signed approval → allow) against',
  'passcode round trips, and the memory of tandem serve holding many pending pushes and long-polls.',
  '',
  '  --rounds N     measured round trips of each kind (default 200, 1..5000; env BENCH_ROUNDS)',
  '  --budget S     wall-clock bound of the round-trip phase in seconds (default 60, 5..600; env BENCH_BUDGET)',
  '  --pending N    pending pushes and long-polls of the memory phase (default 10000, 0..20000, 0 skips it; env BENCH_PENDING)',
  '  --json         print one JSON object instead of the table (env BENCH_JSON=1)',
  '  --help         this text',
].join('\n');

function parsePushOptions(argv: string[], env: Record<string, string | undefined>): PushBenchOptions | null {
  const o: PushBenchOptions = { rounds: 200, budgetSeconds: 60, pending: 10_000, json: env['BENCH_JSON'] === '1' };
  const specs = { rounds: ['--rounds', 'BENCH_ROUNDS', 1, 5000], budgetSeconds: ['--budget', 'BENCH_BUDGET', 5, 600], pending: ['--pending', 'BENCH_PENDING', 0, 20_000] } as const;
  const int = (raw: string, from: string, min: number, max: number): number => {
    if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new UsageError(`${from}: expected a whole number ${min}..${max}, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  for (const [key, [, envName, min, max]] of Object.entries(specs) as Array<[keyof typeof specs, (typeof specs)[keyof typeof specs]]>) {
    const v = env[envName];
    if (v !== undefined && v !== '') o[key] = int(v, envName, min, max);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return null;
    if (arg === '--json') {
      o.json = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const entry = (Object.entries(specs) as Array<[keyof typeof specs, (typeof specs)[keyof typeof specs]]>).find(([, s]) => s[0] === name);
    if (!entry) throw new UsageError(`unknown option ${arg}`);
    const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`${name} needs a value`);
    o[entry[0]] = int(raw, name, entry[1][2], entry[1][3]);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Statistics and /proc

export interface Stats {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Nearest-rank percentiles, in ms to 0.01. */
function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number => (s.length === 0 ? NaN : s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1]!);
  const sum = s.reduce((a, b) => a + b, 0);
  return { n: s.length, p50: r2(at(50)), p99: r2(at(99)), mean: r2(s.length ? sum / s.length : NaN), min: r2(s[0] ?? NaN), max: r2(s[s.length - 1] ?? NaN) };
}

export interface Mem {
  /** Bytes, from /proc/<pid>/status. */
  vmRss: number;
  vmHwm: number;
  rssAnon: number;
}

function procMem(pid: number): Mem {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]) * 1024;
  };
  return { vmRss: kb('VmRSS'), vmHwm: kb('VmHWM'), rssAnon: kb('RssAnon') };
}

/** The soft limit on open files of this process (the server inherits it). */
function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? (m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1])) : null;
  } catch {
    return null;
  }
}

/** Waits until the server's CPU use stays below QUIET_SHARE of a core for one window. */
async function settle(pid: number, signal: AbortSignal): Promise<{ quiet: boolean; waitedMs: number }> {
  const t0 = Date.now();
  while (Date.now() - t0 < QUIET_BUDGET_MS && !signal.aborted) {
    const c0 = cpuSeconds(pid);
    await sleep(QUIET_WINDOW_MS);
    const c1 = cpuSeconds(pid);
    if (c0 === null || c1 === null) return { quiet: false, waitedMs: Date.now() - t0 };
    if (c1 - c0 < (QUIET_SHARE * QUIET_WINDOW_MS) / 1000) return { quiet: true, waitedMs: Date.now() - t0 };
  }
  return { quiet: false, waitedMs: Date.now() - t0 };
}

/** Runs `work(i)` for i in 0..n-1, `concurrency` at a time, starting nothing after `deadline` or an abort. */
async function pool(n: number, concurrency: number, deadline: number, signal: AbortSignal, work: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (next < n && Date.now() < deadline && !signal.aborted) {
      const i = next++;
      started++;
      await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return started;
}

// ---------------------------------------------------------------------------------------------
// Signed Auth API requests over a keep-alive agent (certificate checked against the site CA)

interface Answer {
  status: number;
  body: string;
  tls: { protocol: string; cipher: string };
}

function call(agent: Agent, port: number, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string, timeoutMs = ROUND_TIMEOUT_MS): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ agent, host: '127.0.0.1', port, servername: SIGNED_HOST, method, path, headers, timeout: timeoutMs }, (res) => {
      const sock = res.socket as TLSSocket;
      const tls = { protocol: sock.getProtocol?.() ?? '?', cipher: sock.getCipher?.()?.name ?? '?' };
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, tls }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A signed GET (v2, HMAC-SHA512) as duo_unix sends auth_status: the parameters in the query. */
function signedGet(creds: Creds, port: number, path: string, params: Array<[string, string]>, now: number): { path: string; headers: Record<string, string> } {
  const date = rfc2822(now);
  const query = params.map(([k, v]) => `${duoEncode(k)}=${duoEncode(v)}`).join('&');
  const sig = sign(2, 'sha512', creds.skey, { method: 'GET', host: SIGNED_HOST, path, params, date, body: '' });
  return { path: `${path}?${query}`, headers: { Host: `${SIGNED_HOST}:${port}`, Date: date, Authorization: authorizationHeader(creds.ikey, sig) } };
}

function authResult(a: Answer): string {
  try {
    const j = JSON.parse(a.body) as { stat?: string; response?: { result?: string; txid?: string } };
    return j.response?.result ?? (j.response?.txid ? 'txid' : `${a.status} ${a.body.slice(0, 200)}`);
  } catch {
    return `${a.status} ${a.body.slice(0, 200)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The scripted app: a live-channel loop that approves every new request it is shown

interface Seen {
  req: ListedRequest;
  /** performance.now() when the long-poll answered with it. */
  seenAt: number;
  decision: Promise<{ ok: boolean; detail: string; at: number; sentAt: number }>;
}

class Approver {
  private known = '';
  private readonly decided = new Set<string>();
  private readonly queue: Seen[] = [];
  private waiter: ((s: Seen) => void) | null = null;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  readonly errors: string[] = [];

  constructor(private readonly device: ScriptedDevice) {}

  async start(): Promise<void> {
    const first = await this.device.requests();
    if (first.requests.length > 0) throw new Error(`the device already lists ${first.requests.length} requests`);
    this.known = first.fingerprint;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let list: Awaited<ReturnType<ScriptedDevice['requests']>>;
      try {
        list = await this.device.requests(DEVICE_WAIT_SECONDS, this.known);
      } catch (e) {
        if (this.stopped) return;
        this.errors.push(`live channel: ${String(e)}`);
        await sleep(100);
        continue;
      }
      const seenAt = performance.now();
      this.known = list.fingerprint;
      for (const req of list.requests as ListedRequest[]) {
        if (this.decided.has(req.txid)) continue;
        this.decided.add(req.txid);
        const sentAt = performance.now();
        const decision = this.device.decide(req, 'approve').then(
          (r) => ({ ok: r.status === 200 && (r.json as { result?: string } | null)?.result === 'allow', detail: `${r.status} ${JSON.stringify(r.json)}`, at: performance.now(), sentAt }),
          (e: unknown) => ({ ok: false, detail: String(e), at: performance.now(), sentAt }),
        );
        const s: Seen = { req, seenAt, decision };
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = null;
          w(s);
        } else this.queue.push(s);
      }
    }
  }

  /** The next request the device was shown, or null after `timeoutMs`. */
  next(timeoutMs: number): Promise<Seen | null> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiter = null;
        resolve(null);
      }, timeoutMs);
      this.waiter = (s) => {
        clearTimeout(t);
        resolve(s);
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.device.close();
    await this.loop;
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 1: round trips

interface PasscodeUser {
  name: string;
  secret: Buffer;
}

export interface RoundTrips {
  rounds: number;
  warmupRounds: number;
  budgetHit: boolean;
  push: Stats & { allowed: number; failures: number; serverCpuMsPerRound: number | null };
  passcode: Stats & { allowed: number; failures: number; serverCpuMsPerRound: number | null };
  /** push: auth sent → the device's long-poll answered with the request. */
  delivery: Stats;
  /** push: the device's POST /app/api/decide → its 200 {result: allow}. */
  decide: Stats;
  /** push / passcode. */
  ratio: { p50: number; p99: number; mean: number };
  failures: string[];
}

async function roundTrips(o: PushBenchOptions, port: number, pid: number, creds: Creds, ca: string, approver: Approver, pushUser: string, passcodeUsers: PasscodeUser[], signal: AbortSignal): Promise<RoundTrips & { tls: Answer['tls'] | null }> {
  // duo_unix keeps one connection for a login's requests; every auth here goes over one socket.
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  const push: number[] = [];
  const passcode: number[] = [];
  const delivery: number[] = [];
  const decide: number[] = [];
  const failures: string[] = [];
  let pushCpu = 0;
  let passcodeCpu = 0;
  let cpuKnown = true;
  let tls: Answer['tls'] | null = null;
  const deadline = Date.now() + o.budgetSeconds * 1000;
  let nextUser = 0;
  let budgetHit = false;

  const cpu = (): number => {
    const c = cpuSeconds(pid);
    if (c === null) cpuKnown = false;
    return c ?? 0;
  };

  const pushRound = async (i: number, measured: boolean): Promise<boolean> => {
    const pushinfo = `round=${i}`;
    const c0 = cpu();
    const t0 = performance.now();
    const { headers, body } = signedPost(creds, port, AUTH, [['username', pushUser], ['factor', 'push'], ['device', 'auto'], ['ipaddr', LOGIN.ipaddr], ['hostname', LOGIN.hostname], ['pushinfo', pushinfo]], Date.now());
    const answer = call(agent, port, 'POST', AUTH, headers, body).then(
      (a) => ({ a, at: performance.now() }),
      (e: unknown) => ({ a: null, at: performance.now(), error: String(e) }),
    );
    const seen = await approver.next(ROUND_TIMEOUT_MS);
    if (!seen) {
      failures.push(`push round ${i}: the device was not shown the request within ${ROUND_TIMEOUT_MS / 1000} s`);
      await answer;
      return false;
    }
    if (seen.req.pushinfo !== pushinfo || seen.req.username !== pushUser) failures.push(`push round ${i}: the device was shown ${seen.req.username} ${seen.req.pushinfo}`);
    const d = await seen.decision;
    const r = await answer;
    if (measured) pushCpu += cpu() - c0;
    if (!d.ok) failures.push(`push round ${i}: decide answered ${d.detail}`);
    if (!r.a) {
      failures.push(`push round ${i}: ${'error' in r ? r.error : 'no answer'}`);
      return false;
    }
    tls ??= r.a.tls;
    const result = authResult(r.a);
    if (result !== 'allow') {
      failures.push(`push round ${i}: auth answered ${result}`);
      return false;
    }
    if (measured) {
      push.push(r.at - t0);
      delivery.push(seen.seenAt - t0);
      decide.push(d.at - d.sentAt);
    }
    return d.ok;
  };

  const passcodeRound = async (i: number, measured: boolean): Promise<boolean> => {
    const u = passcodeUsers[nextUser++];
    if (!u) {
      failures.push(`passcode round ${i}: no passcode user left`);
      return false;
    }
    const now = Date.now();
    const code = hotp(u.secret, totpStep(now, 30), { digits: 6, algorithm: 'sha1' });
    const c0 = cpu();
    const t0 = performance.now();
    const { headers, body } = signedPost(creds, port, AUTH, [['username', u.name], ['factor', 'passcode'], ['passcode', code], ['ipaddr', LOGIN.ipaddr], ['hostname', LOGIN.hostname]], now);
    try {
      const a = await call(agent, port, 'POST', AUTH, headers, body);
      const t1 = performance.now();
      if (measured) passcodeCpu += cpu() - c0;
      tls ??= a.tls;
      const result = authResult(a);
      if (result !== 'allow') {
        failures.push(`passcode round ${i}: auth answered ${result}`);
        return false;
      }
      if (measured) passcode.push(t1 - t0);
      return true;
    } catch (e) {
      failures.push(`passcode round ${i}: ${String(e)}`);
      return false;
    }
  };

  let pushAllowed = 0;
  let passcodeAllowed = 0;
  let pushFailures = 0;
  let passcodeFailures = 0;
  try {
    for (let i = 0; i < WARMUP_ROUNDS + o.rounds; i++) {
      if (signal.aborted) throw new Error('interrupted');
      if (Date.now() >= deadline) {
        budgetHit = true;
        say(`round trips: the ${o.budgetSeconds} s budget ended the phase after ${push.length} measured rounds`);
        break;
      }
      const measured = i >= WARMUP_ROUNDS;
      if (i === WARMUP_ROUNDS) say(`round trips: ${WARMUP_ROUNDS} warm-up rounds done; measuring ${o.rounds}`);
      else if (measured && (i - WARMUP_ROUNDS) % 50 === 0) say(`round trips: ${i - WARMUP_ROUNDS}/${o.rounds}`);
      // Alternate which kind goes first, so neither always follows the other.
      const order = i % 2 === 0 ? ([pushRound, passcodeRound] as const) : ([passcodeRound, pushRound] as const);
      let ok = true;
      for (const f of order) {
        const good = await f(i, measured);
        if (measured) {
          if (f === pushRound) {
            if (good) pushAllowed++;
            else pushFailures++;
          } else if (good) passcodeAllowed++;
          else passcodeFailures++;
        }
        ok &&= good;
      }
      // A failed round may leave a push pending (or a sync auth hanging): stop here.
      if (!ok) {
        say(`round trips: round ${i} failed; stopping the phase`);
        break;
      }
    }
  } finally {
    agent.destroy();
  }
  const ps = stats(push);
  const cs = stats(passcode);
  return {
    rounds: Math.min(push.length, passcode.length),
    warmupRounds: WARMUP_ROUNDS,
    budgetHit,
    push: { ...ps, allowed: pushAllowed, failures: pushFailures, serverCpuMsPerRound: cpuKnown && push.length ? r2((pushCpu * 1000) / push.length) : null },
    passcode: { ...cs, allowed: passcodeAllowed, failures: passcodeFailures, serverCpuMsPerRound: cpuKnown && passcode.length ? r2((passcodeCpu * 1000) / passcode.length) : null },
    delivery: stats(delivery),
    decide: stats(decide),
    ratio: { p50: r2(ps.p50 / cs.p50), p99: r2(ps.p99 / cs.p99), mean: r2(ps.mean / cs.mean) },
    failures: [...failures, ...approver.errors],
    tls,
  };
}

// ---------------------------------------------------------------------------------------------
// Phase 2: memory. Raw TLS sockets, so that each long-poll has its own connection and nothing
// (an agent's pool) decides when a connection is opened, reused or closed.

class RawConnection {
  private buf = '';
  private waiter: ((a: { status: number; body: string } | Error) => void) | null = null;
  /** Answers that arrived while none was expected (a long-poll answered early). */
  readonly unexpected: string[] = [];
  closed = false;

  private constructor(readonly sock: TLSSocket) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.(new Error('connection closed'));
      this.waiter = null;
    });
    sock.on('error', () => {});
  }

  static open(port: number, context: SecureContext, timeoutMs: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port, servername: SIGNED_HOST, secureContext: context });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error('TLS connection not established in time'));
      }, timeoutMs);
      sock.once('secureConnect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new RawConnection(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  private onData(d: Buffer): void {
    this.buf += d.toString('latin1');
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buf.slice(0, end);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!length) {
        this.deliver({ status, body: `(no content-length) ${head.slice(0, 200)}` });
        this.buf = '';
        return;
      }
      const total = end + 4 + Number(length[1]);
      if (this.buf.length < total) return;
      const body = this.buf.slice(end + 4, total);
      this.buf = this.buf.slice(total);
      this.deliver({ status, body });
    }
  }

  private deliver(a: { status: number; body: string }): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(a);
    } else this.unexpected.push(`${a.status} ${a.body.slice(0, 200)}`);
  }

  /** Sends a request and waits for its answer. */
  exchange(text: string, timeoutMs: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiter = (a) => {
        clearTimeout(timer);
        if (a instanceof Error) reject(a);
        else resolve(a);
      };
      this.sock.write(text);
    });
  }

  /** Sends a request that should not be answered (a held long-poll); resolves once written. */
  send(text: string): Promise<void> {
    return new Promise((resolve, reject) => this.sock.write(text, (e) => (e ? reject(e) : resolve())));
  }

  destroy(): void {
    this.sock.destroy();
  }
}

export interface MemoryResult {
  pending: number;
  users: number;
  pushesPerUser: number;
  openFileLimit: number | null;
  idle: Mem;
  withPending: Mem;
  withConnections: Mem;
  withLongPolls: Mem;
  /** (RSS with pending − idle) / pushes. */
  bytesPerPendingPush: number;
  /** (RSS with connections − RSS with pending) / connections: the baseline, a bare TLS connection. */
  bytesPerIdleConnection: number;
  /** (RSS with long-polls − RSS with connections) / long-polls: a held request, beyond its connection. */
  bytesPerLongPoll: number;
  /** (RSS with long-polls − idle) / pushes: a pending push, its connection and its held long-poll. */
  bytesPerPushWithLongPoll: number;
  created: number;
  connections: number;
  longPolls: number;
  /** Long-polls answered or closed before the end of the hold. */
  answeredEarly: number;
  /** Was the server quiet (below 3% of a core) when each reading was taken? */
  settled: { idle: boolean; pending: boolean; connections: boolean; longPolls: boolean };
  seconds: { create: number; connect: number; longPolls: number };
  failures: string[];
}

async function memoryPhase(count: number, users: string[], fdLimit: number | null, port: number, pid: number, creds: Creds, ca: string, cleanups: Cleanups, signal: AbortSignal): Promise<MemoryResult> {
  const failures: string[] = [];
  const stillRunning = (): void => {
    if (signal.aborted) throw new Error('interrupted');
  };
  const perUser = Math.ceil(count / users.length);
  const s0 = await settle(pid, signal);
  stillRunning();
  const idle = procMem(pid);
  say(`memory: idle VmRSS ${mib(idle.vmRss)} MiB; creating ${count} async pushes (${users.length} users × up to ${perUser})`);

  // Pending pushes: async auth, then the first auth_status (answered at once, as duo_unix polls).
  const agent = new Agent({ keepAlive: true, maxSockets: CREATE_CONCURRENCY, ca });
  const txids: string[] = new Array<string>(count);
  let created = 0;
  const t0 = Date.now();
  await pool(count, CREATE_CONCURRENCY, t0 + CREATE_BUDGET_MS, signal, async (i) => {
    const username = users[i % users.length]!;
    try {
      const { headers, body } = signedPost(creds, port, AUTH, [['username', username], ['factor', 'push'], ['device', 'auto'], ['async', '1'], ['ipaddr', LOGIN.ipaddr], ['hostname', LOGIN.hostname], ['pushinfo', `pending=${i}`]], Date.now());
      const a = await call(agent, port, 'POST', AUTH, headers, body);
      const txid = (JSON.parse(a.body) as { response?: { txid?: string } }).response?.txid;
      if (!txid) throw new Error(`auth answered ${a.status} ${a.body.slice(0, 200)}`);
      const g = signedGet(creds, port, STATUS, [['txid', txid]], Date.now());
      const st = await call(agent, port, 'GET', g.path, g.headers, '');
      if (authResult(st) !== 'waiting') throw new Error(`auth_status answered ${st.status} ${st.body.slice(0, 200)}`);
      txids[i] = txid;
      if (++created % 2000 === 0) say(`memory: ${created} pushes pending (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      if (failures.length < 20) failures.push(`push ${i} for ${username}: ${String(e)}`);
    }
  });
  agent.destroy();
  stillRunning();
  const createSeconds = (Date.now() - t0) / 1000;
  if (created < count) failures.push(`${count - created} of ${count} pushes were not created (${createSeconds.toFixed(1)} s; budget ${CREATE_BUDGET_MS / 1000} s)`);
  const s1 = await settle(pid, signal);
  const withPending = procMem(pid);
  say(`memory: ${created} pending, VmRSS ${mib(withPending.vmRss)} MiB; opening ${created} keep-alive TLS connections`);

  // Idle keep-alive connections, each after one unsigned GET /auth/v2/ping (no store work).
  const context = createSecureContext({ ca });
  const all: RawConnection[] = [];
  const conns: RawConnection[] = [];
  cleanups.push(() => {
    for (const c of all) c.destroy();
  });
  const live = txids.filter((t) => t !== undefined);
  const t1 = Date.now();
  await pool(live.length, CONNECT_CONCURRENCY, t1 + CONNECT_BUDGET_MS, signal, async (i) => {
    try {
      const c = await RawConnection.open(port, context, 20_000);
      all.push(c);
      const a = await c.exchange(`GET /auth/v2/ping HTTP/1.1\r\nHost: ${SIGNED_HOST}:${port}\r\n\r\n`, 20_000);
      if (a.status !== 200) throw new Error(`ping answered ${a.status} ${a.body.slice(0, 200)}`);
      conns.push(c);
      if (conns.length % 2000 === 0) say(`memory: ${conns.length} connections`);
    } catch (e) {
      if (failures.length < 40) failures.push(`connection ${i}: ${String(e)}`);
    }
  });
  stillRunning();
  const connectSeconds = (Date.now() - t1) / 1000;
  const usable = conns.filter((c) => !c.closed);
  if (usable.length < live.length) failures.push(`${live.length - usable.length} of ${live.length} connections were not established (${connectSeconds.toFixed(1)} s; budget ${CONNECT_BUDGET_MS / 1000} s)`);
  const s2 = await settle(pid, signal);
  const withConnections = procMem(pid);
  say(`memory: ${usable.length} idle connections, VmRSS ${mib(withConnections.vmRss)} MiB; holding an auth_status long-poll on each`);

  // One signed auth_status long-poll per connection: the second poll of a version is held.
  const t2 = Date.now();
  let sent = 0;
  const holdDeadline = t2 + HOLD_BUDGET_MS;
  await pool(usable.length, CONNECT_CONCURRENCY, holdDeadline, signal, async (i) => {
    const g = signedGet(creds, port, STATUS, [['txid', live[i]!]], Date.now());
    const head = Object.entries(g.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    try {
      await usable[i]!.send(`GET ${g.path} HTTP/1.1\r\n${head}\r\n`);
      sent++;
    } catch (e) {
      if (failures.length < 60) failures.push(`long-poll ${i}: ${String(e)}`);
    }
  });
  stillRunning();
  const s3 = await settle(pid, signal);
  const longPollSeconds = (Date.now() - t2) / 1000;
  const withLongPolls = procMem(pid);
  // Still held a moment later? Anything answered or closed was not a held long-poll.
  await sleep(1000);
  let answeredEarly = 0;
  for (const c of usable) if (c.closed || c.unexpected.length > 0) answeredEarly++;
  const sample = usable.find((c) => c.unexpected.length > 0)?.unexpected[0];
  if (answeredEarly > 0) failures.push(`${answeredEarly} long-polls were answered or closed early${sample ? ` (e.g. ${sample})` : ''}`);
  if (sent < usable.length) failures.push(`${usable.length - sent} long-polls were not sent`);
  const longPolls = sent - answeredEarly;
  say(`memory: ${longPolls} long-polls held, VmRSS ${mib(withLongPolls.vmRss)} MiB; closing`);
  for (const c of all) c.destroy();

  const per = (a: number, b: number, n: number): number => (n > 0 ? Math.round((a - b) / n) : NaN);
  return {
    pending: count,
    users: users.length,
    pushesPerUser: perUser,
    openFileLimit: fdLimit,
    idle,
    withPending,
    withConnections,
    withLongPolls,
    bytesPerPendingPush: per(withPending.vmRss, idle.vmRss, created),
    bytesPerIdleConnection: per(withConnections.vmRss, withPending.vmRss, usable.length),
    bytesPerLongPoll: per(withLongPolls.vmRss, withConnections.vmRss, longPolls),
    bytesPerPushWithLongPoll: per(withLongPolls.vmRss, idle.vmRss, Math.min(created, longPolls)),
    created,
    connections: usable.length,
    longPolls,
    answeredEarly,
    settled: { idle: s0.quiet, pending: s1.quiet, connections: s2.quiet, longPolls: s3.quiet },
    seconds: { create: r2(createSeconds), connect: r2(connectSeconds), longPolls: r2(longPollSeconds) },
    failures,
  };
}

const mib = (b: number): string => (b / 1048576).toFixed(1);

// ---------------------------------------------------------------------------------------------
// Report

export interface PushReport {
  date: string;
  machine: Machine;
  settings: { rounds: number; budgetSeconds: number; pending: number; store: 'sqlite'; serverEnv: Record<string, string> };
  tls: { protocol: string; cipher: string } | null;
  roundTrips: RoundTrips;
  memory: MemoryResult | null;
  ok: boolean;
}

function formatTable(rep: PushReport): string {
  const rt = rep.roundTrips;
  const out: string[] = [];
  const m = rep.machine;
  out.push(`Tandem push benchmark ${rep.date}`);
  out.push(`machine: node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.os}`);
  out.push(`server: tandem serve, store ${rep.settings.store}, ${rep.tls ? `${rep.tls.protocol} ${rep.tls.cipher}` : 'TLS'} on 127.0.0.1`);
  out.push('');
  out.push(`round trips: sequential, push and passcode interleaved round by round over one keep-alive connection; ${rt.warmupRounds} warm-up rounds of each discarded${rt.budgetHit ? `; STOPPED by the ${rep.settings.budgetSeconds} s budget` : ''}`);
  const rows: string[][] = [
    ['', 'rounds', 'allow', 'fail', 'p50 ms', 'p99 ms', 'mean ms', 'min ms', 'max ms', 'server CPU ms/round'],
    ...([['push: sync auth → device long-poll → signed approve → allow', rt.push], ['passcode: sync auth, valid TOTP code (baseline)', rt.passcode]] as const).map(([label, s]) => [
      label, String(s.n), String(s.allowed), String(s.failures), f2(s.p50), f2(s.p99), f2(s.mean), f2(s.min), f2(s.max), s.serverCpuMsPerRound === null ? '-' : f2(s.serverCpuMsPerRound),
    ]),
    ['  ratio push / passcode', '', '', '', `${f2(rt.ratio.p50)}x`, `${f2(rt.ratio.p99)}x`, `${f2(rt.ratio.mean)}x`, '', '', ''],
    ['  push: auth sent → device shown it', String(rt.delivery.n), '', '', f2(rt.delivery.p50), f2(rt.delivery.p99), f2(rt.delivery.mean), f2(rt.delivery.min), f2(rt.delivery.max), ''],
    ['  push: POST /app/api/decide → 200', String(rt.decide.n), '', '', f2(rt.decide.p50), f2(rt.decide.p99), f2(rt.decide.mean), f2(rt.decide.min), f2(rt.decide.max), ''],
  ];
  out.push(...table(rows));
  const mem = rep.memory;
  if (mem) {
    out.push('');
    out.push(`memory of tandem serve (/proc/<pid>/status), readings taken once its CPU use fell below ${QUIET_SHARE * 100}% of a core; open-file limit ${mem.openFileLimit ?? 'unknown'} (ulimit -n, soft; the server inherits it)`);
    const n = (x: number): string => x.toLocaleString('en-US');
    const mrows: string[][] = [
      ['', 'count', 'VmRSS MiB', 'VmHWM MiB', 'RssAnon MiB', 'Δ VmRSS MiB', 'bytes each'],
      ['idle (after the round trips)', '', mib(mem.idle.vmRss), mib(mem.idle.vmHwm), mib(mem.idle.rssAnon), '', ''],
      [`+ pending async pushes (${mem.users} users × ${mem.pushesPerUser})`, String(mem.created), mib(mem.withPending.vmRss), mib(mem.withPending.vmHwm), mib(mem.withPending.rssAnon), mib(mem.withPending.vmRss - mem.idle.vmRss), n(mem.bytesPerPendingPush)],
      ['+ idle keep-alive TLS connections (baseline)', String(mem.connections), mib(mem.withConnections.vmRss), mib(mem.withConnections.vmHwm), mib(mem.withConnections.rssAnon), mib(mem.withConnections.vmRss - mem.withPending.vmRss), n(mem.bytesPerIdleConnection)],
      ['+ an auth_status long-poll held on each', String(mem.longPolls), mib(mem.withLongPolls.vmRss), mib(mem.withLongPolls.vmHwm), mib(mem.withLongPolls.rssAnon), mib(mem.withLongPolls.vmRss - mem.withConnections.vmRss), n(mem.bytesPerLongPoll)],
      ['  push + its connection + its long-poll, from idle', '', '', '', '', mib(mem.withLongPolls.vmRss - mem.idle.vmRss), n(mem.bytesPerPushWithLongPoll)],
    ];
    out.push(...table(mrows));
    out.push(`set-up times: pushes ${mem.seconds.create} s, connections ${mem.seconds.connect} s, long-polls sent and settled ${mem.seconds.longPolls} s; ${mem.answeredEarly} long-polls answered or closed early`);
    const unsettled = Object.entries(mem.settled).filter(([, q]) => !q).map(([k]) => k);
    if (unsettled.length) out.push(`note: the server was still busy when these readings were taken: ${unsettled.join(', ')}`);
  }
  const failures = [...rt.failures, ...(mem?.failures ?? [])];
  for (const f of failures.slice(0, 30)) out.push(`ERROR: ${f}`);
  if (failures.length > 30) out.push(`ERROR: … ${failures.length - 30} more`);
  out.push('Latencies mean something only next to the passcode baseline of the same run; RSS includes garbage not yet collected.');
  return out.join('\n');
}

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '-');

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd());
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(o: PushBenchOptions, cleanups: Cleanups, signal: AbortSignal): Promise<number> {
  const phase = (what: string): void => {
    if (signal.aborted) throw new Error('interrupted');
    say(what);
  };
  if (!existsSync(TANDEM_BUNDLE)) throw new Error(`${TANDEM_BUNDLE} is missing; run "node scripts/build.mjs --bench" first`);
  const fdLimit = openFileLimit();
  let pending = o.pending;
  if (fdLimit !== null && pending > 0 && fdLimit - FD_RESERVE < pending) {
    pending = Math.max(0, Math.floor((fdLimit - FD_RESERVE) / MAX_PENDING_PER_USER) * MAX_PENDING_PER_USER);
    say(`the open-file limit (ulimit -n) is ${fdLimit}: the memory phase uses ${pending} pushes and connections instead of ${o.pending}`);
  } else say(`open-file limit (ulimit -n, soft) ${fdLimit ?? 'unknown'}; ${pending} pushes and connections in the memory phase`);

  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-bench-push-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  // Nothing may expire or be rate-limited during the phases (all bounded well below these).
  const serverEnv: Record<string, string> = {
    TANDEM_NODE_ID: 'bench',
    TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE: '1000000',
    TANDEM_RATE_LIMIT_USER_PER_MINUTE: '100000',
    // Device activation is limited per source address; every device here comes from 127.0.0.1.
    TANDEM_RATE_LIMIT_ADDRESS_PER_MINUTE: '100000',
    TANDEM_PUSH_MAX_PENDING: String(MAX_PENDING_PER_USER),
    TANDEM_PUSH_TIMEOUT_SECONDS: '600',
    TANDEM_LONG_POLL_SECONDS: '300',
    TANDEM_KEEP_ALIVE_SECONDS: '600',
  };
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', TANDEM_DATA: dataDir, ...serverEnv };

  say(`tandem init in ${dataDir}`);
  await runNode(TANDEM_BIN, ['init'], env, ROOT);
  const ca = readFileSync(join(dataDir, 'ca.pem'), 'utf8');

  // Users, tokens and activation codes in-process on the data directory (SQLite WAL is shared).
  phase('creating users');
  const rt = await openRuntime({ dataDir, env, log: quiet });
  let rtOpen = true;
  cleanups.push(async () => {
    if (rtOpen) await rt.close();
  });
  const ci = await createIntegration(rt.deps, { name: 'bench push' });
  const creds: Creds = { ikey: ci.integration.ikey, skey: ci.skey };
  const pushUser = 'push-rt';
  const memUsers = Array.from({ length: Math.ceil(pending / MAX_PENDING_PER_USER) }, (_, i) => `push-mem-${String(i).padStart(4, '0')}`);
  const codes = new Map<string, string>();
  for (const name of [pushUser, ...memUsers]) {
    await createUser(rt.deps, name);
    codes.set(name, (await createActivation(rt.deps, name)).code);
  }
  const passcodeUsers: PasscodeUser[] = [];
  for (let i = 0; i < WARMUP_ROUNDS + o.rounds && !signal.aborted; i++) {
    const name = `passcode-${String(i).padStart(5, '0')}`;
    await createUser(rt.deps, name);
    const { secret } = await addToken(rt.deps, name, { type: 'totp' });
    passcodeUsers.push({ name, secret: base32Decode(secret) });
  }
  await rt.close();
  rtOpen = false;
  say(`${1 + memUsers.length} push users with an activation code, ${passcodeUsers.length} passcode users with a TOTP token`);

  phase('starting tandem serve');
  const server: ServerChild = await startServer('tandem serve', TANDEM_BIN, [], ['serve', '--listen', '127.0.0.1:0'], env, ROOT, (stop) => cleanups.push(stop));
  const port = server.port;
  const base = `https://${SIGNED_HOST}:${port}`;

  // Devices: activated over HTTPS with the site CA, as the app does (a WebCrypto P-256 key each).
  phase(`activating ${1 + memUsers.length} scripted devices over HTTPS`);
  const t0 = Date.now();
  const rtDevice = await ScriptedDevice.activate(base, codes.get(pushUser)!, { ca, name: 'bench round trips' });
  cleanups.push(() => rtDevice.close());
  let activated = 0;
  await pool(memUsers.length, 4, t0 + ACTIVATION_BUDGET_MS, signal, async (i) => {
    const d = await ScriptedDevice.activate(base, codes.get(memUsers[i]!)!, { ca, name: `bench ${i}` });
    d.close();
    activated++;
  });
  if (activated < memUsers.length) throw new Error(`only ${activated} of ${memUsers.length} devices were activated within ${ACTIVATION_BUDGET_MS / 1000} s`);

  const approver = new Approver(rtDevice);
  await approver.start();
  cleanups.push(() => approver.stop());
  phase(`round trips: ${WARMUP_ROUNDS} warm-up + ${o.rounds} of each kind, at most ${o.budgetSeconds} s`);
  const trips = await roundTrips(o, port, server.pid, creds, ca, approver, pushUser, passcodeUsers, signal);
  await approver.stop();
  const { tls, ...roundTripReport } = trips;

  let memory: MemoryResult | null = null;
  if (pending > 0) {
    phase(`memory: ${pending} pending pushes and long-polls`);
    memory = await memoryPhase(pending, memUsers, fdLimit, port, server.pid, creds, ca, cleanups, signal);
  }
  await server.stop();

  const roundsOk = trips.rounds === o.rounds && trips.push.failures === 0 && trips.passcode.failures === 0 && trips.push.allowed === o.rounds && trips.passcode.allowed === o.rounds && trips.failures.length === 0;
  const memoryOk = memory === null || (memory.created === pending && memory.longPolls === pending && memory.failures.length === 0);
  const rep: PushReport = {
    date: new Date().toISOString(),
    machine: machine(),
    settings: { rounds: o.rounds, budgetSeconds: o.budgetSeconds, pending, store: 'sqlite', serverEnv },
    tls,
    roundTrips: roundTripReport,
    memory,
    ok: roundsOk && memoryOk,
  };
  process.stdout.write((o.json ? JSON.stringify(rep, null, 2) : formatTable(rep)) + '\n');
  return rep.ok ? 0 : 1;
}

let opts: PushBenchOptions | null;
try {
  opts = parsePushOptions(process.argv.slice(2), process.env);
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`bench:push: ${e.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (opts === null) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}

await runWithCleanup('bench:push', (cleanups, signal) => main(opts!, cleanups, signal));
