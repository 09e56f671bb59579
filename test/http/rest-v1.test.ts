// The legacy /rest/v1 family as duo_unix 1.11.3 (BSON, v1 signatures) and 1.12–2.1 (JSON) speak
// it, through fastify.inject.
import { deserialize } from 'bson';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_STATUS_POLLS } from '../../src/core/auth.js';
import { createBypassCodes } from '../../src/core/bypass.js';
import { createIntegration } from '../../src/core/integrations.js';
import { addToken } from '../../src/core/tokens.js';
import { createTransaction } from '../../src/core/transactions.js';
import { createUser } from '../../src/core/users.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import { signed, startHarness, type Creds, type Harness, type SignOptions } from '../support/harness.js';

let h: Harness;
let legacy: Creds;

async function integration(o: { legacyV1: boolean; policy?: 'enroll' | 'allow' | 'deny' }): Promise<Creds> {
  const r = await createIntegration(h.deps, { name: 'v1', legacyV1: o.legacyV1, newUserPolicy: o.policy ?? 'enroll' });
  return { ikey: r.integration.ikey, skey: r.skey };
}

/** A request exactly as 1.11.3 signs it: v1, HMAC-SHA1, no date. */
async function v1(creds: Creds, method: 'GET' | 'POST', path: string, params: Record<string, string>, o: SignOptions = { version: 1, digest: 'sha1' }) {
  const res = await h.app.inject(signed(creds, method, path, params, { ...o, now: h.clock.now() }));
  const bson = path.endsWith('.bson');
  const body = (bson ? deserialize(res.rawPayload) : JSON.parse(res.body)) as { stat: string; code?: number; response?: Record<string, unknown> };
  return { status: res.statusCode, headers: res.headers, body };
}

async function enrolled(name: string): Promise<Buffer> {
  await createUser(h.deps, name);
  return base32Decode((await addToken(h.deps, name, { type: 'totp' })).secret);
}
const code = (secret: Buffer, k = 0) => hotp(secret, totpStep(h.clock.now(), 30) + k, { digits: 6, algorithm: 'sha1' });

beforeEach(async () => {
  h = await startHarness({ settings: { longPollSeconds: 1, transactionTimeoutSeconds: 30 } });
  legacy = await integration({ legacyV1: true });
});
afterEach(async () => h.close());

describe('signatures', () => {
  it('accepts v1 only for integrations created with --legacy-v1, and only on /rest/v1', async () => {
    await enrolled('alice');
    const plain = await integration({ legacyV1: false });
    const refused = await v1(plain, 'POST', '/rest/v1/preauth.bson', { user: 'alice' });
    expect([refused.status, refused.body.stat, refused.body.code]).toEqual([403, 'FAIL', 40103]);
    expect((await v1(legacy, 'POST', '/rest/v1/preauth.bson', { user: 'alice' })).body.stat).toBe('OK');
    const onV2 = await v1(legacy, 'POST', '/auth/v2/preauth', { username: 'alice' });
    expect([onV2.status, onV2.body.code]).toEqual([403, 40103]);
  });

  it('serves *.json to duo_unix 2.0.4–2.1 signing v2 with X-Duo-Date, for any integration', async () => {
    await enrolled('alice');
    const plain = await integration({ legacyV1: false });
    const r = await v1(plain, 'POST', '/rest/v1/preauth.json', { user: 'alice', failmode: 'closed' }, { version: 2, digest: 'sha512', xDuoDate: true });
    expect(r.body).toMatchObject({ stat: 'OK', response: { result: 'auth' } });
  });

  it('answers errors on .bson paths in BSON, with an int32 code', async () => {
    const missing = await v1(legacy, 'POST', '/rest/v1/preauth.bson', {});
    expect([missing.status, missing.body.stat, missing.body.code]).toEqual([400, 'FAIL', 40002]);
    const unknown = await h.app.inject({ method: 'GET', url: '/rest/v1/nothing.bson' });
    expect(deserialize(unknown.rawPayload)).toMatchObject({ stat: 'FAIL', code: 40401 });
    const wrongMethod = await h.app.inject({ method: 'GET', url: '/rest/v1/auth.bson' });
    expect([wrongMethod.statusCode, deserialize(wrongMethod.rawPayload)['code']]).toEqual([405, 40501]);
  });
});

