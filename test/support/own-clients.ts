// Tandem's own Unix clients (pam_tandem.so, login_tandem and the bundled helper) for tests:
// building the artifacts, installing them with `tandem client install --prefix` into a
// root-owned directory (the launchers only run a helper whose every path component is root-owned
// and writable by root alone, so not under /tmp), config files with our `[tandem]` section, PAM
// stacks for pamtester, a TLS man-in-the-middle that tampers with the server's answers, and a
// throwaway sshd with extra settings (ForceCommand). Loopback only; every wait is bounded.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { Client, type ClientChannel } from 'ssh2';
import { shellQuote, type DuoConf } from './duo-unix.js';
import { ensureBuilt, ROOT, runCli, type ServerProcess } from './server-process.js';
import { freeLoopbackPort, requireSshdTools, SSHD, sshdConfig, type RunningSshd } from './sshd.js';

export const HELPER_BUNDLE = join(ROOT, 'dist/tandem-pam-helper.mjs');
export const PAM_TANDEM_BUILD = join(ROOT, 'pam/build/pam_tandem.so');
export const LOGIN_TANDEM_BUILD = join(ROOT, 'pam/build/login_tandem');
export const CLIENT_ACCOUNT = '_tandem';
/** Serialises `make -C pam` between test workers (same machine, same checkout). */
const MAKE_LOCK = '/tmp/tandem-make-pam.lock';

// ---------------------------------------------------------------------------------------------
// Artifacts

let artifacts: Promise<void> | undefined;

/**
 * `make -C pam` (incremental) and `node scripts/build.mjs`, once per worker. Fails naming
 * libpam0g-dev when the C build fails, and naming the missing file when a build produced nothing.
 */
export function ensureClientArtifacts(): Promise<void> {
  artifacts ??= (async () => {
    // Under a lock: the other test files of this run that build pam/ do so at the same time.
    const make = spawnSync('flock', [MAKE_LOCK, 'make', '-C', join(ROOT, 'pam')], { encoding: 'utf8', timeout: 300_000 });
    if (make.status !== 0) {
      throw new Error(`make -C pam failed (${make.status ?? make.signal ?? make.error?.message}); it needs gcc, make and libpam0g-dev (Debian package):\n${make.stdout}\n${make.stderr}`);
    }
    await ensureBuilt();
    for (const [file, how] of [
      [PAM_TANDEM_BUILD, 'make -C pam'],
      [LOGIN_TANDEM_BUILD, 'make -C pam'],
      [HELPER_BUNDLE, 'node scripts/build.mjs (entry point src/client/pam-helper.ts)'],
    ] as const) {
      if (!existsSync(file)) throw new Error(`${how} did not produce ${file}`);
    }
  })();
  return artifacts;
}

export interface InstalledClients {
  prefix: string;
  helper: string;
  pamModule: string;
  loginTandem: string;
  pamConf: string;
  loginConf: string;
  /** The PAM module directory the installer chose, without the prefix. */
  pamModuleDir: string;
}

/**
 * A fresh root-owned prefix under /var/lib (mode 0755: every directory up to / is root-owned and
 * writable by root alone, as the launchers demand; readable by throwaway users, who run the
 * setuid login_tandem from it).
 */
export function makeTrustedPrefix(tag: string): string {
  const dir = mkdtempSync(`/var/lib/tandem-${tag}-`);
  chmodSync(dir, 0o755);
  return dir;
}

