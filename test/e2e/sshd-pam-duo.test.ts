// Debian's stock pam_duo.so (libpam-duo 1.11.3) through a real OpenSSH sshd, against a real
// `tandem serve`: an ssh2 client logs in over keyboard-interactive with a password and a TOTP
// code from oathtool, and a wrong code is refused. 1.11.3 speaks /rest/v1/*.bson signed with the
// legacy v1 scheme (duo_unix.md §10), and under the PAM service `sshd` it runs in sync mode
// (async=0, duo_unix.md §2.2), which is what every Debian host with pam_duo in sshd does.
// The machine's own /etc/pam.d must come out unchanged (sshd gets its stack in a private mount
// namespace, see test/support/sshd.ts).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, startServerProcess, type ServerProcess, cleanupAll } from '../support/server-process.js';
import { createLocalUser, debianPackageFile, requireSshdTools, snapshotDir, sshLogin, startSshd, type LocalUser, type RunningSshd } from '../support/sshd.js';

const run = promisify(execFile);
const OATHTOOL = '/usr/bin/oathtool';

interface LogEntry {
  event: string;
  username: string | null;
  factor: string | null;
  result: string;
  reason: string;
  ipaddr: string | null;
  hostname: string | null;
  integration: string | null;
  seq: number;
  time: string;
  detail: unknown;
}

const pamBefore = snapshotDir('/etc/pam.d');
let srv: ServerProcess | undefined;
let sshd: RunningSshd | undefined;
let user: LocalUser | undefined;
let secret = '';
let ikey = '';
const confDir = mkdtempSync(join(tmpdir(), 'tandem-pam-duo-'));

/** TOTP codes from oathtool for the steps from `fromSec` on (`window` + 1 of them). */
async function totp(fromSec = Math.floor(Date.now() / 1000), window = 0): Promise<string[]> {
  const { stdout } = await run(OATHTOOL, ['--totp', '-b', `--now=@${fromSec}`, `-w`, String(window), secret]);
  return stdout.trim().split('\n');
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) if (cond()) return true;
  return cond();
}

/** The current code, waiting into the next step when this one has under 5 s left (so it cannot expire in flight). */
async function freshCode(): Promise<string> {
  const left = 30 - (Math.floor(Date.now() / 1000) % 30);
  if (left < 5) await new Promise((r) => setTimeout(r, left * 1000 + 200));
  return (await totp())[0]!;
}

beforeAll(async () => {
  requireSshdTools();
  requireTool(OATHTOOL, 'oathtool (Debian package)');
  const pamDuo = debianPackageFile('libpam-duo', /\/security\/pam_duo\.so$/);

  srv = await startServerProcess();
  user = await createLocalUser();
  const created = await srv.cli(['user', 'create', user.name]);
  if (created.code !== 0) throw new Error(`tandem user create failed: ${created.stderr}`);
  ({ secret } = await srv.json<{ secret: string }>(['token', 'add', user.name, '--type', 'totp']));
  const integration = await srv.json<{ ikey: string; skey: string; cafile: string }>(['integration', 'create', '--name', 'sshd', '--legacy-v1']);
  ikey = integration.ikey;

  // pam_duo refuses (fails open, in fact) a config readable by others: root-owned, 0600.
  const conf = join(confDir, 'pam_duo.conf');
  writeFileSync(conf, ['[duo]', `ikey = ${integration.ikey}`, `skey = ${integration.skey}`, `host = localhost:${srv.port}`, `cafile = ${srv.caFile}`, 'failmode = secure', ''].join('\n'), { mode: 0o600 });

  sshd = await startSshd({
    allowUsers: [user.name],
    pamService: [
      '# Tandem e2e: password, then Duo (Tandem); seen only inside the test sshd\'s mount namespace',
      'auth requisite pam_unix.so',
      `auth required ${pamDuo} conf=${conf}`,
      'account required pam_unix.so',
      'session required pam_unix.so',
      '',
    ].join('\n'),
  });
}, 90_000);

afterAll(async () => {
  await cleanupAll('sshd-pam-duo', [() => sshd?.stop(), () => user?.remove(), () => srv?.stop(), () => rmSync(confDir, { recursive: true, force: true })]);
}, 60_000);