describe('preauth.bson', () => {
  it('gives an enrolled user the prompt and factors at the top level of response', async () => {
    await enrolled('alice');
    const r = await v1(legacy, 'POST', '/rest/v1/preauth.bson', { failmode: 'open', hostname: 'vm', ipaddr: '203.0.113.7', user: 'alice' });
    expect(r.body.response).toMatchObject({ result: 'auth', status: 'Account is active' });
    expect(r.body.response!['prompt']).toMatch(/^Tandem two-factor login for alice/);
    expect(r.body.response!['factors']).toEqual({});
  });

  it('puts the enrollment URL in status, and answers allow and deny with status', async () => {
    const e = await v1(legacy, 'POST', '/rest/v1/preauth.bson', { user: 'newbie' });
    expect(e.body.response).toMatchObject({ result: 'enroll' });
    expect(e.body.response!['status']).toMatch(/https:\/\/api\.tandem\.test:8443\/portal\/enroll\//);
    expect((await v1(await integration({ legacyV1: true, policy: 'allow' }), 'POST', '/rest/v1/preauth.bson', { user: 'x' })).body.response).toMatchObject({ result: 'allow', status: expect.any(String) });
    expect((await v1(await integration({ legacyV1: true, policy: 'deny' }), 'POST', '/rest/v1/preauth.bson', { user: 'x' })).body.response).toMatchObject({ result: 'deny', status: expect.any(String) });
  });
});

describe('auth.bson and status.bson', () => {
  it('factor=auto with a typed passcode: sync allow; the same bytes again are a new login, and the used code is refused', async () => {
    const secret = await enrolled('alice');
    const params = { async: '0', auto: code(secret), factor: 'auto', hostname: 'vm', ipaddr: '203.0.113.7', pushinfo: 'Server+IP=192.0.2.2&Command=', user: 'alice' };
    expect((await v1(legacy, 'POST', '/rest/v1/auth.bson', params)).body.response).toEqual({ result: 'allow', status: 'Success. Logging you in...' });
    const again = await v1(legacy, 'POST', '/rest/v1/auth.bson', params);
    expect([again.status, again.body.response]).toEqual([200, { result: 'deny', status: 'Incorrect passcode. Please try again.' }]);
  });

  it('async: txid, then status with the result', async () => {
    await createUser(h.deps, 'bob');
    const { codes } = await createBypassCodes(h.deps, 'bob', { count: 1 });
    const r = await v1(legacy, 'POST', '/rest/v1/auth.bson', { async: '1', auto: codes[0]!, factor: 'auto', user: 'bob' });
    const txid = r.body.response!['txid'] as string;
    expect(txid.length).toBeLessThan(256);
    expect((await v1(legacy, 'GET', '/rest/v1/status.bson', { txid })).body.response).toEqual({ result: 'allow', status: 'Success. Logging you in...' });
  });

  it('a menu choice with no such device, an empty line, and a bare factor word are denied with a message', async () => {
    await enrolled('carol');
    for (const auto of ['push1', '\n', 'phone', '1']) {
      const r = await v1(legacy, 'POST', '/rest/v1/auth.bson', { async: '0', auto, factor: 'auto', user: 'carol', hostname: auto === '\n' ? 'nl' : auto });
      expect(r.body.response!['result']).toBe('deny');
      expect(typeof r.body.response!['status']).toBe('string');
    }
  });

  it('while pending, status has no result; it always has one before the 20th poll', async () => {
    const integrationId = (await h.deps.store.getIntegrationByIkey(legacy.ikey))!.id;
    const tx = await createTransaction(h.deps, { integrationId, userId: null, username: 'dave', factor: 'push', status: 'pushed', statusMsg: 'Pushed a login request to your device...', context: {} });
    const first = await v1(legacy, 'GET', '/rest/v1/status.bson', { txid: tx.txid });
    expect(first.body.response).toEqual({ status: 'Pushed a login request to your device...' });
    // Make every poll answer at once, as if the state kept changing, to reach the cap quickly.
    let polls = 1;
    let last = first;
    while (!('result' in last.body.response!) && polls < 20) {
      await h.deps.store.updatePendingStatus(tx.txid, 'pushed', `Still waiting (${polls})...`);
      last = await v1(legacy, 'GET', '/rest/v1/status.bson', { txid: tx.txid });
      polls++;
    }
    expect(last.body.response).toEqual({ result: 'deny', status: 'Login timed out.' });
    expect(polls).toBe(MAX_STATUS_POLLS);
  });

  it('records ipaddr from an SSH_CONNECTION string, hostname, failmode and the decoded pushinfo', async () => {
    const secret = await enrolled('erin');
    await v1(legacy, 'POST', '/rest/v1/preauth.bson', { failmode: 'closed', hostname: 'bastion', ipaddr: '198.51.100.20 51234 192.0.2.2 22', user: 'erin' });
    const r = await v1(legacy, 'POST', '/rest/v1/auth.bson', { async: '1', auto: code(secret), factor: 'auto', hostname: 'bastion', ipaddr: 'client.example.org', pushinfo: 'Server+IP=192.0.2.2&Command=sudo%20ls%20-l', user: 'erin' });
    const entries = await h.deps.store.queryAudit({ username: 'erin', limit: 5 });
    expect(entries.find((e) => e.event === 'preauth')).toMatchObject({ ipaddr: '198.51.100.20', hostname: 'bastion' });
    expect(JSON.parse(entries.find((e) => e.event === 'preauth')!.detail)).toMatchObject({ failmode: 'closed' });
    expect(entries.find((e) => e.event === 'auth')).toMatchObject({ ipaddr: 'client.example.org', result: 'allow' });
    expect(JSON.parse(entries.find((e) => e.event === 'auth')!.detail).pushinfo).toEqual([['Server IP', '192.0.2.2'], ['Command', 'sudo ls -l']]);
    const tx = await h.deps.store.getTransaction(r.body.response!['txid'] as string);
    expect(JSON.parse(tx!.context).pushinfo).toEqual([['Server IP', '192.0.2.2'], ['Command', 'sudo ls -l']]);
  });

  it('never answers 429: a rate limit is a deny result with the reason', async () => {
    await h.close();
    h = await startHarness({ settings: { rateLimitUserPerMinute: 1 } });
    legacy = await integration({ legacyV1: true });
    await v1(legacy, 'POST', '/rest/v1/preauth.bson', { user: 'fred' });
    const limited = await v1(legacy, 'POST', '/rest/v1/preauth.bson', { user: 'fred', hostname: 'other' });
    expect(limited.status).toBe(200);
    expect(limited.body.response).toMatchObject({ result: 'deny', status: expect.stringMatching(/Too many login attempts/) });
  });
});
