// Replays and retransmissions of signed POSTs.
//
// A signed POST is identified by its ikey and signature. The first copy is processed.
// Dated signatures (v2/v4/v5; the window is the signature skew): a later byte-identical copy is
//  - a retransmission, if the first copy's response was never delivered (its connection closed
//    before the response was written — duo_unix resends when it gets no answer): it gets the
//    original's answer, and an async answer only while its txid is still pending, because a
//    settled txid handed to a new request would let a second login ride on the first's approval;
//  - otherwise a replay, refused (403).
// Undated legacy v1 signatures (duo_unix ≤ 2.0.3) cannot tell a replay from a second login with
// the same bytes, so a copy is a retransmission only within 10 s, from the same peer, with the
// original undelivered and its txid still pending; anything else is processed as a new request.
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
/**
 * Undated (legacy v1) requests: a byte-identical copy is a resend only this soon after the
 * original and from the same peer (duo_unix retries at once); later it is a new login.
 */
export const UNDATED_RESEND_MS = 10_000;

export interface SignedPost {
  ikey: string;
  signature: string;
  integrationId: string;
  peer: string;
  /** False for legacy v1 signatures, which sign no date and so cannot expire. */
  dated: boolean;
}

export async function guardSignedPost(deps: Deps, a: SignedPost, signal?: AbortSignal): Promise<GuardDecision> {
  const key = deps.keyring.hmac('request-id', `${a.ikey}:${a.signature}`);
  const now = deps.clock.now();
  const row = {
    key,
    integrationId: a.integrationId,
    peer: a.peer,
    createdAt: now,
    expiresAt: now + (a.dated ? 2 * deps.settings.signatureSkewSeconds * 1000 : UNDATED_RESEND_MS),
  };
  const got = await deps.store.rememberRequest(row);
  if (got === 'inserted') return { kind: 'new', key };

  // Undated: identical bytes are also what a second, legitimate login looks like (same user,
  // host and typed code), so only a quick resend from the same peer can be the same request.
  const couldBeResend = a.dated || (got.peer === a.peer && now - got.createdAt < UNDATED_RESEND_MS);
  if (!couldBeResend) return restart(deps, row);

  // The first copy may still be in flight (a sync auth holds its connection): wait until its
  // delivery is known, at most as long as a sync auth can take.
  const deadline = now + (deps.settings.transactionTimeoutSeconds + 5) * 1000;
  let rec = got;
  while (!rec.delivered && rec.response === null && deps.clock.now() < deadline && !signal?.aborted) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    rec = (await deps.store.getRequest(key)) ?? rec;
  }
  const response = !rec.delivered && rec.response !== null ? (JSON.parse(rec.response) as StoredResponse) : null;
  const tx = response?.txid ? await deps.store.getTransaction(response.txid) : undefined;
  // Dated: only an undelivered answer may be given again. Undated: only a still-pending txid
  // (no second push, SMS or call); anything else is a new transaction.
  const resend = a.dated ? response !== null && (response.txid === null || tx?.state === 'pending') : tx?.state === 'pending';
  if (resend) return { kind: 'retransmit', response: response! };
  if (!a.dated) return restart(deps, row);
  throw new CoreError('replayed_request', response?.txid ? 'request replayed after its transaction settled' : 'request replayed');
}

async function restart(deps: Deps, row: Parameters<Deps['store']['restartRequest']>[0]): Promise<GuardDecision> {
  await deps.store.restartRequest(row);
  return { kind: 'new', key: row.key };
}

/** Called once the first copy's connection is done with: was the response written? */
export async function recordDelivery(deps: Deps, key: string, response: StoredResponse, delivered: boolean): Promise<void> {
  if (delivered) await deps.store.markRequestDelivered(key);
  else await deps.store.setRequestResponse(key, JSON.stringify(response));
}
