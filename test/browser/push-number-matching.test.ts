// Number matching end to end in a real browser: a real `tandem serve` whose integrations require
// verified push (`tandem integration policy IKEY --verified-push required`), the real Tandem
// Authenticator in Debian's Chromium, and
//   - pam_tandem in a real OpenSSH sshd over keyboard-interactive (ssh2): the verification code
//     arrives live in an echo-on prompt; the test types it into the app's number entry, approves,
//     and only then presses Enter → logged in; a wrong number → the app shows the refusal and the
//     login fails;
//   - login_tandem as sshd's ForceCommand on a pty: Enter first, then the app approves → the shell;
//     the app denies → no shell;
//   - Debian's stock login_duo 1.11.3 (cannot show a code) is never offered push: no push option
//     in its menu, and forcing `push1` is refused without reaching the app (no silent downgrade).
// Screenshot: test-artifacts/screenshots/push-number-entry.png.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { activateInBrowser, card, onlyCard, textOf, visible, waitInPage, type PageWatch } from '../support/authenticator-app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { clientConf, copyCa, createLegacyIntegration, loginDuo, makeWorkDir, removeWorkDir, requireDuoUnix, writeDuoConf, type Integration, type LogEntry, type RunResult } from '../support/duo-unix.js';
import { buildLaunchersFor, CLIENT_ACCOUNT, installClients, makeTrustedPrefix, sshSession, startCustomSshd, tandemConfText, writeTandemConf, type InstalledClients } from '../support/own-clients.js';
import { cleanupAll, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { createLocalUser, requireSshdTools, sshLogin, startSshd, type LocalUser, type RunningSshd } from '../support/sshd.js';

const DEVICE_NAME = 'Browser phone';
/** Our clients' menu, and login_duo's (the server's text). */
const MENU = /passcode or option[^\n]*: ?$/im;
const PASSCODE_PROMPT = /passcode[^\n]*: ?$/im;
/** docs/push.md §6: the prompt pam_tandem and login_tandem show, echo on. */
const CODE_PROMPT = /Verification code (\d{3})\. Enter it in the Tandem Authenticator, then press Enter: $/;
const APPROVED = 'Approved. The login can continue.';
const NUMBER_REFUSED = 'Not approved: the request had expired, was already answered, or the number did not match.';
/** Chromium logs a non-2xx fetch as a console error: the refused decide's 409 is expected there. */
const REFUSED_409 = /^console\.error: Failed to load resource: the server responded with a status of 409/;

let srv: ServerProcess | undefined;
let browser: TestBrowser | undefined;
let clients: InstalledClients | undefined;
let buildDir: string | undefined;
let work: string | undefined;
let user: LocalUser | undefined;
let sshd: RunningSshd | undefined;
let forced: RunningSshd | undefined;
let legacy: Integration;
let ca: string;
let legacyConf: string;
let page: Page;
let watch: PageWatch;

function problems(allow: RegExp[] = []): string[] {
  return watch.problems().filter((p) => !allow.some((a) => a.test(p)));
}

async function pushEntries(txid: string): Promise<LogEntry[]> {
  return (await srv!.json<LogEntry[]>(['log', '--admin', '--limit', '10000'])).filter((e) => e.txid === txid);
}

/** The user's part in the app: open the only request, Approve, type `number`, confirm; returns the txid. */
async function approveWithNumber(number: string, expectStatus: string, shot?: string): Promise<string> {
  const { card: c, txid } = await onlyCard(page, 'the login\'s push in the app', 10_000);
  expect(await textOf(c, 'req-user')).toBe(user!.name);
  await c.getByTestId('approve').click();
  const input = await visible(page, c.getByTestId('number-input'), 'the number entry (number-input) after Approve');
  await input.fill(number);
  if (shot) await browser!.screenshot(page, shot);
  await c.getByTestId('number-submit').click();
  await waitInPage(page, `document.querySelector('[data-testid="status"]').textContent === ${JSON.stringify(expectStatus)}`, `the app's status ${JSON.stringify(expectStatus)}`);
  return txid;
}

/** Settles a promise into a value, so a failure that happens before it is awaited is not "unhandled". */
function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function show(r: RunResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the number-matching browser tests must run as root (sshd, useradd, setuid login_tandem, login_duo -c)');
  requireSshdTools();
  requireDuoUnix({ loginDuo: true });
  const prefix = makeTrustedPrefix('browser-push');
  buildDir = mkdtempSync('/tmp/tandem-browser-launchers-');
  work = makeWorkDir('browser-number');
  const [installed, server] = await Promise.all([
    installClients(prefix),
    startServerProcess({
      env: {
        TANDEM_PUSH_TIMEOUT_SECONDS: '20',
        TANDEM_LONG_POLL_SECONDS: '2',
        TANDEM_APP_LONG_POLL_SECONDS: '2',
        TANDEM_TRANSACTION_TIMEOUT_SECONDS: '60',
        TANDEM_PUSH_MAX_PENDING: '10',
        TANDEM_PUSH_DENIAL_THRESHOLD: '1000',
        TANDEM_RATE_LIMIT_USER_PER_MINUTE: '100000',
        TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE: '1000000',
      },
    }),
  ]);
  clients = installed;
  srv = server;
  buildLaunchersFor(clients, buildDir);
  ca = copyCa(work, srv);
  let own: Integration;
  [own, legacy] = await Promise.all([srv.json<Integration>(['integration', 'create', '--name', 'own-clients-browser']), createLegacyIntegration(srv, 'login-duo-number')]);
  // Number matching is the integrations' policy here (the site default stays off).
  for (const i of [own, legacy]) {
    const set = await srv.cli(['integration', 'policy', i.ikey, '--verified-push', 'required']);
    if (set.code !== 0) throw new Error(`tandem integration policy ${i.ikey} --verified-push required failed: ${set.stderr}`);
  }
  const policy = await srv.json<Record<string, unknown>>(['integration', 'policy', own.ikey]);
  if (!JSON.stringify(policy).includes('required')) throw new Error(`verified push is not required after setting it: ${JSON.stringify(policy)}`);

  user = await createLocalUser('tdbrnm-');
  await srv.json(['user', 'create', user.name]);
  browser = await launchBrowser({ caPem: srv.caPem });
  ({ page, watch } = await activateInBrowser(browser, srv, user.name, DEVICE_NAME));

  const confText = tandemConfText({ ikey: own.ikey, skey: own.skey, host: `localhost:${srv.port}`, cafile: ca, failmode: 'secure', prompts: 1 });
  const pamConf = writeTandemConf(work, 'pam_tandem.conf', confText);
  const account = execFileSync('getent', ['passwd', CLIENT_ACCOUNT], { encoding: 'utf8' }).split(':');
  writeTandemConf(clients.prefix, 'etc/tandem/login_tandem.conf', confText, { uid: Number(account[2]), gid: Number(account[3]) });
  legacyConf = writeDuoConf(work, 'login_duo.conf', clientConf(srv, legacy, ca, { prompts: 1 }));
  [sshd, forced] = await Promise.all([
    startSshd({
      allowUsers: [user.name],
      pamService: ['auth requisite pam_unix.so', `auth required ${clients.pamModule} conf=${pamConf}`, 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'),
    }),
    startCustomSshd({
      allowUsers: [user.name],
      pamService: ['auth requisite pam_unix.so', 'account required pam_unix.so', 'session required pam_unix.so', ''].join('\n'),
      extraConfig: [`ForceCommand ${clients.loginTandem} -d`],
    }),
  ]);
}, 240_000);

afterAll(
  () =>
    cleanupAll('browser number matching', [
      () => browser?.close(),
      () => sshd?.stop(),
      () => forced?.stop(),
      () => user?.remove(),
      () => srv?.stop(),
      () => removeWorkDir(work),
      () => clients && rmSync(clients.prefix, { recursive: true, force: true }),
      () => buildDir && rmSync(buildDir, { recursive: true, force: true }),
    ]),
  120_000,
);

describe('pam_tandem in a real sshd (keyboard-interactive), number typed in the app', () => {
  /** ssh login: password, menu option 1, then the code prompt answered by `atCode` (Enter afterwards). */
  const login = (atCode: (code: string) => Promise<unknown>) => {
    const seen: { code: string | null; app: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> | null } = { code: null, app: null };
    const result = sshLogin({
      sshd: sshd!,
      username: user!.name,
      command: 'echo HELLO',
      readyTimeoutMs: 40_000,
      answer: async (prompt) => {
        if (/password/i.test(prompt)) return user!.password;
        const m = CODE_PROMPT.exec(prompt);
        if (m) {
          seen.code = m[1]!;
          // The person reads the number from the prompt, types it in the app, then presses Enter.
          seen.app = settle(atCode(seen.code));
          await seen.app;
          return '';
        }
        if (MENU.test(prompt)) return '1';
        throw new Error(`unexpected prompt ${JSON.stringify(prompt)}`);
      },
    });
    return { result, seen };
  };

  it('the code shows live in the prompt; typed in the app and approved, then Enter → logged in', async () => {
    let txid = '';
    const { result, seen } = login(async (code) => {
      txid = await approveWithNumber(code, APPROVED, 'push-number-entry');
    });
    const r = await result;
    const detail = `${JSON.stringify(r, null, 1)}\n--- sshd log ---\n${sshd!.log()}`;
    const app = await seen.app;
    if (app && !app.ok) throw app.error;
    expect(seen.code, detail).toMatch(/^\d{3}$/);
    expect(r.ok, detail).toBe(true);
    expect(r.stdout).toBe('HELLO\n');
    const menu = r.rounds.find((x) => x.prompts.some((p) => MENU.test(p.prompt)));
    expect(menu?.prompts[0]?.prompt, detail).toContain(`Tandem Push to ${DEVICE_NAME}`);
    const codeRound = r.rounds.find((x) => x.prompts.some((p) => CODE_PROMPT.test(p.prompt)));
    expect(codeRound?.prompts, detail).toHaveLength(1);
    expect(codeRound?.prompts[0]?.echo, detail).toBe(true);
    await visible(page, page.getByText('No login is waiting for you.'), 'the empty list after the approval');
    expect((await pushEntries(txid)).find((e) => e.event === 'push')).toMatchObject({ result: 'allow', reason: 'approved' });
    expect(problems()).toEqual([]);
  });

  it('a wrong number: the app shows the refusal, the push is denied, the ssh login fails', async () => {
    let txid = '';
    let typed = '';
    const { result, seen } = login(async (code) => {
      typed = String((Number(code) + 1) % 1000).padStart(3, '0');
      txid = await approveWithNumber(typed, NUMBER_REFUSED);
    });
    const r = await result;
    const detail = `${JSON.stringify(r, null, 1)}\n--- sshd log ---\n${sshd!.log()}`;
    const app = await seen.app;
    if (app && !app.ok) throw app.error;
    expect(seen.code, detail).toMatch(/^\d{3}$/);
    expect(typed).not.toBe(seen.code);
    expect(r.ok, detail).toBe(false);
    expect(r.stdout).toBe('');
    expect(await card(page, txid).count()).toBe(0);
    expect((await pushEntries(txid)).find((e) => e.event === 'push')).toMatchObject({ result: 'deny', reason: 'wrong_number' });
    expect(problems([REFUSED_409])).toEqual([]);
  });
});

describe('login_tandem as sshd\'s ForceCommand (pty), decided in the app', () => {
  /** The shell session: password, menu 1, the code prompt (Enter at once), then the app decides. */
  const session = (decide: (code: string) => Promise<unknown>) => {
    const seen: { code: string | null; app: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> | null } = { code: null, app: null };
    // sshSession answers prompts it matches in the session output; this one also starts the app's part.
    class Capture extends RegExp {
      override exec(s: string): RegExpExecArray | null {
        const m = super.exec(s);
        if (m && seen.app === null) {
          seen.code = m[1]!;
          seen.app = settle(decide(seen.code));
        }
        return m;
      }
    }
    const result = sshSession({
      sshd: forced!,
      username: user!.name,
      password: user!.password,
      answers: [
        { when: MENU, send: '1' },
        { when: new Capture(CODE_PROMPT.source.replace(/\$$/, ''), 'm'), send: '' },
      ],
      typeAfter: 'echo SHELL-$((40+2)); exit\n',
      afterWhen: /\$ ?$|# ?$|> ?$/m,
      timeoutMs: 40_000,
    });
    return { result, seen };
  };

  it('Enter first, then the number typed and approved in the app → the shell', async () => {
    let txid = '';
    const { result, seen } = session(async (code) => {
      txid = await approveWithNumber(code, APPROVED);
    });
    const r = await result;
    const detail = `${r.output}\n--- sshd log ---\n${forced!.log()}`;
    const app = await seen.app;
    if (app && !app.ok) throw app.error;
    expect(r.authenticated, detail).toBe(true);
    expect(r.answered, detail).toBe(2);
    expect(seen.code, detail).toMatch(/^\d{3}$/);
    expect(r.output, detail).toContain(`Tandem Push to ${DEVICE_NAME}`);
    expect(r.output, detail).toContain('SHELL-42');
    expect((await pushEntries(txid)).find((e) => e.event === 'push')).toMatchObject({ result: 'allow' });
    expect(problems([REFUSED_409])).toEqual([]);
  });

  it('Deny in the app → login_tandem refuses, no shell', async () => {
    let txid = '';
    const { result, seen } = session(async () => {
      const { card: c, txid: t } = await onlyCard(page, 'login_tandem\'s push in the app', 10_000);
      txid = t;
      await c.getByTestId('deny').click();
      await waitInPage(page, `document.querySelector('[data-testid="status"]').textContent === 'Denied. The login was refused.'`, 'the app to confirm the denial');
    });
    const r = await result;
    const detail = `${r.output}\n--- sshd log ---\n${forced!.log()}`;
    const app = await seen.app;
    if (app && !app.ok) throw app.error;
    expect(seen.code, detail).toMatch(/^\d{3}$/);
    expect(r.output, detail).not.toContain('SHELL-42');
    expect(r.output, detail).toContain('Login request denied.');
    expect(r.exitCode, detail).not.toBe(0);
    expect((await pushEntries(txid)).find((e) => e.event === 'push')).toMatchObject({ result: 'deny', reason: 'denied' });
    expect(problems([REFUSED_409])).toEqual([]);
  });
});

describe('stock login_duo 1.11.3 under verified push required: never a silent downgrade', () => {
  it('its menu offers no push; the app\'s TOTP code still logs in at its passcode prompt', async () => {
    const left = Number((await textOf(page, 'totp-left')).replace(/\D/g, ''));
    if (left < 4) await page.waitForTimeout((left + 1) * 1000);
    await waitInPage(page, `/^\\d{6}$/.test(document.querySelector('[data-testid="totp-code"]').textContent)`, 'a six-digit TOTP code in the app');
    const code = await textOf(page, 'totp-code');
    const r = await loginDuo(legacyConf, { user: user!.name, host: '203.0.113.30', command: ['echo', 'HELLO'] }, { pty: true, answers: [{ when: PASSCODE_PROMPT, send: code }], timeoutMs: 15_000 });
    expect(r.code, show(r)).toBe(0);
    expect(r.answered).toBe(1);
    expect(r.output, show(r)).not.toMatch(/push/i);
    expect(r.output, show(r)).not.toMatch(/^\s*\d+\. /m);
    expect(r.stdout).toMatch(/^HELLO$/m);
    expect(await card(page).count()).toBe(0);
  });

  it('forcing push1 anyway (DUO_PASSCODE with accept_env_factor) is refused and never reaches the app', async () => {
    const conf = writeDuoConf(work!, 'login_duo-env.conf', clientConf(srv!, legacy, ca, { prompts: 1, accept_env_factor: true }));
    const before = (await srv!.json<LogEntry[]>(['log', '--admin', '--limit', '10000'])).length;
    const r = await loginDuo(conf, { user: user!.name, host: '203.0.113.31', command: ['echo', 'HELLO'] }, { pty: true, env: { DUO_PASSCODE: 'push1' }, timeoutMs: 15_000 });
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).not.toMatch(/^HELLO$/m);
    const log = await srv!.json<LogEntry[]>(['log', '--admin', '--limit', '10000']);
    const fresh = log.slice(0, log.length - before);
    expect(fresh.find((e) => e.reason === 'verified_push_unsupported_client'), JSON.stringify(fresh, null, 1)).toMatchObject({ username: user!.name, result: 'deny' });
    expect(fresh.some((e) => e.event === 'push')).toBe(false);
    await page.waitForTimeout(500);
    expect(await card(page).count()).toBe(0);
    expect(problems([REFUSED_409])).toEqual([]);
  });
});
