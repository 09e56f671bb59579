// tandem-authenticator against the real google-authenticator-libpam (Debian 12 package
// libpam-google-authenticator): files it writes (TOTP and HOTP, with rate limit, window,
// disallow-reuse, step size) verify in the REAL pam_google_authenticator.so through pamtester,
// inside a private mount namespace whose /etc/pam.d is a tmpfs (the machine's PAM configuration
// is never touched), with codes from oathtool and the file compared after each step; and the
// files and questions of the REAL google-authenticator CLI have the same structure as ours.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUser, localAccounts, makeWorkDir, OATHTOOL, pamDirSnapshot, PAMTESTER, removeWorkDir, runInteractive, runPamtester, type Answer, type LocalAccounts, type RunResult } from '../support/duo-unix.js';
import { requireTool } from '../support/server-process.js';

const PAM_GA = '/lib/x86_64-linux-gnu/security/pam_google_authenticator.so';
const GA_CLI = '/usr/bin/google-authenticator';
const PACKAGE = 'libpam-google-authenticator (Debian package)';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROMPT = /Verification code: /;

let work: string;
let bundleDir: string;
let bundle: string;
let pamBefore: string;
let accounts: LocalAccounts | undefined;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the authenticator end-to-end tests must run as root (mount namespaces, root-owned secret files)');
  requireTool(PAM_GA, PACKAGE);
  requireTool(GA_CLI, PACKAGE);
  requireTool(PAMTESTER, 'pamtester (Debian package)');
  requireTool(OATHTOOL, 'oathtool (Debian package)');
  pamBefore = pamDirSnapshot();
  work = makeWorkDir('ga-cli');
  // Our CLI as it ships: one esbuild bundle (what scripts/build.mjs makes), run by node. It sits
  // under the repository so that `qrcode` resolves from node_modules.
  bundleDir = join(ROOT, '.tmp', `authenticator-e2e-${process.pid}`);
  mkdirSync(bundleDir, { recursive: true });
  bundle = join(bundleDir, 'tandem-authenticator.mjs');
  await build({ absWorkingDir: ROOT, entryPoints: ['src/cli/authenticator-main.ts'], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
});

afterAll(async () => {
  await accounts?.cleanup();
  if (bundleDir !== undefined) rmSync(bundleDir, { recursive: true, force: true });
  removeWorkDir(work);
  if (pamBefore !== undefined) expect(pamDirSnapshot()).toBe(pamBefore);
});

