// Bypass codes: nine digits, shown once, stored only as an HMAC under a key derived from the
// master key. A plain hash of a 9-digit code falls to brute force in seconds; the HMAC needs the
// master key, which production keeps out of the database's backups.
import type { BypassCodeRow } from '../store/contract.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { newBypassCode, newBypassId } from './ids.js';
import { adminAudit } from './integrations.js';
import { mustFindUser } from './users.js';

export const bypassHmac = (deps: Pick<Deps, 'keyring'>, userId: string, code: string): string =>
  deps.keyring.hmac('bypass-code', `${userId}:${code}`);

export interface BypassView {
  bypassId: string;
  usesRemaining: number | null;
  expiresAt: number | null;
  createdAt: number;
}

export async function createBypassCodes(
  deps: Deps,
  username: string,
  o: { count?: number; uses?: number; validSecs?: number },
): Promise<{ codes: string[]; expiresAt: number | null }> {
  const user = await mustFindUser(deps, username);
  const count = o.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 10) throw new CoreError('bad_request', 'count must be 1 to 10');
  const uses = o.uses ?? 1;
  if (!Number.isInteger(uses) || uses < 0 || uses > 1000) throw new CoreError('bad_request', 'uses must be 0 (unlimited) to 1000');
  const validSecs = o.validSecs ?? 0;
  if (!Number.isInteger(validSecs) || validSecs < 0) throw new CoreError('bad_request', 'valid-secs must be a non-negative integer (0: never expires)');
  const now = deps.clock.now();
  const expiresAt = validSecs > 0 ? now + validSecs * 1000 : null;
  const codes = new Set<string>();
  while (codes.size < count) codes.add(newBypassCode(deps.random));
  const rows: BypassCodeRow[] = [...codes].map((code) => ({
    id: newBypassId(deps.random),
    userId: user.id,
    codeHmac: bypassHmac(deps, user.id, code),
    usesRemaining: uses === 0 ? null : uses,
    expiresAt,
    createdAt: now,
  }));
  await deps.store.addBypassCodes(user.id, rows, false);
  await adminAudit(deps, 'bypass_created', { count, uses, expiresAt }, user.username);
  return { codes: [...codes], expiresAt };
}

export async function listBypassCodes(deps: Deps, username: string): Promise<BypassView[]> {
  const user = await mustFindUser(deps, username);
  return (await deps.store.listBypassCodes(user.id)).map((r) => ({ bypassId: r.id, usesRemaining: r.usesRemaining, expiresAt: r.expiresAt, createdAt: r.createdAt }));
}

export async function clearBypassCodes(deps: Deps, username: string): Promise<number> {
  const user = await mustFindUser(deps, username);
  const n = await deps.store.clearBypassCodes(user.id);
  await adminAudit(deps, 'bypass_cleared', { removed: n }, user.username);
  return n;
}
