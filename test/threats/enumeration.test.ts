// Attack: telling accounts apart through /auth. A wrong code, a replayed code, an unknown user, a
// disabled and a locked user must get the same answer AND make the server do the same work, so a
// stopwatch learns nothing. Timing itself is not asserted (machines are noisy); instead the test
// records the sequence of store operations and key operations each case causes and requires
// them to be identical.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createIntegration } from '../../src/core/integrations.js';
import { addToken } from '../../src/core/tokens.js';
import { createUser, setUserEnabled } from '../../src/core/users.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import type { Store } from '../../src/store/contract.js';
import { call, startHarness, type Creds, type Harness } from '../support/harness.js';

let h: Harness;
let creds: Creds;
let trace: string[] | null = null;

/** Wraps every store method so the test can see which ones a request calls. */
function tracing(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        trace?.push(String(prop));
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

beforeEach(async () => {
  h = await startHarness({ settings: { lockoutThreshold: 2, rateLimitUserPerMinute: 1000 } });
  (h.deps as { store: Store }).store = tracing(h.deps.store);
  const r = await createIntegration(h.deps, { name: 'hosts' });
  creds = { ikey: r.integration.ikey, skey: r.skey };
});
afterEach(async () => h.close());

it('answers and works alike for wrong, replayed, unknown, disabled and locked', async () => {
  for (const name of ['wrong', 'replayed', 'disabled', 'locked']) {
    await createUser(h.deps, name);
    await addToken(h.deps, name, { type: 'totp' });
  }
  await setUserEnabled(h.deps, 'disabled', false);
  for (let i = 0; i < 2; i++) await call(h, creds, 'POST', '/auth/v2/auth', { username: 'locked', factor: 'passcode', passcode: '000000' });
  const replayedSecret = base32Decode((await addToken(h.deps, 'replayed', { type: 'totp' })).secret);
  await h.deps.store.removeToken((await h.deps.store.listTokens((await h.deps.store.findUserByName('replayed'))!.id))[0]!.id);
  const code = hotp(replayedSecret, totpStep(h.clock.now(), 30), { digits: 6, algorithm: 'sha1' });
  await call(h, creds, 'POST', '/auth/v2/auth', { username: 'replayed', factor: 'passcode', passcode: code });

  const cases: Array<[string, string]> = [['wrong', '123456'], ['replayed', code], ['nobody', '123456'], ['disabled', '123456'], ['locked', '123456']];
  const seen: Array<{ body: unknown; ops: string[] }> = [];
  for (const [username, passcode] of cases) {
    trace = [];
    const r = await call(h, creds, 'POST', '/auth/v2/auth', { username, factor: 'passcode', passcode });
    // Delivery bookkeeping happens after the answer is written; it is not part of the answer.
    const ops = trace.filter((op) => op !== 'markRequestDelivered');
    seen.push({ body: r.body, ops });
    trace = null;
  }
  for (const s of seen) expect(s).toEqual(seen[0]);
});

it('a factor the integration does not allow looks like a wrong code: same answer, same work, nothing consumed', async () => {
  const { setPushPolicy } = await import('../../src/core/integrations.js');
  const { createBypassCodes } = await import('../../src/core/bypass.js');
  for (const name of ['wrong', 'holder', 'disabled', 'locked']) {
    await createUser(h.deps, name);
    await addToken(h.deps, name, { type: 'totp' });
  }
  await setUserEnabled(h.deps, 'disabled', false);
  for (let i = 0; i < 2; i++) await call(h, creds, 'POST', '/auth/v2/auth', { username: 'locked', factor: 'passcode', passcode: '000000' });
  const secret = base32Decode((await addToken(h.deps, 'holder', { type: 'totp' })).secret);
  const bypass = (await createBypassCodes(h.deps, 'holder', { count: 1 })).codes[0]!;

  // Each policy is its own integration with its own work: compare the cases within one policy.
  for (const [factors, valid] of [[['push', 'passcode'], () => bypass], [['push', 'bypass'], () => hotp(secret, totpStep(h.clock.now(), 30), { digits: 6, algorithm: 'sha1' })]] as const) {
    await setPushPolicy(h.deps, creds.ikey, { factors: [...factors] });
    const cases: Array<[string, string]> = [['holder', valid()], ['wrong', '123456789'], ['nobody', '123456789'], ['disabled', '123456789'], ['locked', '123456789']];
    const seen: Array<{ body: unknown; ops: string[] }> = [];
    for (const [username, passcode] of cases) {
      trace = [];
      const r = await call(h, creds, 'POST', '/auth/v2/auth', { username, factor: 'passcode', passcode });
      seen.push({ body: r.body, ops: trace.filter((op) => op !== 'markRequestDelivered') });
      trace = null;
    }
    for (const s of seen) expect(s, factors.join(',')).toEqual(seen[0]);
    const audit = (await h.deps.store.queryAudit({ event: 'auth', username: 'holder', limit: 1 }))[0]!;
    expect(audit.reason, factors.join(',')).toBe('factor_not_allowed');
    // The holder's failed attempt counted; reset it so the next policy starts alike.
    await h.deps.store.unlockUser((await h.deps.store.findUserByName('holder'))!.id);
  }
  // Nothing was consumed: with every factor allowed both codes still log in.
  await setPushPolicy(h.deps, creds.ikey, { factors: ['push', 'passcode', 'bypass'] });
  expect((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'holder', factor: 'passcode', passcode: bypass })).body.response).toMatchObject({ result: 'allow' });
  const code = hotp(secret, totpStep(h.clock.now(), 30), { digits: 6, algorithm: 'sha1' });
  expect((await call(h, creds, 'POST', '/auth/v2/auth', { username: 'holder', factor: 'passcode', passcode: code })).body.response).toMatchObject({ result: 'allow' });
});
