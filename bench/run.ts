// `npm run bench`: signed POST /auth/v2/auth passcode requests with valid codes (distinct users,
// so nothing is a replay) against `tandem serve` on SQLite, and in the same run a bare Fastify
// hello-world over the same TLS key and certificate as the baseline. Prints both and the ratio.
// Loopback only; every phase is bounded in time. Speed is measured, never asserted.
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWithCleanup, type Cleanups } from './lifecycle.js';
import { SIGNED_HOST, signedPost, type Creds } from './duo-request.js';
import { runLoad, type LoadResult } from './load.js';
import { parseOptions, UsageError, USAGE, type BenchOptions } from './options.js';
import { runNode, startServer, type ServerChild } from './processes.js';
import { formatTable, machine, problems, ratio, type Report } from './report.js';
import { BenchDirectory, CodeSource, type BenchUser } from './users.js';

// dist/bench.mjs → the repository root.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TANDEM_BIN = join(ROOT, 'bin/tandem.mjs');
const TANDEM_BUNDLE = join(ROOT, 'dist/tandem.mjs');
const BASELINE = join(ROOT, 'dist/bench-baseline.mjs');

const AUTH_PATH = '/auth/v2/auth';
/** Requests of the sizing probe (at least; and never longer than PROBE_SECONDS). */
const PROBE_REQUESTS = 1000;
const PROBE_SECONDS = 3;
/** Create users for this many times the probe's rate (the warm server is faster than the probe). */
const SIZING_FACTOR = 3;
/** User setup stops after this long even if fewer users than wanted exist. */
const USER_SETUP_BUDGET_MS = 60_000;
const MAX_USERS = 500_000;

const say = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

interface TlsFacts {
  protocol: string;
  cipher: string;
}

/** One request with full certificate verification against the site CA (autocannon does not verify). */
function verifiedRequest(port: number, ca: string, method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string): Promise<{ status: number; body: string; tls: TlsFacts }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, servername: SIGNED_HOST, ca, method, path, headers, agent: false, timeout: 10_000 }, (res) => {
      const sock = res.socket as TLSSocket;
      const tls = { protocol: sock.getProtocol() ?? '?', cipher: sock.getCipher()?.name ?? '?' };
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, tls }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

const isAllow = (status: number, body: string): boolean => status === 200 && body.includes('"result":"allow"');
const HELLO = JSON.stringify({ hello: 'world' });

