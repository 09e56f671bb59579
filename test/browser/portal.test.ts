// The enrollment portal in Debian's Chromium against a real `tandem serve`: an unenrolled user's
// preauth (signed, as a v2 client sends it) gives the link; opening it, Continue, adding an
// authenticator app (the test computes codes from the key shown on the page, as an app would),
// then a login with a code is allowed; and the same with the Tandem Authenticator: the portal's
// activation link opened in the real app (a second page, the "phone"), proof of the phone by a push
// the portal sends (its page follows it with portal.js), then a login push approved there.
// The links the server hands out carry the real port even though it listens on port 0.
// Screenshots: test-artifacts/screenshots/portal-*.png.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { appOrigin, instrumentPage, onlyCard, signedAuthPost, textOf, visible, waitInPage } from '../support/authenticator-app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import type { Integration } from '../support/duo-unix.js';
import { totpNow } from '../support/portal-client.js';
import { cleanupAll, startServerProcess, type ServerProcess } from '../support/server-process.js';

let srv: ServerProcess | undefined;
let browser: TestBrowser | undefined;
let api: Integration;
let page: Page;

beforeAll(async () => {
  srv = await startServerProcess();
  api = await srv.json<Integration>(['integration', 'create', '--name', 'portal-hosts']);
  browser = await launchBrowser({ caPem: srv.caPem });
  await browser.context.grantPermissions(['notifications'], { origin: appOrigin(srv) });
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await cleanupAll('portal browser test', [() => browser?.close(), () => srv?.stop()]);
});

it('an unenrolled user enrolls an authenticator app through the link and logs in with its code', async () => {
  const pre = await signedAuthPost(srv!, api, '/auth/v2/preauth', { username: 'pat' });
  expect(pre.body.response?.['result']).toBe('enroll');
  // The link carries the port the server really listens on (it was started with port 0).
  const url = String(pre.body.response?.['enroll_portal_url']);
  expect(url).toMatch(new RegExp(`^${appOrigin(srv!)}/portal/enroll/[A-Za-z0-9_-]{43}$`));
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });

  await page.goto(url);
  await browser!.screenshot(page, 'portal-link');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Your sign-in methods' }).waitFor();
  await browser!.screenshot(page, 'portal-home');
  await page.getByRole('button', { name: /Authenticator app/ }).click();
  const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await browser!.screenshot(page, 'portal-totp');
  await page.getByLabel('Code from the app').fill(totpNow(secret, Date.now()));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Your authenticator app is set up').waitFor();
  await browser!.screenshot(page, 'portal-totp-saved');

  expect(errors).toEqual([]);

  // The link is spent: opening it again says so (a 410, which the console reports).
  await page.goto(url);
  await page.getByText('expired or was already used').waitFor();
  await browser!.screenshot(page, 'portal-link-used');

  const auth = await signedAuthPost(srv!, api, '/auth/v2/auth', { username: 'pat', factor: 'passcode', passcode: totpNow(secret, Date.now(), 1) });
  expect(auth.body.response?.['result']).toBe('allow');
  expect(errors).toEqual([expect.stringContaining('status of 410')]);
}, 60_000);

it('an unenrolled user adds the Tandem Authenticator from the portal and approves a push login in it', async () => {
  const pre = await signedAuthPost(srv!, api, '/auth/v2/preauth', { username: 'quinn' });
  expect(pre.body.response?.['result']).toBe('enroll');
  const portal = await browser!.newPage();
  const portalWatch = await instrumentPage(portal);
  await portal.goto(String(pre.body.response?.['enroll_portal_url']));
  await portal.getByRole('button', { name: 'Continue' }).click();
  await portal.getByRole('heading', { name: 'Your sign-in methods' }).waitFor();
  await portal.getByRole('button', { name: /Tandem Authenticator/ }).click();
  await portal.getByRole('heading', { name: 'Add the Tandem Authenticator' }).waitFor();
  await browser!.screenshot(portal, 'portal-authenticator');
  const link = (await portal.getByTestId('activation-link').getAttribute('href')) ?? '';
  expect(link).toMatch(new RegExp(`^${appOrigin(srv!)}/app/#activate=[A-Za-z0-9_-]{43}$`));

  // The "phone": the link opened in the Tandem Authenticator.
  const phone = await browser!.newPage();
  const phoneWatch = await instrumentPage(phone);
  await phone.goto(link);
  await (await visible(phone, phone.getByTestId('activate-name'), 'the activation form')).fill('Quinn’s phone');
  await phone.getByTestId('activate-submit').click();
  await visible(phone, phone.getByTestId('device-id'), 'the activated device', 10_000);
  await waitInPage(phone, `/^DP/.test(document.querySelector('[data-testid="device-id"]').textContent)`, 'a DP… device id');
  expect(await textOf(phone, 'device-user')).toBe('quinn');
  await browser!.screenshot(phone, 'portal-authenticator-activated');

  // Back in the portal, the home page lists the phone.
  await portal.goto(`${appOrigin(srv!)}/portal/`);
  await portal.getByText('Quinn’s phone').waitFor();
  await browser!.screenshot(portal, 'portal-home-with-phone');

  // The session has not proved the phone yet: a push from the portal, approved in the app, does;
  // the waiting page's script (portal.js) notices and continues by itself.
  await portal.getByRole('button', { name: 'Send a push to my phone' }).click();
  await portal.getByRole('heading', { name: 'Approve the request on your phone' }).waitFor();
  await browser!.screenshot(portal, 'portal-proof-push');
  const proof = await onlyCard(phone, 'the portal push in the app', 10_000);
  expect(await textOf(proof.card, 'req-host')).toBe('enrollment portal');
  expect(await textOf(proof.card, 'req-type')).toBe('Enrollment');
  await browser!.screenshot(phone, 'portal-proof-push-in-app');
  await proof.card.getByTestId('approve').click();
  await portal.getByText('Confirmed. You can now add or remove sign-in methods.').waitFor();
  expect(await portal.getByText('First, confirm it is you').count()).toBe(0);
  await browser!.screenshot(portal, 'portal-proved-by-push');

  const login = signedAuthPost(srv!, api, '/auth/v2/auth', { username: 'quinn', factor: 'push', device: 'auto' });
  const { card } = await onlyCard(phone, 'the push login in the app', 10_000);
  await card.getByTestId('approve').click();
  await waitInPage(phone, `document.querySelector('[data-testid="status"]').textContent === 'Approved. The login can continue.'`, 'the app to confirm the approval');
  const auth = await login;
  expect(auth.body.response?.['result']).toBe('allow');
  expect(portalWatch.problems()).toEqual([]);
  expect(phoneWatch.problems()).toEqual([]);
}, 60_000);
