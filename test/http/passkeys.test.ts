// Passkeys in the Tandem Authenticator (docs/push.md §8) through fastify.inject, with a scripted
// device (its ECDSA key signs every request and approval) and a software WebAuthn authenticator
// (test/support/webauthn-authenticator.ts): registration with the stateless challenge, approvals
// covered by an assertion over SHA-256 of the approval message when the policy asks for it, and
// every way such an assertion can be wrong.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDevice } from '../../src/core/devices.js';
import { call } from '../support/harness.js';
import type { ListedRequest, ScriptedDevice } from '../support/device.js';
import { asyncPush, auditEntries, authStatus, deviceFor, listed, startPushHarness, type PushHarness } from '../support/push-harness.js';
import { FLAG_UP, FLAG_UV, SoftwareAuthenticator, type CeremonyOverrides } from '../support/webauthn-authenticator.js';

const RP_ID = 'api.tandem.test';
const HOST = `${RP_ID}:8443`;
const ORIGIN = `https://${HOST}`;
const AT = { host: HOST };

let p: PushHarness;
afterEach(async () => p.h.close());

async function options(device: ScriptedDevice, host = HOST) {
  return device.signedFetch('POST', '/app/api/passkey/options', undefined, { headers: { host } });
}

/** Registers `auth` as a passkey of `device`; returns the register answer. */
async function register(device: ScriptedDevice, auth: SoftwareAuthenticator, o: CeremonyOverrides = {}, host = HOST) {
  const opts = await options(device, host);
  expect(opts.status).toBe(200);
  return device.signedFetch('POST', '/app/api/passkey/register', auth.register(opts.json, o), { headers: { host } });
}

const challengeOf = (device: ScriptedDevice, entry: ListedRequest, number = ''): string =>
  createHash('sha256').update(device.approvalFor(entry, 'approve', number)).digest('base64url');

/** Approves `entry` with an assertion by `auth` over the approval (or over `over.challenge`). */
async function approve(device: ScriptedDevice, auth: SoftwareAuthenticator, entry: ListedRequest, o: CeremonyOverrides = {}, number = '') {
  const assertion = auth.assert(challengeOf(device, entry, number), RP_ID, o);
  return device.decide(entry, 'approve', number, { assertion, headers: AT });
}

async function pushFor(device: ScriptedDevice, username = 'alice'): Promise<ListedRequest & Record<string, unknown>> {
  const r = await asyncPush(p, username);
  const txid = r.body.response!['txid'] as string;
  expect(txid, JSON.stringify(r.body.response)).toBeTypeOf('string');
  return listed(device, txid);
}

async function expectDenied(txid: string, reason: string) {
  expect(await authStatus(p, txid)).toEqual({ result: 'deny', status: 'deny', status_msg: 'Login request denied.' });
  const e = (await auditEntries(p.h, 'push')).find((x) => x.txid === txid)!;
  expect([e.result, e.reason]).toEqual(['deny', reason]);
  return e;
}

