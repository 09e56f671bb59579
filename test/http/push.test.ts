// Push as a factor through fastify.inject, with a scripted Tandem Authenticator (real WebCrypto
// keys, the shared approval encoding): preauth's devices and menu, async and sync pushes, the
// app's request list, approve / deny / fraud / timeout, number matching, withheld push for
// clients that cannot show the code, the pending limit, the pause after denials, the live
// channel, and duo_unix 1.11.3's /rest/v1 menu choice.
import { deserialize } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { addToken } from '../../src/core/tokens.js';
import { createIntegration } from '../../src/core/integrations.js';
import { signed, call } from '../support/harness.js';
import { LOGIN, asyncPush, auditEntries, authStatus, deviceFor, finalStatus, firstListed, listed, startPushHarness, type PushHarness } from '../support/push-harness.js';

let p: PushHarness;
afterEach(async () => p.h.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('preauth', () => {
  it('lists the device as a push-capable phone, offers it in the menu, and hides its TOTP token', async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'alice', 'Pixel 8');
    await addToken(p.h.deps, 'alice', { type: 'hotp' });
    const r = await call(p.h, p.creds, 'POST', '/auth/v2/preauth', { username: 'alice', text_prompt: '1' });
    const resp = r.body.response!;
    expect(resp['result']).toBe('auth');
    const devices = resp['devices'] as Array<Record<string, unknown>>;
    expect(devices[0]).toEqual({ device: device.deviceId, type: 'phone', name: 'Pixel 8', display_name: 'Pixel 8', capabilities: ['auto', 'push'] });
    expect(devices.slice(1).map((d) => d['type'])).toEqual(['token']);
    const prompt = resp['prompt'] as { text: string; factors: Record<string, string> };
    expect(prompt.text).toContain(' 1. Tandem Push to Pixel 8');
    expect(prompt.factors).toEqual({ '1': 'push1', default: 'push1' });
    expect(resp['txid']).toBeUndefined();
  });

  it('a passcode-only user keeps the passcode prompt, and push is still "not available"', async () => {
    p = await startPushHarness();
    await (await import('../../src/core/users.js')).createUser(p.h.deps, 'carl');
    await addToken(p.h.deps, 'carl', { type: 'totp' });
    const pre = await call(p.h, p.creds, 'POST', '/auth/v2/preauth', { username: 'carl', text_prompt: '1' });
    expect((pre.body.response!['prompt'] as { factors: object }).factors).toEqual({});
    const r = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'carl', factor: 'push', device: 'auto' });
    expect(r.body.response).toEqual({ result: 'deny', status: 'deny', status_msg: 'Push login is not available for this account. Enter a passcode instead.' });
  });
});

