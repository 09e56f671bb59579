// Users and their aliases (one namespace: a name belongs to at most one user).
import { StoreConflictError, type UserRow, type UserStatus } from '../store/contract.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { newUserId } from './ids.js';
import { adminAudit } from './integrations.js';
import { checkName } from './names.js';

export interface UserView {
  userId: string;
  username: string;
  aliases: string[];
  /**
   * What the user gets now: 'bypass' (Duo's status: in with primary auth only), 'disabled', or
   * 'locked out' (derived from lockedUntil; a lock wins over bypass, a disabled user is disabled).
   */
  status: 'active' | 'bypass' | 'disabled' | 'locked out';
  /** The status an operator set (what `tandem user enable|disable|bypass` change). */
  accountStatus: UserStatus;
  failures: number;
  lockedUntil: number | null;
  createdAt: number;
  lastLoginAt: number | null;
}

export function isLocked(u: UserRow, now: number): boolean {
  return u.lockedUntil !== null && u.lockedUntil > now;
}

export function userView(u: UserRow, now: number): UserView {
  return {
    userId: u.id,
    username: u.username,
    aliases: u.aliases,
    status: u.status === 'disabled' ? 'disabled' : isLocked(u, now) ? 'locked out' : u.status,
    accountStatus: u.status,
    failures: u.failures,
    lockedUntil: isLocked(u, now) ? u.lockedUntil : null,
    createdAt: u.createdAt,
    lastLoginAt: u.lastLoginAt,
  };
}

export async function createUser(deps: Deps, username: string, aliases: string[] = []): Promise<UserView> {
  const name = checkName('username', username);
  const all = aliases.map((a) => checkName('alias', a));
  if (new Set([name, ...all]).size !== all.length + 1) throw new CoreError('bad_request', 'aliases must differ from each other and from the username');
  const row = { id: newUserId(deps.random), username: name, aliases: all, status: 'active' as const, createdAt: deps.clock.now() };
  try {
    await deps.store.createUser(row);
  } catch (e) {
    if (e instanceof StoreConflictError) {
      // The insert already failed atomically; this lookup only makes the message precise.
      for (const n of [name, ...all]) {
        const holder = await deps.store.findUserByName(n);
        if (holder) throw new CoreError('conflict', `the name ${n} is already taken by user ${holder.username}`);
      }
      throw new CoreError('conflict', `the name ${name} or one of its aliases is already taken`);
    }
    throw e;
  }
  await adminAudit(deps, 'user_created', { aliases: all }, name);
  return userView({ ...row, failures: 0, lockedUntil: null, lastLoginAt: null }, deps.clock.now());
}

export async function mustFindUser(deps: Deps, name: string): Promise<UserRow> {
  const u = await deps.store.findUserByName(name);
  if (!u) throw new CoreError('not_found', `no user named ${name}`);
  return u;
}

export async function listUsers(deps: Deps): Promise<UserView[]> {
  const now = deps.clock.now();
  return (await deps.store.listUsers()).map((u) => userView(u, now));
}

export async function showUser(deps: Deps, name: string): Promise<UserView> {
  return userView(await mustFindUser(deps, name), deps.clock.now());
}

/** `tandem user enable|disable` and the console: back to active (from disabled or bypass), or disabled. */
export async function setUserEnabled(deps: Deps, name: string, enabled: boolean): Promise<void> {
  const u = await mustFindUser(deps, name);
  await deps.store.setUserStatus(u.id, enabled ? 'active' : 'disabled');
  await adminAudit(deps, enabled ? 'user_enabled' : 'user_disabled', u.status === 'bypass' ? { from: 'bypass' } : {}, u.username);
}

/**
 * `tandem user bypass` and the console: Duo's bypass status. preauth answers allow and auth
 * answers allow with status `bypass`, so the user is let in with the password alone (for an
 * emergency such as a lost phone). A lock still denies (core/user-state.ts); `enable` ends it.
 */
export async function setUserBypass(deps: Deps, name: string): Promise<void> {
  const u = await mustFindUser(deps, name);
  await deps.store.setUserStatus(u.id, 'bypass');
  await adminAudit(deps, 'user_bypass_set', { from: u.status }, u.username);
}

export async function unlockUser(deps: Deps, name: string): Promise<void> {
  const u = await mustFindUser(deps, name);
  await deps.store.unlockUser(u.id);
  await adminAudit(deps, 'user_unlocked', {}, u.username);
}

export async function deleteUser(deps: Deps, name: string): Promise<void> {
  const u = await mustFindUser(deps, name);
  await deps.store.deleteUser(u.id);
  await adminAudit(deps, 'user_deleted', {}, u.username);
}

/** `tandem user alias add USER ALIAS` and the console: another name for the same user. */
export async function addAlias(deps: Deps, name: string, alias: string): Promise<UserView> {
  const u = await mustFindUser(deps, name);
  const a = checkName('alias', alias);
  try {
    if (!(await deps.store.addUserAlias(u.id, a))) throw new CoreError('not_found', `no user named ${name}`);
  } catch (e) {
    if (e instanceof StoreConflictError) {
      const holder = await deps.store.findUserByName(a);
      throw new CoreError('conflict', `the name ${a} is already taken${holder ? ` by user ${holder.username}` : ''}`);
    }
    throw e;
  }
  await adminAudit(deps, 'alias_added', { alias: a }, u.username);
  return showUser(deps, u.username);
}

/** `tandem user alias remove USER ALIAS` and the console. The username itself is not an alias. */
export async function removeAlias(deps: Deps, name: string, alias: string): Promise<UserView> {
  const u = await mustFindUser(deps, name);
  if (!(await deps.store.removeUserAlias(u.id, alias))) throw new CoreError('not_found', `${alias} is not an alias of ${u.username}`);
  await adminAudit(deps, 'alias_removed', { alias }, u.username);
  return showUser(deps, u.username);
}