describe('registration', () => {
  it('options name the RP by the request host, the user by id, require UV, and exclude the device\'s passkeys', async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'alice');
    const user = (await p.h.deps.store.findUserByName('alice'))!;
    const first = await options(device);
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const o = first.json;
    expect(o.rp).toEqual({ name: 'Tandem', id: RP_ID });
    expect(o.user).toMatchObject({ id: Buffer.from(user.id).toString('base64url'), name: 'alice' });
    expect(o.authenticatorSelection).toMatchObject({ userVerification: 'required', residentKey: 'preferred' });
    expect(o.attestation).toBe('none');
    expect(o.excludeCredentials).toEqual([]);
    expect(Buffer.from(o.challenge, 'base64url')).toHaveLength(73);
    // Each call gets its own challenge.
    expect((await options(device)).json.challenge).not.toBe(o.challenge);

    const auth = new SoftwareAuthenticator(ORIGIN);
    const r = await register(device, auth);
    expect([r.status, r.json]).toEqual([200, { credentialId: auth.id }]);
    expect(await p.h.deps.store.listPasskeys(device.deviceId)).toEqual([
      expect.objectContaining({ credentialId: auth.id, deviceId: device.deviceId, userId: user.id, counter: 1, transports: ['internal', 'hybrid'] }),
    ]);
    expect((await options(device)).json.excludeCredentials).toEqual([{ id: auth.id, type: 'public-key', transports: ['internal', 'hybrid'] }]);
    const audit = (await auditEntries(p.h, 'device')).find((e) => e.reason === 'passkey_added')!;
    expect([audit.result, audit.username, audit.detailJson['deviceId'], audit.detailJson['credentialId']]).toEqual(['ok', 'alice', device.deviceId, auth.id]);

    const assertOptions = await device.signedFetch('GET', '/app/api/passkey/assert-options', undefined, { headers: AT });
    expect(assertOptions.json).toEqual({ rpId: RP_ID, allowCredentials: [{ id: auth.id, type: 'public-key', transports: ['internal', 'hybrid'] }], userVerification: 'required', timeout: 120_000 });
  });

  it('also works on the default https port (origin without a port) and refuses hosts that are not ours or are IPs', async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'alice');
    const auth = new SoftwareAuthenticator(`https://${RP_ID}`);
    expect((await register(device, auth, {}, RP_ID)).status).toBe(200);
    for (const host of ['evil.example', '127.0.0.1:8443', '[::1]:8443', `${RP_ID}.evil.example`, `x${RP_ID}`]) {
      const r = await options(device, host);
      expect([r.status, r.json], host).toEqual([400, { error: 'passkey_unavailable' }]);
    }
  });

  it('refuses a stale, forged, another device\'s or another host\'s challenge, a wrong origin or RP ID, and a missing UV flag', async () => {
    p = await startPushHarness({ hosts: [RP_ID, 'other.tandem.test'] });
    const device = await deviceFor(p.h, 'alice');
    const other = await deviceFor(p.h, 'alice', 'Other');
    const refusedWith = async (body: unknown, host = HOST) => {
      const r = await device.signedFetch('POST', '/app/api/passkey/register', body, { headers: { host }, time: p.h.clock.now() });
      expect([r.status, r.json]).toEqual([400, { error: 'invalid_passkey' }]);
    };
    const auth = new SoftwareAuthenticator(ORIGIN);

    // Stale: the challenge lives 5 minutes.
    const stale = (await options(device)).json;
    p.h.clock.offsetMs += 5 * 60_000 + 1;
    await refusedWith(auth.register(stale));
    p.h.clock.offsetMs = 0;

    // Forged: random bytes of the right length, a valid challenge with one bit flipped, or with its expiry moved.
    const fresh = (await options(device)).json;
    await refusedWith(auth.register({ ...fresh, challenge: randomBytes(73).toString('base64url') }));
    const bytes = Buffer.from(fresh.challenge, 'base64url');
    bytes[72]! ^= 1;
    await refusedWith(auth.register({ ...fresh, challenge: bytes.toString('base64url') }));
    const later = Buffer.from(fresh.challenge, 'base64url');
    later.writeBigUInt64BE(later.readBigUInt64BE(33) + 3_600_000n, 33);
    await refusedWith(auth.register({ ...fresh, challenge: later.toString('base64url') }));
    await refusedWith(auth.register({ ...fresh, challenge: 'AAAA' }));

    // Another device's challenge, or one made for another host name.
    await refusedWith(auth.register((await options(other)).json));
    await refusedWith(auth.register((await options(device, 'other.tandem.test:8443')).json));
    await refusedWith(auth.register((await options(device, 'other.tandem.test:8443')).json, { rpId: 'other.tandem.test', origin: 'https://other.tandem.test:8443' }));

    await refusedWith(auth.register((await options(device)).json, { origin: 'https://evil.example:8443' }));
    await refusedWith(auth.register((await options(device)).json, { rpId: 'evil.example' }));
    await refusedWith(auth.register((await options(device)).json, { flags: FLAG_UP | 0x40 }));
    await refusedWith(auth.register((await options(device)).json, { type: 'webauthn.get' }));

    expect(await p.h.deps.store.listPasskeys(device.deviceId)).toEqual([]);
    expect((await auditEntries(p.h, 'device')).filter((e) => e.reason === 'passkey_refused').length).toBeGreaterThanOrEqual(10);
    // After all that, the real thing still works.
    expect((await register(device, auth)).status).toBe(200);
  });

  it('a credential registered once cannot be registered again, to this or another device', async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'alice');
    const other = await deviceFor(p.h, 'alice', 'Other');
    const auth = new SoftwareAuthenticator(ORIGIN);
    expect((await register(device, auth)).status).toBe(200);
    expect([(await register(device, auth)).status, (await register(other, auth)).json]).toEqual([409, { error: 'passkey_exists' }]);
    expect(await p.h.deps.store.listPasskeys(other.deviceId)).toEqual([]);
  });

  it('hostile bodies are 400 and store nothing; unsigned calls are 401', async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'alice');
    const auth = new SoftwareAuthenticator(ORIGIN);
    const good = auth.register((await options(device)).json);
    const bad: unknown[] = [
      null,
      [],
      'x',
      { ...good, extra: 1 },
      { ...good, id: 'not base64url!' },
      { ...good, rawId: `${good.rawId}A` },
      { ...good, type: 'password' },
      { ...good, response: { ...good.response, extra: 'x' } },
      { ...good, response: { ...good.response, clientDataJSON: 42 } },
      { ...good, response: { ...good.response, attestationObject: ['a'] } },
      { ...good, response: { ...good.response, transports: 'usb' } },
      { ...good, response: { ...good.response, transports: Array(17).fill('usb') } },
      { ...good, clientExtensionResults: [] },
      { ...good, authenticatorAttachment: 'kitchen' },
      JSON.parse(`{"__proto__": {"admin": true}, "id": "${good.id}"}`),
      { ...good, response: { ...good.response, clientDataJSON: 'A'.repeat(9000) } },
    ];
    for (const body of bad) {
      const r = await device.signedFetch('POST', '/app/api/passkey/register', body, { headers: AT });
      expect([r.status, r.json], JSON.stringify(body)?.slice(0, 80)).toEqual([400, { error: 'bad_request' }]);
    }
    const raw = await device.signedFetch('POST', '/app/api/passkey/register', undefined, { headers: AT, rawBody: Buffer.from('{"id":'), contentType: 'application/json' });
    expect(raw.status).toBe(400);
    const withBody = await device.signedFetch('POST', '/app/api/passkey/options', { a: 1 }, { headers: AT });
    expect(withBody.status).toBe(400);
    const withQuery = await device.signedFetch('GET', '/app/api/passkey/assert-options?x=1', undefined, { headers: AT });
    expect(withQuery.status).toBe(400);
    expect(await p.h.deps.store.listPasskeys(device.deviceId)).toEqual([]);

    for (const [method, url] of [['POST', '/app/api/passkey/options'], ['POST', '/app/api/passkey/register'], ['GET', '/app/api/passkey/assert-options']] as const) {
      const r = await p.h.app.inject({ method, url, headers: AT, ...(method === 'POST' ? { payload: good, headers: { ...AT, 'content-type': 'application/json' } } : {}) });
      expect([r.statusCode, r.json()], url).toEqual([401, { error: 'unauthorized' }]);
    }
    // The assertion's shape is checked too: malformed is 400 and leaves the push alone.
    await p.h.deps.store.setIntegrationPushPolicy(p.creds.ikey, { approvalAuth: 'passkey' });
    expect((await register(device, auth)).status).toBe(200);
    const entry = await pushFor(device);
    const assertion = auth.assert(challengeOf(device, entry), RP_ID);
    const badAssertions: unknown[] = [
      'x',
      [],
      { ...assertion, extra: 1 },
      { ...assertion, response: { ...assertion.response, signature: 7 } },
      { ...assertion, response: { ...assertion.response, userHandle: 'not base64!' } },
      { ...assertion, response: { ...assertion.response, attestationObject: 'AA' } },
      { ...assertion, id: 'AAAA' },
      { ...assertion, type: 'other' },
    ];
    for (const a of badAssertions) {
      const r = await device.decide(entry, 'approve', '', { assertion: a, headers: AT });
      expect([r.status, r.json], JSON.stringify(a).slice(0, 80)).toEqual([400, { error: 'bad_request' }]);
    }
    expect(await authStatus(p, entry.txid)).toMatchObject({ result: 'waiting' });
    expect((await device.decide(entry, 'approve', '', { assertion, headers: AT })).json).toEqual({ result: 'allow' });
  });
});

