// Attack: two logins race with the same TOTP code (e.g. a shoulder-surfed code typed on a second
// host at once). RFC 6238 §5.2: a code is accepted at most once — exactly one of the racing
// requests may succeed, whatever their interleaving.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createIntegration } from '../../src/core/integrations.js';
import { addToken } from '../../src/core/tokens.js';
import { createUser } from '../../src/core/users.js';
import { createBypassCodes } from '../../src/core/bypass.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import { call, startHarness, type Creds, type Harness } from '../support/harness.js';

let h: Harness;
let creds: Creds;
beforeEach(async () => {
  h = await startHarness({ settings: { rateLimitUserPerMinute: 1000 } });
  const r = await createIntegration(h.deps, { name: 'hosts' });
  creds = { ikey: r.integration.ikey, skey: r.skey };
});
afterEach(async () => h.close());

it('accepts one of 20 concurrent requests carrying the same TOTP code', async () => {
  await createUser(h.deps, 'alice');
  const secret = base32Decode((await addToken(h.deps, 'alice', { type: 'totp' })).secret);
  const code = hotp(secret, totpStep(h.clock.now(), 30), { digits: 6, algorithm: 'sha1' });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(h, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'passcode', passcode: code, hostname: `host${i}` })));
  expect(results.filter((r) => r.body.response?.['result'] === 'allow')).toHaveLength(1);
  expect(results.filter((r) => r.body.response?.['result'] === 'deny')).toHaveLength(19);
});

it('accepts one of 20 concurrent requests carrying the same single-use bypass code', async () => {
  await createUser(h.deps, 'bob');
  const { codes } = await createBypassCodes(h.deps, 'bob', { count: 1, uses: 1 });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => call(h, creds, 'POST', '/auth/v2/auth', { username: 'bob', factor: 'passcode', passcode: codes[0]!, hostname: `host${i}` })));
  expect(results.filter((r) => r.body.response?.['result'] === 'allow')).toHaveLength(1);
});

it('never accepts an older code once a newer one was used', async () => {
  await createUser(h.deps, 'carol');
  const secret = base32Decode((await addToken(h.deps, 'carol', { type: 'totp' })).secret);
  const step = totpStep(h.clock.now(), 30);
  const newer = hotp(secret, step + 1, { digits: 6, algorithm: 'sha1' });
  const older = hotp(secret, step - 1, { digits: 6, algorithm: 'sha1' });
  expect((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'carol', factor: 'passcode', passcode: newer })).body.response?.['result']).toBe('allow');
  expect((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'carol', factor: 'passcode', passcode: older })).body.response?.['result']).toBe('deny');
});