/** `tandem client install --prefix DIR --json` through the real CLI (a child process, as root). */
export async function installClients(prefix: string): Promise<InstalledClients> {
  await ensureClientArtifacts();
  const r = await runCli(['client', 'install', '--prefix', prefix, '--json'], {});
  if (r.code !== 0) throw new Error(`tandem client install --prefix ${prefix} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  const j = JSON.parse(r.stdout) as { paths: Omit<InstalledClients, 'prefix' | 'pamModuleDir'> };
  return { prefix, ...j.paths, pamModuleDir: j.paths.pamModule.slice(prefix.length).replace(/\/pam_tandem\.so$/, '') };
}

// ---------------------------------------------------------------------------------------------
// Config files and PAM stacks

export interface TandemConf extends DuoConf {
  send_gecos?: boolean;
  gecos_username_pos?: number;
  gecos_delim?: string;
  fallback_local_ip?: boolean;
  noverify?: boolean;
  http_proxy?: string;
  /** `[tandem] allow_insecure_tls`. */
  allow_insecure_tls?: boolean;
  /** Raw lines appended to `[duo]` (for malformed-config tests). */
  extraDuoLines?: string[];
}

export function tandemConfText(c: TandemConf): string {
  const yn = (b: boolean): string => (b ? 'yes' : 'no');
  const lines = ['[duo]', `ikey = ${c.ikey}`, `skey = ${c.skey}`, `host = ${c.host}`];
  if (c.cafile !== undefined) lines.push(`cafile = ${c.cafile}`);
  if (c.failmode !== undefined) lines.push(`failmode = ${c.failmode}`);
  if (c.groups !== undefined) lines.push(`groups = ${c.groups}`);
  if (c.pushinfo !== undefined) lines.push(`pushinfo = ${yn(c.pushinfo)}`);
  if (c.autopush !== undefined) lines.push(`autopush = ${yn(c.autopush)}`);
  if (c.prompts !== undefined) lines.push(`prompts = ${c.prompts}`);
  if (c.accept_env_factor !== undefined) lines.push(`accept_env_factor = ${yn(c.accept_env_factor)}`);
  if (c.motd !== undefined) lines.push(`motd = ${yn(c.motd)}`);
  if (c.https_timeout !== undefined) lines.push(`https_timeout = ${c.https_timeout}`);
  if (c.send_gecos !== undefined) lines.push(`send_gecos = ${yn(c.send_gecos)}`);
  if (c.gecos_username_pos !== undefined) lines.push(`gecos_username_pos = ${c.gecos_username_pos}`);
  if (c.gecos_delim !== undefined) lines.push(`gecos_delim = ${c.gecos_delim}`);
  if (c.fallback_local_ip !== undefined) lines.push(`fallback_local_ip = ${yn(c.fallback_local_ip)}`);
  if (c.noverify !== undefined) lines.push(`noverify = ${yn(c.noverify)}`);
  if (c.http_proxy !== undefined) lines.push(`http_proxy = ${c.http_proxy}`);
  lines.push(...(c.extraDuoLines ?? []));
  if (c.allow_insecure_tls !== undefined) lines.push('[tandem]', `allow_insecure_tls = ${yn(c.allow_insecure_tls)}`);
  return `${lines.join('\n')}\n`;
}

/** Writes a config file (mode 0600 unless told otherwise), owned by uid/gid when given. */
export function writeTandemConf(dir: string, name: string, text: string, o: { mode?: number; uid?: number; gid?: number } = {}): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: o.mode ?? 0o600 });
  chmodSync(path, o.mode ?? 0o600);
  if (o.uid !== undefined) spawnSync('chown', [`${o.uid}:${o.gid ?? o.uid}`, path]);
  return path;
}

/**
 * A one-module stack: `auth required <prefix>/…/pam_tandem.so conf=… debug [args]` (debug: the
 * module's and the helper's log lines also go to stderr, where the tests read them).
 */
export function tandemStack(c: InstalledClients, conf: string, extraArgs: string[] = []): string {
  return `auth required ${c.pamModule} conf=${conf} debug${extraArgs.map((a) => ` ${a}`).join('')}\n`;
}

// ---------------------------------------------------------------------------------------------
// A TLS man in the middle with the server's own certificate

export type MitmMode =
  /** Forward, and pass the answer back unchanged. */
  | { kind: 'pass' }
  /** Forward, and remove X-Tandem-Signature from the answer. */
  | { kind: 'strip-signature' }
  /** Forward, and flip one hex digit of X-Tandem-Signature. */
  | { kind: 'corrupt-signature' }
  /** Forward, and change one byte of the body (signature kept). */
  | { kind: 'tamper-body' }
  /** Answer every request with this status and body, without asking the server. */
  | { kind: 'status'; status: number; body: string; contentType?: string }
  /** Accept the connection and the request, and never answer. */
  | { kind: 'hang' };

export interface Mitm {
  port: number;
  /** `localhost:<port>`: the certificate is the server's, for localhost. */
  host: string;
  mode: MitmMode;
  /** Request lines seen (`METHOD path`). */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * A TLS server on 127.0.0.1 presenting `cert`/`key` (default: the Tandem server's own, from its
 * data directory, so clients trusting the site CA accept it) that forwards to the server and
 * tampers with the answer as `mode` says (changeable at any time).
 */
export async function startMitm(srv: ServerProcess, mode: MitmMode, tls?: { cert: string; key: string }): Promise<Mitm> {
  const cert = tls?.cert ?? readFileSync(join(srv.dataDir, 'server.pem'), 'utf8');
  const key = tls?.key ?? readFileSync(join(srv.dataDir, 'server.key'), 'utf8');
  const sockets = new Set<Socket>();
  const m: Mitm = { port: 0, host: '', mode, requests: [], stop: async () => undefined };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    m.requests.push(`${req.method} ${req.url}`);
    const mode = m.mode;
    if (mode.kind === 'hang') return;
    if (mode.kind === 'status') {
      req.resume();
      res.writeHead(mode.status, { 'content-type': mode.contentType ?? 'application/json' });
      res.end(mode.body);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const headers = { ...req.headers, host: `localhost:${srv.port}` };
      const up = httpsRequest({ host: '127.0.0.1', port: srv.port, servername: 'localhost', method: req.method, path: req.url, headers, ca: srv.caPem, timeout: 30_000 }, (ures) => {
        const body: Buffer[] = [];
        ures.on('data', (d: Buffer) => body.push(d));
        ures.on('end', () => {
          let b = Buffer.concat(body);
          const h: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(ures.headers)) if (v !== undefined && k !== 'transfer-encoding' && k !== 'connection') h[k] = v;
          const sig = h['x-tandem-signature'];
          if (mode.kind === 'strip-signature') delete h['x-tandem-signature'];
          if (mode.kind === 'corrupt-signature' && typeof sig === 'string' && sig.length > 0) h['x-tandem-signature'] = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
          if (mode.kind === 'tamper-body' && b.length > 0) {
            b = Buffer.from(b);
            // A space inside JSON is harmless to the parser; only the signature can tell.
            const i = b.indexOf(0x7d); // '}'
            b = i > 0 ? Buffer.concat([b.subarray(0, i), Buffer.from(' '), b.subarray(i)]) : Buffer.concat([b, Buffer.from(' ')]);
          }
          h['content-length'] = String(b.length);
          res.writeHead(ures.statusCode ?? 502, h);
          res.end(b);
        });
      });
      up.on('error', (e) => {
        res.writeHead(599);
        res.end(String(e));
      });
      up.end(Buffer.concat(chunks));
    });
  };
  const server: HttpsServer = createHttpsServer({ cert, key }, handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  m.port = (server.address() as { port: number }).port;
  m.host = `localhost:${m.port}`;
  m.stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return m;
}

/** A self-signed certificate for localhost from a CA nobody trusts (openssl). */
export function foreignCert(dir: string): { cert: string; key: string } {
  const certFile = join(dir, 'foreign.pem');
  const keyFile = join(dir, 'foreign.key');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '2', '-keyout', keyFile, '-out', certFile], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl (Debian package) failed: ${r.stderr}`);
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

// ---------------------------------------------------------------------------------------------
// sshd with extra settings (test/support/sshd.ts's config is fixed)

export interface CustomSshdOptions {
  pamService: string;
  allowUsers: string[];
  /** More sshd_config lines (ForceCommand, AcceptEnv, …). */
  extraConfig?: string[];
  /** Shell lines run inside sshd's mount namespace before it starts (bind mounts). */
  namespaceSetup?: string[];
}

const SSH_KEYGEN = '/usr/bin/ssh-keygen';

/** Like startSshd, with extra sshd_config lines and namespace setup. */
export async function startCustomSshd(o: CustomSshdOptions): Promise<RunningSshd> {
  requireSshdTools();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync('/tmp/tandem-own-sshd-');
  const hostKeyFile = join(dir, 'ssh_host_ed25519_key');
  const pamFile = join(dir, 'pam.d-sshd');
  const logFile = join(dir, 'sshd.log');
  const configFile = join(dir, 'sshd_config');
  writeFileSync(pamFile, o.pamService, { mode: 0o644 });
  await new Promise<void>((resolve, reject) => execFile(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'tandem-e2e', '-f', hostKeyFile], (e) => (e ? reject(e) : resolve())));
  const hostKey = Buffer.from(readFileSync(`${hostKeyFile}.pub`, 'utf8').split(' ')[1]!, 'base64');
  const readLog = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let child: ChildProcess | undefined;
  const kill = (): void => {
    try {
      if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  };
  process.once('exit', kill);
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const config = sshdConfig({ port, hostKeyFile, pidFile: join(dir, 'sshd.pid'), allowUsers: o.allowUsers, extra: o.extraConfig ?? [] });
    writeFileSync(configFile, config, { mode: 0o600 });
    const test = spawnSync(SSHD, ['-t', '-f', configFile], { encoding: 'utf8' });
    if (test.status !== 0) throw new Error(`sshd -t rejected the test configuration: ${test.stderr}`);
    rmSync(logFile, { force: true });
    const script = [
      'set -e',
      'mount -t tmpfs -o mode=0755,size=1m tandem-e2e-pam /etc/pam.d',
      `cp ${shellQuote([pamFile])} /etc/pam.d/sshd`,
      'chmod 0644 /etc/pam.d/sshd',
      ...(o.namespaceSetup ?? []),
      `exec ${SSHD} -D -f ${shellQuote([configFile])} -E ${shellQuote([logFile])}`,
    ].join('\n');
    const c = spawn('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    c.once('exit', () => (exited = true));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !exited && !readLog().includes(`Server listening on 127.0.0.1 port ${port}`)) await sleep(50);
    if (readLog().includes(`Server listening on 127.0.0.1 port ${port}`) && !exited) {
      const stop = async (): Promise<void> => {
        process.removeListener('exit', kill);
        if (c.exitCode === null && c.signalCode === null) {
          const gone = new Promise((r) => c.once('exit', r));
          c.kill('SIGTERM');
          const t = setTimeout(() => c.kill('SIGKILL'), 5_000);
          await gone;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      };
      return { port, hostKey, dir, logFile, log: readLog, stop };
    }
    kill();
    const log = readLog();
    if (attempt < 3 && /Address already in use/.test(log)) continue;
    process.removeListener('exit', kill);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`sshd did not start:\n${stderr}\n${log}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------
// ssh2: a session behind ForceCommand

export interface SessionResult {
  /** Authentication (keyboard-interactive) succeeded. */
  authenticated: boolean;
  error?: string;
  /** Everything the session printed (stdout + stderr, CRLF → LF). */
  output: string;
  exitCode: number | null;
  /** Prompts answered in the session (after authentication). */
  answered: number;
}

/**
 * Logs in over keyboard-interactive (every prompt answered with `password`), then either execs
 * `command` (non-interactive: SSH_ORIGINAL_COMMAND set, no pty) with `env`, or opens a shell on a
 * pty, answers `answers` in order as they appear, and finally types `typeAfter` (e.g. a command
 * then `exit`). Never throws; bounded by `timeoutMs`.
 */
export function sshSession(o: {
  sshd: Pick<RunningSshd, 'port' | 'hostKey'>;
  username: string;
  password: string;
  command?: string;
  env?: Record<string, string>;
  answers?: Array<{ when: RegExp; send: string }>;
  typeAfter?: string;
  /** Shell mode: type `typeAfter` once this appears (default: after the last answer). */
  afterWhen?: RegExp;
  timeoutMs?: number;
}): Promise<SessionResult> {
  return new Promise((resolve) => {
    const conn = new Client();
    let authenticated = false;
    let output = '';
    let exitCode: number | null = null;
    let answered = 0;
    let pos = 0;
    let typed = false;
    let done = false;
    const finish = (error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.end();
      resolve({ authenticated, ...(error !== undefined ? { error } : {}), output, exitCode, answered });
    };
    const timer = setTimeout(() => finish(`no result within ${o.timeoutMs ?? 40_000} ms`), o.timeoutMs ?? 40_000);
    const drive = (ch: ClientChannel): void => {
      const answers = o.answers ?? [];
      while (answered < answers.length) {
        const a = answers[answered]!;
        const m = a.when.exec(output.slice(pos));
        if (!m) return;
        pos += m.index + m[0].length;
        answered++;
        ch.write(`${a.send}\n`);
      }
      if (!typed && o.typeAfter !== undefined) {
        if (o.afterWhen !== undefined) {
          const m = o.afterWhen.exec(output.slice(pos));
          if (!m) return;
          pos += m.index + m[0].length;
        }
        typed = true;
        ch.write(o.typeAfter);
      }
    };
    conn.on('keyboard-interactive', (_n, _i, _l, prompts, finishAuth) => finishAuth(prompts.map(() => o.password)));
    conn.on('error', (e) => finish(e.message));
    conn.on('close', () => finish(authenticated ? undefined : 'connection closed'));
    conn.on('ready', () => {
      authenticated = true;
      const onChannel = (err: Error | undefined, ch: ClientChannel): void => {
        if (err) return finish(`channel: ${err.message}`);
        const add = (d: Buffer): void => {
          output += d.toString().replace(/\r\n/g, '\n');
          if (o.command === undefined) drive(ch);
        };
        ch.on('data', add);
        ch.stderr.on('data', add);
        ch.on('exit', (code: number | null) => (exitCode = code));
        ch.on('close', () => finish());
      };
      if (o.command !== undefined) conn.exec(o.command, { env: o.env ?? {} }, onChannel);
      else conn.shell({ term: 'dumb', rows: 24, cols: 200 }, { env: o.env ?? {} }, onChannel);
    });
    conn.connect({
      host: '127.0.0.1',
      port: o.sshd.port,
      username: o.username,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      readyTimeout: 20_000,
      hostVerifier: (key: Buffer) => key.equals(o.sshd.hostKey),
    });
  });
}

// ---------------------------------------------------------------------------------------------
// login_tandem built for a prefix, and stand-in helpers

/**
 * The launchers in a test prefix are variants built for that prefix's helper and config
 * (`make -C pam BUILD=… TANDEM_HELPER=… TANDEM_LOGIN_CONF=…`, pam/Makefile), put in place as the
 * installer does (pam_tandem.so 0644, login_tandem setuid root): login_tandem takes no paths at
 * run time, and pam_tandem.so then needs no `helper=` argument either.
 */
export function buildLaunchersFor(c: InstalledClients, buildDir: string): void {
  const make = spawnSync('make', ['-C', join(ROOT, 'pam'), `BUILD=${buildDir}`, `TANDEM_HELPER=${c.helper}`, `TANDEM_LOGIN_CONF=${c.loginConf}`, `${buildDir}/login_tandem`, `${buildDir}/pam_tandem.so`], { encoding: 'utf8', timeout: 300_000 });
  if (make.status !== 0) throw new Error(`make -C pam (launchers for ${c.prefix}) failed:\n${make.stdout}\n${make.stderr}`);
  for (const [from, to, mode] of [[join(buildDir, 'login_tandem'), c.loginTandem, 0o4755], [join(buildDir, 'pam_tandem.so'), c.pamModule, 0o644]] as const) {
    const tmp = `${to}.new`;
    writeFileSync(tmp, readFileSync(from), { mode: 0o600 });
    spawnSync('chown', ['root:root', tmp]);
    chmodSync(tmp, mode);
    spawnSync('mv', ['-f', tmp, to]);
  }
}

/** A login_tandem built to run `helperPath`, installed setuid root at `target` (for stand-in helpers). */
export function buildLoginTandemVariant(c: InstalledClients, buildDir: string, helperPath: string, target: string, makeVars: string[] = []): void {
  const make = spawnSync('make', ['-C', join(ROOT, 'pam'), `BUILD=${buildDir}`, `TANDEM_HELPER=${helperPath}`, `TANDEM_LOGIN_CONF=${c.loginConf}`, ...makeVars, `${buildDir}/login_tandem`], { encoding: 'utf8', timeout: 300_000 });
  if (make.status !== 0) throw new Error(`make -C pam (login_tandem for ${helperPath}) failed:\n${make.stdout}\n${make.stderr}`);
  writeFileSync(target, readFileSync(join(buildDir, 'login_tandem')), { mode: 0o700 });
  spawnSync('chown', ['root:root', target]);
  chmodSync(target, 0o4755);
}

/** A root-owned, 0644 stand-in helper (a Node script) at a trusted path under the prefix. */
export function writeFakeHelper(c: InstalledClients, name: string, code: string): string {
  const dir = join(c.prefix, 'usr/lib/tandem-fakes');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const path = join(dir, `${name}.mjs`);
  writeFileSync(path, code, { mode: 0o644 });
  chmodSync(path, 0o644);
  return path;
}

/** Reads the transaction rows' `context` (JSON) of a server's SQLite database, by txid. */
export async function transactionContext(srv: ServerProcess, txid: string): Promise<Record<string, unknown> | null> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(srv.dataDir, 'tandem.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT context FROM transactions WHERE txid = ?').get(txid) as { context: string } | undefined;
    return row === undefined ? null : (JSON.parse(row.context) as Record<string, unknown>);
  } finally {
    db.close();
  }
}
