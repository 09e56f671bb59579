// Debian 12's stock `login_duo` (login-duo 1.11.3: /rest/v1/*.bson, BSON bodies, v1 signatures)
// against a real `tandem serve`. Interactive logins run on a pseudo-terminal and type at the prompt
// the server sent; headless logins run with stdin on /dev/null. Client behaviour as in
// /work/shared/reference/duo_unix.md §2.1 (invocation), §3 (flow), §6.2 (groups).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  clientConf,
  clientHostname,
  copyCa,
  createLegacyIntegration,
  entriesFor,
  fileFingerprint,
  localAccounts,
  LOGIN_DUO_SYSTEM_CONF,
  loginDuo,
  loginDuoAsUser,
  makeWorkDir,
  noAccountsLeft,
  removeWorkDir,
  requireDuoUnix,
  totp,
  writeDuoConf,
  wrongCode,
  type Integration,
  type LocalAccounts,
  type RunResult,
} from '../support/duo-unix.js';
import { startServerProcess, type ServerProcess, cleanupAll } from '../support/server-process.js';

/** The line the server's prompt ends with (Tandem: "Enter a passcode: " or "Passcode or option (1-N): "). */
const PROMPT = /passcode[^\n]*: ?$/im;
const HELLO = ['echo', 'HELLO'];

let srv: ServerProcess;
let work: string;
let ca: string;
let integ: Integration;
let accounts: LocalAccounts;
/** TOTP secrets of the users enrolled up front (CLI runs in parallel: each is a Node start). */
const secrets: Record<string, string> = {};
let carolBypass: string;
/** Debian's own /etc/security/login_duo.conf, which the groups cases shadow inside a namespace only. */
let systemConfBefore: string;

/** A Tandem user with one TOTP token; returns the base32 secret. */
async function enrollTotp(name: string): Promise<string> {
  await srv.json(['user', 'create', name]);
  const t = await srv.json<{ secret: string }>(['token', 'add', name, '--type', 'totp']);
  return t.secret;
}

function conf(name: string, extra: Parameters<typeof clientConf>[3] = {}, owner?: string): string {
  return writeDuoConf(work, name, clientConf(srv, integ, ca, extra), owner);
}

