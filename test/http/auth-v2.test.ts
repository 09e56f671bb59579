// The Auth API v2 surface through fastify.inject: signatures, preauth, auth, auth_status,
// lockout, replay, rate limits and the audit trail.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/core/audit.js';
import { createBypassCodes } from '../../src/core/bypass.js';
import { createIntegration, rotateSkey } from '../../src/core/integrations.js';
import { addToken } from '../../src/core/tokens.js';
import { createUser, setUserBypass, setUserEnabled, unlockUser } from '../../src/core/users.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import { call, rfc2822, signed, startHarness, type Creds, type Harness } from '../support/harness.js';

let h: Harness;
let creds: Creds;

async function integration(policy: 'enroll' | 'allow' | 'deny' = 'enroll'): Promise<Creds> {
  const r = await createIntegration(h.deps, { name: `hosts-${policy}`, newUserPolicy: policy });
  return { ikey: r.integration.ikey, skey: r.skey };
}

async function enrolledUser(name: string): Promise<{ secret: Buffer }> {
  await createUser(h.deps, name);
  const t = await addToken(h.deps, name, { type: 'totp' });
  return { secret: base32Decode(t.secret) };
}

const totp = (h: Harness, secret: Buffer, stepOffset = 0): string =>
  hotp(secret, totpStep(h.clock.now(), 30) + stepOffset, { digits: 6, algorithm: 'sha1' });

beforeEach(async () => {
  h = await startHarness({ settings: { lockoutThreshold: 3, lockoutSeconds: 60 } });
  creds = await integration();
});
afterEach(async () => h.close());

describe('ping and check', () => {
  it('ping answers without a signature, even with a garbage Authorization header', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/auth/v2/ping', headers: { authorization: 'Basic !!!' } });
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body);
    expect(body.stat).toBe('OK');
    expect(Number.isInteger(body.response.time) && body.response.time > 0).toBe(true);
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
  });

  it.each([
    ['v2 HMAC-SHA1', { version: 2, digest: 'sha1' }],
    ['v2 HMAC-SHA512', { version: 2, digest: 'sha512' }],
    ['v2 with X-Duo-Date (duo_unix)', { version: 2, digest: 'sha512', xDuoDate: true }],
    ['v5', { version: 5, digest: 'sha512' }],
    ['v4', { version: 4, digest: 'sha512' }],
    ['host with port', { version: 2, digest: 'sha512', host: 'api.tandem.test:8443' }],
  ] as const)('check accepts %s', async (_n, o) => {
    const r = await call(h, creds, 'GET', '/auth/v2/check', {}, o);
    expect(r.status).toBe(200);
    expect(r.body.stat).toBe('OK');
  });

  it('refuses bad credentials with 403 and the Duo code (never 401: duo_unix would fail open)', async () => {
    const missing = await h.app.inject({ method: 'GET', url: '/auth/v2/check' });
    expect([missing.statusCode, JSON.parse(missing.body).code]).toEqual([403, 40101]);
    expect((await call(h, { ikey: 'DIXXXXXXXXXXXXXXXXXX', skey: creds.skey }, 'GET', '/auth/v2/check')).body.code).toBe(40102);
    const bad = await call(h, { ikey: creds.ikey, skey: 'x'.repeat(40) }, 'GET', '/auth/v2/check');
    expect([bad.status, bad.body.code, bad.body.stat]).toEqual([403, 40103, 'FAIL']);
    const wrongHost = await call(h, creds, 'GET', '/auth/v2/check', {}, { host: 'evil.example' });
    expect(wrongHost.body.code).toBe(40103);
    const old = await call(h, creds, 'GET', '/auth/v2/check', {}, { date: rfc2822(h.clock.now() - 301_000) });
    expect([old.status, old.body.code]).toEqual([403, 40105]);
    const garbledDate = await call(h, creds, 'GET', '/auth/v2/check', {}, { date: 'yesterday-ish' });
    expect(garbledDate.body.code).toBe(40105);
  });

  it('logo answers a JSON 404 envelope when none is configured', async () => {
    const r = await call(h, creds, 'GET', '/auth/v2/logo');
    expect([r.status, r.body.code]).toEqual([404, 40401]);
  });
});