describe('approvals that need a passkey', () => {
  async function setup(policy: Record<string, unknown> = {}) {
    p = await startPushHarness({}, { approvalAuth: 'passkey', maxPending: 5, denialThreshold: 100, ...policy });
    const device = await deviceFor(p.h, 'alice');
    const auth = new SoftwareAuthenticator(ORIGIN);
    expect((await register(device, auth)).status).toBe(200);
    return { device, auth };
  }

  it('the entry says passkeyRequired; an approval with the assertion is allowed and the counter moves', async () => {
    const { device, auth } = await setup();
    const entry = await pushFor(device);
    expect(entry['passkeyRequired']).toBe(true);
    const d = await approve(device, auth, entry);
    expect([d.status, d.json]).toEqual([200, { result: 'allow' }]);
    expect(await authStatus(p, entry.txid)).toMatchObject({ result: 'allow' });
    const e = (await auditEntries(p.h, 'push')).find((x) => x.txid === entry.txid)!;
    expect([e.reason, e.detailJson['credentialId']]).toEqual(['approved', auth.id]);
    expect((await p.h.deps.store.getPasskey(auth.id))?.counter).toBe(2);
  });

  it('with number matching the assertion covers the typed number too', async () => {
    p = await startPushHarness({}, { approvalAuth: 'passkey', verifiedPush: 'required', maxPending: 5, denialThreshold: 100 });
    const device = await deviceFor(p.h, 'alice');
    const auth = new SoftwareAuthenticator(ORIGIN);
    expect((await register(device, auth)).status).toBe(200);
    const r = await asyncPush(p, 'alice', { client_supports_verified_push: '1' });
    const code = r.body.response!['verification_code'] as string;
    const entry = await listed(device, r.body.response!['txid'] as string);
    // An assertion made over another number does not cover this approval.
    const wrong = auth.assert(challengeOf(device, entry, code === '000' ? '001' : '000'), RP_ID);
    expect((await device.decide(entry, 'approve', code, { assertion: wrong, headers: AT })).status).toBe(409);
    await expectDenied(entry.txid, 'bad_assertion');
    const r2 = await asyncPush(p, 'alice', { client_supports_verified_push: '1' });
    const entry2 = await listed(device, r2.body.response!['txid'] as string);
    expect((await approve(device, auth, entry2, {}, r2.body.response!['verification_code'] as string)).json).toEqual({ result: 'allow' });
  });

  it('a missing assertion is refused and the push denied (bad_assertion); deny and fraud need none', async () => {
    const { device } = await setup();
    const entry = await pushFor(device);
    const d = await device.decide(entry, 'approve', '', { headers: AT });
    expect([d.status, d.json]).toEqual([409, { error: 'refused' }]);
    expect((await expectDenied(entry.txid, 'bad_assertion')).detailJson['assertion']).toBe('missing');

    const denied = await pushFor(device);
    expect((await device.decide(denied, 'deny')).json).toEqual({ result: 'deny' });
    const fraud = await pushFor(device);
    expect((await device.decide(fraud, 'fraud')).json).toEqual({ result: 'fraud' });
  });

  const wrongs: [string, CeremonyOverrides][] = [
    ['a wrong origin', { origin: 'https://evil.example:8443' }],
    ['a wrong RP ID', { rpId: 'evil.example' }],
    ['no UV flag', { flags: FLAG_UP }],
    ['no UP flag', { flags: FLAG_UV }],
    ['the registration type', { type: 'webauthn.create' }],
    ['another user handle', { userHandle: Buffer.from('someone-else').toString('base64url') }],
  ];
  for (const [what, o] of wrongs) {
    it(`an assertion with ${what} is refused and the push denied`, async () => {
      const { device, auth } = await setup();
      const entry = await pushFor(device);
      expect((await approve(device, auth, entry, o)).status).toBe(409);
      await expectDenied(entry.txid, 'bad_assertion');
    });
  }

  it("an assertion over another push's message is refused", async () => {
    const { device, auth } = await setup();
    const a = await pushFor(device);
    const b = await pushFor(device);
    const forA = auth.assert(challengeOf(device, a), RP_ID);
    expect((await device.decide(b, 'approve', '', { assertion: forA, headers: AT })).status).toBe(409);
    await expectDenied(b.txid, 'bad_assertion');
    // The assertion was never accepted (its push did not match), so it still covers A, once.
    expect((await device.decide(a, 'approve', '', { assertion: forA, headers: AT })).json).toEqual({ result: 'allow' });
  });

  it('a counter that does not move forward is refused (a cloned authenticator or a replay)', async () => {
    const { device, auth } = await setup();
    const first = await pushFor(device);
    expect((await approve(device, auth, first, { counter: 10 })).json).toEqual({ result: 'allow' });
    const second = await pushFor(device);
    expect((await approve(device, auth, second, { counter: 10 })).status).toBe(409);
    await expectDenied(second.txid, 'bad_assertion');
    const third = await pushFor(device);
    expect((await approve(device, auth, third, { counter: 9 })).status).toBe(409);
    const fourth = await pushFor(device);
    expect((await approve(device, auth, fourth, { counter: 11 })).json).toEqual({ result: 'allow' });
  });

  it('an authenticator that does not count (always 0) is accepted every time', async () => {
    p = await startPushHarness({}, { approvalAuth: 'passkey', maxPending: 5 });
    const device = await deviceFor(p.h, 'alice');
    const auth = new SoftwareAuthenticator(ORIGIN, false);
    expect((await register(device, auth)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await approve(device, auth, await pushFor(device))).json).toEqual({ result: 'allow' });
    expect((await p.h.deps.store.getPasskey(auth.id))?.counter).toBe(0);
  });

  it("another device's passkey does not cover this device's approval, even of the same user", async () => {
    const { device } = await setup();
    const phone = await deviceFor(p.h, 'alice', 'Phone');
    const phoneKey = new SoftwareAuthenticator(ORIGIN);
    expect((await register(phone, phoneKey)).status).toBe(200);
    const entry = await pushFor(device);
    // Signed by `device`, covered by the phone's passkey.
    expect((await approve(device, phoneKey, entry)).status).toBe(409);
    expect((await expectDenied(entry.txid, 'bad_assertion')).detailJson['assertion']).toBe('credential of another device');
    // An unknown credential is no better.
    const entry2 = await pushFor(device);
    expect((await approve(device, new SoftwareAuthenticator(ORIGIN), entry2)).status).toBe(409);
    await expectDenied(entry2.txid, 'bad_assertion');
  });

  it('an approval sent through a host that is not ours cannot be covered', async () => {
    const { device, auth } = await setup();
    const entry = await pushFor(device);
    const assertion = auth.assert(challengeOf(device, entry), RP_ID);
    expect((await device.decide(entry, 'approve', '', { assertion, headers: { host: 'evil.example' } })).status).toBe(409);
    await expectDenied(entry.txid, 'bad_assertion');
  });

  it('a user whose devices have no passkey is refused push at once (passkey_required), and a passcode still works', async () => {
    p = await startPushHarness({}, { approvalAuth: 'passkey' });
    const device = await deviceFor(p.h, 'bob');
    const r = await asyncPush(p, 'bob', { async: '0' });
    expect(r.body.response).toEqual({ result: 'deny', status: 'deny', status_msg: 'Push login here needs a passkey in your Tandem Authenticator. Add one in the app, or enter a passcode instead.' });
    const a = await asyncPush(p, 'bob');
    expect(await authStatus(p, a.body.response!['txid'] as string)).toMatchObject({ result: 'deny', status: 'deny' });
    expect((await auditEntries(p.h, 'auth')).find((e) => e.username === 'bob')!.reason).toBe('passkey_required');
    expect((await device.requests()).requests).toEqual([]);
    const code = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'bob', factor: 'passcode', passcode: device.totp() });
    expect(code.body.response!['result']).toBe('allow');
    // A push aimed at a device without a passkey is refused even when another device has one.
    const withKey = await deviceFor(p.h, 'bob', 'Keyed');
    expect((await register(withKey, new SoftwareAuthenticator(ORIGIN))).status).toBe(200);
    expect((await asyncPush(p, 'bob', { device: device.deviceId, async: '0' })).body.response!['result']).toBe('deny');
    const keyed = await asyncPush(p, 'bob', { device: withKey.deviceId });
    expect((await listed(withKey, keyed.body.response!['txid'] as string))['passkeyRequired']).toBe(true);
  });

  it('removing the device removes its passkeys', async () => {
    const { device, auth } = await setup();
    await removeDevice(p.h.deps, 'alice', device.deviceId);
    expect(await p.h.deps.store.getPasskey(auth.id)).toBeUndefined();
  });

  it('the policy is fixed when the push is made: device-key pushes need no assertion, and the entry says so', async () => {
    const { device, auth } = await setup();
    const strict = await pushFor(device);
    await p.h.deps.store.setIntegrationPushPolicy(p.creds.ikey, { approvalAuth: 'device-key', maxPending: 5 });
    const plain = await pushFor(device);
    expect(plain['passkeyRequired']).toBe(false);
    expect((await device.decide(plain, 'approve')).json).toEqual({ result: 'allow' });
    // The push made under the passkey policy still needs its assertion.
    expect((await device.decide(strict, 'approve', '', { headers: AT })).status).toBe(409);
    await expectDenied(strict.txid, 'bad_assertion');
    void auth;
  });
});
