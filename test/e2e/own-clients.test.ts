// Tandem's own clients — pam_tandem.so, login_tandem and the bundled helper — against a real
// `tandem serve`, built from this tree and installed with `tandem client install --prefix` into a
// root-owned directory. Our clients sign with v2 (SHA-512, X-Duo-Date), so the integration is a
// normal one (no --legacy-v1), and they demand a valid X-Tandem-Signature on every answer.
//
//   - pamtester with services named exactly sshd, sudo and su, inside a private mount namespace
//     whose /etc/pam.d is a tmpfs (test/support/duo-unix.ts): the machine's PAM stays untouched;
//   - where duo_unix fails open, ours must deny: bad or missing signatures (a TLS man in the middle
//     holding the server's own certificate), 401/403/500-with-envelope, a certificate from another
//     CA, config errors; `failmode = safe` allows only an unreachable server (refused, hanging,
//     503 without an envelope);
//   - a real OpenSSH sshd with pam_tandem over keyboard-interactive, and another whose
//     ForceCommand is login_tandem (setuid root, privilege separation to _tandem);
//   - login_tandem refuses -c and -f from anyone but root;
//   - the launcher denies when the helper misbehaves (killed, hanging, oversized line, non-zero
//     exit after success, writable by others).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asUser,
  auditLog,
  closedLoopbackPort,
  copyCa,
  entriesFor,
  localAccounts,
  makeWorkDir,
  noAccountsLeft,
  pamDirSnapshot,
  PAMTESTER,
  removeWorkDir,
  requireDuoUnix,
  runInteractive,
  runPamtester,
  totp,
  wrongCode,
  type Integration,
  type LocalAccounts,
  type RunResult,
} from '../support/duo-unix.js';
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
  tandemStack,
  transactionContext,
  writeFakeHelper,
  writeTandemConf,
  type InstalledClients,
  type Mitm,
  type MitmMode,
  type TandemConf,
} from '../support/own-clients.js';
import { cleanupAll, requireTool, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createLocalUser, requireSshdTools, snapshotDir, sshLogin, startSshd, type LocalUser, type RunningSshd } from '../support/sshd.js';

const PROMPT = /passcode[^\n]*: ?$/im;
const RHOST = '198.51.100.30';

let srv: ServerProcess;
let clients: InstalledClients;
let work: string;
let ca: string;
let integ: Integration;
let accounts: LocalAccounts;
let pamBefore: string;
const sshBefore = snapshotDir('/etc/ssh');
let buildDir: string | undefined;

