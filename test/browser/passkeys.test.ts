// Passkeys end to end in a real browser (docs/push.md §8): a real `tandem serve` whose integration
// requires passkey-covered approvals (`tandem integration policy IKEY --approval passkey`), the real
// Tandem Authenticator in Debian's Chromium with a CDP virtual platform authenticator (CTAP2,
// resident keys, user verification):
//   - before the device has a passkey, a push is refused at once (passkey_required);
//   - "Add a passkey" registers one (the authenticator holds it, the server lists it);
//   - a push then shows in the app; Approve runs the WebAuthn assertion over the approval and the
//     login is allowed, the audit log naming the credential; Deny needs no passkey;
//   - with an authenticator that holds no passkey of the device, Approve sends nothing and the
//     request stays answerable.
// Screenshot: test-artifacts/screenshots/passkey-added.png.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { activateInBrowser, onlyCard, signedAuthPost, textOf, visible, waitInPage, gone, type PageWatch } from '../support/authenticator-app.js';
import { launchBrowser, type TestBrowser, type VirtualAuthenticator } from '../support/browser.js';
import type { Integration, LogEntry } from '../support/duo-unix.js';
import { cleanupAll, startServerProcess, type ServerProcess } from '../support/server-process.js';

const USER = 'paula';
const APPROVED = 'Approved. The login can continue.';
const DENIED = 'Denied. The login was refused.';

let srv: ServerProcess | undefined;
let browser: TestBrowser | undefined;
let api: Integration;
let page: Page;
let watch: PageWatch;
let authenticator: VirtualAuthenticator;

async function push(): Promise<Record<string, unknown>> {
  const r = await signedAuthPost(srv!, api, '/auth/v2/auth', { username: USER, factor: 'push', device: 'auto', async: '1', hostname: 'bastion.example.org', ipaddr: '198.51.100.4' });
  expect(r.status).toBe(200);
  return r.body.response!;
}

async function entries(txid: string): Promise<LogEntry[]> {
  return (await srv!.json<LogEntry[]>(['log', '--admin', '--limit', '10000'])).filter((e) => e.txid === txid);
}

async function status(expected: string): Promise<void> {
  await waitInPage(page, `document.querySelector('[data-testid="status"]').textContent === ${JSON.stringify(expected)}`, `the app's status ${JSON.stringify(expected)}`, 10_000);
}

beforeAll(async () => {
  srv = await startServerProcess({
    env: {
      TANDEM_PUSH_TIMEOUT_SECONDS: '30',
      TANDEM_APP_LONG_POLL_SECONDS: '2',
      TANDEM_PUSH_MAX_PENDING: '10',
      TANDEM_PUSH_DENIAL_THRESHOLD: '1000',
      TANDEM_RATE_LIMIT_USER_PER_MINUTE: '100000',
      TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE: '1000000',
    },
  });
  api = await srv.json<Integration>(['integration', 'create', '--name', 'passkey-hosts']);
  const policy = await srv.json<{ effective: { approvalAuth: string } }>(['integration', 'policy', api.ikey, '--approval', 'passkey']);
  expect(policy.effective.approvalAuth).toBe('passkey');
  await srv.json(['user', 'create', USER]);
  browser = await launchBrowser({ caPem: srv.caPem });
  ({ page, watch } = await activateInBrowser(browser, srv, USER, 'Passkey phone'));
}, 90_000);

afterAll(() => cleanupAll('browser passkeys', [() => browser?.close(), () => srv?.stop()]), 60_000);

describe('passkeys in the Tandem Authenticator (Chromium, virtual authenticator)', () => {
  it('without a passkey the push is refused at once (passkey_required) and never reaches the app', async () => {
    await visible(page, page.getByTestId('add-passkey'), 'the Add a passkey button');
    expect(await textOf(page, 'passkey-status')).toMatch(/^No passkey yet\./);
    const r = await push();
    const txid = r['txid'] as string;
    const log = await entries(txid);
    expect(log.find((e) => e.event === 'auth')?.reason).toBe('passkey_required');
    await visible(page, page.getByText('No login is waiting for you.'), 'the empty request list');
  });

  it('"Add a passkey" registers the virtual authenticator\'s credential with the server', async () => {
    authenticator = await browser!.addVirtualAuthenticator(page);
    await page.getByTestId('add-passkey').click();
    await waitInPage(page, `document.querySelector('[data-testid="passkey-status"]').textContent.startsWith('Passkey added.')`, 'the passkey-status "Passkey added."', 15_000);
    expect(await textOf(page, 'passkey-status')).toBe('Passkey added. 1 passkey registered for this device.');
    const creds = await authenticator.credentials();
    expect(creds).toHaveLength(1);
    expect(creds[0]!.rpId).toBe('localhost');
    const added = (await srv!.json<LogEntry[]>(['log', '--admin', '--limit', '10000'])).filter((e) => e.event === 'device' && e.reason === 'passkey_added');
    expect(added).toHaveLength(1);
    await browser!.screenshot(page, 'passkey-added');
    expect(watch.problems()).toEqual([]);
  });

  it('Approve runs the assertion over the approval: the login is allowed and the audit names the credential', async () => {
    const txid = (await push())['txid'] as string;
    const { card: c, txid: shown } = await onlyCard(page, 'the push in the app', 10_000);
    expect(shown).toBe(txid);
    await c.getByTestId('approve').click();
    await status(APPROVED);
    const settled = (await entries(txid)).find((e) => e.event === 'push');
    expect([settled?.result, settled?.reason]).toEqual(['allow', 'approved']);
    expect((settled?.detail as Record<string, unknown>)['credentialId']).toBeTypeOf('string');
    const creds = await authenticator.credentials();
    expect(creds[0]!.signCount).toBeGreaterThan(0);
    expect(watch.problems()).toEqual([]);
  });

  it('Deny needs no passkey', async () => {
    await authenticator.remove();
    const txid = (await push())['txid'] as string;
    const { card: c } = await onlyCard(page, 'the push to deny', 10_000);
    await c.getByTestId('deny').click();
    await status(DENIED);
    expect((await entries(txid)).find((e) => e.event === 'push')?.reason).toBe('denied');
  });

  it('with an authenticator that holds no passkey of this device, Approve sends nothing and the request stays answerable', async () => {
    const empty = await browser!.addVirtualAuthenticator(page);
    const txid = (await push())['txid'] as string;
    const { card: c } = await onlyCard(page, 'the push to approve without an authenticator', 10_000);
    await c.getByTestId('approve').click();
    await waitInPage(page, `(document.querySelector('[data-txid="${txid}"] .item-message')?.textContent ?? '').startsWith('Not sent:')`, 'the card\'s "Not sent" note', 90_000);
    expect((await entries(txid)).filter((e) => e.event === 'push')).toEqual([]);
    await c.getByTestId('deny').click();
    await status(DENIED);
    await gone(c, 'the denied card');
    await empty.remove();
  }, 120_000);
});
