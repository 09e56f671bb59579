// Testing Tandem's own C launchers (pam/: pam_tandem.so and login_tandem) without the server:
// building them, a root-only temporary directory that passes the launchers' ownership checks,
// a FAKE helper (Node) that speaks pam/PROTOCOL.md with scripted behaviours and records what it
// received, and a pamtester runner inside a private mount namespace (the machine's /etc/pam.d is
// never touched). Loopback/no network; every wait is bounded.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runInMountNamespace, shellQuote, type Answer, type RunResult } from './duo-unix.js';
import { requireTool, ROOT } from './server-process.js';

export const PAM_DIR = join(ROOT, 'pam');
export const SHIM_SO = join(PAM_DIR, 'build', 'pam_tandem.so');
export const LOGIN_TANDEM = join(PAM_DIR, 'build', 'login_tandem');
const PAM_HEADER = '/usr/include/security/pam_modules.h';
const PAMTESTER = '/usr/bin/pamtester';
const MAKE = '/usr/bin/make';

/** Fails (never skips) with the component's name when something these tests need is missing. */
export function requirePamShim(): void {
  if (process.getuid?.() !== 0) throw new Error('the PAM shim tests must run as root (root-owned helper, mount namespaces, setuid, useradd)');
  requireTool(MAKE, 'make (Debian package)');
  requireTool('/usr/bin/cc', 'gcc (Debian package)');
  requireTool(PAM_HEADER, 'libpam0g-dev (Debian package)');
  requireTool(PAMTESTER, 'pamtester (Debian package)');
  requireTool('/usr/bin/unshare', 'unshare (util-linux)');
  requireTool('/usr/bin/setpriv', 'setpriv (util-linux)');
  requireTool('/usr/bin/script', 'script (util-linux)');
  requireTool('/usr/bin/findmnt', 'findmnt (util-linux)');
  requireTool('/usr/sbin/useradd', 'useradd (passwd package)');
}

