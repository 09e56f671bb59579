// Console sessions: a random 256-bit id in the cookie, stored only as its SHA-256; idle and
// absolute timeouts enforced by the store's one conditional UPDATE; the CSRF token is an HMAC
// keyed by the session id, so it is bound to the session, never stored, and useless with any
// other session's cookie.
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from '../protocol/compare.js';
import type { AdminRow, AdminSessionRow } from '../store/contract.js';
import { adminAudit } from './integrations.js';
import type { Deps } from './deps.js';

/** 32 bytes, base64url without padding. */
const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const idHash = (id: string): string => createHash('sha256').update(`tandem-console-session:${id}`).digest('hex');
export const csrfToken = (sessionId: string): string => createHmac('sha256', sessionId).update('tandem-console-csrf').digest('base64url');

export interface LiveSession {
  id: string;
  row: AdminSessionRow;
  admin: AdminRow;
  csrf: string;
}

export async function startSession(deps: Deps, admin: AdminRow): Promise<{ id: string; csrf: string }> {
  const id = deps.random.bytes(32).toString('base64url');
  const now = deps.clock.now();
  await deps.store.purgeAdminSessions(now, now - deps.settings.consoleIdleSeconds * 1000);
  await deps.store.createAdminSession({ idHash: idHash(id), adminId: admin.id, createdAt: now, lastSeenAt: now, expiresAt: now + deps.settings.consoleSessionSeconds * 1000, reauthAt: now });
  return { id, csrf: csrfToken(id) };
}

/** The live session for a cookie value (touched), with its admin, who must still be active. */
export async function findSession(deps: Deps, id: string | undefined): Promise<LiveSession | null> {
  if (id === undefined || !SESSION_ID_PATTERN.test(id)) return null;
  const row = await deps.store.touchAdminSession(idHash(id), deps.clock.now(), deps.settings.consoleIdleSeconds * 1000);
  if (!row) return null;
  const admin = await deps.store.getAdmin(row.adminId);
  if (!admin || admin.status !== 'active') return null;
  return { id, row, admin, csrf: csrfToken(id) };
}

export function csrfMatches(s: LiveSession, submitted: string | undefined): boolean {
  return typeof submitted === 'string' && constantTimeEqual(s.csrf, submitted);
}

export async function endSession(deps: Deps, s: LiveSession): Promise<void> {
  await deps.store.deleteAdminSession(idHash(s.id));
  await adminAudit({ ...deps, actor: s.admin.name }, 'console_sign_out', {});
}

/** Whether the admin re-entered password and code recently enough for a sensitive action. */
export const reauthFresh = (deps: Deps, s: LiveSession): boolean =>
  s.row.reauthAt !== null && s.row.reauthAt > deps.clock.now() - deps.settings.consoleReauthSeconds * 1000;

export async function markReauth(deps: Deps, s: LiveSession): Promise<void> {
  const now = deps.clock.now();
  await deps.store.setAdminSessionReauth(idHash(s.id), now);
  s.row = { ...s.row, reauthAt: now };
}
