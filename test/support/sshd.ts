// A throwaway OpenSSH sshd on a loopback port, with its own config, host key and PAM stack, plus
// a throwaway local user and an ssh2 keyboard-interactive client to log in with
// (test-environment.md, "A real OpenSSH sshd" and "Real PAM service names").
//
// The PAM service stays the stock name `sshd` (pam_duo changes behaviour on exactly that name:
// sync mode), yet the machine's /etc/pam.d is never touched: sshd runs in a private mount
// namespace (`unshare --mount --propagation private`) whose /etc/pam.d is a tmpfs holding only
// the test's `sshd` file. The namespace, and with it the tmpfs, disappears when sshd exits, even
// if the test process dies. Everything listens on 127.0.0.1; every wait is bounded.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'ssh2';

const run = promisify(execFile);

export const SSHD = '/usr/sbin/sshd';
const SSH_KEYGEN = '/usr/bin/ssh-keygen';
const UNSHARE = '/usr/bin/unshare';
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** Fails naming the Debian package when a program the sshd tests need is missing. */
export function requireSshdTools(): void {
  const need: Array<[string, string]> = [
    [SSHD, 'openssh-server (Debian package)'],
    [SSH_KEYGEN, 'openssh-client (Debian package)'],
    [UNSHARE, 'util-linux (Debian package, for unshare)'],
    ['/usr/sbin/useradd', 'passwd (Debian package, for useradd)'],
    ['/usr/sbin/userdel', 'passwd (Debian package, for userdel)'],
    ['/usr/sbin/chpasswd', 'passwd (Debian package, for chpasswd)'],
    ['/usr/bin/pgrep', 'procps (Debian package, for pgrep)'],
  ];
  for (const [path, component] of need) {
    if (!existsSync(path)) throw new Error(`${component} is not installed (${path} missing): run scripts/install-deps.sh`);
  }
}

/** The installed path of a file from a Debian package (`dpkg -L`), or a failure naming the package. */
export function debianPackageFile(pkg: string, pattern: RegExp): string {
  const r = spawnSync('dpkg', ['-L', pkg], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${pkg} (Debian package) is not installed: run scripts/install-deps.sh (${(r.stderr || r.error?.message || '').trim()})`);
  const file = r.stdout.split('\n').find((l) => pattern.test(l) && existsSync(l));
  if (file === undefined) throw new Error(`${pkg} (Debian package) has no file matching ${pattern}: reinstall it`);
  return file;
}

/** Name → sha256 of content (or link target) and mode, for proving a directory did not change. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = lstatSync(p);
    const body = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isFile() ? createHash('sha256').update(readFileSync(p)).digest('hex') : st.isDirectory() ? 'dir' : 'other';
    out[name] = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${body}`;
  }
  return out;
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Local user

export interface LocalUser {
  name: string;
  password: string;
  /** Waits (bounded) until the user has no processes left, then `userdel -r`. Idempotent. */
  remove(): Promise<void>;
}

// Other tests may add or remove users at the same moment: the shadow tools then refuse with
// "cannot lock /etc/passwd; try again later".
const LOCKED = /cannot lock|try again later/i;
async function withLockRetry<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (err) {
      const text = `${String((err as Error).message)} ${String((err as { stderr?: unknown }).stderr ?? '')}`;
      if (i >= 10 || !LOCKED.test(text)) throw err;
      await sleep(200);
    }
  }
}

/** `useradd -m -s /bin/bash tandem-e2e-<random>` with a random password set through chpasswd. */
export async function createLocalUser(prefix = 'tandem-e2e-'): Promise<LocalUser> {
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  const password = `Pw-${randomBytes(12).toString('base64url')}`;
  await withLockRetry(() => run('/usr/sbin/useradd', ['-m', '-s', '/bin/bash', name]));
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    // sshd's per-connection processes run as the user until the session is torn down.
    for (const deadline = Date.now() + STOP_TIMEOUT_MS; Date.now() < deadline; await sleep(100)) {
      if (spawnSync('/usr/bin/pgrep', ['-u', name]).status !== 0) break;
    }
    let r = spawnSync('/usr/sbin/userdel', ['-r', name], { encoding: 'utf8' });
    for (let i = 0; i < 10 && r.status !== 0 && LOCKED.test(r.stderr); i++) {
      await sleep(200);
      r = spawnSync('/usr/sbin/userdel', ['-r', name], { encoding: 'utf8' });
    }
    // Exit 12 = the home or mail spool could not be removed (there is no spool): still deleted.
    if (r.status !== 0 && r.status !== 12) throw new Error(`userdel -r ${name} failed (${r.status}): ${r.stderr}`);
  };
  try {
    await withLockRetry(() => new Promise<void>((resolve, reject) => {
      const child = execFile('/usr/sbin/chpasswd', (err, _o, stderr) => (err ? reject(new Error(`chpasswd failed: ${stderr}`)) : resolve()));
      child.stdin!.end(`${name}:${password}\n`);
    }));
  } catch (err) {
    await remove();
    throw err;
  }
  return { name, password, remove };
}

