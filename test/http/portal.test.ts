// The enrollment portal over fastify.inject: links used once (and never by a GET), CSRF, TOTP
// saved only after a correct code, proof for enrolled users, admin approval, audit entries and
// hostile input. The browser test (test/browser/portal.test.ts) drives the same pages in Chromium.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approveEnrollment, denyEnrollment, listEnrollments, setEnrollmentApproval } from '../../src/core/enrollments.js';
import { createActivation } from '../../src/core/devices.js';
import { createIntegration, setPushPolicy } from '../../src/core/integrations.js';
import { createAdminEnrollLink } from '../../src/core/portal/links.js';
import { sessionIdHash } from '../../src/core/portal/session.js';
import { addToken, listTokens } from '../../src/core/tokens.js';
import { expirePending } from '../../src/core/transactions.js';
import { createUser } from '../../src/core/users.js';
import { injectTransport, ScriptedDevice, type ListedRequest } from '../support/device.js';
import { call, startHarness, type Creds, type Harness } from '../support/harness.js';
import { PortalClient, secretOf, totpNow } from '../support/portal-client.js';

let h: Harness;
let creds: Creds;

beforeEach(async () => {
  h = await startHarness();
  const r = await createIntegration(h.deps, { name: 'hosts' });
  creds = { ikey: r.integration.ikey, skey: r.skey };
});
afterEach(async () => h.close());

/** The path of the enroll_portal_url preauth gives an unenrolled user. */
async function preauthLink(username: string): Promise<string> {
  const r = await call(h, creds, 'POST', '/auth/v2/preauth', { username });
  expect(r.body.response?.['result']).toBe('enroll');
  return new URL(String(r.body.response?.['enroll_portal_url'])).pathname;
}

async function adminLink(username: string): Promise<string> {
  return new URL((await createAdminEnrollLink(h.deps, username)).url).pathname;
}

async function login(username: string, passcode: string): Promise<unknown> {
  const r = await call(h, creds, 'POST', '/auth/v2/auth', { username, factor: 'passcode', passcode });
  return r.body.response?.['result'];
}

/** Adds an authenticator app through the portal; returns its secret. */
async function addTotp(p: PortalClient): Promise<{ secret: string; confirm: Awaited<ReturnType<PortalClient['post']>> }> {
  const start = await p.post('/portal/totp');
  expect(start.status).toBe(200);
  const secret = secretOf(start.body)!;
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  const confirm = await p.post('/portal/totp/confirm', { code: totpNow(secret, h.clock.now()) });
  return { secret, confirm };
}

async function enrollmentReasons(username: string): Promise<string[]> {
  return (await h.deps.store.queryAudit({ username, event: 'enrollment', limit: 100 })).map((e) => e.reason).reverse();
}

