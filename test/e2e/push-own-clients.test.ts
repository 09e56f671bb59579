// Push with number matching through Tandem's own clients, end to end: a real `tandem serve`
// (number matching required), a scripted Tandem Authenticator (test/support/device.ts) enrolled
// through `tandem device activate`, and
//   - pam_tandem in a real OpenSSH sshd over keyboard-interactive: the menu, then the
//     verification code in an echo-on prompt that the ssh2 client receives live; the device
//     approves with the number read from that prompt (and denies, in the second case);
//   - login_tandem as sshd's ForceCommand on a pty: the same prompt on the terminal.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedDevice, type DeviceResponse } from '../support/device.js';
import { copyCa, makeWorkDir, removeWorkDir, type Integration } from '../support/duo-unix.js';
import { buildLaunchersFor, CLIENT_ACCOUNT, installClients, makeTrustedPrefix, sshSession, startCustomSshd, tandemConfText, writeTandemConf, type InstalledClients } from '../support/own-clients.js';
import { firstListed } from '../support/push-harness.js';
import { cleanupAll, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createLocalUser, requireSshdTools, snapshotDir, sshLogin, startSshd, type LocalUser, type RunningSshd } from '../support/sshd.js';

const MENU = /passcode or option[^\n]*: ?$/im;
/** The number-matching prompt, exactly as the helper words it (status-wait.ts). */
const CODE_PROMPT = /Verification code (\d{1,8})\. Enter it in the Tandem Authenticator, then press Enter: $/;

let srv: ServerProcess;
let clients: InstalledClients;
let work: string;
let buildDir: string | undefined;
let user: LocalUser | undefined;
let device: ScriptedDevice;
let sshd: RunningSshd | undefined;
let forced: RunningSshd | undefined;
const sshBefore = snapshotDir('/etc/ssh');