describe('preauth', () => {
  it('follows the new-user policy for unknown users, with a fresh enroll link each time', async () => {
    const a = await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'nobody' });
    const b = await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'nobody', ipaddr: '192.0.2.1' });
    expect(a.body.response!['result']).toBe('enroll');
    expect(a.body.response!['enroll_portal_url']).toMatch(/^https:\/\/api\.tandem\.test:8443\/portal\/enroll\/[A-Za-z0-9_-]{43}$/);
    expect(b.body.response!['enroll_portal_url']).not.toBe(a.body.response!['enroll_portal_url']);
    expect(typeof a.body.response!['status_msg']).toBe('string');

    const allow = await call(h, await integration('allow'), 'POST', '/auth/v2/preauth', { username: 'nobody' });
    expect(allow.body.response).toMatchObject({ result: 'allow' });
    const deny = await call(h, await integration('deny'), 'POST', '/auth/v2/preauth', { username: 'nobody' });
    expect(deny.body.response).toMatchObject({ result: 'deny' });
  });

  it('offers an enrolled user the passcode prompt duo_unix prints, by username or alias', async () => {
    await createUser(h.deps, 'alice', ['al']);
    await addToken(h.deps, 'alice', { type: 'totp' });
    const r = await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'al', text_prompt: '1' });
    const resp = r.body.response!;
    expect(resp['result']).toBe('auth');
    expect(resp['status_msg']).toBe('Account is active');
    expect((resp['prompt'] as { text: string }).text).toContain('Tandem two-factor login for alice');
    expect((resp['devices'] as unknown[]).length).toBe(1);
  });

  it('denies a disabled user', async () => {
    await enrolledUser('bob');
    await setUserEnabled(h.deps, 'bob', false);
    const r = await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'bob' });
    expect(r.body.response).toMatchObject({ result: 'deny' });
  });

  it('requires exactly one of username and user_id', async () => {
    const r = await call(h, creds, 'POST', '/auth/v2/preauth', {});
    expect([r.status, r.body.code]).toEqual([400, 40002]);
  });
});

