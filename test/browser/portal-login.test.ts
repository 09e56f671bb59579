// The issue's story with the real client: a local account that is not enrolled runs login_tandem
// (installed by `tandem client install --prefix`, setuid root, run as that account on a pty, its
// compiled-in config owned by _tandem) and is refused with the enroll text; the link is taken from
// that text (as the user would copy it) and opened in Debian's Chromium: Continue, an authenticator
// app (the test computes codes from the key on the page, as an app would), then login_tandem again
// with a code: the command runs. The same with the Tandem Authenticator: the portal's activation
// link opened in the real app (a second page, the "phone"), the portal's passkey pointer, then
// login_tandem choosing the push from its menu, approved in the app: the command runs.
// Screenshots: test-artifacts/screenshots/portal-login-*.png (the terminal transcripts as well).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appOrigin, instrumentPage, onlyCard, textOf, visible, waitInPage } from '../support/authenticator-app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { asUser, copyCa, localAccounts, makeWorkDir, noAccountsLeft, removeWorkDir, requireDuoUnix, runInteractive, type Integration, type LocalAccounts, type RunResult } from '../support/duo-unix.js';
import { buildLaunchersFor, CLIENT_ACCOUNT, installClients, makeTrustedPrefix, tandemConfText, writeTandemConf, type InstalledClients } from '../support/own-clients.js';
import { totpNow } from '../support/portal-client.js';
import { cleanupAll, startServerProcess, type ServerProcess } from '../support/server-process.js';