function make(args: string[]): void {
  try {
    execFileSync(MAKE, ['-C', PAM_DIR, ...args], { stdio: 'pipe', timeout: 120_000, encoding: 'utf8' });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    const missing = !existsSync(PAM_HEADER) ? ' (libpam0g-dev (Debian package) is not installed)' : '';
    throw new Error(`make -C pam ${args.join(' ')} failed${missing}: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
}

/** `make -C pam`: pam/build/pam_tandem.so and pam/build/login_tandem. */
export function buildShim(): void {
  if (!existsSync(PAM_HEADER)) throw new Error(`libpam0g-dev (Debian package) is not installed (${PAM_HEADER} missing): apt-get install -y libpam0g-dev`);
  make([]);
}

/**
 * A login_tandem built with test paths (login_tandem takes none at run time): the helper and the
 * privilege-separation account. Returned path is `<buildDir>/login_tandem`, root-owned 0755.
 */
export function buildLoginVariant(buildDir: string, o: { helper: string; privsepUser: string }): string {
  const bin = join(buildDir, 'login_tandem');
  make([`BUILD=${buildDir}`, `TANDEM_HELPER=${o.helper}`, `TANDEM_PRIVSEP_USER=${o.privsepUser}`, bin]);
  chmodSync(buildDir, 0o755);
  return bin;
}

function trustedChain(path: string): boolean {
  for (let p = path; ; p = dirname(p)) {
    const st = statSync(p);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
    if (p === '/') return true;
  }
}

/**
 * A fresh directory that passes the launchers' checks (it and every parent root-owned, not
 * group/other-writable — so not under /tmp), mode 0755 so throwaway users can reach it, on a
 * file system mounted without nosuid/noexec (a setuid copy of login_tandem runs from it).
 */
export function trustedTempDir(tag: string): string {
  const tried: string[] = [];
  for (const base of ['/run', '/var/lib', '/usr/local/lib']) {
    if (!existsSync(base) || !trustedChain(base)) {
      tried.push(`${base} (not root-only)`);
      continue;
    }
    const opts = execFileSync('/usr/bin/findmnt', ['-n', '-o', 'OPTIONS', '-T', base], { encoding: 'utf8', timeout: 10_000 });
    if (/\b(nosuid|noexec)\b/.test(opts)) {
      tried.push(`${base} (${opts.trim()})`);
      continue;
    }
    const dir = mkdtempSync(join(base, `tandem-${tag}-`));
    chownSync(dir, 0, 0);
    chmodSync(dir, 0o755);
    return dir;
  }
  throw new Error(`no root-only directory on a suid/exec mount for the shim tests; tried ${tried.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------
// The fake helper

/** What the fake helper recorded (JSON, rewritten after every step). */
export interface FakeRecord {
  /** The request block, raw lines, `TANDEM-PAM 1` … `END`. */
  request: string[];
  /** Raw lines received after each prompt (`ANSWER …` / `NOANSWER`, null at EOF). */
  answers: Array<string | null>;
  env: Record<string, string>;
  argv: string[];
  uid: number;
  gid: number;
  groups: number[];
  pid: number;
  scenario: string;
}

export interface FakeDefaults {
  scenario: string;
  /** Where to record when neither ARG record= nor a readable conf= JSON file says. */
  record: string;
}

/**
 * The fake helper. Behaviour comes from ARG `scenario=NAME` / `record=PATH` (pam_tandem module
 * arguments), else from the `conf=` file read as JSON `{"scenario": …, "record": …, "raw": …}`
 * (login_tandem -c), else the baked-in defaults. `raw=HEX` (ARG or JSON) is for scenario `raw`.
 * Output goes through writeSync on the raw descriptors (never process.stdout/stderr streams),
 * so every line is on the pipe before the process dies or exits.
 */
export function fakeHelperSource(defaults: FakeDefaults): string {
  return `// Fake tandem-pam-helper for test/e2e/pam-shim.test.ts (generated by test/support/pam-shim.ts).
import { readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
const DEFAULTS = ${JSON.stringify(defaults)};
function put(fd, data) {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  for (let off = 0; off < buf.length; ) {
    try { off += writeSync(fd, buf, off); } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
}
const out = (s) => put(1, s);
const decode = (s) => s.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
let pending = '';
const queue = [];
const waiters = [];
let ended = false;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  pending += d;
  for (let i; (i = pending.indexOf('\\n')) >= 0; ) {
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    if (waiters.length) waiters.shift()(line); else queue.push(line);
  }
});
process.stdin.on('end', () => { ended = true; while (waiters.length) waiters.shift()(null); });
const next = () => queue.length ? Promise.resolve(queue.shift()) : ended ? Promise.resolve(null) : new Promise((r) => waiters.push(r));

const request = [];
for (;;) {
  const l = await next();
  if (l === null) process.exit(3);
  request.push(l);
  if (l === 'END') break;
}
const args = request.filter((l) => l.startsWith('ARG ')).map((l) => decode(l.slice(4)));
const arg = (k) => { const a = args.find((x) => x.startsWith(k + '=')); return a === undefined ? undefined : a.slice(k.length + 1); };
const cfg = { ...DEFAULTS };
if (arg('conf') !== undefined) { try { Object.assign(cfg, JSON.parse(readFileSync(arg('conf'), 'utf8'))); } catch { /* not ours */ } }
for (const k of ['scenario', 'record', 'raw']) if (arg(k) !== undefined) cfg[k] = arg(k);
const rec = { request, answers: [], env: { ...process.env }, argv: process.argv, uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), pid: process.pid, scenario: cfg.scenario };
const save = () => { writeFileSync(cfg.record + '.tmp', JSON.stringify(rec)); renameSync(cfg.record + '.tmp', cfg.record); };
save();
async function ask(verb, text) {
  out(verb + ' ' + text + '\\n');
  const a = await next();
  rec.answers.push(a);
  save();
  return a;
}
const forever = () => setInterval(() => undefined, 1000);

switch (cfg.scenario) {
  case 'success':
  case 'prompt-on': {
    const a = await ask(cfg.scenario === 'success' ? 'PROMPT_OFF' : 'PROMPT_ON', 'Tandem two-factor login%0APasscode: ');
    if (a !== null && a.startsWith('ANSWER ')) out('INFO Welcome back.\\nRESULT success passcode\\n');
    else out('ERROR No passcode.\\nRESULT deny no-answer\\n');
    break;
  }
  case 'silent': out('RESULT success silent\\n'); break;
  case 'deny': out('ERROR Access denied.\\nRESULT deny test%20denial\\n'); break;
  case 'ignore': out('RESULT ignore\\n'); break;
  case 'setauthtok': out('SETAUTHTOK s3cr%25et x\\nRESULT success\\n'); break;
  case 'stderr-flood':
    put(2, '[warning] first line\\twith a tab\\n');
    for (let i = 0; i < 3000; i++) put(2, 'helper log line ' + i + ' ' + 'x'.repeat(100) + '\\n');
    put(2, 'y'.repeat(5000) + '\\n');
    out('RESULT success\\n');
    break;
  case 'maxline': out('INFO ' + 'm'.repeat(8192 - 6) + '\\nRESULT success\\n'); break;
  case 'oversized': out('INFO ' + 'o'.repeat(9000) + '\\nRESULT success\\n'); break;
  case 'raw': out(Buffer.from(cfg.raw, 'hex')); out('RESULT success\\n'); break;
  case 'eof': process.exit(0); break;
  case 'exit1': out('RESULT success\\n'); process.exit(1); break;
  case 'kill-mid': out('INFO working\\n'); process.kill(process.pid, 'SIGKILL'); break;
  case 'kill-after-result': out('RESULT success\\n'); process.kill(process.pid, 'SIGKILL'); break;
  case 'hang': out('INFO waiting\\n'); forever(); break;
  case 'hang-after-result': out('RESULT success\\n'); forever(); break;
  case 'junk-after-result': out('RESULT success\\nINFO late\\n'); break;
  default: out('RESULT deny unknown-scenario\\n');
}
`;
}

/** Writes the fake helper: root-owned, mode 0644, in a directory that must already be trusted. */
export function writeFakeHelper(path: string, defaults: FakeDefaults): string {
  writeFileSync(path, fakeHelperSource(defaults), { mode: 0o644 });
  chownSync(path, 0, 0);
  chmodSync(path, 0o644);
  return path;
}

export function readRecord(path: string): FakeRecord | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as FakeRecord;
}

/** True if a process with this pid exists (signal 0). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// pamtester

export interface ShimPamRun {
  /** The module line's control field; default `required`. */
  control?: string;
  /** Module arguments, verbatim (PAM's `[...]` syntax for values with spaces). */
  args: string[];
  /** Auth lines before / after ours in the service file. */
  before?: string[];
  after?: string[];
  /** PAM service name (the file under the namespace's /etc/pam.d); default `tandem-test`. */
  service?: string;
  user?: string;
  /** pamtester -I items (rhost, ruser, tty). */
  items?: Record<string, string>;
  /** pamtester -E: the PAM environment (pam_putenv). */
  pamEnv?: Record<string, string>;
  /** Process environment of pamtester (on top of duo-unix baseEnv). */
  env?: Record<string, string>;
  /** A shell command list whose output is piped into pamtester's stdin, e.g. `sleep 2; echo 1`. */
  stdinScript?: string;
  answers?: Answer[];
  timeoutMs?: number;
}

let svcSeq = 0;

/** pamtester `authenticate` against one service file, in a private mount namespace. */
export async function runShimPam(work: string, so: string, o: ShimPamRun): Promise<RunResult & { elapsedMs: number }> {
  const service = o.service ?? 'tandem-test';
  const dir = join(work, `pam.d-shim-${++svcSeq}`);
  mkdirSync(dir, { mode: 0o755 });
  const lines = [...(o.before ?? []), `auth ${o.control ?? 'required'} ${so} ${o.args.join(' ')}`, ...(o.after ?? [])];
  writeFileSync(join(dir, service), `${lines.join('\n')}\n`, { mode: 0o644 });
  const argv = [PAMTESTER, '-v'];
  for (const [k, v] of Object.entries(o.items ?? {})) argv.push('-I', `${k}=${v}`);
  for (const [k, v] of Object.entries(o.pamEnv ?? {})) argv.push('-E', `${k}=${v}`);
  argv.push(service, o.user ?? 'alice', 'authenticate');
  const run = o.stdinScript !== undefined ? `(${o.stdinScript}) | ${shellQuote(argv)}` : `exec ${shellQuote(argv)}`;
  const t0 = Date.now();
  const r = await runInMountNamespace(work, ['mount -t tmpfs -o mode=0755 tandem-pam /etc/pam.d', `cp ${shellQuote([dir])}/* /etc/pam.d/`, run], {
    env: o.env,
    answers: o.answers,
    timeoutMs: o.timeoutMs ?? 15_000,
  });
  return { ...r, elapsedMs: Date.now() - t0 };
}
