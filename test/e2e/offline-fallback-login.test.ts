// `[tandem] offline_fallback = local` (hybrid mode, issue 5) through login_tandem: the setuid
// launcher runs the helper as _tandem (network phase, all ids dropped); only when that helper found
// the server unreachable before any auth request does the launcher start a second helper, as
// root, that checks the root-owned google-authenticator file (written by the real CLI, codes from
// oathtool). Driven directly (setpriv to a throwaway user, on a pty), as root with -c/-f, and as a
// real OpenSSH sshd's ForceCommand (interactive shell, and `ssh host cmd` with DUO_PASSCODE).
// Loopback only; every wait is bounded.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUser, closedLoopbackPort, copyCa, makeWorkDir, OATHTOOL, removeWorkDir, runInteractive, totp, wrongCode, type Integration, type RunResult } from '../support/duo-unix.js';
import {
  buildLaunchersFor,
  buildLoginTandemVariant,
  CLIENT_ACCOUNT,
  foreignCert,
  installClients,
  makeTrustedPrefix,
  sshSession,
  startCustomSshd,
  startMitm,
  tandemConfText,
  writeFakeHelper,
  writeTandemConf,
  type InstalledClients,
  type Mitm,
  type TandemConf,
} from '../support/own-clients.js';
import { cleanupAll, requireTool, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createLocalUser, requireSshdTools, type LocalUser, type RunningSshd } from '../support/sshd.js';

const GA_CLI = '/usr/bin/google-authenticator';
const LOCAL_PROMPT = /Verification code: ?$/m;
const ANY_PROMPT = /(Verification code|passcode[^\n]*): ?$/im;

let srv: ServerProcess;
let clients: InstalledClients;
let buildDir: string | undefined;
let work: string;
let ca: string;
let integ: Integration;
let user: LocalUser;
let serverSecret: string;
let secretDir: string;
let sshd: RunningSshd | undefined;
let mitm: Mitm | undefined;

function show(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

/** uid and gid of the _tandem account (login_tandem's first helper reads the config as it). */
function serviceAccountIds(): { uid: number; gid: number } {
  const f = execFileSync('getent', ['passwd', CLIENT_ACCOUNT], { encoding: 'utf8' }).split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function uidOf(name: string): number {
  return Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
}

/** The user's local code file, `<secretDir>/<user>`, fresh from the real CLI (root:root 0400); returns its secret. */
function rootFileFor(name: string): { file: string; secret: string } {
  const file = join(secretDir, name);
  rmSync(file, { force: true });
  execFileSync(GA_CLI, ['-t', '-d', '-w', '3', '-u', '-f', '-C', '-q', '-Q', 'NONE', '-s', file], { env: { HOME: '/root', PATH: '/usr/bin:/bin' }, timeout: 10_000 });
  return { file, secret: readFileSync(file, 'latin1').split('\n')[0]! };
}

function confText(host: string, o: { offline?: boolean; extra?: Partial<TandemConf>; extraTandem?: string[] } = {}): string {
  const text = tandemConfText({ ikey: integ.ikey, skey: integ.skey, host, cafile: ca, failmode: 'secure', prompts: 1, ...o.extra });
  if (o.offline === false) return text;
  return `${text}[tandem]\noffline_fallback = local\noffline_options = secret=${secretDir}/\${USER} user=root\n${(o.extraTandem ?? []).map((l) => `${l}\n`).join('')}`;
}

/** login_tandem's compiled-in config (what non-root runs and the ForceCommand read): _tandem's, 0600. */
function setLoginConf(text: string): void {
  writeTandemConf(clients.prefix, 'etc/tandem/login_tandem.conf', text, serviceAccountIds());
}

async function unreachable(): Promise<string> {
  return `localhost:${await closedLoopbackPort()}`;
}

/** login_tandem -d as the throwaway user on a pty (the compiled-in config), answering `code`. */
function direct(code: string | null, command = 'RAN-OFFLINE', env: Record<string, string> = {}): Promise<RunResult> {
  return runInteractive([...asUser(user.name), clients.loginTandem, '-d', '--', '/bin/echo', command], {
    pty: true,
    env,
    answers: code === null ? [] : [{ when: ANY_PROMPT, send: code }],
    timeoutMs: 40_000,
  });
}

/** At least 8 s left in the current 30 s step, so that one code stays current across two logins. */
async function freshStep(): Promise<void> {
  const into = (Date.now() / 1000) % 30;
  if (into > 22) await new Promise((r) => setTimeout(r, (30 - into + 0.5) * 1000));
}

const ran = (r: RunResult, what: string): void => {
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.code, show(r)).toBe(0);
  expect(r.output, show(r)).toContain(what);
};
const refused = (r: RunResult, what: string): void => {
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.code, show(r)).toBe(1);
  expect(r.output, show(r)).toContain('Tandem login failed');
  expect(r.output.split('\n').filter((l) => l.trim() === what), show(r)).toEqual([]);
};

