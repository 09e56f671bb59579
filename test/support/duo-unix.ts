// Driving Debian's stock duo_unix clients (login_duo, pam_duo.so through pamtester) against a real
// `tandem serve`: client config files, a pseudo-terminal runner that answers prompts, a runner for
// PAM stacks inside a private mount namespace (the machine's /etc/pam.d is never touched), and
// throwaway local users and groups. Loopback only; every wait is bounded. See
// /work/shared/reference/duo_unix.md for the clients' behaviour.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { requireTool, type ServerProcess } from './server-process.js';

export const LOGIN_DUO = '/usr/sbin/login_duo';
export const PAM_DUO = '/lib/x86_64-linux-gnu/security/pam_duo.so';
export const PAMTESTER = '/usr/bin/pamtester';
export const OATHTOOL = '/usr/bin/oathtool';
const SCRIPT = '/usr/bin/script';
const UNSHARE = '/usr/bin/unshare';
const SETPRIV = '/usr/bin/setpriv';
const SYSTEM_PYTHON = '/usr/bin/python3';
/** Where Debian's login_duo reads its config when it runs setuid (no -c allowed then). */
export const LOGIN_DUO_SYSTEM_CONF = '/etc/security/login_duo.conf';

/** Fails (never skips) with the component's name when something the stock-client tests need is missing. */
export function requireDuoUnix(parts: { loginDuo?: boolean; pamDuo?: boolean }): void {
  if (process.getuid?.() !== 0) throw new Error('the duo_unix end-to-end tests must run as root (login_duo -c/-f, mount namespaces, useradd)');
  if (parts.loginDuo) requireTool(LOGIN_DUO, 'login-duo (Debian package)');
  if (parts.pamDuo) {
    requireTool(PAM_DUO, 'libpam-duo (Debian package)');
    requireTool(PAMTESTER, 'pamtester (Debian package)');
  }
  requireTool(OATHTOOL, 'oathtool (Debian package)');
  requireTool(SCRIPT, 'script (util-linux)');
  requireTool(UNSHARE, 'unshare (util-linux)');
  requireTool(SETPRIV, 'setpriv (util-linux)');
  requireTool('/usr/sbin/useradd', 'useradd (passwd package)');
}

// ---------------------------------------------------------------------------------------------
// Work directory, CA copy, config files

/**
 * A fresh directory under /tmp, mode 0755, so that login_duo's privsep user (sshd) and throwaway
 * users can reach the CA copy and config files placed in it.
 */