describe('links', () => {
  it('a GET shows a Continue form and does not use the link; the POST uses it once', async () => {
    const path = await preauthLink('alice');
    const p = new PortalClient(h.app);
    for (let i = 0; i < 3; i++) {
      const g = await p.get(path);
      expect(g.status).toBe(200);
      expect(g.body).toContain('Continue');
      expect(g.headers['content-security-policy']).toBe("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
      expect(g.headers['x-content-type-options']).toBe('nosniff');
      expect(g.headers['referrer-policy']).toBe('no-referrer');
      expect(g.headers['cache-control']).toBe('no-store');
      expect(g.body).not.toMatch(/<script|style=/i);
    }
    const first = await p.post(path, '');
    expect(first.status).toBe(303);
    expect(first.headers['location']).toBe('/portal/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-tandem_portal=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=900$/);
    // Only the hash of the session id is stored.
    expect(await h.deps.store.getPortalSession(p.cookie!, h.clock.now())).toBeUndefined();
    expect(await h.deps.store.getPortalSession(sessionIdHash(p.cookie!), h.clock.now())).toBeDefined();
    const homePage = await p.get('/portal/');
    expect(homePage.status).toBe(200);
    expect(homePage.body).toContain('alice');

    const other = new PortalClient(h.app);
    for (const r of [await other.get(path), await other.post(path, '')]) {
      expect(r.status).toBe(410);
      expect(r.body).toContain('expired or was already used');
      expect(r.body).toContain('Log in again to get a new link');
      expect(r.body).toContain('tandem user enroll-link');
    }
    expect(other.cookie).toBeUndefined();
  });

  it('an unknown or malformed link and an expired one say so', async () => {
    const p = new PortalClient(h.app);
    for (const path of ['/portal/enroll/' + 'A'.repeat(43), '/portal/enroll/short', '/portal/enroll/%3Cscript%3E']) {
      expect((await p.get(path)).status).toBe(410);
      expect((await p.post(path, '')).status).toBe(410);
    }
    const path = await preauthLink('bob');
    h.clock.offsetMs += (h.deps.settings.enrollLinkSeconds + 1) * 1000;
    expect((await p.get(path)).status).toBe(410);
    expect((await p.post(path, '')).status).toBe(410);
  });

  it('each preauth gives a fresh link; an admin link lasts 7 days', async () => {
    const a = await preauthLink('carol');
    const b = await preauthLink('carol');
    expect(a).not.toBe(b);
    await createUser(h.deps, 'dave');
    const before = h.clock.now();
    const link = await createAdminEnrollLink(h.deps, 'dave');
    expect(link.expiresAt - before).toBeGreaterThanOrEqual(7 * 86400_000);
    expect(link.expiresAt - before).toBeLessThan(7 * 86400_000 + 5000);
    h.clock.offsetMs += 6 * 86400_000;
    const p = new PortalClient(h.app);
    expect((await p.enter(new URL(link.url).pathname)).status).toBe(200);
  });

  it('a session ends after 15 minutes', async () => {
    const p = new PortalClient(h.app);
    expect((await p.enter(await preauthLink('erin'))).status).toBe(200);
    h.clock.offsetMs += 15 * 60_000 + 1000;
    const r = await p.get('/portal/');
    expect(r.status).toBe(403);
    expect(r.body).toContain('Your session has ended');
  });
});

describe('CSRF and origin', () => {
  it('missing or wrong CSRF token, or a cross-site POST: 403 and nothing changes', async () => {
    const p = new PortalClient(h.app);
    await p.enter(await preauthLink('frank'));
    const hash = sessionIdHash(p.cookie!);
    const wrong = p.csrf!.slice(0, -2) + (p.csrf!.endsWith('AA') ? 'BB' : 'AA');
    expect((await p.post('/portal/totp', {}, { csrf: null })).status).toBe(403);
    expect((await p.post('/portal/totp', {}, { csrf: wrong })).status).toBe(403);
    expect((await p.post('/portal/authenticator', {}, { csrf: null })).status).toBe(403);
    expect((await p.post('/portal/totp', {}, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await p.post('/portal/totp', {}, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    expect((await p.post('/portal/totp', {}, { headers: { origin: 'null' } })).status).toBe(403);
    expect((await p.post('/portal/totp', {}, { headers: { origin: 'null', 'sec-fetch-site': 'same-site' } })).status).toBe(403);
    expect((await p.post('/portal/totp', {}, { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' } })).status).toBe(403);
    expect((await h.deps.store.getPortalSession(hash, h.clock.now()))?.pendingTotpSealed).toBeNull();
    expect(await h.deps.store.listDevices((await h.deps.store.findUserByName('frank'))!.id)).toEqual([]);
    // Under Referrer-Policy no-referrer a browser's same-origin form POST says `Origin: null`
    // with Sec-Fetch-Site: same-origin: accepted.
    expect((await p.post('/portal/totp', {}, { headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } })).status).toBe(200);
    // Another session's CSRF token does not work either.
    const q = new PortalClient(h.app);
    await q.enter(await preauthLink('frank'));
    expect((await p.post('/portal/totp', {}, { csrf: q.csrf! })).status).toBe(403);
    // Without a cookie at all.
    const none = new PortalClient(h.app);
    expect((await none.post('/portal/totp', {}, { csrf: p.csrf! })).status).toBe(403);
  });
});

describe('authenticator app (TOTP)', () => {
  it('is saved only after a correct code, and then logs in', async () => {
    const p = new PortalClient(h.app);
    await p.enter(await preauthLink('gina'));
    const start = await p.post('/portal/totp');
    const secret = secretOf(start.body)!;
    expect(start.body).toContain('otpauth://totp/');
    expect(start.body).toContain('src="data:image/svg+xml;base64,');
    // The seed is not in any cookie, and stored only sealed.
    expect(String(start.headers['set-cookie'] ?? '')).not.toContain(secret);
    const row = await h.deps.store.getPortalSession(sessionIdHash(p.cookie!), h.clock.now());
    expect(row?.pendingTotpSealed).toBeTruthy();
    expect(row?.pendingTotpSealed).not.toContain(secret);

    const good = totpNow(secret, h.clock.now());
    const bad = good === '000000' ? '111111' : '000000';
    const wrong = await p.post('/portal/totp/confirm', { code: bad });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toContain('did not match');
    expect(await listTokens(h.deps, 'gina')).toEqual([]);
    expect(await login('gina', good)).toBe('deny');

    const ok = await p.post('/portal/totp/confirm', { code: good });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('set up');
    expect(await listTokens(h.deps, 'gina')).toHaveLength(1);
    // The confirming code is spent; the next one logs in.
    expect(await login('gina', good)).toBe('deny');
    expect(await login('gina', totpNow(secret, h.clock.now(), 1))).toBe('allow');
    // Confirming again: nothing pending.
    expect((await p.post('/portal/totp/confirm', { code: totpNow(secret, h.clock.now()) })).status).toBe(409);
    expect(await enrollmentReasons('gina')).toEqual(expect.arrayContaining(['user_created', 'link_used', 'totp_wrong_code', 'totp_added']));
  });
});

describe('proof for an enrolled user', () => {
  it('refuses to add or remove without proof; a valid code allows it', async () => {
    await createUser(h.deps, 'hank');
    const existing = await addToken(h.deps, 'hank', { type: 'totp' });
    const p = new PortalClient(h.app);
    const home = await p.enter(await adminLink('hank'));
    expect(home.body).toContain('First, confirm it is you');
    const hash = sessionIdHash(p.cookie!);

    for (const path of ['/portal/totp', '/portal/authenticator']) {
      const r = await p.post(path);
      expect(r.status).toBe(403);
      expect(r.body).toContain('enter a code from a device you already have');
    }
    expect((await p.post('/portal/remove', { kind: 'token', id: existing.token.tokenId })).status).toBe(403);
    expect((await h.deps.store.getPortalSession(hash, h.clock.now()))?.pendingTotpSealed).toBeNull();
    expect(await listTokens(h.deps, 'hank')).toHaveLength(1);
    expect(await h.deps.store.listDevices((await h.deps.store.findUserByName('hank'))!.id)).toEqual([]);

    const code = totpNow(existing.secret, h.clock.now());
    expect((await p.post('/portal/prove', { code: code === '000000' ? '111111' : '000000' })).status).toBe(403);
    expect((await p.post('/portal/prove', { code })).status).toBe(200);
    // The proving code was spent: it cannot log in afterwards.
    expect(await login('hank', code)).toBe('deny');

    const { confirm } = await addTotp(p);
    expect(confirm.status).toBe(200);
    expect(await listTokens(h.deps, 'hank')).toHaveLength(2);
    const device = await p.post('/portal/authenticator');
    expect(device.status).toBe(200);
    expect(device.body).toMatch(/href="https:\/\/[^"]+\/app\/#activate&#61;[A-Za-z0-9_-]{43}"/);
    expect((await p.post('/portal/remove', { kind: 'token', id: existing.token.tokenId })).status).toBe(200);
    expect((await listTokens(h.deps, 'hank')).map((t) => t.tokenId)).not.toContain(existing.token.tokenId);
    expect(await enrollmentReasons('hank')).toEqual(expect.arrayContaining(['proof_missing', 'proof_failed', 'proof_ok', 'totp_added', 'device_activation_issued', 'token_removed']));
  });

  it('cannot remove another user’s token', async () => {
    await createUser(h.deps, 'ivy');
    const theirs = await addToken(h.deps, 'ivy', { type: 'totp' });
    const p = new PortalClient(h.app);
    await p.enter(await preauthLink('jack'));
    const r = await p.post('/portal/remove', { kind: 'token', id: theirs.token.tokenId });
    expect(r.status).toBe(403);
    expect(await listTokens(h.deps, 'ivy')).toHaveLength(1);
  });
});

describe('proof by an approved push', () => {
  async function phoneFor(username: string): Promise<ScriptedDevice> {
    if (!(await h.deps.store.findUserByName(username))) await createUser(h.deps, username);
    const { code } = await createActivation(h.deps, username);
    return ScriptedDevice.activate('https://unused', code, { ca: '', transport: injectTransport(h.app), name: `${username}'s phone` });
  }
  const txidOf = (page: string): string => /data-push-txid="([^"]+)"/.exec(page)![1]!;
  async function onlyRequest(d: ScriptedDevice): Promise<ListedRequest> {
    const { requests } = await d.requests();
    expect(requests).toHaveLength(1);
    return requests[0] as ListedRequest;
  }

  it('an enrolled user approves a push the portal sends; only then can they add a factor', async () => {
    const phone = await phoneFor('nora');
    const p = new PortalClient(h.app);
    const home = await p.enter(await adminLink('nora'));
    expect(home.body).toContain('First, confirm it is you');
    expect(home.body).toContain('Send a push to my phone');

    const wait = await p.post('/portal/prove/push');
    expect(wait.status).toBe(200);
    expect(wait.body).toContain('Approve the request on your phone');
    expect(wait.body).toContain('<script src="/portal/portal.js" defer></script>');
    expect(wait.body).not.toMatch(/<script>|\son[a-z]+=/i);
    const txid = txidOf(wait.body);
    expect((await p.get(`/portal/prove/push/status?txid=${txid}`)).body).toBe('{"state":"pending"}');
    // Not yet approved: "I approved it" says so, and nothing can be added.
    const early = await p.post('/portal/prove/push/check', { txid });
    expect(early.status).toBe(409);
    expect(early.body).toContain('Not approved yet');
    expect((await p.post('/portal/totp')).status).toBe(403);

    // The app lists it with the portal as its context (an admin's link: no integration).
    const req = await onlyRequest(phone);
    expect(req).toMatchObject({ txid, username: 'nora', hostname: 'enrollment portal', type: 'Enrollment', integration: '', integrationName: 'Enrollment portal', numberRequired: false });
    expect((await phone.decide(req, 'approve')).status).toBe(200);
    expect((await p.get(`/portal/prove/push/status?txid=${txid}`)).body).toBe('{"state":"approved"}');

    // Another portal session of the same user cannot use this push.
    const q = new PortalClient(h.app);
    await q.enter(await adminLink('nora'));
    expect((await q.get(`/portal/prove/push/status?txid=${txid}`)).body).toBe('{"state":"refused"}');
    expect((await q.post('/portal/prove/push/check', { txid })).status).toBe(403);
    expect((await q.post('/portal/totp')).status).toBe(403);

    const ok = await p.post('/portal/prove/push/check', { txid });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('Confirmed.');
    const { confirm } = await addTotp(p);
    expect(confirm.status).toBe(200);
    expect(await listTokens(h.deps, 'nora')).toHaveLength(2);
    expect(await enrollmentReasons('nora')).toEqual(expect.arrayContaining(['proof_push_sent', 'proof_push_failed', 'proof_ok', 'totp_added']));
    const push = (await h.deps.store.queryAudit({ username: 'nora', event: 'push', limit: 10 }))[0];
    expect(push).toMatchObject({ result: 'allow', reason: 'approved', hostname: 'enrollment portal', txid });
  });

  it('a denied or unanswered push proves nothing; a login link’s push follows its integration’s policy (number shown on the page)', async () => {
    const link = await preauthLink('omar');
    const phone = await phoneFor('omar');
    const p = new PortalClient(h.app);
    expect((await p.enter(link)).body).toContain('Send a push to my phone');

    const denied = txidOf((await p.post('/portal/prove/push')).body);
    expect(await onlyRequest(phone)).toMatchObject({ txid: denied, integration: creds.ikey, integrationName: 'hosts', hostname: 'enrollment portal' });
    expect((await phone.decide(await onlyRequest(phone), 'deny')).status).toBe(200);
    const refused = await p.post('/portal/prove/push/check', { txid: denied });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('denied or has expired');
    expect((await p.post('/portal/totp')).status).toBe(403);

    const unanswered = txidOf((await p.post('/portal/prove/push')).body);
    h.clock.offsetMs += (h.deps.settings.pushTimeoutSeconds + 1) * 1000;
    expect((await p.get(`/portal/prove/push/status?txid=${unanswered}`)).body).toBe('{"state":"refused"}');
    expect(await expirePending(h.deps)).toBe(1);
    h.clock.offsetMs = 0;

    // Verified push on this integration: the page shows the number the app asks for.
    await setPushPolicy(h.deps, creds.ikey, { verifiedPush: 'required' });
    const page = await p.post('/portal/prove/push');
    expect(page.status, page.body).toBe(200);
    const number = /data-testid="push-match">([0-9]{3})</.exec(page.body)![1]!;
    const req = (await phone.requests()).requests.find((r: ListedRequest) => r.txid === txidOf(page.body)) as ListedRequest;
    expect((req as ListedRequest & { numberRequired?: boolean }).numberRequired).toBe(true);
    expect((await phone.decide(req, 'approve', number)).status).toBe(200);
    expect((await p.post('/portal/prove/push/check', { txid: req.txid })).status).toBe(200);
    expect((await p.post('/portal/totp')).status).toBe(200);
  });

  it('passkeys are a pointer to the app: shown with the device’s passkey count, and the integration’s passkey policy; the portal registers none', async () => {
    // Without a device: passkeys are explained, nothing to open yet.
    const bare = new PortalClient(h.app);
    const first = await bare.enter(await preauthLink('pia'));
    // A second login's link, kept for after the device exists (preauth then offers no link).
    const later = await preauthLink('pia');
    expect(first.body).toContain('data-testid="passkey-section"');
    expect(first.body).toContain('Add the Tandem Authenticator first');
    expect(first.body).not.toContain('open-app-for-passkey');
    expect(first.body).not.toContain('passkey-required');

    // With a device: the link to /app/ and the count, which follows the app's registrations.
    const phone = await phoneFor('pia');
    await setPushPolicy(h.deps, creds.ikey, { approvalAuth: 'passkey' });
    const p = new PortalClient(h.app);
    const home = await p.enter(later);
    expect(home.body).toContain('<a href="/app/" data-testid="open-app-for-passkey">Open the Tandem Authenticator</a>');
    expect(home.body).toContain('inside the Tandem Authenticator');
    expect(home.body).toContain('<span data-testid="device-passkeys">no passkey</span>');
    expect(home.body).toContain('data-testid="passkey-required"');
    const user = (await h.deps.store.findUserByName('pia'))!;
    await h.deps.store.addPasskey({ credentialId: 'cred-1', deviceId: phone.deviceId, userId: user.id, publicKey: 'AAAA', counter: 0, transports: ['internal'], createdAt: h.clock.now() });
    expect((await p.get('/portal/')).body).toContain('<span data-testid="device-passkeys">1 passkey</span>');
    // An admin's link has no integration: the site default (device key only) applies.
    const q = new PortalClient(h.app);
    expect((await q.enter(await adminLink('pia'))).body).not.toContain('passkey-required');

    // No WebAuthn in the portal: no route, no script on the home page.
    for (const path of ['/portal/passkey', '/portal/passkey/options', '/portal/passkey/register']) expect((await p.post(path)).status).toBe(404);
    expect(home.body).not.toContain('<script');
  });

  it('a user without a Tandem Authenticator is not offered a push; asking anyway is refused', async () => {
    await createUser(h.deps, 'pia');
    await addToken(h.deps, 'pia', { type: 'totp' });
    const p = new PortalClient(h.app);
    const home = await p.enter(await adminLink('pia'));
    expect(home.body).not.toContain('Send a push');
    const r = await p.post('/portal/prove/push');
    expect(r.status).toBe(409);
    expect(r.body).toContain('Push login is not available');
    // A status query without a session, or for garbage, says refused.
    expect((await new PortalClient(h.app).get('/portal/prove/push/status?txid=x')).status).toBe(403);
    expect((await p.get(`/portal/prove/push/status?txid=${'x'.repeat(500)}`)).body).toBe('{"state":"refused"}');
    const js = await p.get('/portal/portal.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['content-security-policy']).toContain("script-src 'self'");
  });
});

describe('admin approval policy', () => {
  it('holds the enrollment until approved: not usable for login before', async () => {
    await setEnrollmentApproval(h.deps, creds.ikey, 'admin');
    const p = new PortalClient(h.app);
    await p.enter(await preauthLink('kate'));
    const { secret, confirm } = await addTotp(p);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('administrator must approve');
    expect(await listTokens(h.deps, 'kate')).toEqual([]);
    expect(await login('kate', totpNow(secret, h.clock.now(), 1))).toBe('deny');

    const device = await p.post('/portal/authenticator');
    expect(device.body).toContain('administrator must approve');
    const held = await listEnrollments(h.deps);
    expect(held.map((e) => [e.username, e.kind, e.integration])).toEqual([['kate', 'totp', creds.ikey], ['kate', 'device', creds.ikey]]);

    const approved = await approveEnrollment(h.deps, held[0]!.id);
    expect(approved.tokenId).toBeDefined();
    await expect(approveEnrollment(h.deps, held[0]!.id)).rejects.toThrow(/no held enrollment/);
    expect(await login('kate', totpNow(secret, h.clock.now(), 1))).toBe('allow');
    await denyEnrollment(h.deps, held[1]!.id);
    expect(await listEnrollments(h.deps)).toEqual([]);
    expect(await enrollmentReasons('kate')).toEqual(expect.arrayContaining(['totp_held', 'device_held', 'approved', 'denied']));
  });
});

describe('hostile input', () => {
  it('every form field refuses or escapes script tags, 100 KB, bad UTF-8 and NUL', async () => {
    const p = new PortalClient(h.app);
    await p.enter(await preauthLink('liam'));
    const csrf = encodeURIComponent(p.csrf!);
    const hostile = [
      encodeURIComponent('<script>alert(1)</script>'),
      'A'.repeat(100 * 1024),
      '%FF%FE',
      '%00123456',
      encodeURIComponent('"><img src=x onerror=alert(1)>'),
    ];
    const forms: Array<[string, string[]]> = [
      ['/portal/prove', ['code']],
      ['/portal/totp/confirm', ['code']],
      ['/portal/remove', ['kind', 'id']],
      ['/portal/totp', ['extra']],
      ['/portal/prove/push', ['extra']],
      ['/portal/prove/push/check', ['txid']],
    ];
    await p.post('/portal/totp');
    for (const [path, fields] of forms) {
      for (const field of [...fields, 'csrf']) {
        for (const v of hostile) {
          const others = fields.filter((f) => f !== field).map((f) => `${f}=1`);
          const body = [field === 'csrf' ? `csrf=${v}` : `csrf=${csrf}`, field === 'csrf' ? '' : `${field}=${v}`, ...others].filter(Boolean).join('&');
          const r = await p.post(path, body);
          expect([400, 403, 409, 413, 422], `${path} ${field}`).toContain(r.status);
          expect(r.body).not.toContain('<script>alert');
          expect(r.body).not.toContain('<img src=x');
        }
      }
    }
    expect(await listTokens(h.deps, 'liam')).toEqual([]);
    // Raw bad UTF-8 bytes in the body.
    const raw = await p.post('/portal/prove', Buffer.concat([Buffer.from(`csrf=${csrf}&code=`), Buffer.from([0xc3, 0x28])]));
    expect(raw.status).toBe(400);
  });

  it('a hostile username is shown as text', async () => {
    const name = '<script>alert(1)</script>';
    const p = new PortalClient(h.app);
    const path = await preauthLink(name);
    const home = await p.enter(path);
    expect(home.status).toBe(200);
    expect(home.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(home.body).not.toContain(name);
  });
});