beforeAll(async () => {
  requireTool(OATHTOOL, 'oathtool (Debian package)');
  requireTool(GA_CLI, 'google-authenticator (Debian package libpam-google-authenticator)');
  requireTool('/usr/bin/script', 'script (Debian package bsdutils)');
  requireSshdTools();
  clients = await installClients(makeTrustedPrefix('offline-login'));
  buildDir = mkdtempSync('/tmp/tandem-launchers-build-');
  buildLaunchersFor(clients, buildDir);
  srv = await startServerProcess();
  work = makeWorkDir('offline-login');
  ca = copyCa(work, srv);
  integ = await srv.json<Integration>(['integration', 'create', '--name', 'offline-login-e2e']);
  user = await createLocalUser('tdol-');
  await srv.json(['user', 'create', user.name]);
  serverSecret = (await srv.json<{ secret: string }>(['token', 'add', user.name, '--type', 'totp'])).secret;
  secretDir = mkdtempSync('/var/lib/tandem-offline-secrets-');
  chmodSync(secretDir, 0o755);
  sshd = await startCustomSshd({
    allowUsers: [user.name],
    pamService: ['auth requisite pam_unix.so', 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'),
    // -d: login_tandem's and the helpers' log lines go to the session's stderr, for the asserts.
    extraConfig: [`ForceCommand ${clients.loginTandem} -d`, 'AcceptEnv DUO_PASSCODE'],
  });
}, 300_000);

afterAll(async () => {
  await cleanupAll('offline-fallback-login', [
    () => sshd?.stop(),
    () => mitm?.stop(),
    () => srv?.stop(),
    () => user?.remove(),
    () => removeWorkDir(work),
    () => clients && rmSync(clients.prefix, { recursive: true, force: true }),
    () => buildDir && rmSync(buildDir, { recursive: true, force: true }),
    () => secretDir && rmSync(secretDir, { recursive: true, force: true }),
  ]);
}, 120_000);

describe('login_tandem, offline_fallback = local, server unreachable (closed loopback port)', () => {
  it('direct run: the right code from the root-owned file → the command runs, and the fallback is logged', async () => {
    setLoginConf(confText(await unreachable()));
    const f = rootFileFor(user.name);
    await freshStep();
    const r = await direct(totp(f.secret));
    ran(r, 'RAN-OFFLINE');
    expect(r.answered, show(r)).toBe(1);
    expect(r.output).toMatch(LOCAL_PROMPT);
    expect(r.output).toContain('server unreachable, running the offline fallback check as root');
    expect(r.output).toContain(`Tandem server unreachable; checked local code file ${f.file} for '${user.name}': accepted`);
    expect(r.output).not.toMatch(/Failsafe|Failsecure/);
  });

  it('a wrong code → refused, logged', async () => {
    setLoginConf(confText(await unreachable()));
    const f = rootFileFor(user.name);
    const r = await direct(wrongCode(f.secret));
    refused(r, 'RAN-OFFLINE');
    expect(r.output).toContain(`checked local code file ${f.file} for '${user.name}': denied (invalid-code)`);
  });

  it('a code used once is refused the second time (DISALLOW_REUSE in the file)', async () => {
    setLoginConf(confText(await unreachable()));
    const f = rootFileFor(user.name);
    await freshStep();
    const code = totp(f.secret);
    ran(await direct(code, 'FIRST-USE'), 'FIRST-USE');
    const again = await direct(code, 'SECOND-USE');
    refused(again, 'SECOND-USE');
    expect(again.output).toContain(`checked local code file ${f.file} for '${user.name}': denied (invalid-code)`);
    // The file is still root's, 0400, after the update written by the root helper.
    const st = statSync(f.file);
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o400]);
  });

  it('a file owned by the user → refused with a log line, even with the right code', async () => {
    setLoginConf(confText(await unreachable()));
    const f = rootFileFor(user.name);
    const uid = uidOf(user.name);
    chownSync(f.file, uid, uid);
    await freshStep();
    const r = await direct(totp(f.secret));
    refused(r, 'RAN-OFFLINE');
    expect(r.output).toContain(`Offline fallback refused "${f.file}": it must be owned by root, not uid ${uid}`);
    expect(r.output).toContain(`checked local code file ${f.file} for '${user.name}': denied`);
  });

  it('a root-owned file the user may write → refused with a log line, even with the right code', async () => {
    setLoginConf(confText(await unreachable()));
    const f = rootFileFor(user.name);
    chmodSync(f.file, 0o646);
    await freshStep();
    const r = await direct(totp(f.secret));
    refused(r, 'RAN-OFFLINE');
    expect(r.output).toContain(`Offline fallback refused "${f.file}": it must not be group- or other-writable (mode 0646`);
    expect(r.output).toContain(`checked local code file ${f.file} for '${user.name}': denied`);
  });

  it('DUO_PASSCODE (accept_env_factor), headless: the env code is the one attempt; right → runs, wrong → refused', async () => {
    setLoginConf(confText(await unreachable(), { extra: { accept_env_factor: true } }));
    const f = rootFileFor(user.name);
    await freshStep();
    const okRun = await runInteractive([...asUser(user.name), clients.loginTandem, '-d', '--', 'echo ENV-RAN; env'], { env: { DUO_PASSCODE: totp(f.secret) }, timeoutMs: 40_000 });
    ran(okRun, 'ENV-RAN');
    expect(okRun.output).toContain(`checked local code file ${f.file} for '${user.name}': accepted`);
    expect(okRun.stdout).not.toContain('DUO_PASSCODE');
    const bad = await runInteractive([...asUser(user.name), clients.loginTandem, '-d', '--', '/bin/echo', 'ENV-BAD'], { env: { DUO_PASSCODE: wrongCode(f.secret) }, timeoutMs: 40_000 });
    refused(bad, 'ENV-BAD');
    expect(bad.output).toContain('denied (invalid-code)');
  });

  it('as root with -c and -f USER: the -f user\'s file is checked, then the command runs', async () => {
    const path = writeTandemConf(work, 'as-root.conf', confText(await unreachable()), serviceAccountIds());
    const f = rootFileFor(user.name);
    rmSync(join(secretDir, 'root'), { force: true });
    await freshStep();
    const r = await runInteractive([clients.loginTandem, '-d', '-c', path, '-f', user.name, '--', '/bin/echo', 'RAN-AS-ROOT'], {
      pty: true,
      answers: [{ when: LOCAL_PROMPT, send: totp(f.secret) }],
      timeoutMs: 40_000,
    });
    ran(r, 'RAN-AS-ROOT');
    expect(r.output).toContain(`checked local code file ${f.file} for '${user.name}': accepted`);
  });

  it('without offline_fallback nothing changes: failsecure, no second (root) helper', async () => {
    setLoginConf(confText(await unreachable(), { offline: false }));
    const f = rootFileFor(user.name);
    const before = readFileSync(f.file, 'latin1');
    const r = await direct(totp(f.secret));
    refused(r, 'RAN-OFFLINE');
    expect(r.answered).toBe(0);
    expect(r.output).toContain('Failsecure Tandem login');
    expect(r.output).not.toContain('offline fallback check as root');
    expect(readFileSync(f.file, 'latin1')).toBe(before);
  });
});