function show(r: RunResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

interface UserShow {
  username: string;
  failures: number;
  lockedUntil: number | string | null;
}

beforeAll(async () => {
  requireDuoUnix({ loginDuo: true });
  systemConfBefore = fileFingerprint(LOGIN_DUO_SYSTEM_CONF);
  accounts = localAccounts('ld');
  srv = await startServerProcess({ env: { TANDEM_LOCKOUT_THRESHOLD: '3', TANDEM_LOCKOUT_SECONDS: '600' } });
  work = makeWorkDir('login-duo');
  ca = copyCa(work, srv);
  integ = await createLegacyIntegration(srv, 'login-duo-e2e');
  await Promise.all([
    ...['alice', 'bob', 'dave', 'grace', 'erin', 'frank'].map(async (u) => {
      secrets[u] = await enrollTotp(u);
    }),
    (async () => {
      await srv.json(['user', 'create', 'carol']);
      carolBypass = (await srv.json<{ codes: string[] }>(['bypass', 'create', 'carol', '--count', '1'])).codes[0]!;
    })(),
  ]);
}, 120_000);

afterAll(async () => {
  try {
    await cleanupAll('login-duo', [() => srv?.stop(), () => accounts?.cleanup(), () => removeWorkDir(work)]);
  } finally {
    if (accounts) expect(noAccountsLeft(accounts.prefix)).toBe(true);
    if (systemConfBefore !== undefined) expect(fileFingerprint(LOGIN_DUO_SYSTEM_CONF)).toBe(systemConfBefore);
  }
});

describe('login_duo 1.11.3, interactive (pseudo-terminal)', () => {
  it('passcode: the TOTP code typed at the server\'s prompt logs in and the command runs', async () => {
    const secret = secrets['alice']!;
    const r = await loginDuo(conf('alice.conf'), { user: 'alice', host: '203.0.113.1', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: totp(secret) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.answered).toBe(1);
    // The prompt and the progress lines are the server's text, printed verbatim by the client.
    expect(r.output).toMatch(/two-factor login for alice/);
    expect(r.output).toContain('Success. Logging you in...');
    expect(r.output).toMatch(/Successful Duo login for 'alice' from 203\.0\.113\.1/);
    expect(r.stdout).toMatch(/^HELLO$/m);
  });

  it('wrong passcode: denied, the command does not run, and the failure counts toward lockout', async () => {
    const secret = secrets['bob']!;
    const r = await loginDuo(conf('bob.conf', { prompts: 1 }), { user: 'bob', host: '203.0.113.2', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: wrongCode(secret) }] });
    expect(r.code, show(r)).toBe(1);
    expect(r.answered).toBe(1);
    expect(r.output).toContain('Incorrect passcode. Please try again.');
    expect(r.output).toMatch(/Failed Duo login for 'bob' from 203\.0\.113\.2/);
    expect(r.stdout).not.toMatch(/^HELLO$/m);
    const bob = await srv.json<UserShow>(['user', 'show', 'bob']);
    expect(bob.failures).toBe(1);
    expect(bob.lockedUntil).toBeNull();
  });

  it('bypass code: accepted at the same prompt', async () => {
    const r = await loginDuo(conf('carol.conf'), { user: 'carol', host: '203.0.113.3', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: carolBypass }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^HELLO$/m);
    expect(r.output).toMatch(/Successful Duo login for 'carol'/);
  });

  it('lockout: three wrong codes (prompts = 3) lock the user; then even the right code is never asked for', async () => {
    const secret = secrets['dave']!;
    const wrong = { when: PROMPT, send: wrongCode(secret) };
    const r = await loginDuo(conf('dave.conf'), { user: 'dave', host: '203.0.113.4', command: HELLO }, { pty: true, answers: [wrong, wrong, wrong] });
    expect(r.code, show(r)).toBe(1);
    expect(r.answered).toBe(3);
    expect(r.output.match(/Failed Duo login for 'dave'/g)?.length).toBe(3);
    const dave = await srv.json<UserShow>(['user', 'show', 'dave']);
    expect(dave.failures).toBe(3);
    expect(dave.lockedUntil).not.toBeNull();

    // Interactive: preauth says deny with the server's lock message; no prompt is shown.
    const again = await loginDuo(conf('dave.conf'), { user: 'dave', host: '203.0.113.4', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: totp(secret) }] });
    expect(again.code, show(again)).toBe(1);
    expect(again.answered).toBe(0);
    expect(again.output).toMatch(/locked out/i);
    expect(again.output).toMatch(/Aborted Duo login for 'dave'/);
    expect(again.stdout).not.toMatch(/^HELLO$/m);

    // The right code offered up front (accept_env_factor + DUO_PASSCODE) is refused as well.
    const env = await loginDuo(conf('dave-env.conf', { accept_env_factor: true }), { user: 'dave', host: '203.0.113.4', command: HELLO }, { pty: true, env: { DUO_PASSCODE: totp(secret) } });
    expect(env.code, show(env)).toBe(1);
    expect(env.stdout).not.toMatch(/^HELLO$/m);
  });

  it('unknown user: the enrollment message with its URL is shown, and the login is refused', async () => {
    const r = await loginDuo(conf('newbie.conf'), { user: 'newbie', host: '203.0.113.5', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: '123456' }] });
    expect(r.code, show(r)).toBe(1);
    expect(r.answered).toBe(0);
    expect(r.output).toMatch(new RegExp(`https://localhost:${srv.port}/portal/enroll/[A-Za-z0-9_-]{16,}`));
    expect(r.output).toMatch(/Aborted Duo login for 'newbie'/);
    expect(r.stdout).not.toMatch(/^HELLO$/m);
  });

  it('-f maps the Duo user: without it the invoking user (root) is asked for, with -f grace it is grace', async () => {
    const secret = secrets['grace']!;
    // No -f: the Duo username is the invoking user's, root, whom Tandem does not know.
    const plain = await loginDuo(conf('grace.conf'), { host: '203.0.113.6', command: HELLO }, { pty: true });
    expect(plain.code, show(plain)).toBe(1);
    expect(plain.output).toMatch(/Aborted Duo login for 'root'/);
    const r = await loginDuo(conf('grace.conf'), { user: 'grace', host: '203.0.113.6', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: totp(secret) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.output).toMatch(/two-factor login for grace/);
    expect(r.output).not.toMatch(/two-factor login for root/);
    expect(r.stdout).toMatch(/^HELLO$/m);
  });

  it('accept_env_factor = yes: DUO_PASSCODE is used without a prompt (and, in 1.11.3, leaks into the session)', async () => {
    const secret = secrets['erin']!;
    const code = totp(secret);
    const r = await loginDuo(conf('erin.conf', { accept_env_factor: true }), { user: 'erin', host: '203.0.113.7', command: ['echo', 'LEAK=$DUO_PASSCODE'] }, { pty: true, env: { DUO_PASSCODE: code } });
    expect(r.code, show(r)).toBe(0);
    expect(r.output).toContain('Reading $DUO_PASSCODE...');
    expect(r.output).not.toMatch(PROMPT);
    // login_duo joins its arguments and runs them with `shell -c`, which expands the variable:
    // 1.11.3 does not scrub DUO_PASSCODE from the environment it execs (reference §2.1).
    expect(r.stdout).toContain(`LEAK=${code}`);
  });
});