function show(r: RunResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

function tandemAuthenticator(args: string[], answers: Answer[] = []): Promise<RunResult> {
  return runInteractive([process.execPath, bundle, ...args], { answers, env: { HOME: work } });
}

function googleAuthenticator(args: string[], answers: Answer[] = []): Promise<RunResult> {
  return runInteractive([GA_CLI, ...args], { answers, env: { HOME: work } });
}

async function enrol(name: string, args: string[]): Promise<{ path: string; secret: string; lines: string[] }> {
  const path = join(work, name);
  const r = await tandemAuthenticator([...args, '-q', '-s', path]);
  expect(r.code, show(r)).toBe(0);
  const lines = fileLines(path);
  return { path, secret: lines[0]!, lines };
}

function fileLines(path: string): string[] {
  const text = readFileSync(path, 'latin1');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

function totp(secret: string, epoch: number, step = 30): string {
  return execFileSync(OATHTOOL, ['--totp', '--now', `@${epoch}`, '-s', `${step}s`, '-b', secret], { encoding: 'utf8' }).trim();
}

function hotp(secret: string, counter: number): string {
  return execFileSync(OATHTOOL, ['--hotp', '-c', String(counter), '-b', secret], { encoding: 'utf8' }).trim();
}

/** One login through pam_google_authenticator.so (secret file owned by root, `user=root`). */
function login(path: string, code: string, user = 'root'): Promise<RunResult> {
  const owner = user === 'root' ? ' user=root' : '';
  return runPamtester(work, {
    services: { gatest: `auth required ${PAM_GA} secret=${path}${owner}\n` },
    service: 'gatest',
    user,
    answers: [{ when: PROMPT, send: code }],
  });
}

function accepted(r: RunResult): void {
  expect(r.code, show(r)).toBe(0);
  expect(r.output).toContain('pamtester: successfully authenticated');
}

function refused(r: RunResult): void {
  expect(r.code, show(r)).not.toBe(0);
  expect(r.output).toContain('pamtester: Authentication failure');
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

describe('files written by tandem-authenticator verify in the real pam_google_authenticator.so', () => {
  it('TOTP with DISALLOW_REUSE and RATE_LIMIT 3 30: code, replay refused, scratch code, then rate-limited', async () => {
    const { path, secret, lines } = await enrol('totp', ['-t', '-d', '-f', '-C', '-r', '3', '-R', '30', '-w', '3', '-e', '2']);
    expect(lines.slice(1, 5)).toEqual(['" RATE_LIMIT 3 30', '" WINDOW_SIZE 3', '" DISALLOW_REUSE', '" TOTP_AUTH']);
    const scratch = lines.slice(5);
    expect(scratch).toHaveLength(2);
    expect(statSync(path).mode & 0o7777).toBe(0o400);

    const t0 = nowSec();
    const code = totp(secret, t0);
    accepted(await login(path, code));
    let now = fileLines(path);
    expect(now[0]).toBe(secret);
    const rate = /^" RATE_LIMIT 3 30 (\d+)$/.exec(now[1]!);
    expect(rate, now.join('\n')).not.toBeNull();
    expect(Number(rate![1])).toBeGreaterThanOrEqual(t0);
    expect(now.slice(2)).toEqual(['" WINDOW_SIZE 3', `" DISALLOW_REUSE ${Math.floor(t0 / 30)}`, '" TOTP_AUTH', ...scratch]);

    refused(await login(path, code)); // the same code again
    expect(fileLines(path)[1]).toMatch(/^" RATE_LIMIT 3 30 \d+ \d+$/);

    accepted(await login(path, scratch[0]!));
    now = fileLines(path);
    expect(now[1]).toMatch(/^" RATE_LIMIT 3 30 \d+ \d+ \d+$/);
    expect(now.slice(2)).toEqual(['" WINDOW_SIZE 3', `" DISALLOW_REUSE ${Math.floor(t0 / 30)}`, '" TOTP_AUTH', scratch[1]]);

    // Fourth attempt within 30 s: refused before any prompt, even with a valid scratch code.
    const r = await login(path, scratch[1]!);
    refused(r);
    expect(r.answered).toBe(0);
    expect(fileLines(path).slice(-1)).toEqual([scratch[1]]);
    expect(statSync(path).mode & 0o7777).toBe(0o400);
  });

  it('HOTP (-c -w 5 -u): counter 1, replay refused, look-ahead within the window, scratch code', async () => {
    const { path, secret, lines } = await enrol('hotp', ['-c', '-f', '-w', '5', '-u', '-e', '1']);
    expect(lines.slice(1, 3)).toEqual(['" WINDOW_SIZE 5', '" HOTP_COUNTER 1']);
    const scratch = lines[3]!;
    expect(lines).toHaveLength(4);

    accepted(await login(path, hotp(secret, 1)));
    expect(fileLines(path)).toEqual([secret, '" WINDOW_SIZE 5', '" HOTP_COUNTER 2', scratch]);
    // A used counter fails, and a failed attempt advances the counter by one.
    refused(await login(path, hotp(secret, 1)));
    expect(fileLines(path)).toEqual([secret, '" WINDOW_SIZE 5', '" HOTP_COUNTER 3', scratch]);
    accepted(await login(path, hotp(secret, 7))); // 3..7 is the 5-code window
    expect(fileLines(path)).toEqual([secret, '" WINDOW_SIZE 5', '" HOTP_COUNTER 8', scratch]);
    accepted(await login(path, scratch));
    expect(fileLines(path)).toEqual([secret, '" WINDOW_SIZE 5', '" HOTP_COUNTER 8']);
  });

  it('TOTP -S 60 -w 17 -D -u: 60-second steps, +7 steps accepted, +12 not, reuse allowed', async () => {
    const { path, secret, lines } = await enrol('step', ['-t', '-D', '-f', '-C', '-u', '-w', '17', '-S', '60']);
    expect(lines.slice(1, 4)).toEqual(['" WINDOW_SIZE 17', '" STEP_SIZE 60', '" TOTP_AUTH']);
    const t = nowSec();
    const plus7 = totp(secret, t + 7 * 60, 60);
    accepted(await login(path, plus7));
    accepted(await login(path, plus7)); // no DISALLOW_REUSE
    // Nothing to record: the file is untouched by successful logins.
    expect(fileLines(path)).toEqual(lines);
    refused(await login(path, totp(secret, t + 12 * 60, 60)));
  });
});

describe('terminal output', () => {
  it('draws the QR code on a terminal only, and always prints the otpauth URL', async () => {
    const path = join(work, 'qr');
    const args = ['-t', '-D', '-f', '-C', '-u', '-W', '-Q', 'UTF8', '-l', 'a b#c', '-i', 'Tandem Test', '-s', path];
    const tty = await runInteractive([process.execPath, bundle, ...args], { pty: true, env: { HOME: work } });
    expect(tty.code, show(tty)).toBe(0);
    const secret = fileLines(path)[0]!;
    expect(tty.stdout).toMatch(/[\u2580\u2584\u2588]{7}/);
    expect(tty.stdout).toContain(`Your otpauth URL is: otpauth://totp/a%20b%23c?secret=${secret}&issuer=Tandem%20Test\n`);
    rmSync(path);
    const piped = await tandemAuthenticator(args);
    expect(piped.code, show(piped)).toBe(0);
    expect(piped.stdout).not.toMatch(/[\u2580\u2584\u2588]/);
    expect(piped.stdout).toContain('Your otpauth URL is: otpauth://totp/a%20b%23c?secret=');
  });
});

describe('enrolment by an ordinary user', () => {
  it("a user's own file, written by tandem-authenticator run as the user, verifies as that user (secret= with ${USER})", async () => {
    accounts = localAccounts('ga');
    const user = await accounts.user('enrol');
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    const home = join(work, `home-${user}`);
    mkdirSync(home, { mode: 0o700 });
    chownSync(home, uid, gid);
    const path = join(home, '.google_authenticator'); // the default path, from $HOME
    const r = await runInteractive([...asUser(user), process.execPath, bundle, '-t', '-d', '-f', '-C', '-r', '3', '-R', '30', '-W', '-q'], { env: { HOME: home } });
    expect(r.code, show(r)).toBe(0);
    expect(statSync(path).uid).toBe(uid);
    expect(statSync(path).mode & 0o7777).toBe(0o400);
    const secret = fileLines(path)[0]!;
    // No user=: the module switches to the user and checks the file is theirs.
    accepted(await login(join(work, 'home-${USER}', '.google_authenticator'), totp(secret, nowSec()), user));
    // It rewrote the file as the user (RATE_LIMIT and DISALLOW_REUSE entries), still theirs, 0400.
    expect(fileLines(path)[1]).toMatch(/^" RATE_LIMIT 3 30 \d+$/);
    expect(statSync(path).uid).toBe(uid);
    expect(statSync(path).mode & 0o7777).toBe(0o400);
  });
});

/** The `(y/n)` questions in an output, in order, each reduced to its last line. */
function questions(out: string): string[] {
  return [...out.matchAll(/([^\n]*) \(y\/n\) /g)].map((m) => m[1]!.replace(/"[^"]*"/, '"PATH"'));
}

/** Everything but the secret and the scratch codes. */
function structure(lines: string[]): { options: string[]; secretIsBase32: boolean; codes: number } {
  const codes = lines.slice(1).filter((l) => /^[1-9][0-9]{7}$/.test(l));
  return { options: lines.slice(1).filter((l) => !codes.includes(l)), secretIsBase32: /^[A-Z2-7]+$/.test(lines[0]!), codes: codes.length };
}

describe('the same files and questions as the real google-authenticator CLI', () => {
  const flagSets: string[][] = [
    ['-t', '-d', '-f', '-C', '-r', '3', '-R', '30', '-w', '3'],
    ['-t', '-D', '-f', '-C', '-u', '-W', '-e', '2', '-S', '60'],
    ['-c', '-f', '-W', '-r', '5', '-R', '60', '-e', '3'],
    ['-c', '-f', '-w', '17', '-u', '-e', '0', '-q'],
  ];
  it('same option lines in the same order, same number of codes, mode 0400, LF endings', async () => {
    let n = 0;
    for (const flags of flagSets) {
      const ours = join(work, `ours-${++n}`);
      const theirs = join(work, `theirs-${n}`);
      const [a, b] = await Promise.all([tandemAuthenticator([...flags, '-s', ours]), googleAuthenticator([...flags, '-s', theirs])]);
      expect(a.code, show(a)).toBe(0);
      expect(b.code, show(b)).toBe(0);
      const sa = structure(fileLines(ours));
      expect(sa, flags.join(' ')).toEqual(structure(fileLines(theirs)));
      expect(sa.secretIsBase32).toBe(true);
      expect(fileLines(ours)[0]).toHaveLength(32); // 160 bits (Debian's v1.08 writes 128)
      expect(statSync(ours).mode & 0o7777).toBe(statSync(theirs).mode & 0o7777);
      expect(statSync(ours).mode & 0o7777).toBe(0o400);
      expect(readFileSync(ours, 'latin1')).not.toContain('\r');
    }
  });

  it('interactive: the same questions in the same order, and the same file, for y and for n answers', async () => {
    for (const answer of ['y', 'n']) {
      const ours = join(work, `ia-ours-${answer}`);
      const theirs = join(work, `ia-theirs-${answer}`);
      // time-based?, update?, then (TOTP) reuse, window, rate limit; (HOTP) window, rate limit.
      const script = (path: string): Answer[] => {
        const a: Answer[] = [{ when: /time-based \(y\/n\) /, send: answer }];
        if (answer === 'y') a.push({ when: /Enter code from app \(-1 to skip\): /, send: '-1' });
        a.push({ when: new RegExp(`update your "${path}" file\\? \\(y/n\\) `), send: 'y' });
        for (let i = 0; i < (answer === 'y' ? 3 : 2); i++) a.push({ when: /\(y\/n\) /, send: answer });
        return a;
      };
      const [a, b] = await Promise.all([tandemAuthenticator(['-s', ours, '-Q', 'NONE'], script(ours)), googleAuthenticator(['-s', theirs, '-Q', 'NONE'], script(theirs))]);
      expect(a.code, show(a)).toBe(0);
      expect(b.code, show(b)).toBe(0);
      expect(questions(a.stdout)).toEqual(questions(b.stdout));
      expect(questions(a.stdout)).toHaveLength(answer === 'y' ? 5 : 4);
      expect(structure(fileLines(ours))).toEqual(structure(fileLines(theirs)));
      for (const marker of ['Your new secret key is: ', 'Your emergency scratch codes are:']) {
        expect(a.stdout).toContain(marker);
        expect(b.stdout).toContain(marker);
      }
    }
  });

  it('the same validation errors and exit codes', async () => {
    const cases = [['-w', '22'], ['-r', '3'], ['-u', '-r', '3'], ['-c', '-d'], ['-d'], ['-e', '11'], ['-Q', 'foo'], ['-t', '-t'], ['-s', '']];
    for (const args of cases) {
      const [a, b] = await Promise.all([tandemAuthenticator(args), googleAuthenticator(args)]);
      expect(a.code, args.join(' ')).toBe(b.code);
      expect(a.stderr, args.join(' ')).toBe(b.stderr);
    }
    const [a, b] = await Promise.all([tandemAuthenticator(['--bogus']), googleAuthenticator(['--bogus'])]);
    expect(a.code).toBe(1);
    expect(b.code).toBe(1);
    // getopt names the program by argv[0].
    expect(a.stderr.replace('tandem-authenticator', 'PROG')).toBe(b.stderr.replace(GA_CLI, 'PROG'));
  });
});