describe('auth with passcodes', () => {
  it('accepts a TOTP code once, then denies the same code', async () => {
    const { secret } = await enrolledUser('alice');
    const code = totp(h, secret);
    const ok = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'passcode', passcode: code, ipaddr: '192.0.2.7' });
    expect(ok.body.response).toEqual({ result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' });
    const again = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'passcode', passcode: code, ipaddr: '192.0.2.7' });
    expect(again.body.response).toMatchObject({ result: 'deny', status: 'deny' });
  });

  it("accepts duo_unix's factor=prompt with the typed passcode, and v5 JSON bodies", async () => {
    const { secret } = await enrolledUser('carol');
    const r = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'carol', factor: 'prompt', prompt: totp(h, secret, -1), async: '0' }, { xDuoDate: true });
    expect(r.body.response!['result']).toBe('allow');
    const r2 = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'carol', factor: 'passcode', passcode: totp(h, secret, 1) }, { version: 5 });
    expect(r2.body.response!['result']).toBe('allow');
  });

  it('accepts a bypass code as many times as it allows', async () => {
    await createUser(h.deps, 'dave');
    const { codes } = await createBypassCodes(h.deps, 'dave', { count: 1, uses: 1 });
    const first = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'dave', factor: 'passcode', passcode: codes[0]! });
    expect(first.body.response!['result']).toBe('allow');
    const second = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'dave', factor: 'passcode', passcode: codes[0]! });
    expect(second.body.response!['result']).toBe('deny');
  });

  it('gives the same answer for a wrong code, an unknown user, a disabled user and a locked user', async () => {
    const { secret } = await enrolledUser('erin');
    await enrolledUser('frank');
    await setUserEnabled(h.deps, 'frank', false);
    const answers = [];
    answers.push((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'erin', factor: 'passcode', passcode: '000000' })).body);
    answers.push((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'ghost', factor: 'passcode', passcode: '000000' })).body);
    answers.push((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'frank', factor: 'passcode', passcode: '000000' })).body);
    // Lock erin (threshold 3), then even her right code looks like a wrong one.
    for (let i = 0; i < 2; i++) await call(h, creds, 'POST', '/auth/v2/auth', { username: 'erin', factor: 'passcode', passcode: '111111' });
    answers.push((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'erin', factor: 'passcode', passcode: totp(h, secret) })).body);
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]).toEqual({ stat: 'OK', response: { result: 'deny', status: 'deny', status_msg: 'Incorrect passcode. Please try again.' } });

    // The audit log knows the real reasons.
    const reasons = (await h.deps.store.queryAudit({ event: 'auth', limit: 50 })).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['invalid_passcode', 'unknown_user', 'user_disabled', 'locked_out', 'invalid_passcode; user_locked_out']));
    const pre = await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'erin' });
    expect(pre.body.response).toMatchObject({ result: 'deny' });
  });

  it('unlocks automatically after the lockout time', async () => {
    const { secret } = await enrolledUser('gina');
    for (let i = 0; i < 3; i++) await call(h, creds, 'POST', '/auth/v2/auth', { username: 'gina', factor: 'passcode', passcode: '222222' });
    h.clock.offsetMs += 61_000;
    const r = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'gina', factor: 'passcode', passcode: totp(h, secret) });
    expect(r.body.response!['result']).toBe('allow');
  });

  it('answers push, phone and sms with a clear "not available" deny through the transaction engine', async () => {
    await enrolledUser('hank');
    const factors: Array<Record<string, string>> = [{ factor: 'push', device: 'auto' }, { factor: 'prompt', prompt: 'push1' }, { factor: 'phone', device: 'auto' }, { factor: 'sms', device: 'auto' }, { factor: 'auto', device: 'auto' }];
    for (const f of factors) {
      const r = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'hank', ...f });
      expect(r.body.response!['result']).toBe('deny');
      expect(r.body.response!['status_msg']).toMatch(/not available/);
    }
  });

  it('async: returns a txid and auth_status reports the decision', async () => {
    const { secret } = await enrolledUser('ivan');
    const r = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'ivan', factor: 'passcode', passcode: totp(h, secret), async: '1' });
    const txid = r.body.response!['txid'] as string;
    expect(txid).toMatch(/^[0-9a-f-]{36}$/);
    const s = await call(h, creds, 'GET', '/auth/v2/auth_status', { txid });
    expect(s.body.response).toEqual({ result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' });
    const other = await call(h, await integration('allow'), 'GET', '/auth/v2/auth_status', { txid });
    expect([other.status, other.body.code]).toEqual([400, 40002]);
  });
});