// ---------------------------------------------------------------------------------------------
// sshd

export interface SshdOptions {
  /** Contents of the PAM service file `sshd` that this sshd (and only this sshd) sees. */
  pamService: string;
  /** AllowUsers: nobody else may log in. */
  allowUsers: string[];
}

export interface RunningSshd {
  port: number;
  /** The host key's public blob (what ssh2's hostVerifier receives). */
  hostKey: Buffer;
  dir: string;
  logFile: string;
  /** sshd's own log (-E), read fresh each call. */
  log(): string;
  stop(): Promise<void>;
}

export async function startSshd(o: SshdOptions): Promise<RunningSshd> {
  requireSshdTools();
  // sshd's privilege-separation directory; the package normally creates it at boot.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'tandem-sshd-'));
  const hostKeyFile = join(dir, 'ssh_host_ed25519_key');
  const pamFile = join(dir, 'pam.d-sshd');
  const logFile = join(dir, 'sshd.log');
  const pidFile = join(dir, 'sshd.pid');
  const configFile = join(dir, 'sshd_config');
  writeFileSync(pamFile, o.pamService, { mode: 0o644 });
  await run(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'tandem-e2e', '-f', hostKeyFile]);
  const hostKey = Buffer.from(readFileSync(`${hostKeyFile}.pub`, 'utf8').split(' ')[1]!, 'base64');

  let child: ChildProcess | undefined;
  const killNow = (): void => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killNow);
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  try {
    // The free port can be taken before sshd binds it: try another (bounded).
    for (let attempt = 1; ; attempt++) {
      const port = await freeLoopbackPort();
      writeFileSync(configFile, sshdConfig({ port, hostKeyFile, pidFile, allowUsers: o.allowUsers }), { mode: 0o600 });
      const test = spawnSync(SSHD, ['-t', '-f', configFile], { encoding: 'utf8' });
      if (test.status !== 0) throw new Error(`sshd -t rejected the test configuration: ${test.stderr}`);
      rmSync(logFile, { force: true });

      // In the namespace: a tmpfs over /etc/pam.d with only our `sshd` service, then exec sshd
      // (same pid as unshare, so stopping this child stops sshd and ends the namespace).
      const script = [
        'set -e',
        'mount -t tmpfs -o mode=0755,size=1m tandem-e2e-pam /etc/pam.d',
        'cp "$1" /etc/pam.d/sshd',
        'chmod 0644 /etc/pam.d/sshd',
        `exec ${SSHD} -D -f "$2" -E "$3"`,
      ].join('\n');
      const c = spawn(UNSHARE, ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', pamFile, configFile, logFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      let stderr = '';
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      const started = await waitFor(() => readLog().includes(`Server listening on 127.0.0.1 port ${port}`), START_TIMEOUT_MS, exited);
      if (started) {
        const sshd: RunningSshd = {
          port,
          hostKey,
          dir,
          logFile,
          log: readLog,
          async stop() {
            process.removeListener('exit', killNow);
            try {
              await stopChild(c);
            } finally {
              rmSync(dir, { recursive: true, force: true });
            }
          },
        };
        return sshd;
      }
      const log = readLog();
      await stopChild(c);
      if (attempt < 3 && /Address already in use/.test(log)) continue;
      throw new Error(`sshd did not start within ${START_TIMEOUT_MS / 1000} s (exit ${c.exitCode ?? c.signalCode}):\n${stderr}\n${log}`);
    }
  } catch (err) {
    process.removeListener('exit', killNow);
    killNow();
    throw err;
  }
}

