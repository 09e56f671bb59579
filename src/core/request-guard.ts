// Replays and retransmissions of signed POSTs.
//
// A signed POST is identified by its ikey and signature (which covers the date, so the window is
// the signature skew). The first copy is processed. A later byte-identical copy is:
//  - a retransmission, if the first copy's response was never delivered (its connection closed
//    before the response was written — duo_unix resends when it gets no answer): it gets the
//    original's answer, and an async answer only while its txid is still pending, because a
//    settled txid handed to a new request would let a second login ride on the first's approval;
//  - otherwise a replay, refused (403).
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';

/** The wire answer of the first copy, kept until its delivery is known. */
export interface StoredResponse {
  http: number;
  body: unknown;
  /** The txid an async auth answered with (null otherwise). */
  txid: string | null;
  retryAfter?: number;
}

export type GuardDecision =
  | { kind: 'new'; key: string }
  | { kind: 'retransmit'; response: StoredResponse };

const POLL_MS = 50;

export async function guardSignedPost(deps: Deps, a: { ikey: string; signature: string; integrationId: string; peer: string }, signal?: AbortSignal): Promise<GuardDecision> {
  const key = deps.keyring.hmac('request-id', `${a.ikey}:${a.signature}`);
  const now = deps.clock.now();
  const got = await deps.store.rememberRequest({ key, integrationId: a.integrationId, peer: a.peer, createdAt: now, expiresAt: now + 2 * deps.settings.signatureSkewSeconds * 1000 });
  if (got === 'inserted') return { kind: 'new', key };

  // The first copy may still be in flight (a sync auth holds its connection): wait until its
  // delivery is known, at most as long as a sync auth can take.
  const deadline = now + (deps.settings.transactionTimeoutSeconds + 5) * 1000;
  let rec = got;
  while (!rec.delivered && rec.response === null && deps.clock.now() < deadline && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    rec = (await deps.store.getRequest(key)) ?? rec;
  }
  if (rec.delivered || rec.response === null) throw new CoreError('replayed_request', 'request replayed');
  const response = JSON.parse(rec.response) as StoredResponse;
  if (response.txid !== null) {
    const tx = await deps.store.getTransaction(response.txid);
    if (!tx || tx.state !== 'pending') throw new CoreError('replayed_request', 'request replayed after its transaction settled');
  }
  return { kind: 'retransmit', response };
}

/** Called once the first copy's connection is done with: was the response written? */
export async function recordDelivery(deps: Deps, key: string, response: StoredResponse, delivered: boolean): Promise<void> {
  if (delivered) await deps.store.markRequestDelivered(key);
  else await deps.store.setRequestResponse(key, JSON.stringify(response));
}
