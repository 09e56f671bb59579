// `npm run bench:local`: pamtester authentications per second with pam_tandem in local mode
// (`mode=local secret=FILE`, the google-authenticator file verified by Tandem's helper, no server)
// and with the real pam_google_authenticator.so (Debian libpam-google-authenticator) on the same
// kind of file, in the same run:
//   - one HOTP file written by the real `google-authenticator` CLI (`-c -w 3 -u`: counter-based,
//     window 3, no rate limit), owned by a throwaway local account, and an identical twin copy;
//     pam_tandem verifies the one, pam_google_authenticator the other;
//   - each login answers the file's next HOTP code (`oathtool --hotp -b -c N SECRET`, computed
//     before the clock starts), so every run is a valid login and none waits for a TOTP step;
//   - pamtester (service gatest, rhost set) inside a private mount namespace whose /etc/pam.d is a
//     tmpfs (the machine's PAM configuration is never touched); the same wrapper with pam_permit.so
//     alone is measured as the floor of that harness.
// Runs alternate between the modules (after 2 warm-up runs each, discarded). Every run is bounded
// in time; no network. Speed is measured, never asserted: the exit status is 1 only when some
// login did not succeed or a file's counter is not where the logins put it (or on a failure), 2
// for bad options, 130 on SIGINT.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { machine, type Machine } from './report.js';
import { loginStats, parseRunsOptions, ratio2, runMain, UsageError, type LoginStats, type RunsOptions } from './login-runs.js';
import { localAccounts, makeWorkDir, OATHTOOL, PAMTESTER, removeWorkDir, runPamtester, type LocalAccounts, type RunResult } from '../test/support/duo-unix.js';
import { installClients, makeTrustedPrefix, type InstalledClients } from '../test/support/own-clients.js';
import { cleanupAll, requireTool } from '../test/support/server-process.js';

const GA_CLI = '/usr/bin/google-authenticator';
const GA_PAM = '/lib/x86_64-linux-gnu/security/pam_google_authenticator.so';
const say = (s: string): void => void process.stderr.write(`bench-local: ${s}\n`);

// ---------------------------------------------------------------------------------------------
// RunsOptions

const DEFAULT_RUNS = 30;

const USAGE = [
  'Usage: npm run bench:local [-- options]',
  '',
  'pamtester authentications per second: pam_tandem.so mode=local vs pam_google_authenticator.so,',
  'each on a HOTP file from the real google-authenticator CLI, in one run (no network).',
  '',
  '  --runs N    measured logins per module (default 30, 1..500; env BENCH_RUNS)',
  '  --json      print one JSON object instead of the table (env BENCH_JSON=1)',
  '  --help      this text',
].join('\n');

// ---------------------------------------------------------------------------------------------
// Statistics and report

interface Entry {
  module: string;
  stats: LoginStats;
}

interface Report {
  date: string;
  machine: Machine;
  settings: { runs: number; warmupRuns: number; file: string; codes: string; harness: string };
  tandem: Entry;
  upstream: Entry;
  floor: Entry;
  /** tandem / upstream: of the authentications per second, of the medians and of the p90s. */
  ratio: { authsPerSecond: number; medianMs: number; p90Ms: number };
  /** HOTP_COUNTER of each file at the end, and what the successful logins (warm-up included) make it. */
  counters: { tandem: { file: number; expected: number }; upstream: { file: number; expected: number } };
  failures: string[];
}

