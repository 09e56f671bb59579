// Device activation, device-signed app API requests and Duo's enroll endpoints, through
// fastify.inject with the scripted Tandem Authenticator (test/support/device.ts).
import { createECDH, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActivation, listDevices } from '../../src/core/devices.js';
import { createIntegration } from '../../src/core/integrations.js';
import { listTokens } from '../../src/core/tokens.js';
import { createUser, setUserEnabled } from '../../src/core/users.js';
import { activationHash } from '../../src/core/devices.js';
import { ScriptedDevice, injectTransport, type DeviceTransport } from '../support/device.js';
import { call, startHarness, type Creds, type Harness } from '../support/harness.js';

let h: Harness;
let creds: Creds;
let transport: DeviceTransport;

beforeEach(async () => {
  h = await startHarness();
  transport = injectTransport(h.app);
  const r = await createIntegration(h.deps, { name: 'hosts' });
  creds = { ikey: r.integration.ikey, skey: r.skey };
});
afterEach(async () => h.close());

async function activationFor(user: string, validSecs?: number): Promise<string> {
  if (!(await h.deps.store.findUserByName(user))) await createUser(h.deps, user);
  return (await createActivation(h.deps, user, validSecs)).code;
}

const activateDevice = (code: string, name?: string): Promise<ScriptedDevice> =>
  ScriptedDevice.activate('https://unused', code, { ca: '', transport, ...(name !== undefined ? { name } : {}) });

async function postActivate(payload: string | Buffer, contentType = 'application/json') {
  const res = await h.app.inject({ method: 'POST', url: '/app/api/activate', headers: { 'content-type': contentType }, payload });
  return { status: res.statusCode, json: JSON.parse(res.body) as Record<string, unknown>, headers: res.headers };
}

async function goodJwk() {
  return (await ScriptedDevice.newKey()).jwk;
}