describe('login_duo 1.11.3, groups (as a local user: setuid, privsep to sshd, /etc/security/login_duo.conf)', () => {
  let group: string;
  let inside: string;
  let outside: string;
  let insideSecret: string;
  let groupsConf: string;

  beforeAll(async () => {
    group = await accounts.group('2fa');
    inside = await accounts.user('in', { groups: [group] });
    outside = await accounts.user('out');
    [insideSecret] = await Promise.all([enrollTotp(inside), enrollTotp(outside)]);
    // Read by the privsep child as `sshd`: owned by sshd, 0600, like Debian's own file.
    groupsConf = conf('groups.conf', { groups: group }, 'sshd');
  });

  it('a user outside `groups` gets no second factor at all', async () => {
    const r = await loginDuoAsUser(work, outside, groupsConf, { host: '203.0.113.8', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: '000000' }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.answered).toBe(0);
    expect(r.output).not.toMatch(/two-factor login/);
    expect(r.stdout).toMatch(/^HELLO$/m);
  });

  it('a member of `groups` is asked, and logs in with the TOTP code', async () => {
    const r = await loginDuoAsUser(work, inside, groupsConf, { host: '203.0.113.8', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: totp(insideSecret) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.answered).toBe(1);
    expect(r.output).toMatch(new RegExp(`two-factor login for ${inside}`));
    expect(r.stdout).toMatch(/^HELLO$/m);
  });

  it('the groups check is on the invoking user, not the -f user: root (not a member) with -f skips Duo', async () => {
    const r = await loginDuo(conf('groups-root.conf', { groups: group }), { user: inside, host: '203.0.113.8', command: HELLO }, { pty: true, answers: [{ when: PROMPT, send: '000000' }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.answered).toBe(0);
    expect(r.stdout).toMatch(/^HELLO$/m);
  });

  it('the machine\'s own /etc/security/login_duo.conf was never touched', () => {
    expect(fileFingerprint(LOGIN_DUO_SYSTEM_CONF)).toBe(systemConfBefore);
  });

  it('the server saw the member only', async () => {
    const log = await auditLog(srv);
    expect(entriesFor(log, outside)).toEqual([]);
    const auths = entriesFor(log, inside, 'auth');
    expect(auths).toHaveLength(1);
    expect(auths[0]).toMatchObject({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ipaddr: '203.0.113.8', hostname: clientHostname() });
  });
});

describe('login_duo 1.11.3, non-interactive (stdin not a terminal, SSH_ORIGINAL_COMMAND set)', () => {
  it('a passcode-only user has no automatic factor: refused, the command does not run', async () => {
    const r = await loginDuo(conf('frank.conf'), { user: 'frank', host: '203.0.113.9' }, { env: { SSH_ORIGINAL_COMMAND: 'echo HEADLESS' } });
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).not.toContain('HEADLESS');
    // Headless login_duo prints nothing of the server's; its own log line names the refusal.
    expect(r.stderr).toMatch(/Aborted Duo login for 'frank' from 203\.0\.113\.9: No default factor found for automatic login/);
  });

  it('with accept_env_factor and DUO_PASSCODE it succeeds and runs SSH_ORIGINAL_COMMAND', async () => {
    const r = await loginDuo(conf('frank-env.conf', { accept_env_factor: true }), { user: 'frank', host: '203.0.113.9' }, { env: { SSH_ORIGINAL_COMMAND: 'echo HEADLESS', DUO_PASSCODE: totp(secrets['frank']!) } });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^HEADLESS$/m);
    expect(r.stderr).toMatch(/Successful Duo login for 'frank' from 203\.0\.113\.9/);
  });
});

describe('the audit log records every login as the client sent it', () => {
  it('user, factor, result, reason, ipaddr (-h) and hostname', async () => {
    const log = await auditLog(srv);
    const host = clientHostname();
    const auth = (u: string): ReturnType<typeof entriesFor> => entriesFor(log, u, 'auth');
    const pre = (u: string): ReturnType<typeof entriesFor> => entriesFor(log, u, 'preauth');
    const ctx = (ip: string): Record<string, string> => ({ ipaddr: ip, hostname: host });

    expect(auth('alice')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ...ctx('203.0.113.1'), integration: integ.ikey })]);
    expect(pre('alice')).toEqual([expect.objectContaining({ result: 'auth', ...ctx('203.0.113.1') })]);

    expect(auth('bob')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'deny', reason: 'invalid_passcode', ...ctx('203.0.113.2') })]);

    expect(auth('carol')).toEqual([expect.objectContaining({ factor: 'bypass_code', result: 'allow', reason: 'valid_passcode', ...ctx('203.0.113.3') })]);

    const dave = auth('dave');
    expect(dave).toHaveLength(3);
    for (const e of dave) expect(e).toMatchObject({ factor: 'passcode', result: 'deny', ...ctx('203.0.113.4') });
    expect(dave[2]!.reason).toMatch(/user_locked_out/);
    // Both refused logins after the lock stop at preauth.
    expect(pre('dave').slice(-2)).toEqual([
      expect.objectContaining({ result: 'deny', reason: 'locked_out', ...ctx('203.0.113.4') }),
      expect.objectContaining({ result: 'deny', reason: 'locked_out', ...ctx('203.0.113.4') }),
    ]);

    expect(pre('newbie')).toEqual([expect.objectContaining({ result: 'enroll', reason: 'enroll_required', ...ctx('203.0.113.5') })]);
    expect(auth('newbie')).toEqual([]);

    expect(pre('root')).toEqual([expect.objectContaining({ result: 'enroll', ...ctx('203.0.113.6') })]);
    expect(auth('grace')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'allow', ...ctx('203.0.113.6') })]);

    expect(auth('erin')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ...ctx('203.0.113.7') })]);

    // frank: one preauth without an auth (no default factor), then preauth + auth with the env code.
    expect(pre('frank')).toHaveLength(2);
    expect(auth('frank')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'allow', ...ctx('203.0.113.9') })]);
  });
});