describe("users in Duo's bypass status", () => {
  const BYPASS_MSG = 'Two-factor authentication is bypassed for this account.';
  const reasonsFor = async (event: string, username: string) => (await h.deps.store.queryAudit({ event, username, limit: 50 })).map((e) => e.reason);

  it('preauth answers allow, enrolled or not, whatever the new-user policy; audited user_bypass', async () => {
    await enrolledUser('bea');
    await createUser(h.deps, 'ned');
    await setUserBypass(h.deps, 'bea');
    await setUserBypass(h.deps, 'ned');
    for (const c of [creds, await integration('deny')]) {
      for (const username of ['bea', 'ned']) {
        const r = await call(h, c, 'POST', '/auth/v2/preauth', { username, text_prompt: '1' });
        expect(r.body.response, username).toEqual({ result: 'allow', status_msg: BYPASS_MSG });
      }
    }
    expect(await reasonsFor('preauth', 'bea')).toEqual(['user_bypass', 'user_bypass']);
    expect(await reasonsFor('preauth', 'ned')).toEqual(['user_bypass', 'user_bypass']);
  });

  it('auth (a client that skips preauth) answers allow with status bypass for any factor, checks nothing, counts no failure', async () => {
    const { secret } = await enrolledUser('bo');
    await setUserBypass(h.deps, 'bo');
    const factors: Array<Record<string, string>> = [{ factor: 'passcode', passcode: '000000' }, { factor: 'prompt', prompt: 'push1' }, { factor: 'push', device: 'auto' }, { factor: 'auto', device: 'auto' }, { factor: 'sms', device: 'auto' }];
    for (const f of [...factors, ...factors]) {
      const r = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'bo', ...f });
      expect(r.body.response, JSON.stringify(f)).toEqual({ result: 'allow', status: 'bypass', status_msg: BYPASS_MSG });
    }
    const entries = await h.deps.store.queryAudit({ event: 'auth', username: 'bo', limit: 50 });
    expect(entries.map((e) => [e.result, e.reason])).toEqual(entries.map(() => ['allow', 'user_bypass']));
    expect((await h.deps.store.findUserByName('bo'))?.failures).toBe(0);
    // Async: the txid's auth_status says bypass too.
    const a = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'bo', factor: 'passcode', passcode: '1', async: '1' });
    const s = await call(h, creds, 'GET', '/auth/v2/auth_status', { txid: a.body.response!['txid'] as string });
    expect(s.body.response).toEqual({ result: 'allow', status: 'bypass', status_msg: BYPASS_MSG });
    // enable ends it: the second factor is required again (the TOTP code was not consumed).
    await setUserEnabled(h.deps, 'bo', true);
    expect((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'bo', factor: 'passcode', passcode: '000000' })).body.response).toMatchObject({ result: 'deny', status: 'deny' });
    expect((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'bo', factor: 'passcode', passcode: totp(h, secret) })).body.response).toMatchObject({ result: 'allow', status: 'allow' });
  });

  it('a lock wins over bypass (denied like any locked user until unlocked); disabling ends bypass', async () => {
    await enrolledUser('lou');
    for (let i = 0; i < 3; i++) await call(h, creds, 'POST', '/auth/v2/auth', { username: 'lou', factor: 'passcode', passcode: '333333' });
    await setUserBypass(h.deps, 'lou');
    expect((await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'lou' })).body.response).toMatchObject({ result: 'deny' });
    expect((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'lou', factor: 'passcode', passcode: '000000' })).body.response)
      .toEqual({ result: 'deny', status: 'deny', status_msg: 'Incorrect passcode. Please try again.' });
    expect((await reasonsFor('preauth', 'lou'))[0]).toBe('locked_out');
    expect((await reasonsFor('auth', 'lou'))[0]).toBe('locked_out');
    await unlockUser(h.deps, 'lou');
    expect((await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'lou' })).body.response).toEqual({ result: 'allow', status_msg: BYPASS_MSG });

    // One status at a time: disable replaces bypass, and a disabled user is never let in.
    await setUserEnabled(h.deps, 'lou', false);
    expect((await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'lou' })).body.response).toMatchObject({ result: 'deny' });
    expect((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'lou', factor: 'push', device: 'auto' })).body.response).toMatchObject({ result: 'deny' });
    expect((await reasonsFor('preauth', 'lou'))[0]).toBe('user_disabled');
    expect((await reasonsFor('auth', 'lou'))[0]).toBe('user_disabled');
  });
});

