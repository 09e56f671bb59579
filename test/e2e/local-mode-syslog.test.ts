// pam_tandem local mode (`mode=local`) logs the way pam_google_authenticator does: facility
// authpriv, ident `<service>(pam_google_auth)` with the pid, upstream's message texts, so log
// parsers and fail2ban filters written for it keep working. Captured for real: inside each run's
// private mount namespace, /dev is a tmpfs copy of the few nodes the programs need, and /dev/log a
// throwaway unix datagram socket bound by a small listener in Debian's Python that writes each
// datagram (hex) to a file; glibc's syslog() sends there. The same events go through the REAL
// pam_google_authenticator.so (Debian's libpam-google-authenticator) on an identical file at the
// same path, and the lines must match after removing timestamp and pid. Debian 12 ships the 2019
// module (20191231), older than the upstream we follow; two differences are mapped, nothing else:
// its ident suffix is still `(pam_google_authenticator)` (shortened to `(pam_google_auth)` in 2020,
// #172, reference §3.14), and its "Failed to read …" line lacks the `: <strerror>` added in 1.09.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGaFile, scratchCodes } from '../../src/protocol/ga-file.js';
import { localAccounts, makeWorkDir, OATHTOOL, PAMTESTER, removeWorkDir, runInMountNamespace, shellQuote, totp, type LocalAccounts, type RunResult } from '../support/duo-unix.js';
import { installClients, makeTrustedPrefix, type InstalledClients } from '../support/own-clients.js';

const GA_CLI = '/usr/bin/google-authenticator';
const GA_PAM = '/lib/x86_64-linux-gnu/security/pam_google_authenticator.so';
const PYTHON = '/usr/bin/python3';
const SERVICE = 'pamtester';
/** Debian 12's module (20191231) still has the old suffix; ours is upstream's current one. */
const DEBIAN_SUFFIX = '(pam_google_authenticator)';
const OUR_SUFFIX = '(pam_google_auth)';

// The listener: binds the socket, says it is ready, writes each datagram as a hex line, and stops
// at the sentinel datagram (sent after pamtester exits: datagrams are read in order, so every
// log line is on disk by then) or after 60 s of silence.
const LISTENER = `import os, socket, sys
path, out, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
s.settimeout(60)
open(ready, 'w').close()
with open(out, 'w') as f:
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if d == b'\\0tandem-test-end':
            break
        f.write(d.hex() + '\\n')
        f.flush()
`;
const SENTINEL = `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b'\\0tandem-test-end', sys.argv[1])
`;

let accounts: LocalAccounts;
let clients: InstalledClients;
let work: string;
let user: string;
let uid: number;
let gid: number;
let seq = 0;

interface SyslogLine {
  raw: string;
  /** The `<NN>` priority value: facility * 8 + severity. */
  pri: number;
  ident: string;
  pid: number;
  msg: string;
}

interface Captured {
  run: RunResult;
  lines: SyslogLine[];
}

