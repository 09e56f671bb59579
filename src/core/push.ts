// Push as a factor (docs/push.md §2–§6): a login creates a pending push transaction and its
// challenge; the user's Tandem Authenticator lists it and answers with a signature over the
// server's own record of the push; the first valid answer settles it, exactly once.
//
//   startPush    auth → push transaction + challenge (nonce, optional match code), anti-fatigue
//   listRequests the app's view of the pending pushes (never the match code)
//   waitRequests the live channel: held until the list changes
//   decide       approve | deny | fraud, verified against the device key, settled once
import { createHash } from 'node:crypto';
import { approvalMessage, type Decision } from '../protocol/approval.js';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { constantTimeEqual } from '../protocol/compare.js';
import type { DeviceRow, IntegrationRow, PendingPush, TransactionRow, UserRow } from '../store/contract.js';
import { appendAudit } from './audit.js';
import type { Deps } from './deps.js';
import { verifyDeviceSignature } from './device-auth.js';
import { deliverWebPush, verificationMessage } from './push-delivery.js';
import { newTxid, randomString } from './ids.js';
import { verifyApprovalAssertion, type RelyingParty } from './passkeys.js';
import { afterPushSettled, pushContext, type EffectivePushPolicy, type PushContext } from './push-outcome.js';
import { expireTransaction, settle } from './transactions.js';
import { standing } from './user-state.js';

export { effectivePushPolicy } from './push-outcome.js';

export const PUSH_MSG = {
  pushed: 'Pushed a login request to your device...',
  denied: 'Login request denied.',
  fraud: 'Login request denied and reported as fraud.',
  approved: 'Success. Logging you in...',
} as const;

export { verificationMessage };

/** What the app shows as the integration of a push that belongs to none (the enrollment portal's). */
export const PORTAL_INTEGRATION_NAME = 'Enrollment portal';

/** Which of the user's devices a login asked for. */
export type DeviceParam = { kind: 'any' } | { kind: 'id'; id: string } | { kind: 'index'; n: number };

export type PushRefusal = 'factor_not_available' | 'no_capable_device' | 'verified_push_unsupported_client' | 'push_paused' | 'push_limit' | 'passkey_required';

export const REFUSAL_MSG: Record<PushRefusal, string> = {
  factor_not_available: 'Push login is not available for this account. Enter a passcode instead.',
  no_capable_device: 'That device cannot receive push requests. Choose another option or enter a passcode.',
  verified_push_unsupported_client: 'Push login needs a client that shows a verification code. Enter a passcode instead.',
  push_paused: 'Push login is paused after repeated denied or unanswered requests. Enter a passcode instead.',
  push_limit: 'Another login request is already waiting on your device. Answer it or enter a passcode instead.',
  passkey_required: 'Push login here needs a passkey in your Tandem Authenticator. Add one in the app, or enter a passcode instead.',
};

export type StartPushResult =
  | { kind: 'pushed'; tx: TransactionRow; matchCode: string | null }
  | { kind: 'refused'; reason: PushRefusal; statusMsg: string };

