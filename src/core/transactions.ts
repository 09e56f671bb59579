// The one transaction model for every factor:
//   auth(...) → txid: pending → allow | deny | timeout | fraud   (settles exactly once)
//   status(txid) → long-poll until the state changes
// Transactions live in the store, so any node can answer auth_status; a waiting node is woken by
// the store's notifier (in-process for SQLite, LISTEN/NOTIFY for PostgreSQL).
import type { TransactionRow, TxState } from '../store/contract.js';
import type { Deps } from './deps.js';
import { newTxid } from './ids.js';
import { pushTimedOut } from './push-outcome.js';

export type FinalState = Exclude<TxState, 'pending'>;

/** The Duo wire view of a transaction (auth sync response, auth_status). */
export interface TxStatus {
  result: 'allow' | 'deny' | 'waiting';
  status: string;
  status_msg: string;
}

export const STATUS = {
  allow: { status: 'allow', msg: 'Success. Logging you in...' },
  // One message for every failed passcode, whatever the real reason (the audit log has it).
  deny: { status: 'deny', msg: 'Incorrect passcode. Please try again.' },
  timeout: { status: 'timeout', msg: 'Login timed out.' },
  /** Duo's answer for a user in bypass status: allowed with no second factor. */
  bypass: { status: 'bypass', msg: 'Two-factor authentication is bypassed for this account.' },
} as const;

export function txStatus(row: TransactionRow): TxStatus {
  const result = row.state === 'pending' ? 'waiting' : row.state === 'allow' ? 'allow' : 'deny';
  return { result, status: row.status, status_msg: row.statusMsg };
}

/**
 * A new transaction: pending, or — when the decision is already made, as for a passcode —
 * recorded directly in its final state (one write instead of create-then-settle).
 */
export async function createTransaction(
  deps: Deps,
  t: { integrationId: string; userId: string | null; username: string; factor: string; status: string; statusMsg: string; context: Record<string, unknown>; state?: TxState },
): Promise<TransactionRow> {
  const now = deps.clock.now();
  const state = t.state ?? 'pending';
  const row: TransactionRow = {
    txid: newTxid(deps.random),
    integrationId: t.integrationId,
    userId: t.userId,
    username: t.username,
    factor: t.factor,
    state,
    status: t.status,
    statusMsg: t.statusMsg,
    version: 1,
    createdAt: now,
    expiresAt: now + deps.settings.transactionTimeoutSeconds * 1000,
    settledAt: state === 'pending' ? null : now,
    context: JSON.stringify(t.context),
  };
  await deps.store.createTransaction(row);
  return row;
}

export function settle(deps: Deps, txid: string, state: FinalState, status: string, statusMsg: string): Promise<boolean> {
  return deps.store.settleTransaction(txid, { state, status, statusMsg, at: deps.clock.now() });
}

/**
 * Settle a pending transaction past its expiry as `timeout`, exactly once whichever node or path
 * gets there first. The winner of a push's timeout also counts it as a push denial (docs/push.md
 * §6) and announces it; other factors have nothing more to do.
 */
export async function expireTransaction(deps: Deps, txid: string): Promise<boolean> {
  if (!(await settle(deps, txid, 'timeout', STATUS.timeout.status, STATUS.timeout.msg))) return false;
  const row = await deps.store.getTransaction(txid);
  if (row?.factor === 'push') await pushTimedOut(deps, row);
  return true;
}

/**
 * Wait until the transaction's version passes `seenVersion`, it settles, `holdMs` elapses or
 * `signal` aborts; a pending transaction past its expiry is settled as `timeout` here (exactly
 * once, whichever node gets there first). Returns the row as it then is.
 */
export async function waitForChange(deps: Deps, txid: string, seenVersion: number, holdMs: number, signal?: AbortSignal): Promise<TransactionRow | undefined> {
  const deadline = deps.clock.now() + holdMs;
  for (;;) {
    let row = await deps.store.getTransaction(txid);
    if (!row) return undefined;
    if (row.state === 'pending' && row.expiresAt <= deps.clock.now()) {
      await expireTransaction(deps, txid);
      row = await deps.store.getTransaction(txid);
      return row;
    }
    if (row.state !== 'pending' || row.version > seenVersion) return row;
    const now = deps.clock.now();
    if (now >= deadline || signal?.aborted) return row;
    await nextChange(deps, txid, Math.max(Math.min(deadline, row.expiresAt) - now, 1), signal);
  }
}

/** Resolves on the first change notification, after `ms`, or on abort. */
function nextChange(deps: Deps, txid: string, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const unsubscribe = deps.store.onTransactionChange(txid, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Settle every pending transaction past its expiry (run periodically by the server). */
export async function expirePending(deps: Deps): Promise<number> {
  let n = 0;
  for (const txid of await deps.store.listExpiredPending(deps.clock.now(), 500)) {
    if (await expireTransaction(deps, txid)) n++;
  }
  return n;
}
