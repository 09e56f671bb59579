// Loading the user a request names, with the lockout clock applied.
import type { UserRow } from '../store/contract.js';
import type { UserRef } from './context.js';
import type { Deps } from './deps.js';

/**
 * 'active' is "may log in": it covers users in bypass status too (check `user.status === 'bypass'`
 * for the second factor, see isBypass). Precedence: disabled, then locked out, then bypass.
 */
export type Standing = 'active' | 'disabled' | 'locked_out' | 'unknown';

export async function loadUser(deps: Deps, ref: UserRef): Promise<UserRow | undefined> {
  const u = 'username' in ref ? await deps.store.findUserByName(ref.username) : await deps.store.getUser(ref.userId);
  if (u && u.lockedUntil !== null && u.lockedUntil <= deps.clock.now()) {
    // The lock expired (settings.lockoutSeconds): start counting afresh, or the next single
    // failure would lock the user again at once.
    await deps.store.unlockUser(u.id);
    return { ...u, failures: 0, lockedUntil: null };
  }
  return u;
}

export function standing(u: UserRow | undefined, now: number): Standing {
  if (!u) return 'unknown';
  if (u.status === 'disabled') return 'disabled';
  if (u.lockedUntil !== null && u.lockedUntil > now) return 'locked_out';
  return 'active';
}

/**
 * The user is let in without a second factor (Duo's `bypass` status): only a user who may log in
 * at all. A disabled user is never let in (the status is one value anyway), and a locked user
 * stays denied until the lock expires or an operator unlocks: bypass does not lift a lock.
 */
export function isBypass(u: UserRow, st: Standing): boolean {
  return st === 'active' && u.status === 'bypass';
}

/** Lock duration for store.recordFailure: lockoutSeconds, or "until an operator unlocks" for 0. */
export function lockMs(deps: Deps): number {
  return deps.settings.lockoutSeconds > 0 ? deps.settings.lockoutSeconds * 1000 : 100 * 365 * 86400_000;
}

/** The audit reason for refusing a user in this standing (Duo's auth-log reason names). */
export const REFUSAL_REASON: Record<Exclude<Standing, 'active'>, string> = {
  unknown: 'unknown_user',
  disabled: 'user_disabled',
  locked_out: 'locked_out',
};