const PROMPT = /passcode[^\n]*: ?$/im;
const ENROLL_LINK = /https:\/\/[^\s"']+\/portal\/enroll\/[A-Za-z0-9_-]{43}/;

let srv: ServerProcess | undefined;
let browser: TestBrowser | undefined;
let clients: InstalledClients | undefined;
let accounts: LocalAccounts | undefined;
let buildDir: string | undefined;
let work: string | undefined;

function show(r: RunResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''}${r.timedOut ? ' (timed out)' : ''}, output:\n${r.output}`;
}

/** login_tandem run by `user` on a terminal, with a command (it runs only after the second factor). */
function loginTandem(user: string, marker: string, answers: Array<{ when: RegExp; send: string }> = []): Promise<RunResult> {
  return runInteractive([...asUser(user), clients!.loginTandem, '--', '/bin/echo', marker], { pty: true, answers, timeoutMs: 45_000 });
}

/**
 * The terminal transcript as a page, for a person looking at the screenshots: a fresh page that
 * never visits the server (so none of its CSP applies to this inline style), closed afterwards.
 */
async function terminalShot(name: string, title: string, r: RunResult): Promise<void> {
  const page = await browser!.newPage();
  const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  await page.setContent(`<!doctype html><meta charset="utf-8"><body style="margin:0;background:#111;color:#ddd;font:14px monospace"><h3 style="color:#8cf;margin:8px">${esc(title)}</h3><pre style="margin:8px;white-space:pre-wrap">${esc(r.output)}</pre></body>`);
  await browser!.screenshot(page, name);
  await page.close();
}

/** Runs login_tandem for an unenrolled account: refused, the enroll link in what it printed. */
async function enrollLinkFromLogin(user: string, shotName: string): Promise<string> {
  const r = await loginTandem(user, `RAN-${user}`);
  expect(r.code, show(r)).toBe(1);
  expect(r.output, show(r)).toContain('Tandem login failed');
  expect(r.output).not.toContain(`RAN-${user}\n`);
  // The link is printed in the server's enroll text (login_tandem shows it as the user sees it).
  const link = ENROLL_LINK.exec(r.output)?.[0];
  expect(link, show(r)).toBeDefined();
  await terminalShot(shotName, `$ login_tandem -- /bin/echo RAN   (as ${user}, not enrolled)`, r);
  // The server names itself as the client reached it (localhost and the real port): no rewriting.
  expect(new URL(link!).origin).toBe(appOrigin(srv!));
  return link!;
}

beforeAll(async () => {
  requireDuoUnix({});
  clients = await installClients(makeTrustedPrefix('portal-login'));
  buildDir = mkdtempSync('/tmp/tandem-launchers-build-');
  // login_tandem takes no paths at run time: rebuilt for this prefix's helper and config.
  buildLaunchersFor(clients, buildDir);
  srv = await startServerProcess();
  work = makeWorkDir('portal-login');
  const ca = copyCa(work, srv);
  const integ = await srv.json<Integration>(['integration', 'create', '--name', 'portal-login']);
  const f = execFileSync('getent', ['passwd', CLIENT_ACCOUNT], { encoding: 'utf8' }).split(':');
  writeTandemConf(clients.prefix, 'etc/tandem/login_tandem.conf', tandemConfText({ ikey: integ.ikey, skey: integ.skey, host: `localhost:${srv.port}`, cafile: ca, failmode: 'secure', prompts: 1 }), { uid: Number(f[2]), gid: Number(f[3]) });
  accounts = localAccounts('pl');
  browser = await launchBrowser({ caPem: srv.caPem });
  await browser.context.grantPermissions(['notifications'], { origin: appOrigin(srv) });
}, 300_000);

afterAll(async () => {
  await cleanupAll('portal login_tandem browser test', [
    () => browser?.close(),
    () => srv?.stop(),
    () => accounts?.cleanup(),
    () => work && removeWorkDir(work),
    () => clients && rmSync(clients.prefix, { recursive: true, force: true }),
    () => buildDir && rmSync(buildDir, { recursive: true, force: true }),
  ]);
  if (accounts) expect(noAccountsLeft(accounts.prefix)).toBe(true);
}, 120_000);

it('login_tandem gives an unenrolled user the link; an authenticator app added there lets the next login_tandem run the command', async () => {
  const user = await accounts!.user('totp');
  const page = await browser!.newPage();
  const link = await enrollLinkFromLogin(user, 'portal-login-terminal-enroll');

  const watch = await instrumentPage(page);
  await page.goto(link);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Your sign-in methods' }).waitFor();
  expect(await page.getByText(`Signed in to the portal as ${user}`).count()).toBe(1);
  await page.getByRole('button', { name: /Authenticator app/ }).click();
  const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await page.getByLabel('Code from the app').fill(totpNow(secret, Date.now()));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Your authenticator app is set up').waitFor();
  await browser!.screenshot(page, 'portal-login-totp-saved');
  expect(watch.problems()).toEqual([]);

  // The next code (the one just typed in the portal is spent), typed at login_tandem's prompt.
  const r = await loginTandem(user, 'RAN-AFTER-TOTP', [{ when: PROMPT, send: totpNow(secret, Date.now(), 1) }]);
  expect(r.code, show(r)).toBe(0);
  expect(r.answered, show(r)).toBe(1);
  expect(r.output).toContain(`Tandem two-factor login for ${user}`);
  expect(r.output).toContain('RAN-AFTER-TOTP');
  await terminalShot('portal-login-terminal-totp', `$ login_tandem -- /bin/echo RAN-AFTER-TOTP   (as ${user}, code from the app)`, r);
}, 120_000);

it('login_tandem gives the link; the Tandem Authenticator added there approves the next login_tandem push and the command runs', async () => {
  const user = await accounts!.user('push');
  const portal = await browser!.newPage();
  const link = await enrollLinkFromLogin(user, 'portal-login-terminal-enroll-push');

  const portalWatch = await instrumentPage(portal);
  await portal.goto(link);
  await portal.getByRole('button', { name: 'Continue' }).click();
  await portal.getByRole('heading', { name: 'Your sign-in methods' }).waitFor();
  // Before a device: the passkey section only explains.
  expect(await portal.getByTestId('passkey-section').textContent()).toContain('Add the Tandem Authenticator first');
  await portal.getByRole('button', { name: /Tandem Authenticator/ }).click();
  await portal.getByRole('heading', { name: 'Add the Tandem Authenticator' }).waitFor();
  const activation = (await portal.getByTestId('activation-link').getAttribute('href')) ?? '';
  expect(activation).toMatch(new RegExp(`^${appOrigin(srv!)}/app/#activate=[A-Za-z0-9_-]{43}$`));

  // The "phone": the portal's link opened in the Tandem Authenticator.
  const phone = await browser!.newPage();
  const phoneWatch = await instrumentPage(phone);
  await phone.goto(activation);
  await (await visible(phone, phone.getByTestId('activate-name'), 'the activation form')).fill('Terminal user’s phone');
  await phone.getByTestId('activate-submit').click();
  await visible(phone, phone.getByTestId('device-id'), 'the activated device', 10_000);
  await waitInPage(phone, `/^DP/.test(document.querySelector('[data-testid="device-id"]').textContent)`, 'a DP… device id');
  expect(await textOf(phone, 'device-user')).toBe(user);

  // Back in the portal: the phone is listed, with the pointer to add a passkey in the app.
  await portal.goto(`${appOrigin(srv!)}/portal/`);
  await portal.getByText('Terminal user’s phone').waitFor();
  expect(await textOf(portal, 'device-passkeys')).toBe('no passkey');
  expect(await portal.getByTestId('open-app-for-passkey').getAttribute('href')).toBe('/app/');
  await browser!.screenshot(portal, 'portal-login-home-with-phone');
  await portal.getByTestId('passkey-section').scrollIntoViewIfNeeded();
  await browser!.screenshot(portal, 'portal-login-passkey-pointer');

  // login_tandem: the menu offers the push to the phone; "1" chooses it; approved in the app.
  const running = loginTandem(user, 'RAN-AFTER-PUSH', [{ when: PROMPT, send: '1' }]);
  const { card } = await onlyCard(phone, 'the login_tandem push in the app', 20_000);
  await browser!.screenshot(phone, 'portal-login-push-in-app');
  await card.getByTestId('approve').click();
  await waitInPage(phone, `document.querySelector('[data-testid="status"]').textContent === 'Approved. The login can continue.'`, 'the app to confirm the approval', 10_000);
  const r = await running;
  expect(r.code, show(r)).toBe(0);
  expect(r.output).toMatch(/1\. Tandem Push to Terminal user’s phone/);
  expect(r.output).toContain('RAN-AFTER-PUSH');
  await terminalShot('portal-login-terminal-push', `$ login_tandem -- /bin/echo RAN-AFTER-PUSH   (as ${user}, push approved in the app)`, r);
  expect(portalWatch.problems()).toEqual([]);
  expect(phoneWatch.problems()).toEqual([]);
}, 120_000);