function formatTable(rep: Report): string {
  const m = rep.machine;
  const head = ['module', 'runs', 'fail', 'auth/s', 'min ms', 'median ms', 'p90 ms'];
  const row = (e: Entry): string[] => [e.module, String(e.stats.runs), String(e.stats.failures), e.stats.authsPerSecond.toFixed(2), e.stats.minMs.toFixed(1), e.stats.medianMs.toFixed(1), e.stats.p90Ms.toFixed(1)];
  const rows = [
    row(rep.tandem),
    row(rep.upstream),
    [`  ratio tandem/upstream`, '', '', `${rep.ratio.authsPerSecond.toFixed(2)}×`, '', `${rep.ratio.medianMs.toFixed(2)}×`, `${rep.ratio.p90Ms.toFixed(2)}×`],
    row({ ...rep.floor, module: `  (floor: ${rep.floor.module})` }),
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const c = rep.counters;
  return [
    `pam_tandem mode=local vs pam_google_authenticator — pamtester logins on a HOTP file (${rep.settings.runs} runs each, sequential and interleaved, ${rep.settings.warmupRuns} warm-up runs discarded)`,
    `date: ${rep.date}`,
    `machine: node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.os}`,
    `file: ${rep.settings.file}; codes: ${rep.settings.codes}`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `HOTP_COUNTER at the end: tandem file ${c.tandem.file} (expected ${c.tandem.expected}), upstream file ${c.upstream.file} (expected ${c.upstream.expected})`,
    '',
    ...(rep.failures.length ? ['FAILED LOGINS:', ...rep.failures, ''] : []),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The run

const WARMUP_RUNS = 2;
const RUN_TIMEOUT_MS = 20_000;
const RHOST = '192.0.2.10';
const PROMPT = /code: /;

interface Module {
  name: string;
  /** The file this module verifies (null for the floor). */
  file: string | null;
  /** HOTP counter of the next code to answer (advances on each successful login). */
  counter: number;
  stack: string;
  ms: number[];
  failures: number;
}

function describeRun(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' (timed out)' : ''}; output:\n${r.output.trim().split('\n').slice(-12).join('\n')}`;
}

function hotpCode(secret: string, counter: number): string {
  return execFileSync(OATHTOOL, ['--hotp', '-b', '-c', String(counter), secret], { encoding: 'utf8', timeout: 10_000 }).trim();
}

function fileCounter(file: string): number {
  const m = /\n" HOTP_COUNTER ([0-9]+)\n/.exec(readFileSync(file, 'latin1'));
  return m ? Number(m[1]) : NaN;
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
  requireTool(GA_CLI, 'libpam-google-authenticator');
  requireTool(GA_PAM, 'libpam-google-authenticator');
  requireTool(PAMTESTER, 'pamtester');
  requireTool(OATHTOOL, 'oathtool');

  let accounts: LocalAccounts | undefined;
  let work: string | undefined;
  let clients: InstalledClients | undefined;
  const cleanup = (): Promise<void> =>
    cleanupAll('bench-local', [() => accounts?.cleanup(), () => removeWorkDir(work), () => clients && rmSync(clients.prefix, { recursive: true, force: true })]);
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
    say('building and installing pam_tandem and its helper under a root-owned prefix');
    clients = await installClients(makeTrustedPrefix('bench-local'));
    work = makeWorkDir('bench-local');
    accounts = localAccounts('bl');
    const user = await accounts.user('u');
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());

    // The file from the real CLI, in a user-owned 0700 directory, and its twin in another one.
    const userDir = (name: string): string => {
      const dir = join(work!, name);
      mkdirSync(dir, { mode: 0o700 });
      chownSync(dir, uid, gid);
      return dir;
    };
    const fileFlags = ['-c', '-w', '3', '-u'];
    const tandemFile = join(userDir('tandem'), 'ga');
    execFileSync(GA_CLI, [...fileFlags, '-f', '-C', '-q', '-Q', 'NONE', '-s', tandemFile], { env: { HOME: '/root', PATH: '/usr/bin:/bin' }, timeout: 10_000, stdio: 'ignore' });
    chownSync(tandemFile, uid, gid);
    const upstreamFile = join(userDir('upstream'), 'ga');
    copyFileSync(tandemFile, upstreamFile);
    chmodSync(upstreamFile, statSync(tandemFile).mode & 0o7777);
    chownSync(upstreamFile, uid, gid);
    const secret = readFileSync(tandemFile, 'latin1').split('\n')[0]!;
    const startCounter = fileCounter(tandemFile);
    if (!Number.isInteger(startCounter)) throw new Error(`${GA_CLI} ${fileFlags.join(' ')} wrote no HOTP_COUNTER line`);

    const mk = (name: string, file: string | null, stack: string): Module => ({ name, file, counter: startCounter, stack, ms: [], failures: 0 });
    const tandem = mk('pamtester + pam_tandem.so mode=local', tandemFile, `auth required ${clients.pamModule} helper=${clients.helper} mode=local secret=${tandemFile}\n`);
    const upstream = mk('pamtester + pam_google_authenticator.so', upstreamFile, `auth required ${GA_PAM} secret=${upstreamFile}\n`);
    const floor = mk('pamtester + pam_permit.so', null, 'auth required pam_permit.so\n');

    const failures: string[] = [];
    const timed = async (m: Module, record: boolean): Promise<void> => {
      const code = m.file === null ? null : hotpCode(secret, m.counter);
      const t0 = process.hrtime.bigint();
      let r: RunResult;
      try {
        r = await runPamtester(work!, {
          services: { gatest: m.stack },
          service: 'gatest',
          user,
          items: { rhost: RHOST },
          answers: code === null ? [] : [{ when: PROMPT, send: code }],
          timeoutMs: RUN_TIMEOUT_MS,
        });
      } catch (e) {
        if (record) m.failures++;
        failures.push(`${m.name}: ${String(e)}`);
        return;
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.code !== 0 || r.timedOut || !r.output.includes('pamtester: successfully authenticated')) {
        if (record) m.failures++;
        failures.push(`${m.name}${record ? '' : ' (warm-up)'}: ${describeRun(r)}`);
        return;
      }
      if (m.file !== null) m.counter++;
      if (record) m.ms.push(ms);
    };

    const all = [tandem, upstream, floor];
    say(`warm-up: ${WARMUP_RUNS} runs of each module`);
    for (let i = 0; i < WARMUP_RUNS && !interrupted; i++) for (const m of all) await timed(m, false);
    say(`measuring: ${opts.runs} runs of each module, interleaved`);
    for (let i = 0; i < opts.runs && !interrupted; i++) {
      // Alternate which module goes first, so neither always follows the other.
      const order = i % 2 === 0 ? all : [upstream, tandem, floor];
      for (const m of order) await timed(m, true);
    }

    // Each successful login moved its file's counter by one, and nothing else did.
    const counters = {
      tandem: { file: fileCounter(tandemFile), expected: tandem.counter },
      upstream: { file: fileCounter(upstreamFile), expected: upstream.counter },
    };
    for (const [name, c] of Object.entries(counters)) if (c.file !== c.expected) failures.push(`${name} file: HOTP_COUNTER ${c.file}, expected ${c.expected}`);
    const successes = tandem.counter - startCounter + (upstream.counter - startCounter);
    if (successes !== 2 * (WARMUP_RUNS + opts.runs) && failures.length === 0 && !interrupted) failures.push(`${successes} successful logins, expected ${2 * (WARMUP_RUNS + opts.runs)}`);

    const entry = (m: Module): Entry => ({ module: m.name, stats: loginStats(m.ms, m.failures) });
    const t = entry(tandem);
    const u = entry(upstream);
    const rep: Report = {
      date: new Date().toISOString(),
      machine: machine(),
      settings: {
        runs: opts.runs,
        warmupRuns: WARMUP_RUNS,
        file: `google-authenticator ${fileFlags.join(' ')} (HOTP, window 3, no rate limit), a twin copy per module`,
        codes: 'the next HOTP code (oathtool --hotp), computed before the clock starts',
        harness: 'pamtester -v -I rhost=… gatest USER authenticate in a private mount namespace with a tmpfs /etc/pam.d',
      },
      tandem: t,
      upstream: u,
      floor: entry(floor),
      ratio: { authsPerSecond: ratio2(t.stats.authsPerSecond, u.stats.authsPerSecond), medianMs: ratio2(t.stats.medianMs, u.stats.medianMs), p90Ms: ratio2(t.stats.p90Ms, u.stats.p90Ms) },
      counters,
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

runMain('bench-local', main);