describe('pam_duo 1.11.3 in a real sshd, against tandem serve', () => {
  it('the password and a valid TOTP code log in, and the command runs', async () => {
    const code = await freshCode();
    const r = await sshLogin({
      sshd: sshd!,
      username: user!.name,
      command: 'echo HELLO',
      answer: (prompt) => (/password/i.test(prompt) ? user!.password : code),
    });
    const detail = `${JSON.stringify(r, null, 1)}\n--- sshd log ---\n${sshd!.log()}\n--- server log ---\n${srv!.serverLog()}`;
    expect(r.ok, detail).toBe(true);
    expect(r.stdout).toBe('HELLO\n');
    expect(r.exitCode).toBe(0);
    // Round 1: pam_unix's password prompt (echo off); round 2: Tandem's prompt text, which
    // pam_duo prints verbatim and reads with echo on.
    expect(r.rounds[0]!.prompts).toEqual([{ prompt: expect.stringMatching(/password/i), echo: false }]);
    const duoRound = r.rounds.find((x) => x.prompts.some((p) => /passcode/i.test(p.prompt)));
    expect(duoRound, detail).toBeDefined();
    expect(duoRound!.prompts[0]!.prompt).toContain(`Tandem two-factor login for ${user!.name}`);
    expect(duoRound!.prompts[0]!.echo).toBe(true);
    expect(sshd!.log()).toMatch(new RegExp(`Accepted keyboard-interactive/pam for ${user!.name} from 127\\.0\\.0\\.1 port \\d+`));
  }, 30_000);

  it('the password and a wrong code are refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    // Every code the server could accept around now (±2 minutes), so the wrong one is surely wrong.
    const near = new Set(await totp(now - 120, 8));
    let wrong = '000000';
    for (let n = 0; near.has(wrong); n++) wrong = String(n * 7919 % 1_000_000).padStart(6, '0');

    const r = await sshLogin({
      sshd: sshd!,
      username: user!.name,
      command: 'echo HELLO',
      answer: (prompt) => (/password/i.test(prompt) ? user!.password : wrong),
    });
    const detail = `${JSON.stringify(r, null, 1)}\n--- sshd log ---\n${sshd!.log()}`;
    expect(r.ok, detail).toBe(false);
    expect(r.error, detail).toMatch(/authentication methods failed/i);
    expect(r.stdout).toBe('');
    // pam_duo's default `prompts = 3`: three passcode rounds, each answer a new preauth + auth.
    // The deny's status text is PAM_TEXT_INFO, which sshd relays in front of the next prompt.
    expect(r.rounds[0]!.prompts).toEqual([{ prompt: expect.stringMatching(/password/i), echo: false }]);
    const duoRounds = r.rounds.slice(1);
    expect(duoRounds.length, detail).toBe(3);
    for (const [i, x] of duoRounds.entries()) {
      expect(x.prompts.length, detail).toBe(1);
      expect(x.prompts[0]!.prompt, detail).toContain(`Tandem two-factor login for ${user!.name}`);
      if (i > 0) expect(x.prompts[0]!.prompt, detail).toMatch(/^Incorrect passcode\./);
    }
    // sshd logs the failure just after telling the client.
    expect(await waitFor(() => new RegExp(`Failed keyboard-interactive/pam for ${user!.name} from 127\\.0\\.0\\.1`).test(sshd!.log()), 5_000), sshd!.log()).toBe(true);
    expect(sshd!.log().match(/Accepted keyboard-interactive/g)?.length).toBe(1);
  }, 45_000);

  it('the audit log shows both attempts from 127.0.0.1, in sync mode', async () => {
    const entries = await srv!.json<LogEntry[]>(['log', '--user', user!.name]);
    const mine = entries.filter((e) => e.username === user!.name).sort((a, b) => a.seq - b.seq);
    const summary = JSON.stringify(mine, null, 1);
    // Each of the four passcode answers (one valid, three wrong) is a preauth followed by an auth.
    expect(mine.map((e) => e.event), summary).toEqual(['preauth', 'auth', 'preauth', 'auth', 'preauth', 'auth', 'preauth', 'auth']);
    for (const e of mine) {
      // PAM_RHOST from sshd (UseDNS no), passed on by pam_duo as ipaddr.
      expect(e.ipaddr, summary).toBe('127.0.0.1');
      expect(e.hostname, summary).toBeTruthy();
      expect(e.integration, summary).toBe(ikey);
    }
    for (const e of mine.filter((x) => x.event === 'preauth')) expect(e.result, summary).toBe('auth');
    const auths = mine.filter((e) => e.event === 'auth');
    expect(auths.map((e) => [e.factor, e.result]), summary).toEqual([['passcode', 'allow'], ['passcode', 'deny'], ['passcode', 'deny'], ['passcode', 'deny']]);
    // Under the PAM service `sshd`, pam_duo asks synchronously (async=0).
    for (const e of auths) expect(e.detail, summary).toMatchObject({ async: false });
  });

  it('leaves the machine\'s /etc/pam.d exactly as it was', async () => {
    // While the test sshd runs, the host still sees its own stock sshd stack.
    expect(readFileSync('/etc/pam.d/sshd', 'utf8')).not.toContain('pam_duo');
    await sshd?.stop();
    expect(snapshotDir('/etc/pam.d')).toEqual(pamBefore);
  });
});