describe('async and sync pushes', () => {
  it('async: the app lists the login with its context (raw pushinfo), approves, and auth_status allows', async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'alice');
    const r = await asyncPush(p, 'alice', { type: 'Sudo', display_username: 'Alice A.' });
    const txid = r.body.response!['txid'] as string;
    expect(r.body.response).toEqual({ txid });
    expect(await authStatus(p, txid)).toEqual({ result: 'waiting', status: 'pushed', status_msg: 'Pushed a login request to your device...' });

    const entry = await listed(device, txid);
    expect(entry).toMatchObject({
      txid,
      username: 'alice',
      displayUsername: 'Alice A.',
      integration: p.creds.ikey,
      integrationName: 'bastion hosts',
      hostname: LOGIN.hostname,
      ipaddr: LOGIN.ipaddr,
      pushinfo: LOGIN.pushinfo,
      type: 'Sudo',
      numberRequired: false,
    });
    expect(entry['nonce']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(entry['expiresAt']).toBeGreaterThan(p.h.clock.now());

    const d = await device.decide(entry, 'approve');
    expect([d.status, d.json]).toEqual([200, { result: 'allow' }]);
    expect(d.headers['cache-control']).toBe('no-store');
    expect(await authStatus(p, txid)).toEqual({ result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' });
    expect((await device.requests()).requests).toEqual([]);
    const push = (await auditEntries(p.h, 'push')).find((e) => e.txid === txid)!;
    expect([push.result, push.reason, push.detailJson['deviceId']]).toEqual(['allow', 'approved', device.deviceId]);
    const auth = (await auditEntries(p.h, 'auth')).find((e) => e.txid === txid)!;
    expect([auth.result, auth.reason, auth.factor]).toEqual(['waiting', 'pushed', 'push']);
  });

  it("sync: duo_unix's factor=prompt&prompt=push1 blocks until the app approves", async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'bob');
    const login = call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'bob', factor: 'prompt', prompt: 'push1', async: '0', ...LOGIN });
    const entry = await firstListed(device);
    expect((await device.decide(entry, 'approve')).json).toEqual({ result: 'allow' });
    expect((await login).body.response).toEqual({ result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' });
  });

  it('factor=auto and a device id both push; an unknown device id is refused as a deny', async () => {
    p = await startPushHarness({ pushMaxPending: 5 });
    const device = await deviceFor(p.h, 'dora');
    const a = await asyncPush(p, 'dora', { factor: 'auto' });
    await listed(device, a.body.response!['txid'] as string);
    const b = await asyncPush(p, 'dora', { device: device.deviceId });
    await listed(device, b.body.response!['txid'] as string);
    const c = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'dora', factor: 'push', device: 'DPNOSUCHDEVICE000000' });
    expect(c.body.response!['result']).toBe('deny');
    const second = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'dora', factor: 'prompt', prompt: 'push2' });
    expect(second.body.response!['result']).toBe('deny');
    expect((await auditEntries(p.h, 'auth')).filter((e) => e.reason === 'no_capable_device')).toHaveLength(2);
  });

  it('deny → deny with "Login request denied."', async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'erin');
    const txid = (await asyncPush(p, 'erin')).body.response!['txid'] as string;
    expect((await device.decide(await listed(device, txid), 'deny')).json).toEqual({ result: 'deny' });
    expect(await authStatus(p, txid)).toEqual({ result: 'deny', status: 'deny', status_msg: 'Login request denied.' });
    expect((await auditEntries(p.h, 'push')).find((e) => e.txid === txid)!.reason).toBe('denied');
  });

  it('fraud → fraud, the user is locked, and the audit log records it', async () => {
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'fred');
    const txid = (await asyncPush(p, 'fred')).body.response!['txid'] as string;
    expect((await device.decide(await listed(device, txid), 'fraud')).json).toEqual({ result: 'fraud' });
    expect(await authStatus(p, txid)).toMatchObject({ result: 'deny', status: 'fraud' });
    const user = (await p.h.deps.store.findUserByName('fred'))!;
    expect(user.lockedUntil).toBeGreaterThan(p.h.clock.now() + 365 * 86400_000);
    const pre = await call(p.h, p.creds, 'POST', '/auth/v2/preauth', { username: 'fred' });
    expect(pre.body.response!['result']).toBe('deny');
    const entry = (await auditEntries(p.h, 'push')).find((e) => e.txid === txid)!;
    expect([entry.result, entry.reason, entry.detailJson['userLocked']]).toEqual(['fraud', 'fraud_reported', true]);
  });

  it('fraud does not lock when the integration says fraudLocks: false', async () => {
    p = await startPushHarness({}, { fraudLocks: false });
    const device = await deviceFor(p.h, 'fay');
    const txid = (await asyncPush(p, 'fay')).body.response!['txid'] as string;
    expect((await device.decide(await listed(device, txid), 'fraud')).json).toEqual({ result: 'fraud' });
    expect((await p.h.deps.store.findUserByName('fay'))!.lockedUntil).toBeNull();
  });

  it('no answer → timeout, for sync and for async, audited and counted as a denial', async () => {
    p = await startPushHarness({ pushTimeoutSeconds: 1, pushDenialThreshold: 2, pushCooldownSeconds: 600 });
    const device = await deviceFor(p.h, 'gus');
    const sync = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'gus', factor: 'push', device: 'auto', async: '0' });
    expect(sync.body.response).toEqual({ result: 'deny', status: 'timeout', status_msg: 'Login timed out.' });
    const txid = (await asyncPush(p, 'gus')).body.response!['txid'] as string;
    await listed(device, txid);
    expect(await finalStatus(p, txid)).toEqual({ result: 'deny', status: 'timeout', status_msg: 'Login timed out.' });
    const timeouts = (await auditEntries(p.h, 'push')).filter((e) => e.result === 'timeout');
    expect(timeouts).toHaveLength(2);
    // Two timeouts reached the threshold: push is paused.
    const user = (await p.h.deps.store.findUserByName('gus'))!;
    expect(await p.h.deps.store.getPushPause(user.id)).toBeGreaterThan(p.h.clock.now());
    expect((await device.requests()).requests).toEqual([]);
  });
});