function serviceAccountIds(): { uid: number; gid: number } {
  const f = execFileSync('getent', ['passwd', CLIENT_ACCOUNT], { encoding: 'utf8' }).split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** The device answers the login's push (the first it lists) with `number`. */
async function decide(decision: 'approve' | 'deny', number: string): Promise<DeviceResponse> {
  const req = await firstListed(device);
  return device.decide(req, decision, number);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the own-clients push tests must run as root (sshd, useradd, setuid login_tandem)');
  requireSshdTools();
  clients = await installClients(makeTrustedPrefix('push-own-clients'));
  buildDir = mkdtempSync('/tmp/tandem-launchers-build-');
  buildLaunchersFor(clients, buildDir);
  srv = await startServerProcess({ env: { TANDEM_PUSH_VERIFIED_DEFAULT: 'required', TANDEM_TRANSACTION_TIMEOUT_SECONDS: '60', TANDEM_LONG_POLL_SECONDS: '5' } });
  work = makeWorkDir('push-own-clients');
  const ca = copyCa(work, srv);
  const integ = await srv.json<Integration>(['integration', 'create', '--name', 'push-own-clients-e2e']);

  user = await createLocalUser('tdpush-');
  await srv.json(['user', 'create', user.name]);
  const act = await srv.json<{ link: string }>(['device', 'activate', user.name]);
  const code = new URL(act.link).hash.replace(/^#activate=/, '');
  device = await ScriptedDevice.activate(srv.url, code, { ca: srv.caPem, name: 'Scripted phone' });

  const confText = tandemConfText({ ikey: integ.ikey, skey: integ.skey, host: `localhost:${srv.port}`, cafile: ca, failmode: 'secure', prompts: 1 });
  const pamConf = writeTandemConf(work, 'push-pam.conf', confText);
  sshd = await startSshd({
    allowUsers: [user.name],
    pamService: ['auth requisite pam_unix.so', `auth required ${clients.pamModule} conf=${pamConf}`, 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'),
  });
  writeTandemConf(clients.prefix, 'etc/tandem/login_tandem.conf', confText, serviceAccountIds());
  forced = await startCustomSshd({
    allowUsers: [user.name],
    pamService: ['auth requisite pam_unix.so', 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'),
    extraConfig: [`ForceCommand ${clients.loginTandem} -d`],
  });
}, 300_000);

afterAll(async () => {
  await cleanupAll('push-own-clients', [
    () => sshd?.stop(),
    () => forced?.stop(),
    () => user?.remove(),
    () => srv?.stop(),
    () => removeWorkDir(work),
    () => clients && rmSync(clients.prefix, { recursive: true, force: true }),
    () => buildDir && rmSync(buildDir, { recursive: true, force: true }),
  ]);
  expect(snapshotDir('/etc/ssh')).toEqual(sshBefore);
}, 120_000);

describe('pam_tandem in a real sshd (keyboard-interactive)', () => {
  const login = async (decision: 'approve' | 'deny') => {
    const seen: { shown: string | null; decided: Promise<DeviceResponse> | null } = { shown: null, decided: null };
    const r = await sshLogin({
      sshd: sshd!,
      username: user!.name,
      command: 'echo HELLO',
      answer: (prompt) => {
        if (/password/i.test(prompt)) return user!.password;
        const m = CODE_PROMPT.exec(prompt);
        if (m) {
          seen.shown = m[1]!;
          // The user reads the number from the prompt, types it in the app, then presses Enter.
          seen.decided = decide(decision, seen.shown);
          return '';
        }
        return '1';
      },
    });
    const detail = `${JSON.stringify(r, null, 1)}\n--- sshd log ---\n${sshd!.log()}`;
    return { r, shown: seen.shown, decision: seen.decided === null ? null : await seen.decided, detail };
  };

  it('push 1 from the menu; the code arrives in an echo-on prompt; the device approves with it → logged in', async () => {
    const { r, shown, decision, detail } = await login('approve');
    expect(shown, detail).toMatch(/^\d{3}$/);
    expect(decision?.json, detail).toEqual({ result: 'allow' });
    expect(r.ok, detail).toBe(true);
    expect(r.stdout).toBe('HELLO\n');
    const codeRound = r.rounds.find((x) => x.prompts.some((p) => CODE_PROMPT.test(p.prompt)));
    expect(codeRound?.prompts).toHaveLength(1);
    expect(codeRound?.prompts[0]?.echo, detail).toBe(true);
    const menuRound = r.rounds.find((x) => x.prompts.some((p) => MENU.test(p.prompt)));
    expect(menuRound?.prompts[0]?.prompt, detail).toContain('Tandem Push to Scripted phone');
  });

  it('the device denies → refused', async () => {
    const { r, shown, decision, detail } = await login('deny');
    expect(shown, detail).toMatch(/^\d{3}$/);
    expect(decision?.json, detail).toEqual({ result: 'deny' });
    expect(r.ok, detail).toBe(false);
    expect(r.stdout).toBe('');
  });
});

describe('login_tandem as ForceCommand', () => {
  it('interactive shell: the menu, the code prompt on the terminal, the device approves → the shell', async () => {
    const seen: { shown: string | null; decided: Promise<DeviceResponse> | null } = { shown: null, decided: null };
    // sshSession answers prompts matched in the session output; this one also hands the number
    // it saw to the device.
    class Capture extends RegExp {
      override exec(s: string): RegExpExecArray | null {
        const m = super.exec(s);
        if (m && seen.decided === null) {
          seen.shown = m[1]!;
          seen.decided = decide('approve', seen.shown);
        }
        return m;
      }
    }
    const r = await sshSession({
      sshd: forced!,
      username: user!.name,
      password: user!.password,
      answers: [
        { when: MENU, send: '1' },
        { when: new Capture(CODE_PROMPT.source.replace(/\$$/, ''), 'm'), send: '' },
      ],
      typeAfter: 'echo SHELL-$((40+2)); exit\n',
      afterWhen: /\$ ?$|# ?$|> ?$/m,
      timeoutMs: 60_000,
    });
    const detail = `${r.output}\n--- sshd log ---\n${forced!.log()}`;
    expect(r.authenticated, detail).toBe(true);
    expect(r.answered, detail).toBe(2);
    expect(seen.shown, detail).toMatch(/^\d{3}$/);
    expect((seen.decided === null ? null : await seen.decided)?.json, detail).toEqual({ result: 'allow' });
    expect(r.output, detail).toContain('SHELL-42');
  });
});
