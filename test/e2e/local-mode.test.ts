// pam_tandem local mode (`mode=local`) against the real google-authenticator-libpam (Debian
// package libpam-google-authenticator): files written by the real `google-authenticator` CLI
// verify through pamtester with pam_tandem (TOTP codes from oathtool, scratch codes, reuse
// refused, rate limit), and after each step the file equals what the real
// pam_google_authenticator.so makes of an identical copy. Plus: 50 concurrent logins with the
// same code on one file → exactly one success, and the file stays valid.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGaFile, readDisallowReuse, scratchCodes } from '../../src/protocol/ga-file.js';
import { localAccounts, makeWorkDir, PAMTESTER, removeWorkDir, runPamtester, totp, wrongCode, type LocalAccounts, type RunResult } from '../support/duo-unix.js';
import { installClients, makeTrustedPrefix, type InstalledClients } from '../support/own-clients.js';

const GA_CLI = '/usr/bin/google-authenticator';
const GA_PAM = '/lib/x86_64-linux-gnu/security/pam_google_authenticator.so';

let accounts: LocalAccounts;
let clients: InstalledClients;
let work: string;
let user: string;
let uid: number;
let gid: number;
let seq = 0;

function show(r: RunResult): string {
  return `exit ${r.code}\n${r.output}`;
}

/** A directory owned by the user (mode 0700) holding a file from the real CLI, chowned to them. */
function realCliFile(flags: string[]): { dir: string; file: string; secret: string } {
  const dir = join(work, `d${++seq}`);
  mkdirSync(dir, { mode: 0o700 });
  const file = join(dir, 'ga');
  execFileSync(GA_CLI, [...flags, '-f', '-C', '-q', '-Q', 'NONE', '-s', file], { env: { HOME: '/root', PATH: '/usr/bin:/bin' }, timeout: 10_000 });
  chownSync(dir, uid, gid);
  chownSync(file, uid, gid);
  const secret = readFileSync(file, 'latin1').split('\n')[0]!;
  return { dir, file, secret };
}

/** An identical copy (same bytes, owner, mode) in another user-owned directory. */
function twin(file: string): string {
  const dir = join(work, `d${++seq}`);
  mkdirSync(dir, { mode: 0o700 });
  const copy = join(dir, 'ga');
  copyFileSync(file, copy);
  chmodSync(copy, statSync(file).mode & 0o7777);
  chownSync(dir, uid, gid);
  chownSync(copy, uid, gid);
  return copy;
}

function login(stack: string, code: string | null, rhost = '192.0.2.10'): Promise<RunResult> {
  return runPamtester(work, {
    services: { gatest: stack },
    service: 'gatest',
    user,
    items: { rhost },
    answers: code === null ? [] : [{ when: /code: /, send: code }],
    timeoutMs: 30_000,
  });
}
const tandem = (file: string, extra: string[] = []) => `auth required ${clients.pamModule} helper=${clients.helper} mode=local secret=${file} debug${extra.map((a) => ` ${a}`).join('')}\n`;
const upstream = (file: string, extra: string[] = []) => `auth required ${GA_PAM} secret=${file}${extra.map((a) => ` ${a}`).join('')}\n`;

const ok = (r: RunResult): void => {
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.output, show(r)).toContain('pamtester: successfully authenticated');
};
const denied = (r: RunResult): void => {
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.output, show(r)).not.toContain('successfully authenticated');
};

/** Keep both runs of a pair inside one 30-second step. */
async function freshStep(): Promise<void> {
  const into = (Date.now() / 1000) % 30;
  if (into > 22) await new Promise((r) => setTimeout(r, (30 - into + 0.5) * 1000));
}

beforeAll(async () => {
  for (const t of [GA_CLI, GA_PAM, PAMTESTER, '/usr/bin/oathtool']) statSync(t);
  accounts = localAccounts('gl');
  user = await accounts.user('alice');
  uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  clients = await installClients(makeTrustedPrefix('local-mode'));
  work = makeWorkDir('local-mode');
}, 300_000);

afterAll(async () => {
  await accounts?.cleanup();
  removeWorkDir(work);
  if (clients) rmSync(clients.prefix, { recursive: true, force: true });
});