describe('number matching', () => {
  it('the login gets the code, the app never does; the right number approves, a wrong one denies', async () => {
    p = await startPushHarness({ pushMaxPending: 3 }, { verifiedPush: 'required' });
    const device = await deviceFor(p.h, 'hana');
    const pre = await call(p.h, p.creds, 'POST', '/auth/v2/preauth', { username: 'hana', text_prompt: '1', client_supports_verified_push: '1' });
    expect((pre.body.response!['devices'] as Array<{ capabilities: string[] }>)[0]!.capabilities).toEqual(['auto', 'push']);
    const preTxid = pre.body.response!['txid'] as string;
    expect(preTxid).toMatch(/^[0-9a-f-]{36}$/);

    // duo_unix's way: the preauth txid passed back with factor=prompt.
    const r = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'hana', factor: 'prompt', prompt: 'push1', async: '1', txid: preTxid, ...LOGIN });
    const { txid, verification_code: code } = r.body.response as { txid: string; verification_code: string };
    expect(code).toMatch(/^[0-9]{3}$/);
    expect(await authStatus(p, txid)).toEqual({ result: 'waiting', status: 'pushed', status_msg: `Verification code ${code}: enter it in the Tandem Authenticator.`, verification_code: code });

    const list = await device.requests();
    const entry = list.requests.find((x: { txid: string }) => x.txid === txid);
    expect(entry.numberRequired).toBe(true);
    // The number is nowhere in what the app receives: no field holds it, no value is it.
    const values = JSON.stringify(list, (_k, v: unknown) => v);
    expect(values).not.toContain(`"${code}"`);
    expect(Object.keys(entry).sort()).toEqual(['createdAt', 'displayUsername', 'expiresAt', 'hostname', 'integration', 'integrationName', 'ipaddr', 'nonce', 'numberRequired', 'passkeyRequired', 'pushinfo', 'txid', 'type', 'username']);

    const wrong = code === '000' ? '001' : '000';
    const refused = await device.decide(entry, 'approve', wrong);
    expect([refused.status, refused.json]).toEqual([409, { error: 'refused' }]);
    expect(await authStatus(p, txid)).toMatchObject({ result: 'deny', status: 'deny' });
    expect((await auditEntries(p.h, 'push')).find((e) => e.txid === txid)!.reason).toBe('wrong_number');

    // client_supports_verified_push=1 on auth declares it too.
    const again = await asyncPush(p, 'hana', { client_supports_verified_push: '1' });
    const second = again.body.response as { txid: string; verification_code: string };
    const ok = await device.decide(await listed(device, second.txid), 'approve', second.verification_code);
    expect(ok.json).toEqual({ result: 'allow' });
    expect(await authStatus(p, second.txid)).toMatchObject({ result: 'allow' });
  });

  it('a client that did not declare it is not offered push, and its push is denied and audited', async () => {
    p = await startPushHarness({ pushVerifiedDefault: 'required' });
    const device = await deviceFor(p.h, 'ivan');
    const pre = await call(p.h, p.creds, 'POST', '/auth/v2/preauth', { username: 'ivan', text_prompt: '1' });
    expect((pre.body.response!['devices'] as Array<{ capabilities: string[] }>)[0]!.capabilities).toEqual([]);
    expect((pre.body.response!['prompt'] as { factors: object }).factors).toEqual({});
    const preAudit = (await auditEntries(p.h, 'preauth'))[0]!;
    expect(preAudit.detailJson['pushWithheld']).toBe('verified_push_unsupported_client');

    const tries: Array<Record<string, string>> = [{ factor: 'push', device: 'auto' }, { factor: 'prompt', prompt: 'push1' }, { factor: 'auto', device: 'auto' }];
    for (const params of tries) {
      const r = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'ivan', ...params });
      expect(r.body.response).toEqual({ result: 'deny', status: 'deny', status_msg: 'Push login needs a client that shows a verification code. Enter a passcode instead.' });
    }
    const reasons = (await auditEntries(p.h, 'auth')).map((e) => e.reason);
    expect(reasons).toEqual(['verified_push_unsupported_client', 'verified_push_unsupported_client', 'verified_push_unsupported_client']);
    expect((await device.requests()).requests).toEqual([]);
  });
});