describe('login_tandem, offline_fallback = local, server reachable or failing otherwise: the file is never consulted', () => {
  function untouched(r: RunResult, file: string, before: string): void {
    expect(r.output, show(r)).not.toContain('checked local code file');
    expect(r.output, show(r)).not.toContain('offline fallback check as root');
    expect(readFileSync(file, 'latin1')).toBe(before);
  }

  it('the server denies a code that only the local file would accept; the server\'s code still works', async () => {
    setLoginConf(confText(`localhost:${srv.port}`));
    const f = rootFileFor(user.name);
    const before = readFileSync(f.file, 'latin1');
    await freshStep();
    const local = totp(f.secret);
    expect(local).not.toBe(totp(serverSecret));
    const r = await direct(local);
    refused(r, 'RAN-OFFLINE');
    untouched(r, f.file, before);
    await freshStep();
    ran(await direct(totp(serverSecret), 'SERVER-OK'), 'SERVER-OK');
  });

  it('a TLS error (a certificate from a CA nobody trusts) denies', async () => {
    mitm = await startMitm(srv, { kind: 'pass' }, foreignCert(work));
    setLoginConf(confText(mitm.host));
    const f = rootFileFor(user.name);
    const before = readFileSync(f.file, 'latin1');
    await freshStep();
    const r = await direct(totp(f.secret));
    refused(r, 'RAN-OFFLINE');
    untouched(r, f.file, before);
    await mitm.stop();
    mitm = undefined;
  });

  it('a config error denies (before any network)', async () => {
    // A bad value under [duo] (the server is unreachable too: the config decides first).
    setLoginConf(confText(await unreachable(), { extra: { extraDuoLines: ['https_timeout = soon'] } }));
    const f = rootFileFor(user.name);
    const before = readFileSync(f.file, 'latin1');
    const r = await direct(totp(f.secret));
    refused(r, 'RAN-OFFLINE');
    untouched(r, f.file, before);
    expect(r.output).toMatch(/Config error/);
  });
});

