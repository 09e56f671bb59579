// Tandem's own C launchers (pam/: pam_tandem.so through pamtester, login_tandem directly and
// setuid) against a FAKE helper that speaks pam/PROTOCOL.md with scripted behaviours — no
// Tandem server. What is pinned: the request block, the environment built from nothing, the
// conversation relay, and that every protocol violation, crash, bad exit or deadline is a denial;
// the ownership checks on the helper and node; login_tandem's -c/-f rule, privilege separation,
// and the command run as the invoking user without DUO_PASSCODE.
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUser, localAccounts, noAccountsLeft, removeWorkDir, runInteractive, shellQuote, type LocalAccounts, type RunResult } from '../support/duo-unix.js';
import {
  buildLoginVariant,
  buildShim,
  processExists,
  readRecord,
  requirePamShim,
  runShimPam,
  SHIM_SO,
  trustedTempDir,
  writeFakeHelper,
  type FakeRecord,
  type ShimPamRun,
} from '../support/pam-shim.js';

let dir: string;
let recDir: string;
let fake: string;
let accounts: LocalAccounts;
let user: string;
let privsep: string;
let userIds: { uid: number; gid: number };
let privsepIds: { uid: number; gid: number };
let login: string;
let showScript: string;
let recSeq = 0;

const DENIED = /Authentication failure/;
const ACCEPTED = /successfully authenticated/;