export function makeWorkDir(tag: string): string {
  const dir = mkdtempSync(join('/tmp', `tandem-${tag}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** The server's CA, world-readable (the server's own copy sits in its 0700 data directory). */
export function copyCa(work: string, srv: Pick<ServerProcess, 'caPem'>): string {
  const path = join(work, 'ca.pem');
  writeFileSync(path, srv.caPem, { mode: 0o644 });
  chmodSync(path, 0o644);
  return path;
}

export interface DuoConf {
  ikey: string;
  skey: string;
  /** `hostname[:port]`, no scheme. */
  host: string;
  cafile?: string;
  failmode?: 'safe' | 'secure';
  groups?: string;
  pushinfo?: boolean;
  autopush?: boolean;
  prompts?: number;
  /** login_duo only (pam_duo parses it and ignores it). */
  accept_env_factor?: boolean;
  /** login_duo only: in pam_duo.conf it is an unknown key. */
  motd?: boolean;
  https_timeout?: number;
}

export function confText(c: DuoConf): string {
  const lines = ['[duo]', `ikey = ${c.ikey}`, `skey = ${c.skey}`, `host = ${c.host}`];
  if (c.cafile !== undefined) lines.push(`cafile = ${c.cafile}`);
  if (c.failmode !== undefined) lines.push(`failmode = ${c.failmode}`);
  if (c.groups !== undefined) lines.push(`groups = ${c.groups}`);
  if (c.pushinfo !== undefined) lines.push(`pushinfo = ${c.pushinfo ? 'yes' : 'no'}`);
  if (c.autopush !== undefined) lines.push(`autopush = ${c.autopush ? 'yes' : 'no'}`);
  if (c.prompts !== undefined) lines.push(`prompts = ${c.prompts}`);
  if (c.accept_env_factor !== undefined) lines.push(`accept_env_factor = ${c.accept_env_factor ? 'yes' : 'no'}`);
  if (c.motd !== undefined) lines.push(`motd = ${c.motd ? 'yes' : 'no'}`);
  if (c.https_timeout !== undefined) lines.push(`https_timeout = ${c.https_timeout}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Writes a login_duo.conf / pam_duo.conf: mode 0600 (the clients refuse, and then fail *open*, on
 * a group- or world-readable file), owned by `owner` (the account that will read it) if given.
 */
export function writeDuoConf(work: string, name: string, c: DuoConf, owner?: string): string {
  const path = join(work, name);
  writeFileSync(path, confText(c), { mode: 0o600 });
  chmodSync(path, 0o600);
  if (owner !== undefined) {
    const { uid, gid } = accountIds(owner);
    chownSync(path, uid, gid);
  }
  return path;
}

export interface Integration {
  ikey: string;
  skey: string;
  host: string;
  cafile: string;
}

/** `tandem integration create --legacy-v1`: duo_unix 1.11.3 signs with the v1 scheme. */
export function createLegacyIntegration(srv: ServerProcess, name: string): Promise<Integration> {
  return srv.json<Integration>(['integration', 'create', '--name', name, '--legacy-v1']);
}

/** The client's config for this server: the certificate is for `localhost`, so host must say so. */
export function clientConf(srv: ServerProcess, integ: Integration, cafile: string, extra: Partial<DuoConf> = {}): DuoConf {
  return { ikey: integ.ikey, skey: integ.skey, host: `localhost:${srv.port}`, cafile, ...extra };
}

/** A loopback TCP port nothing listens on (bound, then released). */
export function closedLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Codes and the client's view of the machine

/** The current TOTP code of a base32 secret, from oathtool (not from Tandem's own code). */
export function totp(secret: string): string {
  return execFileSync(OATHTOOL, ['--totp', '-b', secret], { encoding: 'utf8', timeout: 10_000 }).trim();
}

/** A six-digit code that is not the current (or adjacent) TOTP code of `secret`. */
export function wrongCode(secret: string): string {
  const bad = new Set(
    [-1, 0, 1].map((s) => execFileSync(OATHTOOL, ['--totp', '-b', `--now=${new Date(Date.now() + s * 30_000).toISOString().replace('T', ' ').replace(/\..*$/, '')} UTC`, secret], { encoding: 'utf8', timeout: 10_000 }).trim()),
  );
  for (;;) {
    const c = String(randomBytes(4).readUInt32BE(0) % 1_000_000).padStart(6, '0');
    if (!bad.has(c)) return c;
  }
}

let cachedHostname: string | undefined;
/**
 * The `hostname` duo_unix sends: gethostname() canonicalised through getaddrinfo(AI_CANONNAME)
 * (reference §3.2), computed the same way through Debian's Python.
 */
export function clientHostname(): string {
  if (cachedHostname !== undefined) return cachedHostname;
  let name = hostname();
  try {
    name = execFileSync(SYSTEM_PYTHON, ['-c', 'import socket\nh=socket.gethostname()\ntry:\n print(socket.getaddrinfo(h,None,0,0,0,socket.AI_CANONNAME)[0][3] or h)\nexcept Exception:\n print(h)'], { encoding: 'utf8', timeout: 10_000 }).trim() || name;
  } catch {
    // No Debian Python: the plain host name is what getaddrinfo gives on these machines anyway.
  }
  cachedHostname = name;
  return name;
}

// ---------------------------------------------------------------------------------------------
// Running the clients

export interface Answer {
  /** Answer once this appears in the output (searched after the previous answer's match). */
  when: RegExp;
  send: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout (with stderr merged when run on a pty), CRLF normalised to LF. */
  stdout: string;
  stderr: string;
  /** stdout + stderr, for assertions and failure messages. */
  output: string;
  answered: number;
  timedOut: boolean;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Run under a pseudo-terminal (util-linux `script`), as an interactive login is. */
  pty?: boolean;
  /** Prompts to answer, in order (pty or piped stdin). Without answers and pty, stdin is /dev/null. */
  answers?: Answer[];
  timeoutMs?: number;
}

/** A clean environment: no SSH_CONNECTION, SSH_ORIGINAL_COMMAND or DUO_PASSCODE unless asked for. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C', TERM: 'dumb', SHELL: '/bin/sh', ...extra };
}

export function shellQuote(args: string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Runs a command, answering prompts as they appear. With `pty`, it runs under
 * `script -qfec CMD /dev/null`: the command sees a terminal on stdin/stdout/stderr, our writes
 * are what the user types (echoed by the terminal), and script exits with the command's status.
 */
export function runInteractive(argv: string[], o: RunOptions = {}): Promise<RunResult> {
  const env = baseEnv(o.env);
  const answers = o.answers ?? [];
  const [cmd, args] = o.pty ? [SCRIPT, ['-qfec', shellQuote(argv), '/dev/null']] : [argv[0]!, argv.slice(1)];
  const stdinMode = o.pty || answers.length > 0 ? 'pipe' : 'ignore';
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: [stdinMode, 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let pos = 0;
    let answered = 0;
    let timedOut = false;
    child.stdin?.on('error', () => undefined);
    const advance = (): void => {
      while (answered < answers.length) {
        const a = answers[answered]!;
        const text = o.pty ? stdout : stdout + stderr;
        const re = new RegExp(a.when.source, a.when.flags.replace('g', ''));
        const m = re.exec(text.slice(pos));
        if (!m) return;
        pos += m.index + m[0].length;
        answered++;
        child.stdin?.write(`${a.send}\n`);
      }
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString().replace(/\r\n/g, '\n');
      advance();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString().replace(/\r\n/g, '\n');
      if (!o.pty) advance();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, o.timeoutMs ?? 15_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output: stdout + stderr, answered, timedOut });
    });
  });
}

