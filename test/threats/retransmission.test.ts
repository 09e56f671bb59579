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

const req = (signature: string, o: { dated?: boolean; peer?: string } = {}) => ({ ikey: 'DIAAAAAAAAAAAAAAAAAA', signature, integrationId, peer: o.peer ?? '127.0.0.1', dated: o.dated ?? true });

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

describe('an undated (legacy v1) byte-identical POST', () => {
  const v1 = (sig: string, peer?: string) => req(sig, { dated: false, ...(peer ? { peer } : {}) });
  const undelivered = async (sig: string, txid: string | null) => {
    const first = await guardSignedPost(h.deps, v1(sig));
    if (first.kind !== 'new') throw new Error('expected new');
    const answer: StoredResponse = { http: 200, body: { stat: 'OK', response: txid ? { txid } : { result: 'deny' } }, txid };
    await recordDelivery(h.deps, first.key, answer, false);
    return answer;
  };

  it('is a resend within 10 s from the same peer while the txid is pending: same txid, no new transaction', async () => {
    const txid = await pendingTx();
    const answer = await undelivered('1'.repeat(40), txid);
    expect(await guardSignedPost(h.deps, v1('1'.repeat(40)))).toEqual({ kind: 'retransmit', response: answer });
  });

  it('is a new request when the first answer was delivered (a second login with the same bytes)', async () => {
    const first = await guardSignedPost(h.deps, v1('2'.repeat(40)));
    if (first.kind !== 'new') throw new Error('expected new');
    await recordDelivery(h.deps, first.key, { http: 200, body: {}, txid: null }, true);
    expect((await guardSignedPost(h.deps, v1('2'.repeat(40)))).kind).toBe('new');
  });

  it('is a new request from another peer, after 10 s, or once the txid settled', async () => {
    const txid = await pendingTx();
    await undelivered('3'.repeat(40), txid);
    expect((await guardSignedPost(h.deps, v1('3'.repeat(40), '127.0.0.9'))).kind).toBe('new');

    await undelivered('4'.repeat(40), txid);
    h.clock.offsetMs += 10_001;
    expect((await guardSignedPost(h.deps, v1('4'.repeat(40)))).kind).toBe('new');
    h.clock.offsetMs = 0;

    await undelivered('5'.repeat(40), txid);
    await settle(h.deps, txid, 'allow', 'allow', 'ok');
    expect((await guardSignedPost(h.deps, v1('5'.repeat(40)))).kind).toBe('new');
  });

  it('is a new request when the undelivered answer was a final (sync) result', async () => {
    await undelivered('6'.repeat(40), null);
    expect((await guardSignedPost(h.deps, v1('6'.repeat(40)))).kind).toBe('new');
  });
});