/** uid and gid of the _tandem account (login_tandem reads its config as that account). */
function serviceAccountIds(): { uid: number; gid: number } {
  const f = execFileSync('getent', ['passwd', CLIENT_ACCOUNT], { encoding: 'utf8' }).split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function show(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

/** A fresh local account enrolled with a TOTP token; returns its name and secret. */
async function enrolled(role: string, opts: { groups?: string[] } = {}): Promise<{ name: string; secret: string }> {
  const name = await accounts.user(role, opts);
  await srv.json(['user', 'create', name]);
  const { secret } = await srv.json<{ secret: string }>(['token', 'add', name, '--type', 'totp']);
  return { name, secret };
}

function conf(name: string, extra: Partial<TandemConf> = {}, o: { mode?: number; uid?: number; gid?: number } = {}): string {
  return writeTandemConf(work, name, tandemConfText({ ikey: integ.ikey, skey: integ.skey, host: `localhost:${srv.port}`, cafile: ca, failmode: 'secure', ...extra }), o);
}

/** pamtester under the PAM service `service` with a one-module pam_tandem stack. */
function pam(service: string, user: string, confPath: string, o: { answers?: Array<{ when: RegExp; send: string }>; env?: Record<string, string>; caller?: string; items?: Record<string, string>; args?: string[]; helper?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const args = [...(o.helper !== undefined ? [`helper=${o.helper}`] : []), ...(o.args ?? [])];
  return runPamtester(work, {
    services: { [service]: tandemStack(clients, confPath, args) },
    service,
    user,
    items: o.items ?? { rhost: RHOST },
    ...(o.caller !== undefined ? { caller: o.caller } : {}),
    ...(o.env !== undefined ? { env: o.env } : {}),
    answers: o.answers ?? [],
    timeoutMs: o.timeoutMs ?? 30_000,
  });
}

const ok = (r: RunResult): void => {
  expect(r.code, show(r)).toBe(0);
  expect(r.output, show(r)).toContain('pamtester: successfully authenticated');
};
const denied = (r: RunResult): void => {
  expect(r.code, show(r)).not.toBe(0);
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.output, show(r)).not.toContain('successfully authenticated');
};

beforeAll(async () => {
  requireDuoUnix({});
  requireTool(PAMTESTER, 'pamtester (Debian package)');
  requireSshdTools();
  pamBefore = pamDirSnapshot();
  accounts = localAccounts('oc');
  // Build (make -C pam, scripts/build.mjs) and install under a root-owned prefix, with the
  // launchers rebuilt for that prefix's helper and config (login_tandem takes no paths at run time).
  clients = await installClients(makeTrustedPrefix('own-clients'));
  buildDir = mkdtempSync('/tmp/tandem-launchers-build-');
  buildLaunchersFor(clients, buildDir);
  srv = await startServerProcess();
  work = makeWorkDir('own-clients');
  ca = copyCa(work, srv);
  integ = await srv.json<Integration>(['integration', 'create', '--name', 'own-clients-e2e']);
}, 300_000);

afterAll(async () => {
  await cleanupAll('own-clients', [
    () => srv?.stop(),
    () => accounts?.cleanup(),
    () => removeWorkDir(work),
    () => clients && rmSync(clients.prefix, { recursive: true, force: true }),
    () => buildDir && rmSync(buildDir, { recursive: true, force: true }),
  ]);
  if (accounts) expect(noAccountsLeft(accounts.prefix)).toBe(true);
  if (pamBefore !== undefined) expect(pamDirSnapshot()).toBe(pamBefore);
  expect(snapshotDir('/etc/ssh')).toEqual(sshBefore);
}, 120_000);

describe('install', () => {
  it('put the clients under the prefix with the right modes; the _tandem account exists', () => {
    const st = (p: string): string => execFileSync('stat', ['-c', '%a %U:%G', p], { encoding: 'utf8' }).trim();
    expect(st(clients.helper)).toBe('644 root:root');
    expect(st(clients.pamModule)).toBe('644 root:root');
    expect(st(clients.loginTandem)).toBe('4755 root:root');
    expect(st(clients.loginConf)).toBe(`600 ${CLIENT_ACCOUNT}:${CLIENT_ACCOUNT}`);
    expect(st(clients.pamConf)).toBe('600 root:root');
    expect(clients.pamModuleDir).toBe('/lib/x86_64-linux-gnu/security');
  });
});

describe('pam_tandem, service sshd', () => {
  it('the TOTP code at the prompt gives PAM_SUCCESS; the prompt is the server\'s', async () => {
    const u = await enrolled('ok');
    const r = await pam('sshd', u.name, conf('ok.conf'), { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    ok(r);
    expect(r.answered).toBe(1);
    expect(r.output).toContain(`Tandem two-factor login for ${u.name}`);
    expect(r.output).toMatch(new RegExp(`Successful Tandem login for '${u.name}' from ${RHOST.replace(/\./g, '\\.')}`));
    const auth = entriesFor(await auditLog(srv), u.name, 'auth');
    expect(auth).toEqual([expect.objectContaining({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ipaddr: RHOST, integration: integ.ikey })]);
  });

  it('a wrong code is denied; prompts = 1 asks once', async () => {
    const u = await enrolled('bad');
    const r = await pam('sshd', u.name, conf('bad.conf', { prompts: 1 }), { answers: [{ when: PROMPT, send: wrongCode(u.secret) }, { when: PROMPT, send: totp(u.secret) }] });
    denied(r);
    expect(r.answered).toBe(1);
    expect(r.output).toMatch(new RegExp(`Failed Tandem login for '${u.name}'`));
  });

  it('without prompts =, three wrong codes are asked for, then denied (three preauths within a second are not replays)', async () => {
    const u = await enrolled('three');
    const w = { when: PROMPT, send: wrongCode(u.secret) };
    const r = await pam('sshd', u.name, conf('three.conf'), { answers: [w, w, w] });
    denied(r);
    expect(r.answered, show(r)).toBe(3);
  });

  it('autopush: no prompt, the default factor is used at once (a TOTP-only user has none: denied)', async () => {
    const u = await enrolled('autopush');
    const r = await pam('sshd', u.name, conf('autopush.conf', { autopush: true, prompts: 1 }), { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    denied(r);
    expect(r.answered).toBe(0);
    expect(r.output).toMatch(/No default factor found for automatic login/);
  });

  it('accept_env_factor has no effect under PAM (as pam_duo): DUO_PASSCODE is not used, the prompt still comes', async () => {
    const u = await enrolled('envpam');
    const r = await pam('sshd', u.name, conf('envpam.conf', { accept_env_factor: true, prompts: 1 }), { env: { DUO_PASSCODE: totp(u.secret) }, answers: [{ when: PROMPT, send: wrongCode(u.secret) }] });
    denied(r);
    expect(r.answered).toBe(1);
    expect(r.output).toMatch(/accept_env_factor' has no effect for PAM/);
  });
});

describe('pam_tandem, GECOS', () => {
  it('gecos_username_pos = 3: the Tandem user is the third GECOS field', async () => {
    const local = await accounts.user('gecos');
    const alias = accounts.name('galias');
    execFileSync('usermod', ['-c', `Probe User,Room 1,${alias}`, local]);
    await srv.json(['user', 'create', alias]);
    const { secret } = await srv.json<{ secret: string }>(['token', 'add', alias, '--type', 'totp']);
    const r = await pam('sshd', local, conf('gecos.conf', { gecos_username_pos: 3 }), { answers: [{ when: PROMPT, send: totp(secret) }] });
    ok(r);
    expect(r.output).toContain(`Tandem two-factor login for ${alias}`);
    expect(entriesFor(await auditLog(srv), alias, 'auth')).toEqual([expect.objectContaining({ result: 'allow' })]);
    expect(entriesFor(await auditLog(srv), local)).toEqual([]);
  });

  it('send_gecos = yes (gecos_delim and gecos_username_pos left at their defaults): the Tandem user is the whole GECOS field', async () => {
    const local = await accounts.user('gsend');
    const alias = accounts.name('gsalias');
    execFileSync('usermod', ['-c', alias, local]);
    await srv.json(['user', 'create', alias]);
    const { secret } = await srv.json<{ secret: string }>(['token', 'add', alias, '--type', 'totp']);
    const r = await pam('sshd', local, conf('gsend.conf', { send_gecos: true }), { answers: [{ when: PROMPT, send: totp(secret) }] });
    ok(r);
    expect(r.output).toContain(`Tandem two-factor login for ${alias}`);
    expect(entriesFor(await auditLog(srv), alias, 'auth')).toEqual([expect.objectContaining({ result: 'allow', ipaddr: RHOST })]);
    expect(entriesFor(await auditLog(srv), local)).toEqual([]);
  });
});

describe('pam_tandem, groups', () => {
  let g: string;
  beforeAll(async () => {
    g = await accounts.group('grp');
  });

  it('a member of a listed group must pass 2FA', async () => {
    const u = await enrolled('gin', { groups: [g] });
    const r = await pam('sshd', u.name, conf('gin.conf', { groups: `nosuch ${g}`, prompts: 1 }), { answers: [{ when: PROMPT, send: wrongCode(u.secret) }] });
    denied(r);
    expect(r.answered).toBe(1);
  });

  it('a user in no listed group passes without a prompt (and the server is not asked)', async () => {
    const u = await enrolled('gout');
    const r = await pam('sshd', u.name, conf('gout.conf', { groups: g }), { answers: [{ when: PROMPT, send: '000000' }] });
    ok(r);
    expect(r.answered).toBe(0);
    expect(r.output).toMatch(/do not require 2FA/);
    expect(entriesFor(await auditLog(srv), u.name)).toEqual([]);
  });

  it('`*,!group`: members of the group bypass, everyone else is asked', async () => {
    const member = await enrolled('gneg', { groups: [g] });
    const other = await enrolled('gnegother');
    const c = conf('gneg.conf', { groups: `*,!${g}`, prompts: 1 });
    const r1 = await pam('sshd', member.name, c, { answers: [{ when: PROMPT, send: '000000' }] });
    ok(r1);
    expect(r1.answered).toBe(0);
    const r2 = await pam('sshd', other.name, c, { answers: [{ when: PROMPT, send: totp(other.secret) }] });
    ok(r2);
    expect(r2.answered).toBe(1);
  });

  it('a word of negations only (`!group`) never matches: everyone bypasses, with a warning', async () => {
    const u = await enrolled('gonly');
    const r = await pam('sshd', u.name, conf('gonly.conf', { groups: `!${g}` }), { answers: [{ when: PROMPT, send: '000000' }] });
    ok(r);
    expect(r.answered).toBe(0);
    expect(r.output).toMatch(/only negated patterns/);
  });
});

describe('pam_tandem, failmode: only an unreachable server lets `safe` through', () => {
  it('server stopped (connection refused): safe allows without a prompt, secure denies, no failmode denies', async () => {
    const u = await enrolled('fm');
    const port = await closedLoopbackPort();
    const host = `localhost:${port}`;
    const safe = await pam('sshd', u.name, conf('fm-safe.conf', { host, failmode: 'safe' }));
    ok(safe);
    expect(safe.output).toMatch(/Failsafe Tandem login/);
    const secure = await pam('sshd', u.name, conf('fm-secure.conf', { host, failmode: 'secure' }));
    denied(secure);
    expect(secure.output).toMatch(/Failsecure Tandem login/);
    const text = tandemConfText({ ikey: integ.ikey, skey: integ.skey, host, cafile: ca });
    expect(text).not.toMatch(/failmode/);
    const none = await pam('sshd', u.name, writeTandemConf(work, 'fm-none.conf', text));
    denied(none);
    expect(none.output).toMatch(/Failsecure Tandem login/);
  });

  it('a host name that does not resolve (unreachable before any request): safe allows without a prompt, secure denies', async () => {
    const u = await enrolled('fmdns');
    const host = 'tandem-nowhere.invalid:8443';
    const safe = await pam('sshd', u.name, conf('fmdns-safe.conf', { host, failmode: 'safe' }), { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    ok(safe);
    expect(safe.answered).toBe(0);
    expect(safe.output).toMatch(/Failsafe Tandem login/);
    const secure = await pam('sshd', u.name, conf('fmdns-secure.conf', { host, failmode: 'secure' }), { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    denied(secure);
    expect(secure.answered).toBe(0);
    expect(secure.output).toMatch(/Failsecure Tandem login/);
    expect(entriesFor(await auditLog(srv), u.name)).toEqual([]);
  });
});

describe('pam_tandem, answers that are not the server\'s own: always denied, whatever failmode says', () => {
  let mitm: Mitm;
  beforeAll(async () => {
    mitm = await startMitm(srv, { kind: 'pass' });
  });
  afterAll(() => mitm?.stop());

  const through = async (mode: MitmMode, role: string, failmode: 'safe' | 'secure', answer = true): Promise<{ r: RunResult; u: { name: string; secret: string } }> => {
    mitm.mode = mode;
    const u = await enrolled(role);
    const r = await pam('sshd', u.name, conf(`${role}.conf`, { host: mitm.host, failmode, prompts: 1, https_timeout: 3 }), { answers: answer ? [{ when: PROMPT, send: totp(u.secret) }] : [] });
    return { r, u };
  };

  it('control: through an honest relay the login works', async () => {
    const { r } = await through({ kind: 'pass' }, 'mpass', 'secure');
    ok(r);
    expect(mitm.requests.some((x) => x.startsWith('POST /auth/v2/auth'))).toBe(true);
  });

  it('the X-Tandem-Signature header removed: denied (failmode safe)', async () => {
    const { r } = await through({ kind: 'strip-signature' }, 'mstrip', 'safe');
    denied(r);
    expect(r.answered).toBe(0);
    expect(r.output).toMatch(/no X-Tandem-Signature/);
    expect(r.output).not.toMatch(/Failsafe/);
  });

  it('a wrong X-Tandem-Signature: denied (failmode safe)', async () => {
    const { r } = await through({ kind: 'corrupt-signature' }, 'mcorrupt', 'safe');
    denied(r);
    expect(r.output).toMatch(/wrong X-Tandem-Signature/);
  });

  it('a body changed under a genuine signature: denied', async () => {
    const { r } = await through({ kind: 'tamper-body' }, 'mbody', 'safe');
    denied(r);
    expect(r.output).toMatch(/wrong X-Tandem-Signature/);
  });

  it('HTTP 403 and 401: denied even with failmode safe', async () => {
    for (const status of [403, 401]) {
      const { r } = await through({ kind: 'status', status, body: JSON.stringify({ stat: 'FAIL', code: 40301, message: 'Access forbidden' }) }, `m${status}`, 'safe', false);
      denied(r);
      expect(r.output).not.toMatch(/Failsafe/);
      expect(r.output, show(r)).toMatch(status === 401 ? /Invalid ikey or skey/ : /HTTP 403/);
    }
  });

  it('HTTP 500 with a Duo envelope: denied with failmode safe (the server spoke)', async () => {
    const { r } = await through({ kind: 'status', status: 500, body: JSON.stringify({ stat: 'FAIL', code: 50000, message: 'internal' }) }, 'm500', 'safe', false);
    denied(r);
    expect(r.output).not.toMatch(/Failsafe/);
  });

  it('HTTP 503 without an envelope (a proxy speaking): safe allows, secure denies', async () => {
    const mode: MitmMode = { kind: 'status', status: 503, body: '<html>Service Unavailable</html>', contentType: 'text/html' };
    const safe = await through(mode, 'm503s', 'safe', false);
    ok(safe.r);
    expect(safe.r.output).toMatch(/Failsafe Tandem login/);
    const secure = await through(mode, 'm503x', 'secure', false);
    denied(secure.r);
  });

  it('a server that never answers (https_timeout = 3): safe allows, secure denies, both in bounded time', async () => {
    const t0 = Date.now();
    const safe = await through({ kind: 'hang' }, 'mhangs', 'safe', false);
    ok(safe.r);
    expect(safe.r.output).toMatch(/Failsafe Tandem login/);
    const secure = await through({ kind: 'hang' }, 'mhangx', 'secure', false);
    denied(secure.r);
    expect(Date.now() - t0).toBeLessThan(25_000);
  }, 40_000);

  it('a certificate from another CA: denied even with failmode safe', async () => {
    const other = await startMitm(srv, { kind: 'pass' }, foreignCert(work));
    try {
      const u = await enrolled('mca');
      const r = await pam('sshd', u.name, conf('mca.conf', { host: other.host, failmode: 'safe' }));
      denied(r);
      expect(r.answered).toBe(0);
      expect(r.output).toMatch(/TLS error/);
      expect(other.requests).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});

describe('pam_tandem, configuration problems deny (duo_unix would allow)', () => {
  it('a malformed line: denied, and the log names the file and the line', async () => {
    const u = await enrolled('cfgbad');
    const text = tandemConfText({ ikey: integ.ikey, skey: integ.skey, host: `localhost:${srv.port}`, cafile: ca, failmode: 'safe' }).replace('[duo]\n', '[duo]\nthis line has no equals sign\n');
    const path = writeTandemConf(work, 'cfgbad.conf', text);
    const r = await pam('sshd', u.name, path, { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    denied(r);
    expect(r.answered).toBe(0);
    expect(r.output).toContain(`${path}, line 2`);
  });

  it('`failmode = Secure` (a bad value) with the server stopped: denied, naming the line', async () => {
    const u = await enrolled('cfgcase');
    const path = conf('cfgcase.conf', { host: `localhost:${await closedLoopbackPort()}`, failmode: undefined, extraDuoLines: ['failmode = Secure'] });
    const r = await pam('sshd', u.name, path);
    denied(r);
    expect(r.output).toMatch(new RegExp(`${path.replace(/[.]/g, '\\.')}, line \\d+: Invalid failmode`));
  });

  it('missing, group-readable and world-readable configs: denied (failmode safe in the file)', async () => {
    const u = await enrolled('cfgperm');
    const port = await closedLoopbackPort();
    const missing = await pam('sshd', u.name, join(work, 'does-not-exist.conf'));
    denied(missing);
    expect(missing.output).toMatch(/does-not-exist\.conf: Couldn't open/);
    for (const mode of [0o640, 0o604]) {
      const path = conf(`cfgperm-${mode.toString(8)}.conf`, { host: `localhost:${port}`, failmode: 'safe' }, { mode });
      const r = await pam('sshd', u.name, path);
      denied(r);
      expect(r.output).toMatch(/readable only by its owner/);
    }
  });

  it('an unknown key is a warning only: the login still works', async () => {
    const u = await enrolled('cfgunk');
    const path = conf('cfgunk.conf', { extraDuoLines: ['frobnicate = yes'] });
    const r = await pam('sshd', u.name, path, { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    ok(r);
    expect(r.output).toMatch(new RegExp(`line \\d+: unknown key 'frobnicate' ignored`));
  });

  it('noverify or an empty cafile: denied unless [tandem] allow_insecure_tls = yes', async () => {
    const u = await enrolled('cfgtls');
    const r1 = await pam('sshd', u.name, conf('cfgtls1.conf', { noverify: true, failmode: 'safe' }), { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    denied(r1);
    expect(r1.answered).toBe(0);
    expect(r1.output).toMatch(/allow_insecure_tls/);
    const r2 = await pam('sshd', u.name, conf('cfgtls2.conf', { cafile: '', failmode: 'safe' }), { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    denied(r2);
    expect(r2.output).toMatch(/empty 'cafile'/);
    const r3 = await pam('sshd', u.name, conf('cfgtls3.conf', { noverify: true, allow_insecure_tls: true }), { answers: [{ when: PROMPT, send: totp(u.secret) }] });
    ok(r3);
    expect(r3.output).toMatch(/TLS verification is OFF/);
  });
});

describe('pam_tandem, services sudo and su', () => {
  it('sudo with pushinfo: the 2FA is for PAM_USER, and SUDO_COMMAND reaches the server in pushinfo', async () => {
    const u = await enrolled('sudo');
    const other = accounts.name('sudo-ruser');
    const r = await pam('sudo', u.name, conf('sudo.conf', { pushinfo: true }), {
      items: { ruser: other, rhost: RHOST },
      env: { SUDO_COMMAND: '/usr/bin/id -u' },
      answers: [{ when: PROMPT, send: totp(u.secret) }],
    });
    ok(r);
    expect(r.output).toContain(`Tandem two-factor login for ${u.name}`);
    const [entry] = entriesFor(await auditLog(srv), u.name, 'auth');
    expect(entry).toEqual(expect.objectContaining({ result: 'allow' }));
    // The audit entry keeps pushinfo (decoded into rows), and so does the transaction.
    expect((entry!.detail as { pushinfo?: unknown }).pushinfo).toEqual(expect.arrayContaining([['Command', '/usr/bin/id -u']]));
    const context = await transactionContext(srv, entry!.txid!);
    expect(context?.['pushinfo']).toEqual(expect.arrayContaining([['Command', '/usr/bin/id -u']]));
  });

  it('sudo without pushinfo: no command is sent', async () => {
    const u = await enrolled('sudonp');
    const r = await pam('sudo', u.name, conf('sudonp.conf'), { env: { SUDO_COMMAND: '/usr/bin/secret-thing' }, answers: [{ when: PROMPT, send: totp(u.secret) }] });
    ok(r);
    const [entry] = entriesFor(await auditLog(srv), u.name, 'auth');
    expect(JSON.stringify(await transactionContext(srv, entry!.txid!))).not.toContain('secret-thing');
    expect(JSON.stringify(entry!.detail)).not.toContain('secret-thing');
  });

  it('su: to root the 2FA is for the caller; to another user it is for the target (duo_unix 2.x)', async () => {
    const caller = await enrolled('sucaller');
    const target = await enrolled('sutarget');
    const ids = execFileSync('id', ['-u', caller.name], { encoding: 'utf8' }).trim();
    // pamtester runs as the caller (not setuid), so the config is the caller's own 0600 file.
    const path = conf('su.conf', {}, { uid: Number(ids), gid: Number(execFileSync('id', ['-g', caller.name], { encoding: 'utf8' }).trim()) });
    const toRoot = await pam('su', 'root', path, { caller: caller.name, items: {}, answers: [{ when: PROMPT, send: totp(caller.secret) }] });
    ok(toRoot);
    expect(toRoot.output).toContain(`Tandem two-factor login for ${caller.name}`);
    const toTarget = await pam('su', target.name, path, { caller: caller.name, items: {}, answers: [{ when: PROMPT, send: totp(target.secret) }] });
    ok(toTarget);
    expect(toTarget.output).toContain(`Tandem two-factor login for ${target.name}`);
  });
});

describe('pam_tandem, a misbehaving helper is a denial', () => {
  const request = 'let buf = ""; process.stdin.on("data", (d) => { buf += d; if (buf.includes("END\\n")) go(); }); ';

  it('killed by a signal mid-conversation', async () => {
    const h = writeFakeHelper(clients, 'killed', `${request}function go() { process.stdout.write("PROMPT_ON Passcode: \\n", () => process.kill(process.pid, "SIGKILL")); }\n`);
    const u = await enrolled('hkill');
    const r = await pam('sshd', u.name, conf('hkill.conf'), { helper: h, answers: [{ when: /Passcode:/, send: '123456' }] });
    denied(r);
  });

  it('hanging past the deadline (timeout=2)', async () => {
    const h = writeFakeHelper(clients, 'hang', `${request}function go() { setInterval(() => {}, 1000); }\n`);
    const u = await enrolled('hhang');
    const t0 = Date.now();
    const r = await pam('sshd', u.name, conf('hhang.conf'), { helper: h, args: ['timeout=2'] });
    denied(r);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('an oversized line, a malformed line, success followed by a non-zero exit', async () => {
    const cases: Record<string, string> = {
      big: `${request}function go() { process.stdout.write("INFO " + "x".repeat(9000) + "\\nRESULT success\\n"); }\n`,
      verb: `${request}function go() { process.stdout.write("HELLO there\\nRESULT success\\n"); }\n`,
      exit1: `${request}function go() { process.stdout.write("RESULT success\\n", () => process.exit(1)); }\n`,
    };
    const u = await enrolled('hbad');
    for (const [name, code] of Object.entries(cases)) {
      const r = await pam('sshd', u.name, conf(`hbad-${name}.conf`), { helper: writeFakeHelper(clients, name, code) });
      denied(r);
    }
    // Control: the same harness with a well-behaved stand-in succeeds, so the denials above are real.
    const good = writeFakeHelper(clients, 'good', `${request}function go() { process.stdout.write("RESULT success\\n"); }\n`);
    ok(await pam('sshd', u.name, conf('hbad-good.conf'), { helper: good }));
  });

  it('the module arguments helper= and node= (pam_tandem\'s own) are accepted with the real helper', async () => {
    const u = await enrolled('hargs');
    const r = await pam('sshd', u.name, conf('hargs.conf'), { helper: clients.helper, args: ['node=/usr/bin/node'], answers: [{ when: PROMPT, send: totp(u.secret) }] });
    ok(r);
  });

  it('a helper bundle writable by a non-root user is refused', async () => {
    const dir = join(clients.prefix, 'usr/lib/tandem-writable');
    execFileSync('mkdir', ['-p', '-m', '0755', dir]);
    const copy = join(dir, 'tandem-pam-helper.mjs');
    copyFileSync(clients.helper, copy);
    chmodSync(copy, 0o666);
    const u = await enrolled('hwrite');
    const r = await pam('sshd', u.name, conf('hwrite.conf'), { helper: copy, answers: [{ when: PROMPT, send: totp(u.secret) }] });
    denied(r);
    expect(r.answered).toBe(0);
    expect(r.output).toMatch(/refusing helper/);
  });
});

describe('login_tandem', () => {
  it('run by a non-root user, -c and -f are refused', async () => {
    const u = await accounts.user('lnr');
    for (const args of [['-c', '/tmp/x.conf'], ['-f', 'root']]) {
      const r = await runInteractive([...asUser(u), clients.loginTandem, ...args, '--', '/bin/echo', 'RAN']);
      expect(r.code, show(r)).toBe(1);
      expect(r.output).toContain('Only root may specify -c or -f');
      expect(r.output).not.toContain('RAN');
    }
  });

  it('as root with -c and -f (on a terminal): the 2FA is for the -f user, then the command runs', async () => {
    const u = await enrolled('lf');
    // Even for root, login_tandem runs the helper as _tandem: the config must be that account's.
    const path = conf('lf.conf', {}, serviceAccountIds());
    const r = await runInteractive([clients.loginTandem, '-d', '-c', path, '-f', u.name, '--', '/bin/echo', 'RAN-AS-ROOT'], { pty: true, answers: [{ when: PROMPT, send: totp(u.secret) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.output).toContain(`Tandem two-factor login for ${u.name}`);
    expect(r.output).toContain('RAN-AS-ROOT');
  });

  it('-h ADDR (no SSH_CONNECTION in the environment): the server records ADDR as the login\'s ipaddr', async () => {
    const u = await enrolled('lh');
    const addr = '203.0.113.77';
    const path = conf('lh.conf', {}, serviceAccountIds());
    const r = await runInteractive([clients.loginTandem, '-d', '-c', path, '-f', u.name, '-h', addr, '--', '/bin/echo', 'RAN-H'], { pty: true, answers: [{ when: PROMPT, send: totp(u.secret) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.output).toContain('RAN-H');
    const auth = entriesFor(await auditLog(srv), u.name, 'auth');
    expect(auth).toEqual([expect.objectContaining({ result: 'allow', ipaddr: addr })]);
  });

  it('a helper killed by a signal is a failure (login_tandem built to run a stand-in that dies)', async () => {
    const fake = writeFakeHelper(clients, 'login-killed', 'let b = ""; process.stdin.on("data", (d) => { b += d; if (b.includes("END\\n")) process.kill(process.pid, "SIGKILL"); });\n');
    const dir = mkdtempSync('/tmp/tandem-launchers-build-');
    try {
      const bin = join(clients.prefix, 'usr/sbin/login_tandem-killed');
      buildLoginTandemVariant(clients, dir, fake, bin);
      const r = await runInteractive([bin, '-d', '--', '/bin/echo', 'RAN']);
      expect(r.code, show(r)).toBe(1);
      expect(r.output).toMatch(/killed by signal 9|conversation failed/);
      expect(r.output).toContain('Tandem login failed');
      expect(r.output).not.toContain('RAN');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a prompt nobody answers ends at the prompt deadline, denied (login_tandem built with a 1.5 s deadline)', async () => {
    // The stand-in prompts, denies on NOANSWER, and would claim success after 20 s: only the
    // launcher giving up first keeps the command from running.
    const fake = writeFakeHelper(
      clients,
      'login-unanswered',
      'let b = ""; let asked = false; process.stdin.on("data", (d) => { b += d; if (!asked && b.includes("END\\n")) { asked = true; process.stdout.write("PROMPT_ON Verification code 123. Enter it in the Tandem Authenticator, then press Enter: \\n"); setTimeout(() => process.stdout.write("RESULT success\\n"), 20000); } else if (asked && b.includes("NOANSWER")) { process.stdout.write("RESULT deny no answer\\n", () => process.exit(0)); } });\n',
    );
    const dir = mkdtempSync('/tmp/tandem-launchers-build-');
    try {
      const bin = join(clients.prefix, 'usr/sbin/login_tandem-unanswered');
      buildLoginTandemVariant(clients, dir, fake, bin, ['TANDEM_PROMPT_TIMEOUT_MS=1500']);
      const t0 = Date.now();
      const r = await runInteractive([bin, '-d', '--', '/bin/echo', 'RAN'], { pty: true, answers: [], timeoutMs: 15_000 });
      expect(r.output).toContain('Verification code 123');
      expect(r.code, show(r)).toBe(1);
      expect(r.output).not.toContain('RAN\r');
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('real sshd', () => {
  let user: LocalUser | undefined;
  let secret = '';
  let sshd: RunningSshd | undefined;
  let forced: RunningSshd | undefined;

  beforeAll(async () => {
    user = await createLocalUser('tdoc-');
    await srv.json(['user', 'create', user.name]);
    // Several tokens: each login uses a fresh one, so codes within one 30 s step are no replays.
    secret = (await srv.json<{ secret: string }>(['token', 'add', user.name, '--type', 'totp'])).secret;
    const pamConfPath = conf('sshd-pam.conf', { prompts: 1 });
    sshd = await startSshd({
      allowUsers: [user.name],
      pamService: ['auth requisite pam_unix.so', `auth required ${clients.pamModule} conf=${pamConfPath}`, 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'),
    });
    // login_tandem's config: its compiled-in path, owned by _tandem, mode 0600.
    writeTandemConf(clients.prefix, 'etc/tandem/login_tandem.conf', tandemConfText({ ikey: integ.ikey, skey: integ.skey, host: `localhost:${srv.port}`, cafile: ca, failmode: 'secure', accept_env_factor: true, prompts: 1 }), serviceAccountIds());
    forced = await startCustomSshd({
      allowUsers: [user.name],
      pamService: ['auth requisite pam_unix.so', 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'),
      // -d: login_tandem's and the helper's log lines go to the session's stderr, for the asserts.
      extraConfig: [`ForceCommand ${clients.loginTandem} -d`, 'AcceptEnv DUO_PASSCODE'],
    });
  }, 120_000);

  afterAll(async () => {
    await cleanupAll('own-clients sshd', [() => sshd?.stop(), () => forced?.stop(), () => user?.remove()]);
  }, 60_000);

  const fresh = async (): Promise<string> => {
    // A new token per login: the server refuses a code it has already accepted.
    const s = (await srv.json<{ secret: string }>(['token', 'add', user!.name, '--type', 'totp'])).secret;
    return totp(s);
  };

  it('pam_tandem in sshd: password, then the TOTP code over keyboard-interactive', async () => {
    const code = totp(secret);
    const r = await sshLogin({ sshd: sshd!, username: user!.name, command: 'echo HELLO', answer: (p) => (/password/i.test(p) ? user!.password : code) });
    const detail = `${JSON.stringify(r, null, 1)}\n--- sshd log ---\n${sshd!.log()}`;
    expect(r.ok, detail).toBe(true);
    expect(r.stdout).toBe('HELLO\n');
    const duoRound = r.rounds.find((x) => x.prompts.some((p) => /passcode/i.test(p.prompt)));
    expect(duoRound?.prompts[0]?.prompt, detail).toContain(`Tandem two-factor login for ${user!.name}`);
  });

  it('pam_tandem in sshd: a wrong code is refused', async () => {
    const wrong = wrongCode(secret);
    const r = await sshLogin({ sshd: sshd!, username: user!.name, command: 'echo HELLO', answer: (p) => (/password/i.test(p) ? user!.password : wrong) });
    expect(r.ok, `${JSON.stringify(r)}\n${sshd!.log()}`).toBe(false);
    expect(r.stdout).toBe('');
  });

  it('ForceCommand login_tandem, ssh host cmd with DUO_PASSCODE (accept_env_factor): runs, and the command never sees DUO_PASSCODE', async () => {
    const code = await fresh();
    const r = await sshSession({ sshd: forced!, username: user!.name, password: user!.password, command: 'echo FORCED-OK; env', env: { DUO_PASSCODE: code } });
    expect(r.authenticated, JSON.stringify(r)).toBe(true);
    expect(r.output, `${r.output}\n${forced!.log()}`).toContain('FORCED-OK');
    expect(r.exitCode).toBe(0);
    expect(r.output).not.toContain('DUO_PASSCODE');
    expect(r.output).not.toContain(code);
    expect(r.output).toMatch(/SSH_ORIGINAL_COMMAND=echo FORCED-OK; env/);
  });

  it('ForceCommand login_tandem, ssh host cmd without DUO_PASSCODE: one silent attempt with the default factor, refused', async () => {
    const r = await sshSession({ sshd: forced!, username: user!.name, password: user!.password, command: 'echo SHOULD-NOT-RUN' });
    expect(r.authenticated).toBe(true);
    expect(r.output).not.toContain('SHOULD-NOT-RUN');
    expect(r.output).toContain('Tandem login failed');
    expect(r.output).toMatch(/No default factor found for automatic login/);
    expect(r.exitCode).not.toBe(0);
  });

  it('ForceCommand login_tandem, interactive shell: the prompt on the terminal, the code, then the shell', async () => {
    const code = await fresh();
    const r = await sshSession({ sshd: forced!, username: user!.name, password: user!.password, answers: [{ when: PROMPT, send: code }], typeAfter: 'echo SHELL-$((40+2)); exit\n', afterWhen: /\$ ?$|# ?$|> ?$/m });
    expect(r.authenticated, JSON.stringify(r)).toBe(true);
    expect(r.answered, r.output).toBe(1);
    expect(r.output, `${r.output}\n${forced!.log()}`).toContain('SHELL-42');
    expect(r.output).toContain(`Tandem two-factor login for ${user!.name}`);
  });

  it('ForceCommand login_tandem, interactive shell: a wrong code ends the session', async () => {
    const r = await sshSession({ sshd: forced!, username: user!.name, password: user!.password, answers: [{ when: PROMPT, send: wrongCode(secret) }], typeAfter: 'echo SHELL-$((40+2)); exit\n', afterWhen: /Tandem login failed/ });
    expect(r.answered, `${r.output}\n${forced!.log()}`).toBe(1);
    expect(r.output).toContain('Tandem login failed');
    expect(r.output).not.toContain('SHELL-42');
  });
});

describe('afterwards', () => {
  it('left /etc/pam.d and /etc/ssh exactly as they were', () => {
    expect(pamDirSnapshot()).toBe(pamBefore);
    expect(snapshotDir('/etc/ssh')).toEqual(sshBefore);
  });
});
