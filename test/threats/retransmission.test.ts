// Attack and accident: the same signed POST arrives twice. duo_unix resends a request whose
// response it never got; an attacker replays one it captured. Only the first case may be
// answered again, and never with a transaction that has already settled (a second login must
// not ride on the first one's approval).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { guardSignedPost, recordDelivery, type StoredResponse } from '../../src/core/request-guard.js';
import { createTransaction, settle } from '../../src/core/transactions.js';
import { CoreError } from '../../src/core/errors.js';
import { createIntegration } from '../../src/core/integrations.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
let integrationId: string;
beforeEach(async () => {
  h = await startHarness();
  integrationId = (await h.deps.store.getIntegrationByIkey((await createIntegration(h.deps, { name: 'hosts' })).integration.ikey))!.id;
});
afterEach(async () => h.close());

const req = (signature: string) => ({ ikey: 'DIAAAAAAAAAAAAAAAAAA', signature, integrationId, peer: '127.0.0.1' });

async function pendingTx(): Promise<string> {
  const tx = await createTransaction(h.deps, { integrationId, userId: null, username: 'alice', factor: 'push', status: 'pushed', statusMsg: 'Pushed', context: {} });
  return tx.txid;
}

describe('a byte-identical signed POST', () => {
  it('is processed the first time', async () => {
    expect((await guardSignedPost(h.deps, req('a'.repeat(128)))).kind).toBe('new');
  });

  it('is refused when the first answer was delivered', async () => {
    const first = await guardSignedPost(h.deps, req('b'.repeat(128)));
    if (first.kind !== 'new') throw new Error('expected new');
    await recordDelivery(h.deps, first.key, { http: 200, body: { stat: 'OK' }, txid: null }, true);
    await expect(guardSignedPost(h.deps, req('b'.repeat(128)))).rejects.toMatchObject({ code: 'replayed_request' });
  });

  it("gets the original's answer, same pending txid, when the first answer was never delivered", async () => {
    const txid = await pendingTx();
    const first = await guardSignedPost(h.deps, req('c'.repeat(128)));
    if (first.kind !== 'new') throw new Error('expected new');
    const answer: StoredResponse = { http: 200, body: { stat: 'OK', response: { txid } }, txid };
    await recordDelivery(h.deps, first.key, answer, false);
    const again = await guardSignedPost(h.deps, req('c'.repeat(128)));
    expect(again).toEqual({ kind: 'retransmit', response: answer });
  });

  it('is refused once the transaction it would be handed has settled', async () => {
    const txid = await pendingTx();
    const first = await guardSignedPost(h.deps, req('d'.repeat(128)));
    if (first.kind !== 'new') throw new Error('expected new');
    await recordDelivery(h.deps, first.key, { http: 200, body: { stat: 'OK', response: { txid } }, txid }, false);
    await settle(h.deps, txid, 'allow', 'allow', 'Success. Logging you in...');
    const err = await guardSignedPost(h.deps, req('d'.repeat(128))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).code).toBe('replayed_request');
  });

  it('waits for a first copy still in flight, then follows its fate', async () => {
    const first = await guardSignedPost(h.deps, req('e'.repeat(128)));
    if (first.kind !== 'new') throw new Error('expected new');
    const second = guardSignedPost(h.deps, req('e'.repeat(128)));
    await new Promise((r) => setTimeout(r, 150));
    await recordDelivery(h.deps, first.key, { http: 200, body: { stat: 'OK', response: { result: 'deny' } }, txid: null }, false);
    expect((await second).kind).toBe('retransmit');
  });

  it('is remembered per signature: a different signature is a new request', async () => {
    await guardSignedPost(h.deps, req('f'.repeat(128)));
    expect((await guardSignedPost(h.deps, req('0'.repeat(128)))).kind).toBe('new');
  });
});