/** A locked-down sshd_config for the tests: loopback, keyboard-interactive through PAM only. */
export function sshdConfig(o: { port: number; hostKeyFile: string; pidFile: string; allowUsers: string[]; extra?: string[] }): string {
  return [
    `Port ${o.port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${o.hostKeyFile}`,
    `PidFile ${o.pidFile}`,
    'UsePAM yes',
    'KbdInteractiveAuthentication yes',
    'PasswordAuthentication no',
    'PubkeyAuthentication no',
    'HostbasedAuthentication no',
    'AuthorizedKeysFile none',
    'PermitRootLogin no',
    `AllowUsers ${o.allowUsers.join(' ')}`,
    'UseDNS no',
    'LoginGraceTime 60',
    'MaxAuthTries 3',
    'MaxStartups 10:30:60',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    'AllowStreamLocalForwarding no',
    'AllowAgentForwarding no',
    'PermitTunnel no',
    'PermitUserRC no',
    'LogLevel VERBOSE',
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(t);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 50 ms; false on timeout or when `abort` settles first. */
async function waitFor(cond: () => boolean, timeoutMs: number, abort: Promise<unknown>): Promise<boolean> {
  let aborted = false;
  void abort.then(() => (aborted = true));
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    if (cond()) return true;
    if (aborted) return cond();
  }
  return cond();
}

// ---------------------------------------------------------------------------------------------
// ssh2 keyboard-interactive login

export interface KbdRound {
  name: string;
  instructions: string;
  prompts: Array<{ prompt: string; echo: boolean }>;
  answers: string[];
}

export interface SshLoginResult {
  ok: boolean;
  /** The error message when authentication (or the connection) failed. */
  error?: string;
  rounds: KbdRound[];
  /** stdout of the command, when authentication succeeded. */
  stdout: string;
  exitCode: number | null;
  ms: number;
}

/**
 * Logs in with ssh2 over keyboard-interactive only, answering each prompt with `answer`, and on
 * success runs `command`. Host key pinned to `sshd.hostKey`. Never throws for a refused login.
 * An answer may take time, as a person's does (e.g. the verification-code prompt stays open while
 * a test approves in the app): `readyTimeoutMs` covers the whole authentication, answers included.
 */
export function sshLogin(o: {
  sshd: Pick<RunningSshd, 'port' | 'hostKey'>;
  username: string;
  answer: (prompt: string, round: number) => string | Promise<string>;
  command: string;
  readyTimeoutMs?: number;
}): Promise<SshLoginResult> {
  const t0 = Date.now();
  const rounds: KbdRound[] = [];
  return new Promise((resolve) => {
    const conn = new Client();
    let done = false;
    const finish = (r: Omit<SshLoginResult, 'rounds' | 'ms'>): void => {
      if (done) return;
      done = true;
      clearTimeout(overall);
      conn.end();
      resolve({ ...r, rounds, ms: Date.now() - t0 });
    };
    const readyTimeout = o.readyTimeoutMs ?? 20_000;
    // A hard bound on the whole exchange (connect + auth + command).
    const overall = setTimeout(() => finish({ ok: false, error: `no result within ${readyTimeout + 10_000} ms`, stdout: '', exitCode: null }), readyTimeout + 10_000);
    conn.on('keyboard-interactive', (name, instructions, _lang, prompts, answerAll) => {
      const round = rounds.length + 1;
      const entry: KbdRound = { name, instructions, prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo ?? false })), answers: [] };
      rounds.push(entry);
      Promise.all(prompts.map((p) => o.answer(p.prompt, round))).then(
        (answers) => {
          entry.answers = answers;
          if (!done) answerAll(answers);
        },
        (e: unknown) => finish({ ok: false, error: `answering round ${round} failed: ${e instanceof Error ? e.message : String(e)}`, stdout: '', exitCode: null }),
      );
    });
    conn.on('error', (err) => finish({ ok: false, error: err.message, stdout: '', exitCode: null }));
    conn.on('close', () => finish({ ok: false, error: 'connection closed', stdout: '', exitCode: null }));
    conn.on('ready', () => {
      conn.exec(o.command, (err, stream) => {
        if (err) return finish({ ok: true, error: `exec failed: ${err.message}`, stdout: '', exitCode: null });
        let stdout = '';
        let exitCode: number | null = null;
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', () => undefined);
        stream.on('exit', (code: number | null) => (exitCode = code));
        stream.on('close', () => finish({ ok: true, stdout, exitCode }));
      });
    });
    conn.connect({
      host: '127.0.0.1',
      port: o.sshd.port,
      username: o.username,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      readyTimeout,
      hostVerifier: (key: Buffer) => key.equals(o.sshd.hostKey),
    });
  });
}