describe('activation', () => {
  it('activates once: the device, its TOTP seed, the audit entry (never the code)', async () => {
    const code = await activationFor('alice');
    const d = await activateDevice(code, 'Pixel 8');
    expect(d.deviceId).toMatch(/^DP[A-Z0-9]{18}$/);
    expect(d.username).toBe('alice');
    expect(d.activation.json).toEqual({
      deviceId: d.deviceId,
      username: 'alice',
      totp: { secret: expect.stringMatching(/^[A-Z2-7]{32}$/), digits: 6, period: 30, algorithm: 'SHA1' },
      vapidPublicKey: null,
    });
    expect(d.activation.headers['cache-control']).toBe('no-store');
    expect(await listDevices(h.deps, 'alice')).toEqual([expect.objectContaining({ deviceId: d.deviceId, name: 'Pixel 8', webPush: false })]);
    expect(await listTokens(h.deps, 'alice')).toHaveLength(1);

    const audit = await h.deps.store.queryAudit({ username: 'alice' });
    const activated = audit.find((e) => e.event === 'device' && e.reason === 'activated');
    expect(activated).toBeDefined();
    expect(JSON.parse(activated!.detail)).toMatchObject({ deviceId: d.deviceId, name: 'Pixel 8' });
    for (const e of audit) expect(JSON.stringify(e)).not.toContain(code);
    expect(h.logLines.join('')).not.toContain(code);

    // Used once: a second use is refused like an unknown code.
    const again = await postActivate(JSON.stringify({ code, publicKey: await goodJwk(), name: 'again' }));
    expect([again.status, again.json]).toEqual([400, { error: 'invalid_activation' }]);
    expect(await listDevices(h.deps, 'alice')).toHaveLength(1);
  });

  it('unknown, malformed and expired codes get the same 400 invalid_activation', async () => {
    const jwk = await goodJwk();
    const unknown = await postActivate(JSON.stringify({ code: randomBytes(32).toString('base64url'), publicKey: jwk }));
    expect([unknown.status, unknown.json]).toEqual([400, { error: 'invalid_activation' }]);
    const short = await postActivate(JSON.stringify({ code: 'abc', publicKey: jwk }));
    expect([short.status, short.json]).toEqual([400, { error: 'invalid_activation' }]);

    const code = await activationFor('bob', 60);
    h.clock.offsetMs = 61_000;
    const expired = await postActivate(JSON.stringify({ code, publicKey: jwk }));
    expect([expired.status, expired.json]).toEqual([400, { error: 'invalid_activation' }]);
    expect(await listDevices(h.deps, 'bob')).toEqual([]);
  });

  it('an activation for a disabled user is refused', async () => {
    const code = await activationFor('carol');
    await setUserEnabled(h.deps, 'carol', false);
    const r = await postActivate(JSON.stringify({ code, publicKey: await goodJwk() }));
    expect([r.status, r.json]).toEqual([400, { error: 'invalid_activation' }]);
  });

  it('20 concurrent activations of one code make exactly one device', async () => {
    const code = await activationFor('dave');
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => activateDevice(code, `phone ${i}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toContain('invalid_activation');
    expect(await listDevices(h.deps, 'dave')).toHaveLength(1);
    expect(await listTokens(h.deps, 'dave')).toHaveLength(1);
  });

  it('the default name, and names trimmed', async () => {
    const d = await activateDevice(await activationFor('erin'), undefined);
    expect((await d.signedFetch('GET', '/app/api/device')).json.name).toBe('Scripted Authenticator');
    const r = await postActivate(JSON.stringify({ code: await activationFor('erin'), publicKey: await goodJwk() }));
    expect(r.status).toBe(200);
    const names = (await listDevices(h.deps, 'erin')).map((x) => x.name).sort();
    expect(names).toEqual(['Scripted Authenticator', 'Tandem Authenticator']);
  });
});

describe('hostile activation bodies: 400 bad_request and nothing stored', () => {
  it.each<[string, (code: string, jwk: Record<string, string>) => string | Buffer, string?]>([
    ['not JSON', () => '{"code":'],
    ['empty body', () => ''],
    ['invalid UTF-8', (code) => Buffer.concat([Buffer.from(`{"code":"${code}","name":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])],
    ['huge (over 16 KiB)', (code, jwk) => JSON.stringify({ code, publicKey: jwk, name: 'x'.repeat(17_000) })],
    ['deeply nested', (code) => `{"code":"${code}","publicKey":${'['.repeat(5000)}${']'.repeat(5000)}}`],
    ['an array', (code, jwk) => JSON.stringify([code, jwk])],
    ['null', () => 'null'],
    ['code a number', (_c, jwk) => JSON.stringify({ code: 12345, publicKey: jwk })],
    ['publicKey a string', (code, jwk) => JSON.stringify({ code, publicKey: JSON.stringify(jwk) })],
    ['name a number', (code, jwk) => JSON.stringify({ code, publicKey: jwk, name: 5 })],
    ['name too long', (code, jwk) => JSON.stringify({ code, publicKey: jwk, name: 'n'.repeat(65) })],
    ['name with control characters', (code, jwk) => JSON.stringify({ code, publicKey: jwk, name: 'phone\u001b[2J' })],
    ['name with a bidi override', (code, jwk) => JSON.stringify({ code, publicKey: jwk, name: 'enohp\u202e' })],
    ['an extra top-level key', (code, jwk) => JSON.stringify({ code, publicKey: jwk, admin: true })],
    ['a __proto__ key', (code, jwk) => `{"code":"${code}","publicKey":${JSON.stringify(jwk)},"__proto__":{"admin":true}}`],
    ['a __proto__ key in the JWK', (code, jwk) => `{"code":"${code}","publicKey":{"__proto__":{"kty":"EC"},"crv":"P-256","x":"${jwk.x}","y":"${jwk.y}"}}`],
    ['a constructor key', (code, jwk) => JSON.stringify({ code, publicKey: jwk, constructor: { prototype: {} } })],
    ['JWK on another curve', (code, jwk) => JSON.stringify({ code, publicKey: { ...jwk, crv: 'P-384' } })],
    ['JWK of another type', (code, jwk) => JSON.stringify({ code, publicKey: { ...jwk, kty: 'RSA' } })],
    ['JWK point not on the curve', (code, jwk) => JSON.stringify({ code, publicKey: { ...jwk, y: jwk.x } })],
    ['JWK coordinates too short', (code, jwk) => JSON.stringify({ code, publicKey: { ...jwk, x: jwk.x!.slice(0, 42) } })],
    ['JWK coordinates not canonical base64url', (code, jwk) => JSON.stringify({ code, publicKey: { ...jwk, x: jwk.x!.slice(0, 42) + (jwk.x!.endsWith('A') ? 'B' : 'A') } })],
    ['JWK coordinates as numbers', (code) => JSON.stringify({ code, publicKey: { kty: 'EC', crv: 'P-256', x: 1, y: 2 } })],
    ['JWK with a private d', (code, jwk) => JSON.stringify({ code, publicKey: { ...jwk, d: randomBytes(32).toString('base64url') } })],
    ['JWK with ext and key_ops', (code, jwk) => JSON.stringify({ code, publicKey: { ...jwk, ext: true, key_ops: ['verify'] } })],
    ['JWK missing y', (code, jwk) => JSON.stringify({ code, publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } })],
    ['wrong content type', (code, jwk) => JSON.stringify({ code, publicKey: jwk }), 'text/plain'],
    ['form content type', (code) => `code=${code}`, 'application/x-www-form-urlencoded'],
  ])('%s', async (_name, body, contentType) => {
    const code = await activationFor('mallory');
    const r = await postActivate(body(code, await goodJwk()), contentType);
    expect([r.status, r.json]).toEqual([400, { error: 'bad_request' }]);
    expect(r.headers['cache-control']).toBe('no-store');
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    expect(await listDevices(h.deps, 'mallory')).toEqual([]);
    expect((await h.deps.store.getActivation(activationHash(code)))?.usedAt).toBeNull();
    // The code is still good afterwards.
    expect((await activateDevice(code)).username).toBe('mallory');
  });

  it('a body over the limit with Content-Length is refused before it is read', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/app/api/activate', headers: { 'content-type': 'application/json' }, payload: Buffer.alloc(64 * 1024, 0x20) });
    expect([res.statusCode, JSON.parse(res.body)]).toEqual([400, { error: 'bad_request' }]);
  });
});