/** The user's devices in the order preauth lists them (so `push2` is the second one shown). */
export async function pushDevices(deps: Deps, userId: string): Promise<DeviceRow[]> {
  const list = await deps.store.listDevices(userId);
  return [...list].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Delivery beyond the live channel (the store already announced the new push to held app polls):
 * Web Push, started in the background so that no push service can hold up or fail a login.
 */
export function notifyDevices(deps: Deps, pending: PendingPush, devices: readonly DeviceRow[]): void {
  void deliverWebPush(deps, pending, devices).catch((err: unknown) => deps.log.warn('web push delivery failed', { txid: pending.tx.txid, error: String(err) }));
}

/**
 * Create a pending push for `user` (active, checked by the caller), or say why not. `context` is
 * the login as the host described it (stored with the transaction; the app lists it);
 * `declared` is true when the client said it can show a verification code.
 */
export async function startPush(
  deps: Deps,
  ctx: { integration: Pick<IntegrationRow, 'id' | 'ikey' | 'name'> | null },
  user: UserRow,
  device: DeviceParam,
  context: Omit<PushContext, 'ikey' | 'passkey_required'> & Record<string, unknown>,
  policy: EffectivePushPolicy,
  declared: boolean,
): Promise<StartPushResult> {
  const refuse = (reason: PushRefusal): StartPushResult => ({ kind: 'refused', reason, statusMsg: REFUSAL_MSG[reason] });
  const devices = await pushDevices(deps, user.id);
  if (devices.length === 0) return refuse('factor_not_available');
  let target: string | null = null;
  if (device.kind === 'id') {
    const d = devices.find((x) => x.id === device.id);
    if (!d) return refuse('no_capable_device');
    target = d.id;
  } else if (device.kind === 'index') {
    const d = devices[device.n - 1];
    if (!d) return refuse('no_capable_device');
    target = d.id;
  }
  const verified = policy.verifiedPush === 'required';
  // Never a silent downgrade to a plain push: a client that cannot show the code gets no push.
  if (verified && !declared) return refuse('verified_push_unsupported_client');
  // A push that only a passkey-covered approval can settle is pointless when no device that may
  // answer it has a passkey: refused now, so the login can go on to a passcode.
  const passkeyRequired = policy.approvalAuth === 'passkey';
  if (passkeyRequired) {
    const candidates = target !== null ? devices.filter((d) => d.id === target) : devices;
    const counts = await Promise.all(candidates.map(async (d) => (await deps.store.listPasskeys(d.id)).length));
    if (!counts.some((n) => n > 0)) return refuse('passkey_required');
  }
  const now = deps.clock.now();
  const pausedUntil = await deps.store.getPushPause(user.id);
  if (pausedUntil !== null && pausedUntil > now) return refuse('push_paused');

  const matchCode = verified ? randomString(deps.random, '0123456789', 3) : null;
  const expiresAt = now + deps.settings.pushTimeoutSeconds * 1000;
  const tx: TransactionRow = {
    txid: newTxid(deps.random),
    integrationId: ctx.integration?.id ?? null,
    userId: user.id,
    username: user.username,
    factor: 'push',
    state: 'pending',
    status: 'pushed',
    statusMsg: matchCode !== null ? verificationMessage(matchCode) : PUSH_MSG.pushed,
    version: 1,
    createdAt: now,
    expiresAt,
    settledAt: null,
    context: JSON.stringify({ ...context, ikey: ctx.integration?.ikey ?? '', passkey_required: passkeyRequired }),
  };
  const challenge = { txid: tx.txid, userId: user.id, deviceId: target, nonce: deps.random.bytes(16).toString('base64url'), matchCode, createdAt: now, expiresAt };
  if ((await deps.store.createPushTransaction(tx, challenge, policy.maxPending, now)) === 'too_many') return refuse('push_limit');
  notifyDevices(deps, { challenge, tx, ikey: ctx.integration?.ikey ?? '', integrationName: ctx.integration?.name ?? PORTAL_INTEGRATION_NAME }, devices);
  return { kind: 'pushed', tx, matchCode };
}

/** A pending push as the app shows it (docs/push.md §2). Everything here is untrusted text. */
export interface AppRequest {
  txid: string;
  username: string;
  displayUsername: string | null;
  integration: string;
  integrationName: string;
  /** null when the host sent none (signed as ''). */
  hostname: string | null;
  ipaddr: string | null;
  /** The raw form-encoded text exactly as the host sent it; its SHA-256 is signed. */
  pushinfo: string | null;
  type: string | null;
  createdAt: number;
  expiresAt: number;
  nonce: string;
  numberRequired: boolean;
  /** An approval must carry a WebAuthn assertion by one of this device's passkeys (docs/push.md §8). */
  passkeyRequired: boolean;
}

export interface RequestList {
  requests: AppRequest[];
  fingerprint: string;
}

function toAppRequest(p: PendingPush): AppRequest {
  const c = pushContext(p.tx);
  return {
    txid: p.tx.txid,
    username: p.tx.username,
    displayUsername: c.display_username,
    integration: p.ikey,
    integrationName: p.tx.integrationId === null ? PORTAL_INTEGRATION_NAME : p.integrationName,
    hostname: c.hostname,
    ipaddr: c.ipaddr,
    pushinfo: c.pushinfo_raw,
    type: c.type,
    createdAt: p.tx.createdAt,
    expiresAt: p.challenge.expiresAt,
    nonce: p.challenge.nonce,
    // The match code itself is never listed.
    numberRequired: p.challenge.matchCode !== null,
    passkeyRequired: c.passkey_required,
  };
}

/** Hash of the listed txids: it changes exactly when a push is added, settled or expires. */
export function requestsFingerprint(txids: readonly string[]): string {
  return createHash('sha256').update(`tandem-requests-1\n${[...txids].sort().join('\n')}`).digest('base64url');
}

/** The device's pending pushes (those for any of the user's devices, or for this one), oldest first. */
export async function listRequests(deps: Deps, device: DeviceRow): Promise<RequestList> {
  const pending = await deps.store.listPendingPushes(device.userId, deps.clock.now());
  const requests = pending.filter((p) => p.tx.userId === device.userId && (p.challenge.deviceId === null || p.challenge.deviceId === device.id)).map(toAppRequest);
  return { requests, fingerprint: requestsFingerprint(requests.map((r) => r.txid)) };
}

/**
 * The live channel: answers as soon as the list's fingerprint differs from `known`, else holds
 * until a push of the user is added or settled, the first listed push expires, `holdMs` passes
 * or `signal` aborts.
 */
export async function waitRequests(deps: Deps, device: DeviceRow, known: string | null, holdMs: number, signal?: AbortSignal): Promise<RequestList> {
  const deadline = deps.clock.now() + holdMs;
  for (;;) {
    // Subscribe before listing, so a change between the two is not missed.
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const unsubscribe = deps.store.onUserPushChange(device.userId, () => wake());
    try {
      const list = await listRequests(deps, device);
      const now = deps.clock.now();
      if (list.fingerprint !== known || now >= deadline || signal?.aborted) return list;
      const until = Math.min(deadline, ...list.requests.map((r) => r.expiresAt + 1));
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(until - now, 1));
        signal?.addEventListener('abort', done, { once: true });
        void woken.then(done);
      });
    } finally {
      unsubscribe();
    }
  }
}

