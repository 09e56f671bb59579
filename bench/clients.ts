// `npm run bench:clients`: exec-to-exit time of a full passcode login through Tandem's own clients
// and through Debian's stock duo_unix 1.11.3 clients, against the same `tandem serve`, side by
// side in one run:
//   - login_tandem vs login_duo, as root with -c CONF -f USER -- true, the passcode given through
//     DUO_PASSCODE (accept_env_factor = yes), no terminal;
//   - pamtester (service sshd, rhost set) with pam_tandem.so vs pam_duo.so, the passcode answered
//     on stdin at the prompt, inside a private mount namespace whose /etc/pam.d is a tmpfs (the
//     machine's PAM configuration is never touched). The same wrapper with pam_permit.so alone is
//     measured as the floor of that harness (unshare, sh, mount, cp, pamtester).
// The passcode is an unlimited-use bypass code of one user, so every run is a valid login with no
// wait for a TOTP step. Runs alternate between the clients (after 2 warm-up runs each, discarded).
// Loopback only; every run is bounded in time. Speed is measured, never asserted: the exit status
// is 1 only when some login did not succeed (or on a failure), 2 for bad options, 130 on SIGINT.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { machine, type Machine } from './report.js';
import { loginStats, parseRunsOptions, ratio2, runMain, UsageError, type LoginStats, type RunsOptions } from './login-runs.js';
import {
  clientConf,
  copyCa,
  createLegacyIntegration,
  LOGIN_DUO,
  localAccounts,
  makeWorkDir,
  PAM_DUO,
  removeWorkDir,
  requireDuoUnix,
  runInteractive,
  runPamtester,
  writeDuoConf,
  type Integration,
  type LocalAccounts,
  type RunResult,
} from '../test/support/duo-unix.js';
import { buildLaunchersFor, CLIENT_ACCOUNT, installClients, makeTrustedPrefix, tandemConfText, writeTandemConf, type InstalledClients } from '../test/support/own-clients.js';
import { cleanupAll, startServerProcess, type ServerProcess } from '../test/support/server-process.js';

const say = (s: string): void => void process.stderr.write(`bench-clients: ${s}\n`);

// ---------------------------------------------------------------------------------------------
// RunsOptions

const DEFAULT_RUNS = 20;

const USAGE = [
  'Usage: npm run bench:clients [-- options]',
  '',
  'Exec-to-exit time of a passcode login: login_tandem vs login_duo 1.11.3, and pamtester with',
  'pam_tandem.so vs pam_duo.so 1.11.3, against the same tandem serve (loopback), in one run.',
  '',
  '  --runs N    measured logins per client (default 20, 1..500; env BENCH_RUNS)',
  '  --json      print one JSON object instead of the table (env BENCH_JSON=1)',
  '  --help      this text',
].join('\n');

// ---------------------------------------------------------------------------------------------
// Statistics and report

interface Pair {
  name: string;
  tandem: { client: string; stats: LoginStats };
  stock: { client: string; stats: LoginStats };
  /** tandem / stock, of the medians and of the p90s. */
  ratioMedian: number;
  ratioP90: number;
  /** The harness alone (pamtester with pam_permit in the same namespace wrapper), if measured. */
  floor?: { client: string; stats: LoginStats };
}

interface Report {
  date: string;
  machine: Machine;
  settings: { runs: number; warmupRuns: number; store: 'sqlite'; server: string };
  pairs: Pair[];
  /** Allowed auths the server logged for the bench user (warm-up included), and how many were expected. */
  serverAllows: { logged: number; expected: number };
  failures: string[];
}