describe('login_tandem as a real sshd\'s ForceCommand, server unreachable', () => {
  it('interactive shell: the local prompt on the terminal, the code, then the shell', async () => {
    setLoginConf(confText(await unreachable()));
    const f = rootFileFor(user.name);
    await freshStep();
    const code = totp(f.secret);
    const r = await sshSession({ sshd: sshd!, username: user.name, password: user.password, answers: [{ when: LOCAL_PROMPT, send: code }], typeAfter: 'echo SHELL-$((40+2)); exit\n', afterWhen: /\$ ?$|# ?$|> ?$/m, timeoutMs: 40_000 });
    expect(r.authenticated, JSON.stringify(r)).toBe(true);
    expect(r.answered, `${r.output}\n${sshd!.log()}`).toBe(1);
    expect(r.output).toContain('SHELL-42');
    expect(r.output).toContain(`checked local code file ${f.file} for '${user.name}': accepted`);
  });

  it('interactive shell: a wrong code ends the session', async () => {
    setLoginConf(confText(await unreachable()));
    const f = rootFileFor(user.name);
    const r = await sshSession({ sshd: sshd!, username: user.name, password: user.password, answers: [{ when: LOCAL_PROMPT, send: wrongCode(f.secret) }], typeAfter: 'echo SHELL-$((40+2)); exit\n', afterWhen: /Tandem login failed/, timeoutMs: 40_000 });
    expect(r.answered, `${r.output}\n${sshd!.log()}`).toBe(1);
    expect(r.output).toContain('Tandem login failed');
    expect(r.output).not.toContain('SHELL-42');
  });

  it('ssh host cmd with DUO_PASSCODE (accept_env_factor): runs, and the command never sees DUO_PASSCODE', async () => {
    setLoginConf(confText(await unreachable(), { extra: { accept_env_factor: true } }));
    const f = rootFileFor(user.name);
    await freshStep();
    const code = totp(f.secret);
    const r = await sshSession({ sshd: sshd!, username: user.name, password: user.password, command: 'echo FORCED-OK; env', env: { DUO_PASSCODE: code }, timeoutMs: 40_000 });
    expect(r.authenticated, JSON.stringify(r)).toBe(true);
    expect(r.output, `${r.output}\n${sshd!.log()}`).toContain('FORCED-OK');
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain(`checked local code file ${f.file} for '${user.name}': accepted`);
    expect(r.output).not.toMatch(/^DUO_PASSCODE=/m);
  });

  it('ssh host cmd without DUO_PASSCODE: nobody to ask, refused', async () => {
    setLoginConf(confText(await unreachable(), { extra: { accept_env_factor: true } }));
    rootFileFor(user.name);
    const r = await sshSession({ sshd: sshd!, username: user.name, password: user.password, command: 'echo SHOULD-NOT-RUN', timeoutMs: 40_000 });
    expect(r.authenticated).toBe(true);
    expect(r.output).not.toContain('SHOULD-NOT-RUN');
    expect(r.output).toContain('Tandem login failed');
    expect(r.exitCode).not.toBe(0);
  });
});

describe('login_tandem starts the root run only for a config that asks for it', () => {
  // A stand-in helper that always claims an unreachable server, as a subverted network phase
  // could: it logs its uid and whether it was the offline-check run, then asks for the check.
  const LIAR = [
    'let b = "", done = false;',
    'process.stdin.on("data", (d) => {',
    '  b += d;',
    '  if (done || !b.includes("END\\n")) return;',
    '  done = true;',
    '  process.stderr.write(`[info] stand-in uid=${process.getuid()} euid=${process.geteuid()} offline-check=${b.includes("ARG offline-check")}\\n`);',
    '  process.stdout.write("RESULT deny offline-fallback\\n");',
    '});',
    'process.stdin.on("end", () => process.exit(0));',
    '',
  ].join('\n');
  // The same, which first rewrites its own (_tandem-owned) config's times, as it could its text.
  const TOUCHER = `import { utimesSync } from "node:fs";\n${LIAR.replace(
    'done = true;',
    'done = true; const c = /ARG conf=([^\\n]*)/.exec(b); if (c) { const t = new Date(Date.now() + 5000); utimesSync(c[1], t, t); }',
  )}`;
  let liar: string;
  let toucher: string;
  let dir: string | undefined;

  beforeAll(() => {
    dir = mkdtempSync('/tmp/tandem-launchers-build-');
    liar = join(clients.prefix, 'usr/sbin/login_tandem-liar');
    buildLoginTandemVariant(clients, join(dir, 'liar'), writeFakeHelper(clients, 'offline-liar', LIAR), liar);
    toucher = join(clients.prefix, 'usr/sbin/login_tandem-toucher');
    buildLoginTandemVariant(clients, join(dir, 'toucher'), writeFakeHelper(clients, 'offline-toucher', TOUCHER), toucher);
  }, 300_000);
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const run = (conf: string, bin = liar): Promise<RunResult> => runInteractive([bin, '-d', '-c', conf, '--', '/bin/echo', 'LIAR-RAN'], { timeoutMs: 40_000 });

  it('offline_fallback not set: one run as _tandem, never a root run, denied', async () => {
    const path = writeTandemConf(work, 'liar-plain.conf', confText(await unreachable(), { offline: false }), serviceAccountIds());
    const r = await run(path);
    refused(r, 'LIAR-RAN');
    const t = serviceAccountIds().uid;
    expect(r.output).toContain(`stand-in uid=${t} euid=${t} offline-check=false`);
    expect(r.output).not.toContain('offline-check=true');
    expect(r.output).not.toContain('stand-in uid=0');
    expect(r.output).toContain('does not set offline_fallback = local: denied');
  });

  it('offline_fallback = local only outside [tandem] (or commented out): still no root run', async () => {
    const text = `${confText(await unreachable(), { offline: false })}; offline_fallback = local\n`.replace('[duo]\n', '[duo]\noffline_fallback = local\n');
    const path = writeTandemConf(work, 'liar-elsewhere.conf', text, serviceAccountIds());
    const r = await run(path);
    refused(r, 'LIAR-RAN');
    expect(r.output).not.toContain('offline-check=true');
  });

  it('offline_fallback = local: the second run is root (all ids) with ARG offline-check, and its deny is final', async () => {
    const path = writeTandemConf(work, 'liar-hybrid.conf', confText(await unreachable()), serviceAccountIds());
    const r = await run(path);
    refused(r, 'LIAR-RAN');
    const t = serviceAccountIds().uid;
    expect(r.output).toContain(`stand-in uid=${t} euid=${t} offline-check=false`);
    expect(r.output).toContain('stand-in uid=0 euid=0 offline-check=true');
    expect(r.output.match(/stand-in uid=/g)).toHaveLength(2);
  });

  it('a config that changed while the first run ran: no root run', async () => {
    const path = writeTandemConf(work, 'liar-touched.conf', confText(await unreachable()), serviceAccountIds());
    const r = await run(path, toucher);
    refused(r, 'LIAR-RAN');
    expect(r.output).toContain('offline-check=false');
    expect(r.output).not.toContain('offline-check=true');
    expect(r.output).toContain('changed during the login: no offline check, denied');
  });
});
