// failmode with the stock Debian 12 clients (1.11.3) when Tandem cannot be reached or refuses the
// request signature: `failmode = safe` lets the login in, `failmode = secure` refuses it
// (reference duo_unix.md §7). login_duo and pam_duo (service sshd, in a private mount namespace).
// A bad signature is not a failmode case with Tandem: it answers 403, which both modes refuse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  clientConf,
  clientHostname,
  closedLoopbackPort,
  copyCa,
  createLegacyIntegration,
  entriesFor,
  localAccounts,
  loginDuo,
  makeWorkDir,
  noAccountsLeft,
  pamDirSnapshot,
  PAM_DUO,
  removeWorkDir,
  requireDuoUnix,
  runPamtester,
  totp,
  writeDuoConf,
  type DuoConf,
  type Integration,
  type LocalAccounts,
  type RunResult,
} from '../support/duo-unix.js';
import { startServerProcess, type ServerProcess, cleanupAll } from '../support/server-process.js';

const PROMPT = /passcode[^\n]*: ?$/im;
const HELLO = ['echo', 'HELLO'];
const IP = '203.0.113.50';
const RHOST = '198.51.100.50';

let srv: ServerProcess | undefined;
let serverHost: string;
let work: string;
let ca: string;
let integ: Integration;
let accounts: LocalAccounts;
let pamUser: string;
let pamBefore: string;

function conf(name: string, c: Partial<DuoConf>): string {
  return writeDuoConf(work, name, { ...clientConf(srv!, integ, ca), ...c });
}

function show(r: RunResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

function pam(confPath: string): Promise<RunResult> {
  return runPamtester(work, { services: { sshd: `auth required ${PAM_DUO} conf=${confPath} debug\n` }, service: 'sshd', user: pamUser, items: { rhost: RHOST }, answers: [{ when: PROMPT, send: '000000' }] });
}

beforeAll(async () => {
  requireDuoUnix({ loginDuo: true, pamDuo: true });
  pamBefore = pamDirSnapshot();
  accounts = localAccounts('fm');
  pamUser = await accounts.user('pam');
  srv = await startServerProcess();
  serverHost = `localhost:${srv.port}`;
  work = makeWorkDir('failmode');
  ca = copyCa(work, srv);
  integ = await createLegacyIntegration(srv, 'failmode-e2e');
}, 120_000);

afterAll(async () => {
  try {
    await cleanupAll('failmode', [() => srv?.stop(), () => accounts?.cleanup(), () => removeWorkDir(work)]);
  } finally {
    if (accounts) expect(noAccountsLeft(accounts.prefix)).toBe(true);
    if (pamBefore !== undefined) expect(pamDirSnapshot()).toBe(pamBefore);
  }
});

describe('with the server up', () => {
  it('failmode = secure does not get in the way of a normal login', async () => {
    await srv!.json(['user', 'create', 'fm-alice']);
    const { secret } = await srv!.json<{ secret: string }>(['token', 'add', 'fm-alice', '--type', 'totp']);
    const r = await loginDuo(conf('alice.conf', { failmode: 'secure' }), { user: 'fm-alice', host: IP, command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: totp(secret) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^HELLO$/m);
  });

  it('a bad signature is refused with HTTP 403, not 401, so even failmode = safe does not let it in', async () => {
    // Duo answers 401, which 1.11.3 puts under failmode (safe: allow). Tandem answers 403 on
    // purpose (src/server/error-map.ts): a rotated skey or deleted integration must not open
    // every host running the default failmode = safe. 1.11.3 aborts on 403 in both modes.
    const bad = { skey: integ.skey.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) };
    for (const failmode of ['secure', 'safe'] as const) {
      const r = await loginDuo(conf(`badsig-${failmode}.conf`, { ...bad, failmode }), { user: 'fm-badsig', host: IP, command: HELLO });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toMatch(/Aborted Duo login for 'fm-badsig' from 203\.0\.113\.50: HTTP 403/);
      expect(r.stderr).not.toMatch(/Fail(safe|secure)/);
      expect(r.stdout).not.toMatch(/^HELLO$/m);
    }
  });

  it('the audit log shows the real login; the badly signed requests named nobody it trusts', async () => {
    const log = await auditLog(srv!);
    expect(entriesFor(log, 'fm-alice', 'auth')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ipaddr: IP, hostname: clientHostname() })]);
    expect(entriesFor(log, 'fm-alice', 'preauth')).toEqual([expect.objectContaining({ result: 'auth', ipaddr: IP, hostname: clientHostname() })]);
    // Unauthenticated requests are not attributed to the user they name.
    expect(entriesFor(log, 'fm-badsig')).toEqual([]);
  });
});

