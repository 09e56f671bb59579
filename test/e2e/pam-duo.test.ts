// Debian 12's stock `pam_duo.so` (libpam-duo 1.11.3) through `pamtester`, against a real
// `tandem serve`. The PAM services are named exactly `sshd`, `sudo` and `su` — pam_duo changes
// behaviour on those names (reference duo_unix.md §2.2, §6.1) — inside a private mount namespace
// whose /etc/pam.d is a tmpfs, so the machine's own PAM configuration is never touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditLog,
  clientConf,
  clientHostname,
  copyCa,
  createLegacyIntegration,
  entriesFor,
  localAccounts,
  makeWorkDir,
  noAccountsLeft,
  pamDirSnapshot,
  PAM_DUO,
  removeWorkDir,
  requireDuoUnix,
  runPamtester,
  totp,
  writeDuoConf,
  wrongCode,
  type DuoConf,
  type Integration,
  type LocalAccounts,
  type RunResult,
} from '../support/duo-unix.js';
import { startServerProcess, type ServerProcess, cleanupAll } from '../support/server-process.js';

const PROMPT = /passcode[^\n]*: ?$/im;
const RHOST = '198.51.100.20';

let srv: ServerProcess;
let work: string;
let ca: string;
let integ: Integration;
let accounts: LocalAccounts;
let pamBefore: string;

async function enrollTotp(name: string): Promise<string> {
  await srv.json(['user', 'create', name]);
  return (await srv.json<{ secret: string }>(['token', 'add', name, '--type', 'totp'])).secret;
}

/** A second token for the same user, so two logins within one TOTP step are not replays. */
async function addToken(name: string): Promise<string> {
  return (await srv.json<{ secret: string }>(['token', 'add', name, '--type', 'totp'])).secret;
}

function pamConf(name: string, extra: Partial<DuoConf> = {}, owner?: string): string {
  return writeDuoConf(work, name, clientConf(srv, integ, ca, extra), owner);
}

/** A one-module stack: `auth required pam_duo.so conf=… debug` (debug: log lines on stderr). */
function stack(confPath: string): string {
  return `auth required ${PAM_DUO} conf=${confPath} debug\n`;
}

