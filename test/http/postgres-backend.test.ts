// The same Auth API flows on PostgreSQL, with two server nodes sharing one database: a
// transaction started on one node is answered by the other, and both nodes' audit chains verify.
import { afterEach, beforeEach, expect, inject, it } from 'vitest';
import { verifyAudit } from '../../src/core/audit.js';
import { createIntegration } from '../../src/core/integrations.js';
import { addToken } from '../../src/core/tokens.js';
import { createUser } from '../../src/core/users.js';
import { base32Decode } from '../../src/protocol/base32.js';
import { hotp } from '../../src/protocol/hotp.js';
import { totpStep } from '../../src/protocol/totp.js';
import { openStore } from '../../src/store/open.js';
import { freshPostgresDatabase } from '../support/postgres.js';
import { call, startHarness, type Creds, type Harness } from '../support/harness.js';

let nodeA: Harness;
let nodeB: Harness;
let creds: Creds;

beforeEach(async () => {
  const url = await freshPostgresDatabase(inject('pgUrl'));
  nodeA = await startHarness({ settings: { nodeId: 'node-a', lockoutThreshold: 2 }, store: () => openStore({ kind: 'postgres', url }) });
  // Node B shares A's database and master key, as a second server behind a load balancer would.
  nodeB = await startHarness({ settings: { nodeId: 'node-b', lockoutThreshold: 2 }, store: () => openStore({ kind: 'postgres', url }) });
  (nodeB.deps as { keyring: unknown }).keyring = nodeA.deps.keyring;
  const r = await createIntegration(nodeA.deps, { name: 'pg-hosts' });
  creds = { ikey: r.integration.ikey, skey: r.skey };
});
afterEach(async () => {
  await nodeA.close();
  await nodeB.close();
});

it('preauths, accepts a code once, locks out, and answers auth_status from either node', async () => {
  await createUser(nodeA.deps, 'alice');
  const secret = base32Decode((await addToken(nodeA.deps, 'alice', { type: 'totp' })).secret);
  const code = hotp(secret, totpStep(Date.now(), 30), { digits: 6, algorithm: 'sha1' });

  expect((await call(nodeB, creds, 'POST', '/auth/v2/preauth', { username: 'alice' })).body.response).toMatchObject({ result: 'auth' });
  const started = await call(nodeA, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'passcode', passcode: code, async: '1' });
  const txid = started.body.response!['txid'] as string;
  expect((await call(nodeB, creds, 'GET', '/auth/v2/auth_status', { txid })).body.response).toMatchObject({ result: 'allow' });
  expect((await call(nodeB, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'passcode', passcode: code })).body.response).toMatchObject({ result: 'deny' });

  await call(nodeA, creds, 'POST', '/auth/v2/auth', { username: 'alice', factor: 'passcode', passcode: '000000' });
  expect((await call(nodeB, creds, 'POST', '/auth/v2/preauth', { username: 'alice' })).body.response).toMatchObject({ result: 'deny' });

  const audit = await verifyAudit(nodeA.deps);
  expect(audit.ok).toBe(true);
  expect(audit.chains.map((c) => c.nodeId).sort()).toEqual(['node-a', 'node-b']);
});

it('accepts exactly one of 20 concurrent uses of a code across two nodes', async () => {
  await createUser(nodeA.deps, 'bob');
  const secret = base32Decode((await addToken(nodeA.deps, 'bob', { type: 'totp' })).secret);
  const code = hotp(secret, totpStep(Date.now(), 30), { digits: 6, algorithm: 'sha1' });
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => call(i % 2 ? nodeA : nodeB, creds, 'POST', '/auth/v2/auth', { username: 'bob', factor: 'passcode', passcode: code, hostname: `h${i}` })),
  );
  expect(results.filter((r) => r.body.response?.['result'] === 'allow')).toHaveLength(1);
});