async function main(o: BenchOptions, cleanups: Cleanups, signal: AbortSignal): Promise<number> {
  /** Between phases: after a signal, start nothing new (cleanup is already stopping things). */
  const phase = (what: string): void => {
    if (signal.aborted) throw new Error('interrupted');
    say(what);
  };
  for (const f of [TANDEM_BUNDLE, BASELINE]) {
    if (!existsSync(f)) throw new Error(`${f} is missing; run "node scripts/build.mjs --bench" first`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-bench-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    TANDEM_DATA: dataDir,
    TANDEM_NODE_ID: 'bench',
    TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE: '1000000',
    TANDEM_RATE_LIMIT_USER_PER_MINUTE: '100000',
  };

  say(`tandem init in ${dataDir}`);
  await runNode(TANDEM_BIN, ['init'], env, ROOT);
  const ca = readFileSync(join(dataDir, 'ca.pem'), 'utf8');

  const dir = await BenchDirectory.open(dataDir, env);
  let dirOpen = true;
  cleanups.push(async () => {
    if (dirOpen) await dir.close();
  });
  const creds: Creds = await dir.createIntegration('bench');
  const probeUsers = o.users > 0 ? o.users : Math.ceil(PROBE_REQUESTS / CodeSource.codesPerUser()) + 4 * o.connections;
  let setupMs = 0;
  const grow = async (n: number): Promise<void> => {
    const t0 = Date.now();
    await dir.grow(n, t0 + USER_SETUP_BUDGET_MS, signal);
    setupMs += Date.now() - t0;
    const rate = dir.users.length / (setupMs / 1000);
    say(`${dir.users.length} users with a TOTP token (${(setupMs / 1000).toFixed(1)} s, ${rate.toFixed(0)}/s)`);
  };
  await grow(probeUsers);
  const codes = new CodeSource(dir.users);

  phase('starting tandem serve');
  const tandem: ServerChild = await startServer(
    'tandem serve',
    TANDEM_BIN,
    o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(o.cpuProfDir)] : [],
    ['serve', '--listen', '127.0.0.1:0'],
    env,
    ROOT,
    (stop) => cleanups.push(stop),
  );
  const port = tandem.port;
  const nextAuth = (ctx: Record<string, unknown>): { headers: Record<string, string>; body: string } => {
    const now = Date.now();
    const c = codes.next(now);
    ctx['user'] = c.user;
    return signedPost(creds, port, AUTH_PATH, [['username', c.username], ['factor', 'passcode'], ['passcode', c.passcode]], now);
  };
  const answered = (ctx: Record<string, unknown>): void => codes.release((ctx['user'] as BenchUser | null | undefined) ?? null);

  // One verified request proves the TLS chain, the signing and that a valid code is an allow.
  const firstCtx: Record<string, unknown> = {};
  const first = nextAuth(firstCtx);
  const pre = await verifiedRequest(port, ca, 'POST', AUTH_PATH, first.headers, first.body);
  answered(firstCtx);
  if (!isAllow(pre.status, pre.body)) throw new Error(`the preflight auth was not an allow: ${pre.status} ${pre.body}`);
  const tls = pre.tls;

  const loadTandem = (title: string, seconds: number, amount?: number): Promise<LoadResult> =>
    runLoad({
      title,
      url: tandem.url,
      connections: o.connections,
      seconds,
      ...(amount !== undefined ? { amount } : {}),
      ca,
      servername: SIGNED_HOST,
      method: 'POST',
      path: AUTH_PATH,
      headers: {},
      build: nextAuth,
      answered,
      check: isAllow,
      serverPid: tandem.pid,
    });

  let probeRps: number | null = null;
  if (o.users === 0) {
    phase(`probe: ${PROBE_REQUESTS} requests to size the user set`);
    const probe = await loadTandem('probe', PROBE_SECONDS, PROBE_REQUESTS);
    if (problems(probe) > 0) throw new Error(`the probe had errors: ${probe.errors} errors, ${probe.non2xx} non-2xx, ${probe.bad} not allow\n${probe.badSamples.join('\n')}\n${tandem.output()}`);
    probeRps = probe.rpsOverall;
    const needCodes = probeRps * (o.warmup + o.duration + 1) * SIZING_FACTOR;
    const want = Math.min(MAX_USERS, dir.users.length + Math.ceil(needCodes / CodeSource.codesPerUser()));
    say(`probe: ${probe.responses} answers, ${probeRps.toFixed(0)} req/s; growing to ${want} users`);
    await grow(want);
    if (dir.users.length < want) say(`user setup stopped at its ${USER_SETUP_BUDGET_MS / 1000} s budget; the run may run out of codes`);
  }
  await dir.close();
  dirOpen = false;

  if (o.warmup > 0) {
    phase(`tandem: ${o.warmup} s warm-up`);
    await loadTandem('tandem warm-up', o.warmup);
  }
  const exhaustedBefore = codes.exhausted;
  phase(`tandem: ${o.duration} s measurement, ${o.connections} connections`);
  const t = await loadTandem('tandem', o.duration);
  const exhausted = codes.exhausted - exhaustedBefore;
  await tandem.stop();
  if (o.cpuProfDir) say(`CPU profile of tandem serve written to ${o.cpuProfDir}`);

  phase('starting the baseline (Fastify hello-world, same key and certificate)');
  const base = await startServer('baseline', BASELINE, [], ['--key', join(dataDir, 'server.key'), '--cert', join(dataDir, 'server.pem')], { PATH: env['PATH']! }, ROOT, (stop) => cleanups.push(stop));
  const baseHeaders = { Host: `${SIGNED_HOST}:${base.port}` };
  const bpre = await verifiedRequest(base.port, ca, 'GET', '/', baseHeaders, '');
  if (bpre.status !== 200 || bpre.body !== HELLO) throw new Error(`the baseline answered ${bpre.status} ${bpre.body}`);
  const loadBase = (title: string, seconds: number): Promise<LoadResult> =>
    runLoad({ title, url: base.url, connections: o.connections, seconds, ca, servername: SIGNED_HOST, method: 'GET', path: '/', headers: baseHeaders, check: (s, b) => s === 200 && b === HELLO, serverPid: base.pid });
  if (o.warmup > 0) {
    phase(`baseline: ${o.warmup} s warm-up`);
    await loadBase('baseline warm-up', o.warmup);
  }
  phase(`baseline: ${o.duration} s measurement, ${o.connections} connections`);
  const b = await loadBase('baseline', o.duration);
  await base.stop();

  const rep: Report = {
    date: new Date().toISOString(),
    machine: machine(),
    settings: { connections: o.connections, durationSeconds: o.duration, warmupSeconds: o.warmup, store: 'sqlite' },
    tls,
    setup: { users: dir.users.length, userSetupSeconds: setupMs / 1000, probeRps, codesIssued: codes.issued, codesExhausted: exhausted },
    tandem: { ...t, allows: t.good },
    baseline: b,
    ratio: {
      rps: ratio(t.rpsMean, b.rpsMean),
      p50: ratio(t.latencyMs.p50, b.latencyMs.p50),
      p99: ratio(t.latencyMs.p99, b.latencyMs.p99),
      serverCpuPerResponse: t.serverCpuMsPerResponse !== null && b.serverCpuMsPerResponse !== null ? ratio(t.serverCpuMsPerResponse, b.serverCpuMsPerResponse) : null,
    },
  };
  process.stdout.write((o.json ? JSON.stringify(rep, null, 2) : formatTable(rep)) + '\n');
  return problems(t) + problems(b) + exhausted > 0 ? 1 : 0;
}

let opts: BenchOptions | null;
try {
  opts = parseOptions(process.argv.slice(2), process.env);
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  process.stderr.write(`bench: ${e.message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (opts === null) {
  process.stdout.write(USAGE + '\n');
  process.exit(0);
}

await runWithCleanup('bench', (cleanups, signal) => main(opts!, cleanups, signal));