describe('device-signed requests', () => {
  let d: ScriptedDevice;
  beforeEach(async () => {
    d = await activateDevice(await activationFor('alice'), 'phone');
  });

  const unauthorized = (r: { status: number; json: unknown }) => expect([r.status, r.json]).toEqual([401, { error: 'unauthorized' }]);

  it('GET /app/api/device answers the device, no-store', async () => {
    const r = await d.signedFetch('GET', '/app/api/device');
    expect([r.status, r.json]).toEqual([200, { deviceId: d.deviceId, username: 'alice', name: 'phone' }]);
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('refuses a wrong key, stale or future time, tampered method, path or body, unknown device, missing headers', async () => {
    const other = await activateDevice(await activationFor('bob'));
    unauthorized(await other.signedFetch('GET', '/app/api/device', undefined, { deviceId: d.deviceId }));
    unauthorized(await d.signedFetch('GET', '/app/api/device', undefined, { time: Date.now() - 121_000 }));
    unauthorized(await d.signedFetch('GET', '/app/api/device', undefined, { time: Date.now() + 121_000 }));
    expect((await d.signedFetch('GET', '/app/api/device', undefined, { time: Date.now() - 100_000 })).status).toBe(200);
    unauthorized(await d.signedFetch('GET', '/app/api/device', undefined, { signPath: '/app/api/device?x=1' }));
    unauthorized(await d.signedFetch('GET', '/app/api/device?x=1', undefined, { signPath: '/app/api/device' }));
    unauthorized(await d.signedFetch('POST', '/app/api/subscription', null, { signBody: Buffer.from('{}') }));
    unauthorized(await d.signedFetch('GET', '/app/api/device', undefined, { signMethod: 'POST' }));
    unauthorized(await d.signedFetch('GET', '/app/api/device', undefined, { deviceId: 'DPAAAAAAAAAAAAAAAAAA' }));
    unauthorized(await d.signedFetch('GET', '/app/api/device', undefined, { deviceId: 'nonsense' }));
    for (const drop of ['tandem-device', 'tandem-time', 'tandem-signature']) {
      const ok = await d.signedFetch('GET', '/app/api/device');
      expect(ok.status).toBe(200);
      const headers: Record<string, string> = {};
      // Rebuild a valid request, then drop one header.
      const time = String(Date.now());
      const sig = await d.sign(new Uint8Array([0]));
      Object.assign(headers, { 'tandem-device': d.deviceId, 'tandem-time': time, 'tandem-signature': sig });
      delete headers[drop];
      const res = await h.app.inject({ method: 'GET', url: '/app/api/device', headers });
      unauthorized({ status: res.statusCode, json: JSON.parse(res.body) });
    }
    const times = ['1e12', '-1', ' 1', '0x10', '99999999999999999999'];
    for (const t of times) {
      const res = await h.app.inject({ method: 'GET', url: '/app/api/device', headers: { 'tandem-device': d.deviceId, 'tandem-time': t, 'tandem-signature': await d.sign(new Uint8Array([0])) } });
      expect(res.statusCode).toBe(401);
    }
    // The server log says why, without the signature.
    expect(h.logLines.some((l) => l.includes('device request refused') && l.includes('bad signature'))).toBe(true);
    expect(h.logLines.some((l) => l.includes('time outside the accepted skew'))).toBe(true);
  });

  it('a disabled user\'s device is refused; enabled again, accepted; a removed device is refused', async () => {
    await setUserEnabled(h.deps, 'alice', false);
    unauthorized(await d.signedFetch('GET', '/app/api/device'));
    await setUserEnabled(h.deps, 'alice', true);
    expect((await d.signedFetch('GET', '/app/api/device')).status).toBe(200);
    await h.deps.store.removeDevice(d.deviceId);
    unauthorized(await d.signedFetch('GET', '/app/api/device'));
  });

  it('touches lastSeenAt at most once a minute', async () => {
    const seen = async () => (await h.deps.store.getDevice(d.deviceId))!.lastSeenAt;
    const first = await seen();
    await d.signedFetch('GET', '/app/api/device');
    expect(await seen()).toBe(first);
    h.clock.offsetMs = 61_000;
    await d.signedFetch('GET', '/app/api/device', undefined, { time: Date.now() + 61_000 });
    expect(await seen()).toBeGreaterThan(first!);
  });

  it('POST /app/api/subscription stores a valid subscription, clears with null, refuses hostile ones', async () => {
    const p256dh = createECDH('prime256v1');
    p256dh.generateKeys();
    const sub = { endpoint: 'https://fcm.googleapis.com/fcm/send/abc123', expirationTime: null, keys: { p256dh: p256dh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
    const bad: unknown[] = [
      { ...sub, endpoint: 'https://169.254.169.254/latest' },
      { ...sub, endpoint: 'http://fcm.googleapis.com/x' },
      { ...sub, keys: { ...sub.keys, auth: 'short' } },
      { ...sub, keys: { ...sub.keys, p256dh: randomBytes(65).toString('base64url') } },
      { ...sub, extra: 1 },
      'a string',
      [sub],
      {},
    ];
    for (const b of bad) {
      const r = await d.signedFetch('POST', '/app/api/subscription', b);
      expect([r.status, r.json]).toEqual([400, { error: 'bad_request' }]);
    }
    expect((await d.signedFetch('POST', '/app/api/subscription', sub, { contentType: 'text/plain' })).status).toBe(400);
    expect((await h.deps.store.getDevice(d.deviceId))!.pushSubscription).toBeNull();

    const ok = await d.signedFetch('POST', '/app/api/subscription', sub);
    expect(ok.status).toBe(204);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(JSON.parse((await h.deps.store.getDevice(d.deviceId))!.pushSubscription!)).toEqual({ endpoint: sub.endpoint, keys: sub.keys });
    expect((await listDevices(h.deps, 'alice'))[0]!.webPush).toBe(true);
    expect((await d.signedFetch('POST', '/app/api/subscription', null)).status).toBe(204);
    expect((await h.deps.store.getDevice(d.deviceId))!.pushSubscription).toBeNull();
    const reasons = (await h.deps.store.queryAudit({ username: 'alice', event: 'device' })).map((e) => e.reason);
    expect(reasons).toEqual(['subscription_cleared', 'subscription_set', 'activated']);
  });

  it('GET /app/api/config answers unsigned', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/app/api/config' });
    expect([res.statusCode, JSON.parse(res.body)]).toEqual([200, { vapidPublicKey: null }]);
  });

  it('the app\'s TOTP code is accepted once as a passcode by /auth/v2/auth', async () => {
    const code = d.totp(h.clock.now());
    const ok = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'passcode', passcode: code });
    expect(ok.body.response).toMatchObject({ result: 'allow' });
    const again = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'passcode', passcode: code });
    expect(again.body.response).toMatchObject({ result: 'deny' });
  });
});