/** glibc's datagram: `<PRI>Mmm dd hh:mm:ss IDENT[PID]: MSG` (no `[PID]` without LOG_PID: pid -1). */
function parseDatagram(hex: string): SyslogLine {
  const raw = Buffer.from(hex, 'hex').toString('utf8');
  const m = /^<(\d+)>[A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d (.*?)(?:\[(\d+)\])?: ([\s\S]*)$/.exec(raw);
  if (!m) throw new Error(`unexpected syslog datagram ${JSON.stringify(raw)}`);
  return { raw, pri: Number(m[1]), ident: m[2]!, pid: m[3] === undefined ? -1 : Number(m[3]), msg: m[4]! };
}

/** pamtester with one module line, in a namespace whose /dev/log is our listener. */
async function captured(moduleLine: string, code: string | null): Promise<Captured> {
  const n = ++seq;
  const dir = join(work, `run${n}`);
  const pamd = join(dir, 'pam.d');
  mkdirSync(pamd, { recursive: true, mode: 0o755 });
  writeFileSync(join(pamd, SERVICE), `${moduleLine}\n`, { mode: 0o644 });
  // libpam logs "no default config other" without it.
  writeFileSync(join(pamd, 'other'), 'auth required pam_deny.so\naccount required pam_deny.so\npassword required pam_deny.so\nsession required pam_deny.so\n', { mode: 0o644 });
  const olddev = join(dir, 'olddev');
  mkdirSync(olddev);
  const out = join(dir, 'syslog.hex');
  const ready = join(dir, 'ready');
  const listener = join(work, 'listener.py');
  const sentinel = join(work, 'sentinel.py');
  const q = (s: string): string => shellQuote([s]);
  const argv = [PAMTESTER, '-v', '-I', 'rhost=192.0.2.10', SERVICE, user, 'authenticate'];
  const script = [
    'mount -t tmpfs -o mode=0755 tandem-pam /etc/pam.d',
    `cp ${q(pamd)}/* /etc/pam.d/`,
    // /dev: a tmpfs with copies of the nodes the programs use; pts and shm bound from the real one.
    `mount --rbind /dev ${q(olddev)}`,
    'mount -t tmpfs -o mode=0755 tandem-dev /dev',
    `for n in null zero full random urandom tty console ptmx fd stdin stdout stderr; do if [ -e ${q(olddev)}/$n ] || [ -L ${q(olddev)}/$n ]; then cp -a ${q(olddev)}/$n /dev/; fi; done`,
    `for n in pts shm; do mkdir /dev/$n; mount --rbind ${q(olddev)}/$n /dev/$n; done`,
    `${PYTHON} ${q(listener)} /dev/log ${q(out)} ${q(ready)} &`,
    'lp=$!',
    `i=0; while [ ! -e ${q(ready)} ]; do i=$((i+1)); if [ $i -gt 200 ]; then echo 'listener not ready' >&2; exit 90; fi; sleep 0.05; done`,
    'rc=0',
    `${shellQuote(argv)} || rc=$?`,
    `${PYTHON} ${q(sentinel)} /dev/log`,
    'wait $lp',
    'exit $rc',
  ];
  const run = await runInMountNamespace(work, script, {
    answers: code === null ? [] : [{ when: /code: /, send: code }],
    timeoutMs: 30_000,
  });
  expect(run.timedOut, run.output).toBe(false);
  expect(existsSync(out), run.output).toBe(true);
  const lines = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(parseDatagram);
  return { run, lines };
}

const tandem = (file: string, extra: string[] = []): string => `auth required ${clients.pamModule} helper=${clients.helper} mode=local secret=${file}${extra.map((a) => ` ${a}`).join('')}`;
const upstream = (file: string, extra: string[] = []): string => `auth required ${GA_PAM} secret=${file}${extra.map((a) => ` ${a}`).join('')}`;

const succeeded = (c: Captured): boolean => c.run.output.includes('pamtester: successfully authenticated');

/** The comparable part of a line: priority, ident (Debian's old suffix mapped), text. */
function comparable(l: SyslogLine): string {
  const ident = l.ident.endsWith(DEBIAN_SUFFIX) ? l.ident.slice(0, -DEBIAN_SUFFIX.length) + OUR_SUFFIX : l.ident;
  return `<${l.pri}>${ident}: ${l.msg}`;
}

/** A six-digit code that matches nothing within upstream's ±25 minute skew search. */
function farWrongCode(secret: string): string {
  const from = new Date(Date.now() - 26 * 60_000).toISOString().replace('T', ' ').replace(/\..*$/, '');
  const near = new Set(execFileSync(OATHTOOL, ['--totp', '-b', '-w', '110', `--now=${from} UTC`, secret], { encoding: 'utf8', timeout: 10_000 }).trim().split('\n'));
  for (let i = 0; ; i++) {
    const c = String((i * 7919 + 123457) % 1_000_000).padStart(6, '0');
    if (!near.has(c)) return c;
  }
}

/** Keep a whole sequence inside one 30-second step. */
async function freshStep(need = 12): Promise<void> {
  const into = (Date.now() / 1000) % 30;
  if (into > 30 - need) await new Promise((r) => setTimeout(r, (30 - into + 0.5) * 1000));
}

/** A pristine file from the real CLI (TOTP, DISALLOW_REUSE, no rate limit) and the place it is used from. */
function fixture(): { pristine: string; dir: string; file: string; secret: string; scratch: string } {
  const dir = join(work, `ga${++seq}`);
  mkdirSync(dir, { mode: 0o700 });
  const pristine = join(work, `pristine${seq}`);
  execFileSync(GA_CLI, ['-t', '-d', '-w', '3', '-u', '-f', '-C', '-q', '-Q', 'NONE', '-s', pristine], { env: { HOME: '/root', PATH: '/usr/bin:/bin' }, timeout: 10_000 });
  chownSync(dir, uid, gid);
  const text = readFileSync(pristine, 'latin1');
  return { pristine, dir, file: join(dir, 'ga'), secret: text.split('\n')[0]!, scratch: scratchCodes(parseGaFile(text))[0]!.code };
}

/** Puts the pristine copy at the file's path (same bytes, owner, mode for each module). */
function restore(f: { pristine: string; file: string }): void {
  rmSync(f.file, { force: true });
  copyFileSync(f.pristine, f.file);
  chmodSync(f.file, 0o600);
  chownSync(f.file, uid, gid);
}

beforeAll(async () => {
  for (const t of [GA_CLI, GA_PAM, PAMTESTER, OATHTOOL, PYTHON]) statSync(t);
  accounts = localAccounts('gs');
  user = await accounts.user('alice');
  uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  clients = await installClients(makeTrustedPrefix('local-syslog'));
  work = makeWorkDir('local-syslog');
  chmodSync(work, 0o755);
  writeFileSync(join(work, 'listener.py'), LISTENER, { mode: 0o644 });
  writeFileSync(join(work, 'sentinel.py'), SENTINEL, { mode: 0o644 });
}, 300_000);

afterAll(async () => {
  await accounts?.cleanup();
  removeWorkDir(work);
  if (clients) rmSync(clients.prefix, { recursive: true, force: true });
});

describe('local mode logs like pam_google_authenticator (captured from /dev/log)', () => {
  it('wrong code, success, reuse, scratch code: authpriv, <service>(pam_google_auth)[pid], upstream texts; equal to the real module', async () => {
    const f = fixture();
    const ident = `${SERVICE}${OUR_SUFFIX}`;
    const events = async (line: (file: string) => string): Promise<Captured[]> => {
      restore(f);
      await freshStep();
      const code = totp(f.secret);
      const out: Captured[] = [];
      out.push(await captured(line(f.file), farWrongCode(f.secret)));
      out.push(await captured(line(f.file), code));
      out.push(await captured(line(f.file), code));
      out.push(await captured(line(f.file), f.scratch));
      return out;
    };

    const ours = await events((p) => tandem(p));
    const show = (cs: Captured[]): string => cs.map((c, i) => `#${i} ${succeeded(c) ? 'ok' : 'denied'}\n${c.lines.map((l) => l.raw).join('\n')}\n${c.run.output}`).join('\n---\n');
    expect(ours.map(succeeded), show(ours)).toEqual([false, true, false, true]);
    for (const c of ours) {
      expect(c.lines.length, show(ours)).toBeGreaterThan(0);
      for (const l of c.lines) {
        expect(l.ident, l.raw).toBe(ident);
        expect(l.pri >> 3, l.raw).toBe(10); // LOG_AUTHPRIV
        expect(l.pri & 7, l.raw).not.toBe(7); // no debug lines without `debug`
        expect(l.pid, l.raw).toBeGreaterThan(1);
      }
      // One process logs every line (the launcher, inside pamtester): one pid per run.
      expect(new Set(c.lines.map((l) => l.pid)).size).toBe(1);
    }
    const [wrong, good, reuse, scratch] = ours as [Captured, Captured, Captured, Captured];
    expect(wrong.lines.map((l) => l.raw)).toContainEqual(expect.stringMatching(new RegExp(`^<83>.* ${ident.replace(/[()]/g, '\\$&')}\\[\\d+\\]: Invalid verification code for ${user}$`)));
    expect(good.lines.map(comparable)).toContain(`<86>${ident}: Accepted google_authenticator for ${user}`);
    expect(reuse.lines.map(comparable)).toContain(
      `<83>${ident}: Trying to reuse a previously used time-based code. ("${f.file}")Retry again in 30 seconds. Warning! This might mean, you are currently subject to a man-in-the-middle attack.`,
    );
    expect(scratch.lines.map(comparable)).toContain(`<86>${ident}: Accepted google_authenticator for ${user}`);
    for (const c of ours) expect(c.lines.map((l) => l.raw).join('\n')).not.toContain(f.scratch);

    // The real module, same file bytes at the same path, same events.
    const theirs = await events((p) => upstream(p));
    expect(theirs.map(succeeded), show(theirs)).toEqual([false, true, false, true]);
    for (const c of theirs) for (const l of c.lines) expect(l.ident, l.raw).toBe(`${SERVICE}${DEBIAN_SUFFIX}`);
    expect(ours.map((c) => c.lines.map(comparable)), `ours:\n${show(ours)}\n\nupstream:\n${show(theirs)}`).toEqual(theirs.map((c) => c.lines.map(comparable)));
  }, 180_000);

  it('a missing secret file: the same lines as the real module', async () => {
    const f = fixture();
    const missing = join(f.dir, 'nope');
    const ours = await captured(tandem(missing), '123456');
    const theirs = await captured(upstream(missing), '123456');
    expect(succeeded(ours)).toBe(false);
    expect(succeeded(theirs)).toBe(false);
    expect(ours.lines.length, ours.run.output).toBeGreaterThan(0);
    // The second version difference: since 1.09 (2020-03) upstream appends `: <strerror>` to
    // "Failed to read …" (reference §3.14/§7); Debian's 2019 module does not. We log HEAD's text.
    const head = theirs.lines.map(comparable).map((t) => (/: Failed to read ".*" for ".*"$/.test(t) ? `${t}: No such file or directory` : t));
    expect(head.some((t) => t.endsWith(`Failed to read "${missing}" for "${user}": No such file or directory`))).toBe(true);
    expect(ours.lines.map(comparable), `ours:\n${ours.lines.map((l) => l.raw).join('\n')}\nupstream:\n${theirs.lines.map((l) => l.raw).join('\n')}`).toEqual(head);
  }, 60_000);

  it('debug: debug lines (authpriv.debug) only with `debug`, and never a scratch code', async () => {
    const f = fixture();
    restore(f);
    const ident = `${SERVICE}${OUR_SUFFIX}`;
    const c = await captured(tandem(f.file, ['debug']), f.scratch);
    expect(succeeded(c), c.run.output).toBe(true);
    const debug = c.lines.filter((l) => l.pri === 10 * 8 + 7);
    expect(debug.map((l) => l.msg)).toContain(`debug: start of google_authenticator for "${user}"`);
    expect(debug.map((l) => l.msg)).toContain(`debug: end of google_authenticator for "${user}". Result: Success`);
    for (const l of c.lines) expect(l.ident, l.raw).toBe(ident);
    expect(c.lines.map((l) => l.raw).join('\n')).not.toContain(f.scratch);
    expect(c.run.output).not.toContain(f.scratch);
    expect(c.lines.map(comparable)).toContain(`<86>${ident}: Accepted google_authenticator for ${user}`);
    // Upstream logs the scratch code here (reference §3.14); we do not.
    restore(f);
    const u = await captured(upstream(f.file, ['debug']), f.scratch);
    expect(succeeded(u), u.run.output).toBe(true);
    expect(u.lines.map((l) => l.msg)).toContain(`debug: scratch code ${f.scratch} used and removed from "${f.file}"`);
  }, 60_000);
});