describe('files from the real google-authenticator CLI', () => {
  it('TOTP, reuse refused, scratch code, wrong code: same results and same file as pam_google_authenticator', async () => {
    const a = realCliFile(['-t', '-d', '-w', '3', '-u']);
    const b = twin(a.file);
    const scratch = scratchCodes(parseGaFile(readFileSync(a.file, 'latin1')))[0]!.code;
    const same = () => expect(readFileSync(a.file, 'latin1')).toBe(readFileSync(b, 'latin1'));

    await freshStep();
    const code = totp(a.secret);
    ok(await login(tandem(a.file), code));
    ok(await login(upstream(b), code));
    same();
    expect(readFileSync(a.file, 'latin1')).toMatch(/\n" DISALLOW_REUSE [0-9]+\n/);

    const again1 = await login(tandem(a.file), code);
    denied(again1);
    expect(again1.output).toContain('Trying to reuse a previously used time-based code.');
    denied(await login(upstream(b), code));
    same();

    const s1 = await login(tandem(a.file), scratch);
    ok(s1);
    expect(s1.output).not.toContain(scratch);
    ok(await login(upstream(b), scratch));
    same();
    expect(readFileSync(a.file, 'latin1')).not.toContain(scratch);
    denied(await login(tandem(a.file), scratch));

    const bad = wrongCode(a.secret);
    const w = await login(tandem(a.file, ['noskewadj']), bad);
    denied(w);
    expect(w.output).toContain(`Invalid verification code for ${user}`);
    denied(await login(upstream(b, ['noskewadj']), bad));
    same();
    expect(statSync(a.file).uid).toBe(uid);
  }, 120_000);

  it('HOTP file: counter advances exactly like upstream', async () => {
    const a = realCliFile(['-c', '-w', '3', '-u']);
    const b = twin(a.file);
    const code1 = execFileSync('/usr/bin/oathtool', ['--hotp', '-b', '-c', '1', a.secret], { encoding: 'utf8' }).trim();
    const code3 = execFileSync('/usr/bin/oathtool', ['--hotp', '-b', '-c', '3', a.secret], { encoding: 'utf8' }).trim();
    ok(await login(tandem(a.file), code1));
    ok(await login(upstream(b), code1));
    expect(readFileSync(a.file, 'latin1')).toBe(readFileSync(b, 'latin1'));
    expect(readFileSync(a.file, 'latin1')).toContain('" HOTP_COUNTER 2\n');
    denied(await login(tandem(a.file), code1));
    denied(await login(upstream(b), code1));
    expect(readFileSync(a.file, 'latin1')).toBe(readFileSync(b, 'latin1'));
    ok(await login(tandem(a.file), code3));
    ok(await login(upstream(b), code3));
    expect(readFileSync(a.file, 'latin1')).toBe(readFileSync(b, 'latin1'));
    expect(readFileSync(a.file, 'latin1')).toContain('" HOTP_COUNTER 4\n');
  }, 120_000);

  it('RATE_LIMIT 3 30: the fourth attempt is refused without a prompt', async () => {
    const a = realCliFile(['-t', '-D', '-w', '3', '-r', '3', '-R', '30']);
    const code = totp(a.secret);
    for (let i = 0; i < 3; i++) ok(await login(tandem(a.file), code));
    const r = await login(tandem(a.file), code);
    denied(r);
    expect(r.output).toContain(`Too many concurrent login attempts ("${a.file}"). Please try again.`);
    expect(r.output).not.toContain('Verification code:');
    expect(readFileSync(a.file, 'latin1')).toMatch(/\n" RATE_LIMIT 3 30 [0-9]+ [0-9]+ [0-9]+\n/);
  }, 120_000);

  it('an unwritable directory denies with a clear log line; allow_readonly accepts', async () => {
    const a = realCliFile(['-t', '-d', '-w', '3', '-u']);
    chownSync(a.dir, 0, 0);
    chmodSync(a.dir, 0o755);
    await freshStep();
    const code = totp(a.secret);
    const r = await login(tandem(a.file), code);
    denied(r);
    expect(r.output).toMatch(/Failed to create tempfile ".*": Permission denied/);
    ok(await login(tandem(a.file, ['allow_readonly']), code));
  }, 120_000);

  it('a missing file denies; wrong owner and wrong mode deny', async () => {
    const a = realCliFile(['-t', '-D', '-w', '3', '-u']);
    denied(await login(tandem(join(a.dir, 'nope')), '123456'));
    chownSync(a.file, 0, 0);
    const r = await login(tandem(a.file), totp(a.secret));
    denied(r);
    // Upstream too: the root-owned 0400 file cannot even be read with the user's ids.
    expect(r.output).toContain(`Failed to read "${a.file}" for "${user}": Permission denied`);
    chownSync(a.file, uid, gid);
    chmodSync(a.file, 0o644);
    const m = await login(tandem(a.file), totp(a.secret));
    denied(m);
    expect(m.output).toContain(`Secret file "${a.file}" permissions (0644) are more permissive than 0600`);
  }, 120_000);
});

describe('nullok', () => {
  it('missing file with nullok: PAM_IGNORE without a prompt (like upstream); without nullok: denied', async () => {
    const missing = join(work, 'no-such-dir', 'ga');
    const stackOf = (line: string) => line.replace('auth required', 'auth [success=done ignore=ignore default=die]') + 'auth required pam_permit.so\n';
    for (const line of [tandem(missing, ['nullok']), upstream(missing, ['nullok'])]) {
      const r = await login(stackOf(line), null);
      ok(r);
      expect(r.output).not.toContain('code: ');
    }
    denied(await login(stackOf(tandem(missing)), '123456'));
    denied(await login(tandem(missing, ['nullok']), null));
  }, 120_000);
});

describe('concurrency', () => {
  it('50 concurrent logins with the same code: exactly one success, the file stays valid', async () => {
    const a = realCliFile(['-t', '-d', '-w', '3', '-u']);
    await freshStep();
    const code = totp(a.secret);
    const runs = await Promise.all(Array.from({ length: 50 }, () => login(tandem(a.file), code)));
    const wins = runs.filter((r) => r.output.includes('pamtester: successfully authenticated'));
    expect(runs.every((r) => !r.timedOut)).toBe(true);
    expect(wins.length, runs.map(show).join('\n----\n')).toBe(1);
    const f = parseGaFile(readFileSync(a.file, 'latin1'));
    expect(readDisallowReuse(f)?.length).toBe(1);
    expect(scratchCodes(f).length).toBe(5);
  }, 180_000);
});