function show(r: RunResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

const names: Record<string, string> = {};
const secrets: Record<string, string> = {};
let callerSecrets: string[];

beforeAll(async () => {
  requireDuoUnix({ pamDuo: true });
  pamBefore = pamDirSnapshot();
  accounts = localAccounts('pd');
  srv = await startServerProcess();
  work = makeWorkDir('pam-duo');
  ca = copyCa(work, srv);
  integ = await createLegacyIntegration(srv, 'pam-duo-e2e');
  // pam_duo resolves PAM_USER with getpwnam: every Duo user here is also a local account.
  for (const role of ['ok', 'bad', 'max', 'sudo', 'caller', 'target', 'other', 'out']) names[role] = await accounts.user(role);
  // Enrolment through the CLI in parallel (each run is a Node start; SQLite WAL serialises writes).
  await Promise.all([
    ...['ok', 'bad', 'max', 'sudo', 'target', 'other', 'out'].map(async (role) => {
      secrets[role] = await enrollTotp(names[role]!);
    }),
    (async () => {
      const first = await enrollTotp(names['caller']!);
      callerSecrets = [first, await addToken(names['caller']!)];
    })(),
  ]);
}, 120_000);

afterAll(async () => {
  try {
    await cleanupAll('pam-duo', [() => srv?.stop(), () => accounts?.cleanup(), () => removeWorkDir(work)]);
  } finally {
    if (accounts) expect(noAccountsLeft(accounts.prefix)).toBe(true);
    if (pamBefore !== undefined) expect(pamDirSnapshot()).toBe(pamBefore);
  }
});

describe('pam_duo 1.11.3, service sshd', () => {
  it('the TOTP code answered at the prompt gives PAM_SUCCESS', async () => {
    const u = names['ok']!;
    const secret = secrets['ok']!;
    const r = await runPamtester(work, { services: { sshd: stack(pamConf('ok.conf')) }, service: 'sshd', user: u, items: { rhost: RHOST }, answers: [{ when: PROMPT, send: totp(secret) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.answered).toBe(1);
    expect(r.output).toMatch(new RegExp(`two-factor login for ${u}`));
    expect(r.output).toContain('pamtester: successfully authenticated');
    expect(r.output).toMatch(new RegExp(`Successful Duo login for '${u}' from ${RHOST.replace(/\./g, '\\.')}`));
  });

  it('a wrong code fails (one prompt: PAM_SERVICE_ERR in 1.11.3)', async () => {
    const u = names['bad']!;
    const secret = secrets['bad']!;
    const r = await runPamtester(work, { services: { sshd: stack(pamConf('bad.conf', { prompts: 1 })) }, service: 'sshd', user: u, items: { rhost: RHOST }, answers: [{ when: PROMPT, send: wrongCode(secret) }] });
    expect(r.code, show(r)).not.toBe(0);
    expect(r.answered).toBe(1);
    expect(r.output).not.toContain('successfully authenticated');
    expect(r.output).toContain('Incorrect passcode. Please try again.');
    expect(r.output).toMatch(new RegExp(`Failed Duo login for '${u}'`));
    expect(r.output).toMatch(/Error in service module/);
  });

  it('three wrong codes use up the prompts: PAM_MAXTRIES', async () => {
    const u = names['max']!;
    const secret = secrets['max']!;
    const wrong = { when: PROMPT, send: wrongCode(secret) };
    const r = await runPamtester(work, { services: { sshd: stack(pamConf('max.conf')) }, service: 'sshd', user: u, items: { rhost: RHOST }, answers: [wrong, wrong, wrong] });
    expect(r.code, show(r)).not.toBe(0);
    expect(r.answered).toBe(3);
    // pam_strerror(PAM_MAXTRIES), as pamtester prints it.
    expect(r.output).toMatch(/Have exhausted maximum number of retries for service/);
  });

  it('a user outside `groups` passes without a prompt', async () => {
    const u = names['out']!;
    const group = await accounts.group('g');
    const r = await runPamtester(work, { services: { sshd: stack(pamConf('out.conf', { groups: group })) }, service: 'sshd', user: u, items: { rhost: RHOST }, answers: [{ when: PROMPT, send: '000000' }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.answered).toBe(0);
  });
});

describe('pam_duo 1.11.3, service sudo', () => {
  it('the 2FA is for PAM_USER (the invoking user sudo sets), not PAM_RUSER', async () => {
    const u = names['sudo']!;
    const secret = secrets['sudo']!;
    const r = await runPamtester(work, {
      services: { sudo: stack(pamConf('sudo.conf', { pushinfo: true })) },
      service: 'sudo',
      user: u,
      items: { ruser: names['other']!, rhost: RHOST },
      env: { SUDO_COMMAND: '/usr/bin/id' },
      answers: [{ when: PROMPT, send: totp(secret) }],
    });
    expect(r.code, show(r)).toBe(0);
    expect(r.output).toMatch(new RegExp(`two-factor login for ${u}\\b`));
    expect(r.output).not.toContain(names['other']!);
  });
});

describe('pam_duo 1.11.3, service su', () => {
  let suConf: string;
  beforeAll(() => {
    // pamtester runs as the caller here, so the config is the caller's own 0600 file.
    suConf = pamConf('su.conf', {}, names['caller']!);
  });

  it('su to root: the 2FA is for the calling user (real uid)', async () => {
    const caller = names['caller']!;
    const r = await runPamtester(work, { services: { su: stack(suConf) }, service: 'su', user: 'root', caller, answers: [{ when: PROMPT, send: totp(callerSecrets[0]!) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.output).toMatch(new RegExp(`two-factor login for ${caller}\\b`));
  });

  it('su to another user: still the calling user in 1.11.3 (2.0.0+ would ask for the target)', async () => {
    const caller = names['caller']!;
    const r = await runPamtester(work, { services: { su: stack(suConf) }, service: 'su', user: names['target']!, caller, answers: [{ when: PROMPT, send: totp(callerSecrets[1]!) }] });
    expect(r.code, show(r)).toBe(0);
    expect(r.output).toMatch(new RegExp(`two-factor login for ${caller}\\b`));
    expect(r.output).not.toMatch(new RegExp(`two-factor login for ${names['target']!}`));
  });
});

describe('the audit log and the machine afterwards', () => {
  it('records each login with user, factor, result, reason, ipaddr (PAM_RHOST) and hostname; sshd is sync, others async', async () => {
    const log = await auditLog(srv);
    const hostname = clientHostname();
    const auth = (role: string): ReturnType<typeof entriesFor> => entriesFor(log, names[role]!, 'auth');

    expect(auth('ok')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ipaddr: RHOST, hostname, integration: integ.ikey, detail: expect.objectContaining({ async: false }) })]);
    expect(auth('bad')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'deny', reason: 'invalid_passcode', ipaddr: RHOST, hostname })]);
    expect(auth('max')).toHaveLength(3);
    expect(entriesFor(log, names['out']!)).toEqual([]);

    expect(auth('sudo')).toEqual([expect.objectContaining({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ipaddr: RHOST, hostname, detail: expect.objectContaining({ async: true }) })]);
    expect(entriesFor(log, names['other']!)).toEqual([]);

    // Both su logins are the caller's; no PAM_RHOST was set, so no ipaddr was sent.
    expect(auth('caller')).toEqual([
      expect.objectContaining({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ipaddr: null, hostname }),
      expect.objectContaining({ factor: 'passcode', result: 'allow', reason: 'valid_passcode', ipaddr: null, hostname }),
    ]);
    expect(entriesFor(log, names['target']!)).toEqual([]);
  });

  it('left /etc/pam.d exactly as it was', () => {
    expect(pamDirSnapshot()).toBe(pamBefore);
  });
});