export interface DecideInput {
  txid: string;
  decision: Decision;
  /** What the user typed ('' when no number was asked). */
  number: string;
  /** base64url IEEE P1363 ECDSA P-256 / SHA-256 over approvalMessage. */
  signature: string;
  /** A WebAuthn assertion over base64url(SHA-256(approvalMessage)), when the push requires one. */
  assertion?: AuthenticationResponseJSON;
}

export type DecideResult = { ok: true; result: 'allow' | 'deny' | 'fraud' } | { ok: false; reason: string };

const SHA256_EMPTY = createHash('sha256').update('').digest('hex');

/** Rebuild the signed message from the server's records (only decision and number come from the app). */
export function serverApprovalMessage(tx: TransactionRow, nonce: string, expiresAt: number, deviceId: string, decision: Decision, number: string): Uint8Array {
  const c = pushContext(tx);
  return approvalMessage({
    txid: tx.txid,
    username: tx.username,
    integration: c.ikey,
    hostname: c.hostname ?? '',
    ipaddr: c.ipaddr ?? '',
    pushinfoSha256: c.pushinfo_raw === null ? SHA256_EMPTY : createHash('sha256').update(c.pushinfo_raw, 'utf8').digest('hex'),
    decision,
    deviceId,
    nonce,
    expiresAt,
    number,
  });
}

/**
 * One decision from a device (docs/push.md §3). Refusals (`ok: false`, HTTP 409) leave the push
 * alone, except a bad signature or a wrong number from the user's own device, which also deny it.
 * Every outcome is in the audit log.
 */