describe('replay, rate limits and the audit chain', () => {
  it('refuses a byte-identical signed POST whose answer was delivered', async () => {
    const { secret } = await enrolledUser('judy');
    const req = signed(creds, 'POST', '/auth/v2/auth', { username: 'judy', factor: 'passcode', passcode: totp(h, secret) }, { now: h.clock.now() });
    expect(JSON.parse((await h.app.inject(req)).body).response.result).toBe('allow');
    const replay = await h.app.inject(req);
    expect([replay.statusCode, JSON.parse(replay.body).code]).toEqual([403, 40103]);
  });

  it('rate-limits a user with 42901 and Retry-After', async () => {
    await h.close();
    h = await startHarness({ settings: { rateLimitUserPerMinute: 2 } });
    creds = await integration();
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push(await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'kim', ipaddr: `192.0.2.${i}` }));
    expect([codes[2]!.status, codes[2]!.body.code]).toEqual([429, 42901]);
    const retry = Number(codes[2]!.headers['retry-after']);
    expect(retry >= 1 && retry <= 32).toBe(true);
  });

  it('chains every decision in the audit log', async () => {
    const { secret } = await enrolledUser('leo');
    await call(h, creds, 'POST', '/auth/v2/preauth', { username: 'leo' });
    await call(h, creds, 'POST', '/auth/v2/auth', { username: 'leo', factor: 'passcode', passcode: totp(h, secret), ipaddr: '198.51.100.4', hostname: 'bastion' });
    const entries = await h.deps.store.queryAudit({ username: 'leo', limit: 10 });
    const auth = entries.find((e) => e.event === 'auth')!;
    expect(auth).toMatchObject({ result: 'allow', reason: 'valid_passcode', factor: 'passcode', ipaddr: '198.51.100.4', hostname: 'bastion', integration: creds.ikey });
    expect(auth.txid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await verifyAudit(h.deps)).ok).toBe(true);
  });
});

describe('operations', () => {
  it('keeps the previous skey working for the rotation overlap only', async () => {
    const { skey } = await rotateSkey(h.deps, creds.ikey);
    expect((await call(h, creds, 'GET', '/auth/v2/check')).status).toBe(200);
    expect((await call(h, { ikey: creds.ikey, skey }, 'GET', '/auth/v2/check')).status).toBe(200);
    h.clock.offsetMs += (h.deps.settings.skeyOverlapSeconds + 1) * 1000;
    const old = await call(h, creds, 'GET', '/auth/v2/check', {}, { date: rfc2822(h.clock.now()) });
    expect([old.status, old.body.code]).toEqual([403, 40103]);
    expect((await call(h, { ikey: creds.ikey, skey }, 'GET', '/auth/v2/check', {}, { date: rfc2822(h.clock.now()) })).status).toBe(200);
  });

  it('rate-limits an integration with 42901', async () => {
    await h.close();
    h = await startHarness({ settings: { rateLimitIntegrationPerMinute: 3 } });
    creds = await integration();
    const r = [];
    for (let i = 0; i < 4; i++) r.push(await call(h, creds, 'GET', '/auth/v2/check'));
    expect(r.map((x) => x.status)).toEqual([200, 200, 200, 429]);
    expect(r[3]!.body.code).toBe(42901);
    expect(r[3]!.headers['retry-after']).toBeDefined();
  });

  it('answers an internal failure with stat FAIL and HTTP 200, never a 5xx', async () => {
    const { secret } = await enrolledUser('mia');
    await h.deps.store.close();
    const r = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'mia', factor: 'passcode', passcode: totp(h, secret) });
    expect([r.status, r.body.stat, r.body.code]).toEqual([200, 'FAIL', 50000]);
    expect(JSON.stringify(r.body)).not.toMatch(/sqlite|database|stack|\.ts:| {4}at /i);
  });

  it('keeps idle connections open longer than duo_unix reuses them (75 s)', () => {
    expect(h.app.server.keepAliveTimeout).toBeGreaterThan(75_000);
  });

  it('audits a refused authenticated request that names a user, and validates ipaddr', async () => {
    const r = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'nina\u001b[2J', ipaddr: 'not-an-ip', factor: 'passcode', passcode: '1' });
    expect([r.status, r.body.code]).toEqual([400, 40002]);
    const missing = await call(h, creds, 'POST', '/auth/v2/auth', { username: 'nina' });
    expect([missing.status, missing.body.code, missing.body.message_detail]).toEqual([400, 40002, 'missing parameter factor']);
    const entries = await h.deps.store.queryAudit({ limit: 10 });
    const refused = entries.filter((e) => e.result === 'error');
    expect(refused.map((e) => e.username)).toEqual(['nina', 'nina[2J']);
    expect(refused[0]!.reason).toBe('bad_request');
  });
});