function show(r: RunResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

function nextRecord(): string {
  return join(recDir, `rec-${++recSeq}.json`);
}

function ids(name: string): { uid: number; gid: number } {
  const f = (readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`)) ?? '').split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** pamtester with the fake helper: `scenario` and a fresh record file, timeout=2 unless given. */
async function pam(scenario: string, o: Partial<ShimPamRun> & { extraArgs?: string[]; helper?: string } = {}) {
  const record = nextRecord();
  const args = [`helper=${o.helper ?? fake}`, ...(o.args ?? ['timeout=2']), `scenario=${scenario}`, `record=${record}`, ...(o.extraArgs ?? [])];
  const r = await runShimPam(dir, SHIM_SO, { ...o, args });
  return { r, rec: readRecord(record), record };
}

function expectDenied(r: RunResult): void {
  expect(r.code, show(r)).not.toBe(0);
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.output, show(r)).toMatch(DENIED);
}

function expectAccepted(r: RunResult): void {
  expect(r.code, show(r)).toBe(0);
  expect(r.output, show(r)).toMatch(ACCEPTED);
}

beforeAll(async () => {
  requirePamShim();
  buildShim();
  dir = trustedTempDir('pam-shim');
  accounts = localAccounts('ps');
  user = await accounts.user('u');
  privsep = await accounts.user('p');
  userIds = ids(user);
  privsepIds = ids(privsep);
  recDir = join(dir, 'rec');
  mkdirSync(recDir, { mode: 0o755 });
  chownSync(recDir, privsepIds.uid, privsepIds.gid);
  fake = writeFakeHelper(join(dir, 'fake-helper.mjs'), { scenario: 'silent', record: join(recDir, 'default.json') });
  login = buildLoginVariant(join(dir, 'lt'), { helper: fake, privsepUser: privsep });
  chmodSync(login, 0o4755);
  showScript = join(dir, 'show.sh');
  writeFileSync(showScript, '#!/bin/sh\necho "who=$(id -un)"\necho "pc=${DUO_PASSCODE-unset}"\n', { mode: 0o755 });
  chmodSync(showScript, 0o755);
}, 180_000);

afterAll(async () => {
  const prefix = accounts?.prefix;
  try {
    await accounts?.cleanup();
  } finally {
    removeWorkDir(dir);
  }
  if (prefix) expect(noAccountsLeft(prefix)).toBe(true);
});

describe('pam_tandem.so: the request and the conversation', () => {
  it('sends ITEM/ARG/ENV/END, relays a hidden prompt answered on stdin, and accepts RESULT success + exit 0', async () => {
    const env = {
      SSH_CONNECTION: '198.51.100.7 50123 192.0.2.1 22',
      SSH_ORIGINAL_COMMAND: 'scp -t /tmp',
      SUDO_COMMAND: '/bin/true',
      SUDO_USER: 'x',
      DUO_PASSCODE: '123456',
      LD_PRELOAD: '/nonexistent',
      NODE_OPTIONS: '--require=/nonexistent/evil.cjs',
      TANDEM_NOT_WHITELISTED: '1',
    };
    const { r, rec, record } = await pam('success', {
      extraArgs: ['[conf=/etc/tandem/odd name%.conf]', 'unknown_flag', 'some_option=1'],
      items: { rhost: '198.51.100.7', ruser: 'bob', tty: '/dev/pts/9' },
      env,
      answers: [{ when: /Passcode: /, send: '123456' }],
    });
    expectAccepted(r);
    expect(r.output).toContain('Tandem two-factor login\nPasscode: ');
    expect(r.output).toContain('Welcome back.');
    expect(rec?.request).toEqual([
      'TANDEM-PAM 1',
      'ITEM user alice',
      'ITEM ruser bob',
      'ITEM rhost 198.51.100.7',
      'ITEM service tandem-test',
      'ITEM tty /dev/pts/9',
      'ITEM uid 0',
      'ITEM euid 0',
      `ARG helper=${fake}`,
      'ARG timeout=2',
      'ARG scenario=success',
      `ARG record=${record}`,
      'ARG conf=/etc/tandem/odd name%25.conf',
      'ARG unknown_flag',
      'ARG some_option=1',
      'ENV SSH_CONNECTION 198.51.100.7 50123 192.0.2.1 22',
      'ENV SSH_ORIGINAL_COMMAND scp -t /tmp',
      'ENV SUDO_COMMAND /bin/true',
      'ENV SUDO_USER x',
      'ENV DUO_PASSCODE 123456',
      'END',
    ]);
    expect(rec?.answers).toEqual(['ANSWER 123456']);
    // Built from nothing: no LD_PRELOAD, NODE_OPTIONS, HOME, SUDO_USER, … in the helper's env.
    expect(rec?.env).toEqual({ PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' });
    expect(rec?.argv).toEqual(['/usr/bin/node', fake]);
  });

  it('prefers the PAM environment (pam_getenv) over the process environment', async () => {
    const { r, rec } = await pam('silent', { env: { SUDO_USER: 'from-process' }, pamEnv: { SUDO_USER: 'from-pam' } });
    expectAccepted(r);
    expect(rec?.request.filter((l) => l.startsWith('ENV '))).toEqual(['ENV SUDO_USER from-pam']);
  });

  it('PROMPT_ON is an echoing prompt; a failed conversation is NOANSWER (and the helper denies)', async () => {
    const on = await pam('prompt-on', { answers: [{ when: /Passcode: /, send: 'visible' }] });
    expectAccepted(on.r);
    expect(on.rec?.answers).toEqual(['ANSWER visible']);
    const none = await pam('success'); // stdin is /dev/null: the conversation fails
    expectDenied(none.r);
    expect(none.rec?.answers).toEqual(['NOANSWER']);
    expect(none.r.output).toContain('No passcode.');
  });

  it('does not count the wait for the user against the deadline', async () => {
    const { r } = await pam('success', { args: ['timeout=1'], stdinScript: 'sleep 2; echo 123456' });
    expectAccepted(r);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(2000);
  });

  it('maps RESULT deny to PAM_AUTH_ERR and RESULT ignore to PAM_IGNORE', async () => {
    const deny = await pam('deny');
    expectDenied(deny.r);
    expect(deny.r.output).toContain('Access denied.');
    // [ignore=1 default=die]: only PAM_IGNORE skips pam_deny and reaches pam_permit.
    const stack = { control: '[ignore=1 default=die]', after: ['auth requisite pam_deny.so', 'auth required pam_permit.so'] };
    expectAccepted((await pam('ignore', stack)).r);
    expect((await pam('silent', stack)).r.code).not.toBe(0);
  });

  it('SETAUTHTOK sets PAM_AUTHTOK, which the next module instance receives as AUTHTOK', async () => {
    const second = nextRecord();
    const { r, rec } = await pam('setauthtok', { after: [`auth required ${SHIM_SO} helper=${fake} timeout=2 scenario=silent record=${second}`] });
    expectAccepted(r);
    expect(rec?.request.some((l) => l.startsWith('AUTHTOK'))).toBe(false);
    const rec2 = readRecord(second);
    expect(rec2?.request.slice(-2)).toEqual(['AUTHTOK s3cr%25et x', 'END']);
  });

  it('accepts a line of exactly 8192 bytes and keeps draining a flood of helper stderr (logging a bounded part)', async () => {
    expectAccepted((await pam('maxline')).r);
    const { r } = await pam('stderr-flood', { args: ['timeout=2', 'debug'] });
    expectAccepted(r);
    expect(r.stderr).toContain('[pam_tandem] helper: first line?with a tab\n');
    expect(r.stderr.match(/\[pam_tandem\] helper: helper log line/g)).toHaveLength(255);
    expect(r.stderr).toContain('[pam_tandem] helper: further stderr output not logged');
  });

  it('node= is accepted when it resolves to a trusted binary', async () => {
    const link = join(dir, 'node-link');
    symlinkSync('/usr/bin/node', link);
    const { r, rec } = await pam('silent', { extraArgs: [`node=${link}`] });
    expectAccepted(r);
    expect(rec?.argv[0]).toBe('/usr/bin/node');
  });
});

describe('pam_tandem.so: anything unexpected is a denial', () => {
  it('helper killed by a signal mid-conversation, or right after RESULT success', async () => {
    expectDenied((await pam('kill-mid')).r);
    expectDenied((await pam('kill-after-result')).r);
  });

  it('RESULT success followed by exit 1, EOF before RESULT, output after RESULT', async () => {
    expectDenied((await pam('exit1')).r);
    const eof = await pam('eof');
    expectDenied(eof.r);
    expect(eof.rec).toBeDefined(); // the helper did run
    expectDenied((await pam('junk-after-result')).r);
  });

  it('a helper that hangs (before or after RESULT) is killed at the deadline', async () => {
    for (const scenario of ['hang', 'hang-after-result']) {
      const { r, rec } = await pam(scenario, { args: ['timeout=2', 'debug'] });
      expectDenied(r);
      expect(r.elapsedMs, scenario).toBeGreaterThanOrEqual(1900);
      expect(r.elapsedMs, scenario).toBeLessThan(8000);
      expect(r.stderr).toContain('deadline passed');
      expect(processExists(rec!.pid), `${scenario}: helper ${rec!.pid} still running`).toBe(false);
    }
  });

  it('a line over 8192 bytes', async () => {
    const { r } = await pam('oversized', { args: ['timeout=2', 'debug'] });
    expectDenied(r);
    expect(r.stderr).toContain('line too long');
  });

  const bad: Array<[string, string]> = [
    ['unknown verb', 'HELLO there\n'],
    ['lower-case verb', 'result success\n'],
    ['empty line', '\n'],
    ['verb glued to payload', 'RESULTsuccess\n'],
    ['% not followed by two hex digits', 'INFO 100%\n'],
    ['bad hex escape', 'INFO %G1\n'],
    ['escape cut short', 'INFO %4\n'],
    ['encoded NUL', 'INFO a%00b\n'],
    ['raw NUL byte', 'INFO a\0b\n'],
    ['raw control byte', 'INFO a\rb\n'],
    ['unknown RESULT', 'RESULT maybe\n'],
    ['RESULT without outcome', 'RESULT\n'],
  ];
  it.each(bad)('malformed line: %s', async (_name, raw) => {
    const { r } = await pam('raw', { extraArgs: [`raw=${Buffer.from(raw, 'binary').toString('hex')}`] });
    expectDenied(r);
  });

  it('(control: a well-formed raw line is accepted)', async () => {
    const { r } = await pam('raw', { extraArgs: [`raw=${Buffer.from('INFO %41%42 c\n').toString('hex')}`] });
    expectAccepted(r);
    expect(r.output).toContain('AB c');
  });

  it('a bad timeout= argument', async () => {
    expectDenied((await pam('silent', { args: ['timeout=0'] })).r);
    expectDenied((await pam('silent', { args: ['timeout=2x'] })).r);
  });
});

describe('pam_tandem.so: the helper and node must be root-owned and root-writable only', () => {
  /** A directory under the trusted one, with a copy of the fake helper, arranged by `setup`. */
  function variant(name: string, setup: (d: string, helper: string) => void): string {
    const d = join(dir, name);
    mkdirSync(d, { mode: 0o755 });
    chmodSync(d, 0o755);
    const helper = writeFakeHelper(join(d, 'fake-helper.mjs'), { scenario: 'silent', record: join(recDir, `${name}.json`) });
    setup(d, helper);
    return helper;
  }

  const cases: Array<[string, (d: string, h: string) => void, RegExp]> = [
    ['helper group-writable', (_d, h) => chmodSync(h, 0o664), /writable by group or others/],
    ['helper world-writable', (_d, h) => chmodSync(h, 0o646), /writable by group or others/],
    ['helper owned by a user', (_d, h) => chownSync(h, userIds.uid, userIds.gid), /owned by uid \d+, not root/],
    ['directory group-writable', (d) => chmodSync(d, 0o775), /writable by group or others/],
    ['directory world-writable, sticky', (d) => chmodSync(d, 0o1777), /writable by group or others/],
    ['directory owned by a user', (d) => chownSync(d, userIds.uid, userIds.gid), /owned by uid \d+, not root/],
  ];
  it.each(cases)('%s → denied, the helper never runs, nothing on stderr without debug', async (name, setup, why) => {
    const slug = name.replace(/[^a-z]+/g, '-');
    const helper = variant(slug, setup);
    const quiet = await pam('silent', { helper });
    expectDenied(quiet.r);
    expect(quiet.rec, 'the helper ran').toBeUndefined();
    expect(quiet.r.stderr).not.toMatch(/pam_tandem|helper|refus/i);
    const loud = await pam('silent', { helper, args: ['timeout=2', 'debug'] });
    expectDenied(loud.r);
    expect(loud.r.stderr).toMatch(why);
    expect(readRecord(join(recDir, `${slug}.json`))).toBeUndefined();
  });

  it('a symlink from a trusted directory into an untrusted one, a relative path, a directory', async () => {
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    writeFakeHelper(join(open, 'h.mjs'), { scenario: 'silent', record: join(recDir, 'open.json') });
    const link = join(dir, 'link-to-open.mjs');
    symlinkSync(join(open, 'h.mjs'), link);
    for (const helper of [link, 'fake-helper.mjs', dir]) {
      const { r } = await pam('silent', { helper });
      expectDenied(r);
    }
    expect(readRecord(join(recDir, 'open.json'))).toBeUndefined();
  });

  it('node= that is not root-owned is refused', async () => {
    const node = join(dir, 'evil-node');
    writeFileSync(node, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    chownSync(node, userIds.uid, userIds.gid);
    const { r, rec } = await pam('silent', { extraArgs: [`node=${node}`], args: ['timeout=2', 'debug'] });
    expectDenied(r);
    expect(rec).toBeUndefined();
    expect(r.stderr).toMatch(/refusing node: .*not root/);
  });
});

describe('login_tandem', () => {
  function loginConf(name: string, scenario: string): { conf: string; record: string } {
    const record = nextRecord();
    const conf = join(dir, `${name}.json`);
    writeFileSync(conf, JSON.stringify({ scenario, record }), { mode: 0o644 });
    chmodSync(conf, 0o644);
    return { conf, record };
  }

  it('as root with -c/-f/-h: the helper runs as the privsep account; the command runs as the real user, without DUO_PASSCODE', async () => {
    const { conf, record } = loginConf('login-root', 'silent');
    const r = await runInteractive([login, '-d', '-c', conf, '-f', user, '-h', '203.0.113.9', '--', showScript], {
      env: { DUO_PASSCODE: '123456', SSH_CONNECTION: '198.51.100.4 50000 192.0.2.2 22', LD_PRELOAD: '' },
    });
    expect(r.code, show(r)).toBe(0);
    // As login_duo: -f names the 2FA user; the shell runs as the invoking (real) user.
    expect(r.stdout).toContain('who=root\n');
    expect(r.stdout).toContain('pc=unset\n');
    const rec = readRecord(record) as FakeRecord;
    expect(rec.request).toEqual([
      'TANDEM-PAM 1',
      'ITEM mode login',
      `ITEM user ${user}`,
      'ITEM rhost 198.51.100.4',
      'ITEM service login_tandem',
      'ITEM uid 0',
      'ITEM euid 0',
      `ARG conf=${conf}`,
      'ARG debug',
      `ARG user=${user}`,
      'ARG host=203.0.113.9',
      `ARG command=${showScript}`,
      'ENV SSH_CONNECTION 198.51.100.4 50000 192.0.2.2 22',
      'ENV DUO_PASSCODE 123456',
      'END',
    ]);
    expect(rec.uid).toBe(privsepIds.uid);
    expect(rec.gid).toBe(privsepIds.gid);
    expect(rec.groups).toEqual([privsepIds.gid]);
    expect(rec.env).toEqual({ PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' });
  });

  it('setuid, run by a user: privilege separation, then the command runs as that user without DUO_PASSCODE', async () => {
    const record = join(recDir, 'default.json');
    const r = await runInteractive([...asUser(user), login, '-d', '-h', 'client.example', '--', showScript], { env: { DUO_PASSCODE: '654321' } });
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain(`who=${user}\n`);
    expect(r.stdout).toContain('pc=unset\n');
    const rec = readRecord(record) as FakeRecord;
    expect(rec.uid).toBe(privsepIds.uid);
    expect(rec.request).toContain(`ITEM user ${user}`);
    expect(rec.request).toContain('ITEM rhost client.example');
    expect(rec.request).toContain(`ITEM uid ${userIds.uid}`);
    expect(rec.request).toContain('ITEM euid 0');
    expect(rec.request).toContain('ARG conf=/etc/tandem/login_tandem.conf');
    expect(rec.request).toContain('ENV DUO_PASSCODE 654321');
  });

  it('a user may not use -c or -f', async () => {
    const { conf, record } = loginConf('login-refused', 'silent');
    for (const flags of [['-c', conf], ['-f', 'root']]) {
      const r = await runInteractive([...asUser(user), login, ...flags, '--', showScript]);
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toContain('Only root may specify -c or -f');
      expect(r.stdout).not.toContain('who=');
    }
    expect(readRecord(record)).toBeUndefined();
  });

  it('prompts on the terminal with echo off and restores it; the answer reaches the helper', async () => {
    const { conf, record } = loginConf('login-tty', 'success');
    const r = await runInteractive([login, '-c', conf, '--', 'stty', '-a'], { pty: true, answers: [{ when: /Passcode: /, send: '987654' }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.output).toContain('Tandem two-factor login\nPasscode: ');
    expect(r.output).not.toContain('987654'); // not echoed
    expect(r.output).toMatch(/(^|[\s;])echo([\s;]|$)/m); // echo is back on for the command
    const rec = readRecord(record) as FakeRecord;
    expect(rec.answers).toEqual(['ANSWER 987654']);
    expect(rec.request.some((l) => /^ITEM tty \/dev\/pts\/\d+$/.test(l))).toBe(true);
  });

  it('^C at a hidden prompt: the helper is killed, the terminal gets its echo back, exit 1', async () => {
    const { conf, record } = loginConf('login-intr', 'success');
    const script = `trap "" INT; ${shellQuote([login, '-c', conf, '--', showScript])}; echo "rc=$?"; stty -a`;
    const r = await runInteractive(['/bin/sh', '-c', script], { pty: true, answers: [{ when: /Passcode: /, send: '\x03' }] });
    expect(r.output, show(r)).toContain('Tandem login failed');
    expect(r.output).toContain('rc=1');
    expect(r.output).not.toContain('who=');
    expect(r.output).toMatch(/(^|[\s;])echo([\s;]|$)/m);
    const rec = readRecord(record) as FakeRecord;
    expect(processExists(rec.pid), `helper ${rec.pid} still running`).toBe(false);
  });

  it('without a terminal a prompt gets NOANSWER; deny and crashes fail with "Tandem login failed" and run nothing', async () => {
    for (const scenario of ['success', 'deny', 'kill-after-result', 'exit1', 'junk-after-result']) {
      const { conf, record } = loginConf(`login-${scenario}`, scenario);
      const r = await runInteractive([login, '-c', conf, '--', showScript]);
      expect(r.code, `${scenario}: ${show(r)}`).toBe(1);
      expect(r.stderr).toContain('Tandem login failed');
      expect(r.stdout).not.toContain('who=');
      if (scenario === 'success') expect(readRecord(record)?.answers).toEqual(['NOANSWER']);
    }
  });

  it('refuses when the privsep account does not exist', async () => {
    const missing = buildLoginVariant(join(dir, 'lt-missing'), { helper: fake, privsepUser: `${accounts.prefix}-none` });
    const r = await runInteractive([missing, '--', showScript]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toContain(`User '${accounts.prefix}-none' not found`);
  }, 60_000);
});
