// Push on PostgreSQL with two server nodes sharing one database: a login held on one node is
// settled by a decision sent to the other, the app's live channel on one node wakes for a push
// created on the other (LISTEN/NOTIFY), and decisions racing across both nodes settle once.
import { afterEach, beforeEach, expect, inject, it } from 'vitest';
import { createActivation } from '../../src/core/devices.js';
import { createIntegration } from '../../src/core/integrations.js';
import { createUser } from '../../src/core/users.js';
import { openStore } from '../../src/store/open.js';
import { ScriptedDevice, injectTransport, type DeviceTransport } from '../support/device.js';
import { call, startHarness, type Creds, type Harness } from '../support/harness.js';
import { freshPostgresDatabase } from '../support/postgres.js';

let nodeA: Harness;
let nodeB: Harness;
let creds: Creds;

beforeEach(async () => {
  const url = await freshPostgresDatabase(inject('pgUrl'));
  const settings = { pushTimeoutSeconds: 30, transactionTimeoutSeconds: 30, pushDenialThreshold: 1000, rateLimitUserPerMinute: 10_000 };
  nodeA = await startHarness({ settings: { nodeId: 'node-a', ...settings }, store: () => openStore({ kind: 'postgres', url }) });
  nodeB = await startHarness({ settings: { nodeId: 'node-b', ...settings }, store: () => openStore({ kind: 'postgres', url }) });
  (nodeB.deps as { keyring: unknown }).keyring = nodeA.deps.keyring;
  const r = await createIntegration(nodeA.deps, { name: 'pg-hosts' });
  creds = { ikey: r.integration.ikey, skey: r.skey };
});
afterEach(async () => {
  await nodeA.close();
  await nodeB.close();
});

/** A device whose requests go to `route()`'s node each time. */
async function device(username: string, route: () => Harness): Promise<ScriptedDevice> {
  await createUser(nodeA.deps, username);
  const a = await createActivation(nodeA.deps, username);
  const transport: DeviceTransport = (m, p, h, b) => injectTransport(route().app)(m, p, h, b);
  return ScriptedDevice.activate('https://api.tandem.test', a.code, { ca: '', transport });
}

it('a sync login on node A is approved through node B, whose live channel woke for it', async () => {
  const phone = await device('alice', () => nodeB);
  const empty = await phone.requests();
  const held = phone.requests(10, empty.fingerprint);
  await new Promise((r) => setTimeout(r, 200));
  const login = call(nodeA, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'push', device: 'auto', async: '0', hostname: 'db1' });
  const woke = await held;
  expect(woke.requests.map((x: { hostname: string }) => x.hostname)).toEqual(['db1']);
  expect((await phone.decide(woke.requests[0], 'approve')).json).toEqual({ result: 'allow' });
  expect((await login).body.response).toEqual({ result: 'allow', status: 'allow', status_msg: 'Success. Logging you in...' });
});

it('approve and deny racing across both nodes settle exactly once', async () => {
  let n = 0;
  const phone = await device('bob', () => (n++ % 2 === 0 ? nodeA : nodeB));
  for (let round = 0; round < 2; round++) {
    const txid = (await call(nodeA, creds, 'POST', '/auth/v2/auth', { username: 'bob', factor: 'push', device: 'auto', async: '1' })).body.response!['txid'] as string;
    const entry = (await phone.requests()).requests.find((x: { txid: string }) => x.txid === txid);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => phone.decide(entry, i % 2 === 0 ? 'approve' : 'deny')));
    const ok = answers.filter((a) => a.status === 200);
    expect(ok).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
    const tx = await nodeB.deps.store.getTransaction(txid);
    expect(tx!.state).toBe(ok[0]!.json.result);
  }
});