function formatTable(rep: Report): string {
  const m = rep.machine;
  const head = ['client', 'runs', 'fail', 'min ms', 'median ms', 'p90 ms'];
  const rows: string[][] = [];
  const row = (client: string, s: LoginStats): string[] => [client, String(s.runs), String(s.failures), s.minMs.toFixed(1), s.medianMs.toFixed(1), s.p90Ms.toFixed(1)];
  for (const p of rep.pairs) {
    rows.push(row(p.tandem.client, p.tandem.stats), row(p.stock.client, p.stock.stats));
    if (p.floor) rows.push(row(`  (floor: ${p.floor.client})`, p.floor.stats));
    rows.push([`  ratio tandem/stock`, '', '', '', `${p.ratioMedian.toFixed(2)}×`, `${p.ratioP90.toFixed(2)}×`]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `Tandem's own clients vs the stock duo_unix 1.11.3 clients — exec-to-exit time of a passcode login (${rep.settings.runs} runs each, ${rep.settings.warmupRuns} warm-up runs discarded)`,
    `date: ${rep.date}`,
    `machine: node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.os}`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `server: ${rep.serverAllows.logged} allowed passcode auths logged for the bench user (expected ${rep.serverAllows.expected}, warm-up included)`,
    '',
    ...(rep.failures.length ? ['FAILED LOGINS:', ...rep.failures, ''] : []),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The run

const WARMUP_RUNS = 2;
const RUN_TIMEOUT_MS = 20_000;
const RHOST = '198.51.100.40';
const PROMPT = /passcode[^\n]*: ?$/im;

interface Client {
  name: string;
  /** One login; resolves with what happened (never rejects for a failed login). */
  run(): Promise<RunResult>;
  /** What a successful run shows, beyond exit status 0. */
  ok(r: RunResult): boolean;
  ms: number[];
  failures: number;
}

function describeRun(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' (timed out)' : ''}; output:\n${r.output.trim().split('\n').slice(-12).join('\n')}`;
}

async function timed(c: Client, failures: string[], record: boolean): Promise<void> {
  const t0 = process.hrtime.bigint();
  let r: RunResult;
  try {
    r = await c.run();
  } catch (e) {
    c.failures++;
    failures.push(`${c.name}: ${String(e)}`);
    return;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.code !== 0 || r.timedOut || !c.ok(r)) {
    if (record) c.failures++;
    failures.push(`${c.name}${record ? '' : ' (warm-up)'}: ${describeRun(r)}`);
    return;
  }
  if (record) c.ms.push(ms);
}

async function main(): Promise<number> {
  let opts: RunsOptions | null;
  try {
    opts = parseRunsOptions(process.argv.slice(2), process.env, DEFAULT_RUNS);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  if (opts === null) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  requireDuoUnix({ loginDuo: true, pamDuo: true });

  let srv: ServerProcess | undefined;
  let accounts: LocalAccounts | undefined;
  let work: string | undefined;
  let clients: InstalledClients | undefined;
  let buildDir: string | undefined;
  const cleanup = (): Promise<void> =>
    cleanupAll('bench-clients', [
      () => srv?.stop(),
      () => accounts?.cleanup(),
      () => removeWorkDir(work),
      () => clients && rmSync(clients.prefix, { recursive: true, force: true }),
      () => buildDir && rmSync(buildDir, { recursive: true, force: true }),
    ]);
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    say('interrupted; cleaning up');
    void cleanup()
      .catch((e: unknown) => say(String(e)))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    say('building and installing the clients under a root-owned prefix');
    clients = await installClients(makeTrustedPrefix('bench-clients'));
    buildDir = mkdtempSync('/tmp/tandem-bench-launchers-');
    buildLaunchersFor(clients, buildDir);
    say('starting tandem serve');
    srv = await startServerProcess({ env: { TANDEM_RATE_LIMIT_USER_PER_MINUTE: '100000', TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE: '1000000' } });
    work = makeWorkDir('bench-clients');
    const ca = copyCa(work, srv);
    const legacy: Integration = await createLegacyIntegration(srv, 'bench-stock-duo-unix');
    const modern = await srv.json<Integration>(['integration', 'create', '--name', 'bench-own-clients']);
    accounts = localAccounts('bc');
    // pam_duo and pam_tandem resolve PAM_USER with getpwnam: the Tandem user is a local account too.
    const user = await accounts.user('u');
    await srv.json(['user', 'create', user]);
    const code = (await srv.json<{ codes: string[] }>(['bypass', 'create', user, '--count', '1', '--uses', '0'])).codes[0]!;

    // Config files: the same settings for both families (failmode secure, one prompt).
    const common = { failmode: 'secure' as const, prompts: 1 };
    const svc = execFileSync('getent', ['passwd', CLIENT_ACCOUNT], { encoding: 'utf8' }).split(':');
    const loginDuoConf = writeDuoConf(work, 'login_duo.conf', clientConf(srv, legacy, ca, { ...common, accept_env_factor: true }));
    const pamDuoConf = writeDuoConf(work, 'pam_duo.conf', clientConf(srv, legacy, ca, common));
    const tandemText = (extra: { accept_env_factor?: boolean }): string => tandemConfText({ ikey: modern.ikey, skey: modern.skey, host: `localhost:${srv!.port}`, cafile: ca, ...common, ...extra });
    // login_tandem runs its helper as _tandem, even for root: the config is that account's.
    const loginTandemConf = writeTandemConf(work, 'login_tandem.conf', tandemText({ accept_env_factor: true }), { uid: Number(svc[2]), gid: Number(svc[3]) });
    const pamTandemConf = writeTandemConf(work, 'pam_tandem.conf', tandemText({}));
    chmodSync(work, 0o755);

    const env = { DUO_PASSCODE: code };
    const loginCmd = (bin: string, conf: string) => (): Promise<RunResult> => runInteractive([bin, '-c', conf, '-f', user, '--', 'true'], { env, timeoutMs: RUN_TIMEOUT_MS });
    const pamCmd = (stack: string, answer: boolean) => (): Promise<RunResult> =>
      runPamtester(work!, { services: { sshd: stack }, service: 'sshd', user, items: { rhost: RHOST }, answers: answer ? [{ when: PROMPT, send: code }] : [], timeoutMs: RUN_TIMEOUT_MS });
    const pamOk = (r: RunResult): boolean => r.output.includes('successfully authenticated');
    const mk = (name: string, run: () => Promise<RunResult>, ok: (r: RunResult) => boolean = () => true): Client => ({ name, run, ok, ms: [], failures: 0 });

    const loginTandem = mk('login_tandem', loginCmd(clients.loginTandem, loginTandemConf));
    const loginDuo = mk('login_duo 1.11.3', loginCmd(LOGIN_DUO, loginDuoConf));
    const pamTandem = mk('pamtester + pam_tandem.so', pamCmd(`auth required ${clients.pamModule} conf=${pamTandemConf}\n`, true), pamOk);
    const pamDuo = mk('pamtester + pam_duo.so 1.11.3', pamCmd(`auth required ${PAM_DUO} conf=${pamDuoConf}\n`, true), pamOk);
    const pamFloor = mk('pamtester + pam_permit.so', pamCmd('auth required pam_permit.so\n', false), pamOk);
    const all = [loginTandem, loginDuo, pamTandem, pamDuo, pamFloor];

    const failures: string[] = [];
    say(`warm-up: ${WARMUP_RUNS} runs of each client`);
    for (let i = 0; i < WARMUP_RUNS; i++) for (const c of all) await timed(c, failures, false);
    say(`measuring: ${opts.runs} runs of each client, interleaved`);
    for (let i = 0; i < opts.runs && !interrupted; i++) {
      // Alternate which of a pair goes first, so neither always follows the other.
      const order = i % 2 === 0 ? all : [loginDuo, loginTandem, pamDuo, pamTandem, pamFloor];
      for (const c of order) await timed(c, failures, true);
    }

    // The server's side of it: one allowed passcode auth per successful login (not the floor).
    const logins = [loginTandem, loginDuo, pamTandem, pamDuo];
    const expectedAllows = logins.reduce((n, c) => n + c.ms.length, 0) + WARMUP_RUNS * logins.length;
    const log = await srv.json<Array<{ event: string; username: string | null; result: string | null }>>(['log', '--limit', '100000']);
    const serverAllows = log.filter((e) => e.event === 'auth' && e.username === user && e.result === 'allow').length;
    if (failures.length === 0 && serverAllows !== expectedAllows) failures.push(`the server logged ${serverAllows} allowed auths for ${user}, expected ${expectedAllows}`);

    const pair = (name: string, t: Client, s: Client, floor?: Client): Pair => {
      const ts = loginStats(t.ms, t.failures);
      const ss = loginStats(s.ms, s.failures);
      return { name, tandem: { client: t.name, stats: ts }, stock: { client: s.name, stats: ss }, ratioMedian: ratio2(ts.medianMs, ss.medianMs), ratioP90: ratio2(ts.p90Ms, ss.p90Ms), ...(floor ? { floor: { client: floor.name, stats: loginStats(floor.ms, floor.failures) } } : {}) };
    };
    const rep: Report = {
      date: new Date().toISOString(),
      machine: machine(),
      settings: { runs: opts.runs, warmupRuns: WARMUP_RUNS, store: 'sqlite', server: 'tandem serve (dist bundle), TLS on 127.0.0.1' },
      pairs: [pair('login', loginTandem, loginDuo), pair('pam', pamTandem, pamDuo, pamFloor)],
      serverAllows: { logged: serverAllows, expected: expectedAllows },
      failures,
    };
    process.stdout.write(opts.json ? `${JSON.stringify(rep, null, 2)}\n` : formatTable(rep));
    for (const f of failures) say(`failed: ${f}`);
    return failures.length > 0 ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (!interrupted) await cleanup();
  }
}

runMain('bench-clients', main);
