// `[tandem] offline_fallback = local` (issue 5, item 4) through pamtester and the installed
// pam_tandem: with the server unreachable (a closed loopback port), a root-owned
// google-authenticator file written by the real CLI decides; a user-owned one is refused; with
// the server reachable the local file is never consulted. The network phase runs in a child
// process as _tandem (all ids); only the root parent reads the file.
// login_tandem: offline-fallback-login.test.ts.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedLoopbackPort, copyCa, localAccounts, makeWorkDir, PAMTESTER, removeWorkDir, runPamtester, totp, wrongCode, type Integration, type LocalAccounts, type RunResult } from '../support/duo-unix.js';
import { installClients, makeTrustedPrefix, tandemConfText, tandemStack, writeTandemConf, type InstalledClients } from '../support/own-clients.js';
import { cleanupAll, requireTool, startServerProcess, type ServerProcess } from '../support/server-process.js';

const GA_CLI = '/usr/bin/google-authenticator';
const RHOST = '198.51.100.40';

let srv: ServerProcess;
let clients: InstalledClients;
let accounts: LocalAccounts;
let work: string;
let secretDir: string;
let ca: string;
let integ: Integration;
let user: string;
let serverSecret: string;
let seq = 0;

function show(r: RunResult): string {
  return `exit ${r.code}\n${r.output}`;
}
const ok = (r: RunResult): void => {
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.output, show(r)).toContain('pamtester: successfully authenticated');
};
const denied = (r: RunResult): void => {
  expect(r.timedOut, show(r)).toBe(false);
  expect(r.output, show(r)).not.toContain('successfully authenticated');
};

/** A TOTP file from the real CLI in the root-owned directory (root:root 0400); returns path and secret. */
function rootFile(): { file: string; secret: string } {
  const file = join(secretDir, `ga${++seq}`);
  execFileSync(GA_CLI, ['-t', '-d', '-w', '3', '-u', '-f', '-C', '-q', '-Q', 'NONE', '-s', file], { env: { HOME: '/root', PATH: '/usr/bin:/bin' }, timeout: 10_000 });
  return { file, secret: readFileSync(file, 'latin1').split('\n')[0]! };
}

function conf(name: string, host: string): string {
  const text = tandemConfText({ ikey: integ.ikey, skey: integ.skey, host, cafile: ca, failmode: 'secure', prompts: 1 });
  return writeTandemConf(work, name, `${text}[tandem]\noffline_fallback = local\n`);
}

function login(confPath: string, file: string, answer: string): Promise<RunResult> {
  return runPamtester(work, {
    services: { sshd: tandemStack(clients, confPath, [`helper=${clients.helper}`, `secret=${file}`, 'user=root']) },
    service: 'sshd',
    user,
    items: { rhost: RHOST },
    answers: [{ when: /(code|passcode[^\n]*): ?$/im, send: answer }],
    timeoutMs: 30_000,
  });
}

async function freshStep(): Promise<void> {
  const into = (Date.now() / 1000) % 30;
  if (into > 22) await new Promise((r) => setTimeout(r, (30 - into + 0.5) * 1000));
}

beforeAll(async () => {
  requireTool(PAMTESTER, 'pamtester (Debian package)');
  requireTool(GA_CLI, 'google-authenticator (Debian package libpam-google-authenticator)');
  accounts = localAccounts('of');
  user = await accounts.user('alice');
  clients = await installClients(makeTrustedPrefix('offline'));
  srv = await startServerProcess();
  work = makeWorkDir('offline-fallback');
  ca = copyCa(work, srv);
  integ = await srv.json<Integration>(['integration', 'create', '--name', 'offline-fallback-e2e']);
  await srv.json(['user', 'create', user]);
  serverSecret = (await srv.json<{ secret: string }>(['token', 'add', user, '--type', 'totp'])).secret;
  secretDir = mkdtempSync('/var/lib/tandem-offline-secrets-');
  chmodSync(secretDir, 0o755);
}, 300_000);

afterAll(async () => {
  await cleanupAll('offline-fallback', [
    () => srv?.stop(),
    () => accounts?.cleanup(),
    () => removeWorkDir(work),
    () => clients && rmSync(clients.prefix, { recursive: true, force: true }),
    () => secretDir && rmSync(secretDir, { recursive: true, force: true }),
  ]);
}, 120_000);

describe('offline_fallback = local, server unreachable (closed loopback port)', () => {
  it('the right code from the root-owned file → success, logged', async () => {
    const path = conf('down-ok.conf', `localhost:${await closedLoopbackPort()}`);
    const f = rootFile();
    await freshStep();
    const r = await login(path, f.file, totp(f.secret));
    ok(r);
    expect(r.output).toContain(`Tandem server unreachable; checked local code file ${f.file} for '${user}': accepted`);
    expect(r.output).not.toContain('Failsafe');
    // The network phase ran in a child that is _tandem for good; the check in the root parent.
    const t = execFileSync('id', ['-u', '_tandem'], { encoding: 'utf8' }).trim();
    expect(r.output).toContain('network phase in a child process as _tandem');
    expect(r.output).toContain(`network phase: uid ${t}, euid ${t}`);
  });

  it('a wrong code → deny, logged', async () => {
    const path = conf('down-bad.conf', `localhost:${await closedLoopbackPort()}`);
    const f = rootFile();
    const r = await login(path, f.file, wrongCode(f.secret));
    denied(r);
    expect(r.output).toContain(`checked local code file ${f.file} for '${user}': denied (invalid-code)`);
  });

  it('a user-owned file → deny, with a clear refusal, even with the right code', async () => {
    const path = conf('down-user.conf', `localhost:${await closedLoopbackPort()}`);
    const f = rootFile();
    const mine = join(secretDir, `user${++seq}`);
    copyFileSync(f.file, mine);
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    chownSync(mine, uid, uid);
    chmodSync(mine, 0o400);
    await freshStep();
    const r = await runPamtester(work, {
      services: { sshd: tandemStack(clients, path, [`helper=${clients.helper}`, `secret=${mine}`, 'no_strict_owner']) },
      service: 'sshd',
      user,
      items: { rhost: RHOST },
      answers: [{ when: /code: ?$/im, send: totp(f.secret) }],
      timeoutMs: 30_000,
    });
    denied(r);
    expect(r.output).toContain(`Offline fallback refused "${mine}": it must be owned by root, not uid ${uid}`);
    expect(r.output).toContain(`checked local code file ${mine} for '${user}': denied`);
  });
});

describe('offline_fallback = local, server reachable', () => {
  it('the local file is never consulted: a wrong server code is denied although the local code matches', async () => {
    const path = conf('up.conf', `localhost:${srv.port}`);
    const f = rootFile();
    const before = readFileSync(f.file, 'latin1');
    await freshStep();
    const local = totp(f.secret);
    expect(local).not.toBe(totp(serverSecret));
    const r = await login(path, f.file, local);
    denied(r);
    expect(r.output).not.toContain('checked local code file');
    expect(readFileSync(f.file, 'latin1')).toBe(before);
    // and the right server code still works
    await freshStep();
    ok(await login(path, f.file, totp(serverSecret)));
  });
});
