// Loading the user a request names, with the lockout clock applied.
import type { UserRow } from '../store/contract.js';
import type { UserRef } from './context.js';
import type { Deps } from './deps.js';

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