/** `login_duo` run as root (no privsep: -c and -f allowed), with -d so its log lines go to stderr. */
export function loginDuo(conf: string, opts: { user?: string; host?: string; command?: string[] }, run: RunOptions = {}): Promise<RunResult> {
  const argv = [LOGIN_DUO, '-d', '-c', conf];
  if (opts.user !== undefined) argv.push('-f', opts.user);
  if (opts.host !== undefined) argv.push('-h', opts.host);
  if (opts.command !== undefined) argv.push('--', ...opts.command);
  return runInteractive(argv, run);
}

let nsSeq = 0;
/**
 * Runs a shell script inside a private mount namespace (`unshare --mount --propagation private`):
 * whatever it mounts (a tmpfs over /etc/pam.d, a bind over /etc/security/login_duo.conf) is seen
 * by it and its children only, and disappears with them.
 */
export function runInMountNamespace(work: string, lines: string[], run: RunOptions = {}): Promise<RunResult> {
  const script = join(work, `ns-${++nsSeq}.sh`);
  writeFileSync(script, ['set -eu', ...lines, ''].join('\n'), { mode: 0o700 });
  return runInteractive([UNSHARE, '--mount', '--propagation', 'private', '/bin/sh', script], run);
}

/** `setpriv` to a local account (real and effective ids, its groups); no PAM involved. */
export function asUser(name: string): string[] {
  return [SETPRIV, `--reuid=${name}`, `--regid=${accountIds(name).gid}`, '--init-groups'];
}

/**
 * login_duo as a local (non-root) user, the way Debian deploys it: setuid root, privilege
 * separation to `sshd`, config from /etc/security/login_duo.conf — which, inside the namespace,
 * is our file bind-mounted over it (it must be owned by sshd, mode 0600).
 */
export function loginDuoAsUser(work: string, user: string, conf: string, opts: { host?: string; command?: string[] }, run: RunOptions = {}): Promise<RunResult> {
  const argv = [...asUser(user), LOGIN_DUO, '-d'];
  if (opts.host !== undefined) argv.push('-h', opts.host);
  if (opts.command !== undefined) argv.push('--', ...opts.command);
  return runInMountNamespace(work, [`mount --bind ${shellQuote([conf])} ${LOGIN_DUO_SYSTEM_CONF}`, `exec ${shellQuote(argv)}`], run);
}

export interface PamRun extends RunOptions {
  /** PAM service files by name, e.g. { sshd: 'auth required pam_duo.so conf=/tmp/…' }. */
  services: Record<string, string>;
  service: string;
  user: string;
  /** PAM items for pamtester -I, e.g. { rhost: '198.51.100.20', ruser: 'bob' }. */
  items?: Record<string, string>;
  /** Run pamtester as this local account (real uid), e.g. the caller of `su`. Default root. */
  caller?: string;
}

/**
 * pamtester inside a private mount namespace whose /etc/pam.d is a tmpfs holding only the given
 * service files, so the PAM service can be named exactly `sshd`, `su` or `sudo` (pam_duo changes
 * behaviour on those names) without touching the machine's PAM configuration.
 */
export function runPamtester(work: string, o: PamRun): Promise<RunResult> {
  const dir = join(work, `pam.d-${++nsSeq}`);
  mkdirSync(dir, { mode: 0o755 });
  for (const [name, text] of Object.entries(o.services)) {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`bad PAM service name ${name}`);
    writeFileSync(join(dir, name), text.endsWith('\n') ? text : `${text}\n`, { mode: 0o644 });
  }
  const argv = [...(o.caller !== undefined ? asUser(o.caller) : []), PAMTESTER, '-v'];
  for (const [k, v] of Object.entries(o.items ?? {})) argv.push('-I', `${k}=${v}`);
  argv.push(o.service, o.user, 'authenticate');
  return runInMountNamespace(work, ['mount -t tmpfs -o mode=0755 tandem-pam /etc/pam.d', `cp ${shellQuote([dir])}/* /etc/pam.d/`, `exec ${shellQuote(argv)}`], o);
}

