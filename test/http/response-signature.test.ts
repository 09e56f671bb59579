// Responses to our own clients are signed over their nonce; stock clients see no difference.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createIntegration } from '../../src/core/integrations.js';
import { verifyResponseSignature } from '../../src/protocol/response-signature.js';
import { signed, startHarness, type Creds, type Harness } from '../support/harness.js';

let h: Harness;
let creds: Creds;
beforeEach(async () => {
  h = await startHarness();
  const r = await createIntegration(h.deps, { name: 'ours', legacyV1: true });
  creds = { ikey: r.integration.ikey, skey: r.skey };
});
afterEach(async () => h.close());

const nonce = 'f0'.repeat(16);

it.each([
  ['POST', '/auth/v2/preauth', { username: 'nobody' }, 2],
  ['GET', '/auth/v2/check', {}, 2],
  ['POST', '/rest/v1/preauth.bson', { user: 'nobody' }, 1],
] as const)('%s %s: signed over the nonce, method, path and body', async (method, path, params, version) => {
  const req = signed(creds, method, path, { ...params }, { now: h.clock.now(), version, digest: version === 1 ? 'sha1' : 'sha512' });
  const res = await h.app.inject({ ...req, headers: { ...req.headers, 'x-tandem-nonce': nonce } });
  expect(res.statusCode).toBe(200);
  const signature = res.headers['x-tandem-signature'] as string;
  expect(verifyResponseSignature({ skey: creds.skey, nonce, method, path, body: res.rawPayload, signature })).toBe(true);
  expect(verifyResponseSignature({ skey: creds.skey, nonce: 'f1'.repeat(16), method, path, body: res.rawPayload, signature })).toBe(false);
});

it('adds nothing for stock clients (no nonce) or unauthenticated requests', async () => {
  const plain = await h.app.inject(signed(creds, 'GET', '/auth/v2/check', {}, { now: h.clock.now() }));
  expect(plain.headers['x-tandem-signature']).toBeUndefined();
  const bad = signed({ ikey: creds.ikey, skey: 'x'.repeat(40) }, 'GET', '/auth/v2/check', {}, { now: h.clock.now() });
  const refused = await h.app.inject({ ...bad, headers: { ...bad.headers, 'x-tandem-nonce': nonce } });
  expect(refused.statusCode).toBe(403);
  expect(refused.headers['x-tandem-signature']).toBeUndefined();
});

it('signs a correctly signed ping even with a stale date, and still answers an unsigned one', async () => {
  const stale = signed(creds, 'GET', '/auth/v2/ping', {}, { now: h.clock.now() - 3_600_000 });
  const res = await h.app.inject({ ...stale, headers: { ...stale.headers, 'x-tandem-nonce': nonce } });
  expect(res.statusCode).toBe(200);
  expect(verifyResponseSignature({ skey: creds.skey, nonce, method: 'GET', path: '/auth/v2/ping', body: res.rawPayload, signature: res.headers['x-tandem-signature'] as string })).toBe(true);
  const unsigned = await h.app.inject({ method: 'GET', url: '/auth/v2/ping', headers: { 'x-tandem-nonce': nonce } });
  expect([unsigned.statusCode, unsigned.headers['x-tandem-signature']]).toEqual([200, undefined]);
});