describe('anti-fatigue', () => {
  it('at most pushMaxPending pending pushes per user; the next is refused as push_limit', async () => {
    p = await startPushHarness({ pushMaxPending: 1 });
    const device = await deviceFor(p.h, 'jack');
    const first = (await asyncPush(p, 'jack')).body.response!['txid'] as string;
    const second = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'jack', factor: 'push', device: 'auto' });
    expect(second.body.response).toMatchObject({ result: 'deny', status_msg: expect.stringMatching(/already waiting/) });
    expect((await auditEntries(p.h, 'auth')).map((e) => e.reason)).toContain('push_limit');
    expect((await device.requests()).requests.map((x: { txid: string }) => x.txid)).toEqual([first]);
    // Once it is answered, a new push goes through.
    await device.decide(await listed(device, first), 'deny');
    expect((await asyncPush(p, 'jack')).body.response!['txid']).toBeDefined();
  });

  it('pushDenialThreshold denials pause push for pushCooldownSeconds; an approval clears the count', async () => {
    p = await startPushHarness({ pushDenialThreshold: 2, pushCooldownSeconds: 1 });
    const device = await deviceFor(p.h, 'kate');
    const deny = async () => {
      const txid = (await asyncPush(p, 'kate')).body.response!['txid'] as string;
      return (await device.decide(await listed(device, txid), 'deny')).json;
    };
    const approve = async () => {
      const txid = (await asyncPush(p, 'kate')).body.response!['txid'] as string;
      return (await device.decide(await listed(device, txid), 'approve')).json;
    };
    await deny();
    expect(await approve()).toEqual({ result: 'allow' });
    await deny(); // the count restarted after the approval: 1 of 2
    expect(await approve()).toEqual({ result: 'allow' });
    await deny();
    await deny(); // 2 of 2: paused
    const paused = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username: 'kate', factor: 'push', device: 'auto' });
    expect(paused.body.response).toMatchObject({ result: 'deny', status_msg: expect.stringMatching(/paused/) });
    expect((await auditEntries(p.h, 'auth')).map((e) => e.reason)).toContain('push_paused');
    const pushAudit = (await auditEntries(p.h, 'push')).find((e) => e.detailJson['pushPausedUntil'] !== undefined);
    expect(pushAudit?.reason).toBe('denied');
    await sleep(1100);
    expect(await approve()).toEqual({ result: 'allow' });
  });
});