/** Mode, owner, size and content hash of a file, to prove the tests left it alone. */
export function fileFingerprint(path: string): string {
  const st = statSync(path);
  const hash = st.isFile() ? createHash('sha256').update(readFileSync(path)).digest('hex') : '-';
  return `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${hash}`;
}

/** A listing of /etc/pam.d with modes and content hashes, to prove the tests left it alone. */
export function pamDirSnapshot(dir = '/etc/pam.d'): string {
  return readdirSync(dir)
    .sort()
    .map((name) => `${name} ${fileFingerprint(join(dir, name))}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Throwaway local users and groups

function accountIds(name: string): { uid: number; gid: number } {
  const line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs an account tool, retrying while another process holds the passwd/group lock. */
async function accountTool(cmd: string, args: string[]): Promise<void> {
  let last = '';
  for (let i = 0; i < 20; i++) {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(cmd, args, { timeout: 20_000 }, (err, _o, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
    });
    if (r.code === 0) return;
    last = `${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`;
    if (!/lock|try again/i.test(r.stderr)) break;
    await sleep(250);
  }
  throw new Error(last);
}

export interface LocalAccounts {
  /** A prefix unique to this run: every name made here starts with it (≤ 32 characters total). */
  prefix: string;
  name(role: string): string;
  group(role: string): Promise<string>;
  user(role: string, opts?: { groups?: string[] }): Promise<string>;
  /** Removes every user and group made here (users first); safe to call twice. */
  cleanup(): Promise<void>;
}

/** Throwaway local accounts (`useradd`/`groupadd`), removed by cleanup() — call it in afterAll. */
export function localAccounts(tag: string): LocalAccounts {
  const prefix = `td${tag}${randomBytes(2).toString('hex')}`;
  const users: string[] = [];
  const groups: string[] = [];
  const name = (role: string): string => {
    const n = `${prefix}-${role}`;
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(n)) throw new Error(`bad local account name ${n}`);
    return n;
  };
  return {
    prefix,
    name,
    async group(role) {
      const g = name(role);
      await accountTool('groupadd', [g]);
      groups.push(g);
      return g;
    },
    async user(role, opts = {}) {
      const u = name(role);
      // -U: a private primary group of the same name; -M: no home directory to clean up.
      const args = ['-M', '-U', '-s', '/bin/bash', '-d', '/nonexistent'];
      if (opts.groups?.length) args.push('-G', opts.groups.join(','));
      await accountTool('useradd', [...args, u]);
      users.push(u);
      return u;
    },
    async cleanup() {
      const errors: string[] = [];
      for (const u of users.splice(0)) {
        try {
          await accountTool('userdel', ['-f', u]);
        } catch (e) {
          errors.push(String(e));
        }
        // userdel removes the private group too; make sure.
        if (execFileOk('getent', ['group', u])) {
          try {
            await accountTool('groupdel', [u]);
          } catch (e) {
            errors.push(String(e));
          }
        }
      }
      for (const g of groups.splice(0)) {
        try {
          await accountTool('groupdel', [g]);
        } catch (e) {
          errors.push(String(e));
        }
      }
      if (errors.length) throw new Error(errors.join('\n'));
    },
  };
}

function execFileOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when no local account or group with this prefix remains (for the cleanup assertion). */
export function noAccountsLeft(prefix: string): boolean {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const group = readFileSync('/etc/group', 'utf8');
  return !passwd.split('\n').some((l) => l.startsWith(`${prefix}-`)) && !group.split('\n').some((l) => l.startsWith(`${prefix}-`));
}

export function removeWorkDir(work: string | undefined): void {
  if (work) rmSync(work, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// The audit log

export interface LogEntry {
  time: number | string;
  event: string;
  username: string | null;
  factor: string | null;
  result: string | null;
  reason: string | null;
  ipaddr: string | null;
  hostname: string | null;
  integration: string | null;
  txid: string | null;
  detail: unknown;
}

/** The whole authentication log, oldest first. */
export async function auditLog(srv: ServerProcess): Promise<LogEntry[]> {
  const entries = await srv.json<LogEntry[]>(['log', '--limit', '10000']);
  return entries.slice().reverse();
}

/** Entries for one user and event, oldest first. */
export function entriesFor(log: LogEntry[], username: string, event?: string): LogEntry[] {
  return log.filter((e) => e.username === username && (event === undefined || e.event === event));
}