describe('/auth/v2/enroll and /auth/v2/enroll_status', () => {
  it('enrolls a new user, reports waiting then success, and the activation works', async () => {
    const r = await call(h, creds, 'POST', '/auth/v2/enroll', { username: 'frank', valid_secs: '600' });
    expect(r.status).toBe(200);
    const e = r.body.response as Record<string, string | number>;
    const code = e['activation_code'] as string;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(e).toEqual({
      activation_barcode: `https://${'api.tandem.test'}:8443/app/qr?code=${code}`,
      activation_code: code,
      activation_url: `https://api.tandem.test:8443/app/#activate=${code}`,
      expiration: expect.any(Number),
      user_id: expect.stringMatching(/^DU/),
      username: 'frank',
    });
    expect(Math.abs((e['expiration'] as number) - (Math.floor(h.clock.now() / 1000) + 600))).toBeLessThanOrEqual(1);
    const userId = e['user_id'] as string;

    const status = async (uid: string, c: string) => (await call(h, creds, 'POST', '/auth/v2/enroll_status', { user_id: uid, activation_code: c })).body;
    expect(await status(userId, code)).toEqual({ stat: 'OK', response: 'waiting' });
    const d = await activateDevice(code);
    expect(d.username).toBe('frank');
    expect(await status(userId, code)).toEqual({ stat: 'OK', response: 'success' });
    expect(await status('DUAAAAAAAAAAAAAAAAAA', code)).toEqual({ stat: 'OK', response: 'invalid' });
    expect(await status(userId, randomBytes(32).toString('base64url'))).toEqual({ stat: 'OK', response: 'invalid' });
    expect(await status(userId, 'garbage')).toEqual({ stat: 'OK', response: 'invalid' });

    // Expired and unused: invalid.
    const r2 = await call(h, creds, 'POST', '/auth/v2/enroll', { valid_secs: '1' });
    const e2 = r2.body.response as Record<string, string>;
    expect(e2['username']).toMatch(/^user-[a-z0-9]{12}$/);
    expect(await status(e2['user_id']!, e2['activation_code']!)).toEqual({ stat: 'OK', response: 'waiting' });
    h.clock.offsetMs = 2_000;
    expect(await status(e2['user_id']!, e2['activation_code']!)).toEqual({ stat: 'OK', response: 'invalid' });
  });

  it('an existing username, a bad valid_secs or a missing parameter is 40002', async () => {
    await createUser(h.deps, 'grace');
    const taken = await call(h, creds, 'POST', '/auth/v2/enroll', { username: 'grace' });
    expect([taken.status, taken.body.code, taken.body.message_detail]).toEqual([400, 40002, 'username already exists']);
    for (const v of ['0', '2592001', 'abc', '-5', '1.5']) {
      const r = await call(h, creds, 'POST', '/auth/v2/enroll', { username: `v${v.replace(/\W/g, '')}`, valid_secs: v });
      expect([r.status, r.body.code]).toEqual([400, 40002]);
    }
    expect((await call(h, creds, 'POST', '/auth/v2/enroll', { valid_secs: '2592000' })).status).toBe(200);
    const missing = await call(h, creds, 'POST', '/auth/v2/enroll_status', { user_id: 'DUX' });
    expect([missing.status, missing.body.code]).toEqual([400, 40002]);
  });

  it('is signed: no signature is 403, a wrong method 405', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/auth/v2/enroll', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=x' });
    expect([res.statusCode, JSON.parse(res.body).code]).toEqual([403, 40101]);
    const get = await h.app.inject({ method: 'GET', url: '/auth/v2/enroll_status' });
    expect([get.statusCode, JSON.parse(get.body).code]).toEqual([405, 40501]);
  });

  it('GET /app/qr is an SVG QR code of the activation link for a valid code only', async () => {
    const code = randomBytes(32).toString('base64url');
    const res = await h.app.inject({ method: 'GET', url: `/app/qr?code=${code}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(res.body).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    for (const q of ['', '?code=short', `?code=${code}x`, `?code=${code.slice(0, 42)}%3C`, `?code=${code}&code=${code}`, `?code=${code}&x=1`]) {
      const bad = await h.app.inject({ method: 'GET', url: `/app/qr${q}` });
      expect([bad.statusCode, JSON.parse(bad.body)]).toEqual([400, { error: 'bad_request' }]);
    }
  });
});

describe('unauthenticated endpoints are rate limited per source address', () => {
  it('answers 429 with Retry-After past rateLimitAddressPerMinute, and another address is unaffected', async () => {
    await h.close();
    h = await startHarness({ settings: { rateLimitAddressPerMinute: 3 } });
    const bad = JSON.stringify({ code: 'x'.repeat(43), publicKey: await goodJwk() });
    const from = (ip: string) => h.app.inject({ method: 'POST', url: '/app/api/activate', remoteAddress: ip, headers: { 'content-type': 'application/json' }, payload: bad });
    for (let i = 0; i < 3; i++) expect((await from('127.0.0.9')).statusCode).toBe(400);
    const limited = await from('127.0.0.9');
    expect(limited.statusCode).toBe(429);
    expect(JSON.parse(limited.body)).toEqual({ error: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const qr = await h.app.inject({ method: 'GET', url: `/app/qr?code=${'A'.repeat(43)}`, remoteAddress: '127.0.0.9' });
    expect(qr.statusCode).toBe(429);
    expect((await from('127.0.0.10')).statusCode).toBe(400);
  });
});