describe('host pointing at a closed loopback port', () => {
  let closed: string;
  beforeAll(async () => {
    closed = `localhost:${await closedLoopbackPort()}`;
  });

  it('login_duo: safe lets the login in, secure refuses it', async () => {
    const safe = await loginDuo(conf('closed-safe.conf', { host: closed, failmode: 'safe' }), { user: 'fm-nobody', host: IP, command: HELLO }, { pty: true });
    expect(safe.code, show(safe)).toBe(0);
    expect(safe.output).toMatch(/Failsafe Duo login for 'fm-nobody' from 203\.0\.113\.50: Couldn't connect to localhost:\d+/);
    expect(safe.stdout).toMatch(/^HELLO$/m);

    const secure = await loginDuo(conf('closed-secure.conf', { host: closed, failmode: 'secure' }), { user: 'fm-nobody', host: IP, command: HELLO }, { pty: true });
    expect(secure.code, show(secure)).toBe(1);
    expect(secure.output).toMatch(/Failsecure Duo login for 'fm-nobody'.*Couldn't connect/);
    expect(secure.stdout).not.toMatch(/^HELLO$/m);
  });

  it('pam_duo (sshd): safe gives PAM_SUCCESS, secure refuses', async () => {
    const safe = await pam(conf('pam-closed-safe.conf', { host: closed, failmode: 'safe' }));
    expect(safe.code, show(safe)).toBe(0);
    expect(safe.answered).toBe(0);
    expect(safe.output).toMatch(/Failsafe Duo login/);
    const secure = await pam(conf('pam-closed-secure.conf', { host: closed, failmode: 'secure' }));
    expect(secure.code, show(secure)).not.toBe(0);
    expect(secure.output).toMatch(/Failsecure Duo login/);
    expect(secure.output).not.toContain('successfully authenticated');
  });
});

describe('the server stopped', () => {
  let safeConf: string;
  let secureConf: string;
  let pamSafe: string;
  let pamSecure: string;
  beforeAll(async () => {
    // Configs for the real server's address, written while it still runs; then it goes away.
    safeConf = conf('down-safe.conf', { host: serverHost, failmode: 'safe' });
    secureConf = conf('down-secure.conf', { host: serverHost, failmode: 'secure' });
    pamSafe = conf('pam-down-safe.conf', { host: serverHost, failmode: 'safe' });
    pamSecure = conf('pam-down-secure.conf', { host: serverHost, failmode: 'secure' });
    await srv!.stop();
    srv = undefined;
  }, 30_000);

  it('login_duo: safe lets the login in, secure refuses it', async () => {
    const safe = await loginDuo(safeConf, { user: 'fm-alice', host: IP, command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: '000000' }] });
    expect(safe.code, show(safe)).toBe(0);
    expect(safe.answered).toBe(0);
    expect(safe.output).toMatch(/Failsafe Duo login for 'fm-alice'/);
    expect(safe.stdout).toMatch(/^HELLO$/m);

    const secure = await loginDuo(secureConf, { user: 'fm-alice', host: IP, command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: '000000' }] });
    expect(secure.code, show(secure)).toBe(1);
    expect(secure.answered).toBe(0);
    expect(secure.output).toMatch(/Failsecure Duo login for 'fm-alice'/);
    expect(secure.stdout).not.toMatch(/^HELLO$/m);
  });

  it('pam_duo (sshd): safe gives PAM_SUCCESS, secure refuses', async () => {
    const safe = await pam(pamSafe);
    expect(safe.code, show(safe)).toBe(0);
    expect(safe.output).toMatch(/Failsafe Duo login/);
    const secure = await pam(pamSecure);
    expect(secure.code, show(secure)).not.toBe(0);
    expect(secure.output).toMatch(/Failsecure Duo login/);
  });
});
