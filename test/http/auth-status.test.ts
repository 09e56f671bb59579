// auth_status long-polling over the one transaction model: a pending transaction is reported at
// once the first time, then held until it changes (woken by the store's notifier) or the hold
// ends, and becomes `timeout` when it expires — well within duo_unix's 20 polls.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createIntegration } from '../../src/core/integrations.js';
import { createTransaction, settle } from '../../src/core/transactions.js';
import { addToken } from '../../src/core/tokens.js';
import { createUser } from '../../src/core/users.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { call, startHarness, type Creds, type Harness } from '../support/harness.js';

let h: Harness;
let creds: Creds;
let integrationId: string;
beforeEach(async () => {
  h = await startHarness({ settings: { longPollSeconds: 1, transactionTimeoutSeconds: 2 } });
  const r = await createIntegration(h.deps, { name: 'hosts' });
  creds = { ikey: r.integration.ikey, skey: r.skey };
  integrationId = (await h.deps.store.getIntegrationByIkey(creds.ikey))!.id;
});
afterEach(async () => h.close());

const pending = async () =>
  (await createTransaction(h.deps, { integrationId, userId: null, username: 'alice', factor: 'push', status: 'pushed', statusMsg: 'Pushed a login request to your device...', context: {} })).txid;

it('reports waiting at once, then holds, then times out within 20 polls', async () => {
  const txid = await pending();
  const first = await call(h, creds, 'GET', '/auth/v2/auth_status', { txid });
  expect(first.body.response).toEqual({ result: 'waiting', status: 'pushed', status_msg: 'Pushed a login request to your device...' });
  let polls = 1;
  let last = first;
  while (last.body.response!['result'] === 'waiting' && polls < 20) {
    last = await call(h, creds, 'GET', '/auth/v2/auth_status', { txid });
    polls++;
  }
  expect(last.body.response).toEqual({ result: 'deny', status: 'timeout', status_msg: 'Login timed out.' });
  expect(polls).toBeLessThanOrEqual(5);
});

it('wakes a held poll when the transaction settles', async () => {
  const txid = await pending();
  await call(h, creds, 'GET', '/auth/v2/auth_status', { txid });
  const held = call(h, creds, 'GET', '/auth/v2/auth_status', { txid });
  await new Promise((r) => setTimeout(r, 100));
  expect(await settle(h.deps, txid, 'allow', 'allow', 'Success. Logging you in...')).toBe(true);
  expect((await held).body.response).toMatchObject({ result: 'allow' });
  // Settles exactly once.
  expect(await settle(h.deps, txid, 'deny', 'deny', 'no')).toBe(false);
});

it('answers an unknown txid with 40002', async () => {
  const r = await call(h, creds, 'GET', '/auth/v2/auth_status', { txid: '00000000-0000-4000-8000-000000000000' });
  expect([r.status, r.body.code]).toEqual([400, 40002]);
});

it('accepts HOTP codes within the look-ahead window, each once', async () => {
  await createUser(h.deps, 'hoda');
  const secret = base32Decode((await addToken(h.deps, 'hoda', { type: 'hotp', digits: 8, algorithm: 'sha256' })).secret);
  const code = (c: number) => hotp(secret, c, { digits: 8, algorithm: 'sha256' });
  const auth = async (c: string) => (await call(h, creds, 'POST', '/auth/v2/auth', { username: 'hoda', factor: 'passcode', passcode: c })).body.response!['result'];
  expect(await auth(code(3))).toBe('allow'); // counters 0–2 skipped: within the look-ahead
  expect(await auth(code(3))).toBe('deny');
  expect(await auth(code(2))).toBe('deny'); // behind the accepted counter
  expect(await auth(code(4))).toBe('allow');
  expect(await auth(code(40))).toBe('deny'); // beyond the look-ahead (10)
});
