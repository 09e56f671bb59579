// What follows a push's settlement (docs/push.md §3, §6), shared by the app's decisions
// (core/push.ts) and by expiry (core/transactions.ts), which is why this module imports neither:
//   approve → the denial count is cleared, the login is recorded;
//   deny, fraud, timeout → one consecutive denial (threshold reached: push paused for a cooldown);
//   fraud → the user is locked until an operator unlocks them (policy fraudLocks, default on);
//   every outcome → the user's pending list changed (live channel woken) and an audit entry.
// Callers run this only after winning store.settleTransaction, so it happens once per push.
import { ALLOWED_FACTORS, type IntegrationRow, type PushPolicy, type TransactionRow } from '../store/contract.js';
import { appendAudit } from './audit.js';
import type { Deps } from './deps.js';

/** An operator unlock is the only way out of a fraud lock. */
const FRAUD_LOCK_MS = 100 * 365 * 86400_000;

export type EffectivePushPolicy = Required<PushPolicy>;

/** The integration's push policy, each unset field falling back to the site default (settings). */
export function effectivePushPolicy(deps: Pick<Deps, 'settings'>, integration: Pick<IntegrationRow, 'pushPolicy'> | undefined): EffectivePushPolicy {
  const p = integration?.pushPolicy ?? {};
  const s = deps.settings;
  return {
    verifiedPush: p.verifiedPush ?? s.pushVerifiedDefault,
    maxPending: p.maxPending ?? s.pushMaxPending,
    denialThreshold: p.denialThreshold ?? s.pushDenialThreshold,
    cooldownSeconds: p.cooldownSeconds ?? s.pushCooldownSeconds,
    fraudLocks: p.fraudLocks ?? true,
    approvalAuth: p.approvalAuth ?? 'device-key',
    factors: p.factors ?? [...ALLOWED_FACTORS],
    failmodeHint: p.failmodeHint ?? 'secure',
  };
}

/** What a push transaction's context holds (written by core/auth.ts, read by the app's list). */
export interface PushContext {
  ikey: string;
  ipaddr: string | null;
  hostname: string | null;
  /** The pushinfo text exactly as the host sent it (the app hashes this for the signature). */
  pushinfo_raw: string | null;
  type: string | null;
  display_username: string | null;
  /** The push's policy asked for a passkey-covered approval (fixed when the push was made). */
  passkey_required: boolean;
}

export function pushContext(tx: Pick<TransactionRow, 'context'>): PushContext {
  let c: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(tx.context) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) c = parsed as Record<string, unknown>;
  } catch {
    // A context that does not parse is treated as empty: every field absent.
  }
  const str = (k: string): string | null => (typeof c[k] === 'string' ? (c[k] as string) : null);
  return { ikey: str('ikey') ?? '', ipaddr: str('ipaddr'), hostname: str('hostname'), pushinfo_raw: str('pushinfo_raw'), type: str('type'), display_username: str('display_username'), passkey_required: c['passkey_required'] === true };
}

export type PushOutcome = 'allow' | 'deny' | 'fraud' | 'timeout';

/**
 * Bookkeeping, announcement and audit after `tx` was settled as `outcome` by this caller.
 * `reason` names why (approved, denied, fraud_reported, bad_signature, wrong_number, timeout …).
 */
export async function afterPushSettled(
  deps: Deps,
  tx: TransactionRow,
  outcome: PushOutcome,
  reason: string,
  detail: Record<string, unknown> = {},
): Promise<void> {
  const ctx = pushContext(tx);
  const integration = ctx.ikey ? await deps.store.getIntegrationByIkey(ctx.ikey) : undefined;
  const policy = effectivePushPolicy(deps, integration);
  const now = deps.clock.now();
  const extra: Record<string, unknown> = {};
  if (tx.userId !== null) {
    if (outcome === 'allow') {
      await deps.store.clearPushDenials(tx.userId);
      await deps.store.recordSuccess(tx.userId, now);
    } else {
      const after = await deps.store.recordPushDenial(tx.userId, now, policy.denialThreshold, policy.cooldownSeconds * 1000);
      if (after.pausedUntil !== null && after.pausedUntil > now) extra['pushPausedUntil'] = after.pausedUntil;
      if (outcome === 'fraud' && policy.fraudLocks) {
        await deps.store.lockUser(tx.userId, now + FRAUD_LOCK_MS);
        extra['userLocked'] = true;
      }
    }
    await deps.store.announcePushChange(tx.userId);
  }
  await appendAudit(deps, {
    event: 'push',
    integration: ctx.ikey || null,
    username: tx.username,
    factor: 'push',
    result: outcome,
    reason,
    ipaddr: ctx.ipaddr,
    hostname: ctx.hostname,
    txid: tx.txid,
    detail: { ...detail, ...extra },
  });
}

/** A push that expired unanswered (settled as timeout by this caller): counts as a denial. */
export function pushTimedOut(deps: Deps, tx: TransactionRow): Promise<void> {
  return afterPushSettled(deps, tx, 'timeout', 'timeout');
}