describe('the live channel', () => {
  it('a held GET /app/api/requests wakes when a push arrives and when it is settled', async () => {
    p = await startPushHarness({ appLongPollSeconds: 10 });
    const device = await deviceFor(p.h, 'liam');
    const empty = await device.requests();
    expect(empty.requests).toEqual([]);
    const started = Date.now();
    const held = device.requests(8, empty.fingerprint);
    await sleep(200);
    const txid = (await asyncPush(p, 'liam')).body.response!['txid'] as string;
    const woke = await held;
    expect(woke.requests.map((x: { txid: string }) => x.txid)).toEqual([txid]);
    expect(Date.now() - started).toBeLessThan(4000);

    const held2 = device.requests(8, woke.fingerprint);
    await sleep(200);
    await device.decide(woke.requests[0], 'approve');
    const after = await held2;
    expect(after.requests).toEqual([]);
    expect(after.fingerprint).toBe(empty.fingerprint);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('an unchanged list is held for `wait` seconds; bad queries are 400', async () => {
    p = await startPushHarness({ appLongPollSeconds: 1 });
    const device = await deviceFor(p.h, 'mia');
    const l = await device.requests();
    const t0 = Date.now();
    // Asking for longer than appLongPollSeconds is held only that long.
    expect((await device.requests(30, l.fingerprint)).fingerprint).toBe(l.fingerprint);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    for (const q of ['?wait=-1', '?wait=abc', '?known=%00', '?wait=1&wait=2', '?other=1']) {
      const r = await device.signedFetch('GET', `/app/api/requests${q}`);
      expect([q, r.status]).toEqual([q, 400]);
    }
    const unsigned = await p.h.app.inject({ method: 'GET', url: '/app/api/requests' });
    expect([unsigned.statusCode, JSON.parse(unsigned.body)]).toEqual([401, { error: 'unauthorized' }]);
  });
});

describe('/rest/v1 (duo_unix 1.11.3)', () => {
  it('menu choice "1" maps to push1 through factors; auth.bson pushes; status.bson reports the approval', async () => {
    p = await startPushHarness();
    const r = await createIntegration(p.h.deps, { name: 'legacy', legacyV1: true });
    const legacy = { ikey: r.integration.ikey, skey: r.skey };
    const device = await deviceFor(p.h, 'nina', 'Nina phone');
    const v1 = async (method: 'GET' | 'POST', path: string, params: Record<string, string>) => {
      const res = await p.h.app.inject(signed(legacy, method, path, params, { version: 1, digest: 'sha1', now: p.h.clock.now() }));
      return deserialize(res.rawPayload) as { stat: string; response: Record<string, unknown> };
    };
    const pre = await v1('POST', '/rest/v1/preauth.bson', { user: 'nina', failmode: 'open', hostname: 'vm' });
    expect(pre.response['prompt']).toContain(' 1. Tandem Push to Nina phone');
    const factors = pre.response['factors'] as Record<string, string>;
    expect(factors).toEqual({ '1': 'push1', default: 'push1' });

    const auth = await v1('POST', '/rest/v1/auth.bson', { async: '1', auto: factors['1']!, factor: 'auto', hostname: 'vm', ipaddr: '203.0.113.7', pushinfo: 'Server+IP=192.0.2.2&Command=echo%20HELLO', user: 'nina' });
    const txid = auth.response['txid'] as string;
    expect(auth.response).toEqual({ txid });
    expect((await v1('GET', '/rest/v1/status.bson', { txid })).response).toEqual({ status: 'Pushed a login request to your device...' });
    const entry = await listed(device, txid);
    expect(entry.pushinfo).toBe('Server+IP=192.0.2.2&Command=echo%20HELLO');
    await device.decide(entry, 'approve');
    expect((await v1('GET', '/rest/v1/status.bson', { txid })).response).toEqual({ result: 'allow', status: 'Success. Logging you in...' });

    // Headless (sync, the default factor): blocks until answered.
    const sync = v1('POST', '/rest/v1/auth.bson', { async: '0', auto: factors['default']!, factor: 'auto', hostname: 'vm', pushinfo: 'Server+IP=192.0.2.2&Command=', user: 'nina' });
    await device.decide(await firstListed(device), 'deny');
    expect((await sync).response).toEqual({ result: 'deny', status: 'Login request denied.' });
  });
});

describe('the authentication log (tandem log)', () => {
  it('shows the app’s answer to a push, not only the request', async () => {
    const { queryLog } = await import('../../src/core/audit.js');
    p = await startPushHarness();
    const device = await deviceFor(p.h, 'lena');
    const txid = (await asyncPush(p, 'lena')).body.response!['txid'] as string;
    await device.decide(await listed(device, txid), 'deny');
    const log = await queryLog(p.h.deps, { username: 'lena' });
    expect(log.map((e) => `${e.event}:${e.result}`)).toEqual(expect.arrayContaining(['auth:waiting', 'push:deny']));
    expect(log.some((e) => e.event === 'device')).toBe(false);
  });
});