export async function decide(deps: Deps, device: DeviceRow, input: DecideInput, rp: RelyingParty | null = null): Promise<DecideResult> {
  const tx = await deps.store.getTransaction(input.txid);
  const challenge = tx ? await deps.store.getPushChallenge(input.txid) : undefined;
  const refused = async (reason: string, extra: Record<string, unknown> = {}): Promise<DecideResult> => {
    const c = tx ? pushContext(tx) : null;
    await appendAudit(deps, {
      event: 'push',
      integration: c?.ikey || null,
      username: tx?.username ?? null,
      factor: 'push',
      result: 'refused',
      reason,
      ipaddr: c?.ipaddr ?? null,
      hostname: c?.hostname ?? null,
      txid: tx ? tx.txid : null,
      detail: { deviceId: device.id, decision: input.decision, ...extra },
    });
    return { ok: false, reason };
  };

  // Not a push of this device's user: refused without touching it (another user's device must
  // not be able to deny someone else's login either).
  if (!tx || !challenge || tx.factor !== 'push') return refused('unknown_txid');
  if (tx.userId !== device.userId || challenge.userId !== device.userId) return refused('wrong_user', { deviceUserId: device.userId });
  if (challenge.deviceId !== null && challenge.deviceId !== device.id) return refused('wrong_device', { askedDevice: challenge.deviceId });
  if (tx.state !== 'pending') return refused('already_settled', { state: tx.state });
  const now = deps.clock.now();
  if (Math.min(tx.expiresAt, challenge.expiresAt) <= now) {
    // Expired: settle it as the timeout it is (counted as a denial) and refuse the late answer.
    await expireTransaction(deps, tx.txid);
    return refused('stale');
  }

  const detail: Record<string, unknown> = { deviceId: device.id, decision: input.decision };
  /** Deny the push because of what its own device sent; refused either way. */
  const denyAndRefuse = async (reason: string, extra: Record<string, unknown> = {}): Promise<DecideResult> => {
    if (await settle(deps, tx.txid, 'deny', 'deny', PUSH_MSG.denied)) {
      await afterPushSettled(deps, tx, 'deny', reason, { ...detail, ...extra });
      return { ok: false, reason };
    }
    return refused(reason, { settledBy: 'another answer', ...extra });
  };

  const message = serverApprovalMessage(tx, challenge.nonce, challenge.expiresAt, device.id, input.decision, input.number);
  if (!verifyDeviceSignature(device, message, input.signature)) return denyAndRefuse('bad_signature');
  // Defence in depth: the device key says the answer comes from the device; the passkey's
  // assertion (user verified) says its user is there. Only approvals need it (§8).
  if (input.decision === 'approve' && pushContext(tx).passkey_required) {
    const check = await verifyApprovalAssertion(deps, device, rp, message, input.assertion);
    if (!check.ok) return denyAndRefuse('bad_assertion', { assertion: check.why });
    detail['credentialId'] = check.credentialId;
  }
  if (input.decision === 'approve' && challenge.matchCode !== null && !constantTimeEqual(input.number, challenge.matchCode)) return denyAndRefuse('wrong_number');

  if (input.decision === 'approve') {
    // The user may have been disabled or locked since the push was sent.
    const user = await deps.store.getUser(device.userId);
    if (standing(user, now) !== 'active') {
      if (!(await settle(deps, tx.txid, 'deny', 'deny', PUSH_MSG.denied))) return refused('already_settled');
      await afterPushSettled(deps, tx, 'deny', 'user_not_active', detail);
      return { ok: true, result: 'deny' };
    }
    if (!(await settle(deps, tx.txid, 'allow', 'allow', PUSH_MSG.approved))) return refused('already_settled');
    await afterPushSettled(deps, tx, 'allow', 'approved', detail);
    return { ok: true, result: 'allow' };
  }
  if (input.decision === 'deny') {
    if (!(await settle(deps, tx.txid, 'deny', 'deny', PUSH_MSG.denied))) return refused('already_settled');
    await afterPushSettled(deps, tx, 'deny', 'denied', detail);
    return { ok: true, result: 'deny' };
  }
  if (!(await settle(deps, tx.txid, 'fraud', 'fraud', PUSH_MSG.fraud))) return refused('already_settled');
  await afterPushSettled(deps, tx, 'fraud', 'fraud_reported', detail);
  return { ok: true, result: 'fraud' };
}
