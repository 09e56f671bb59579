// Portal sessions: the cookie holds 256 random bits; the store keeps their SHA-256. A session
// lasts PORTAL_SESSION_SECONDS from the link's exchange and is bound to one user. The CSRF token
// is derived one-way from the session id, so it never reveals the id and needs no storage.
import { createHash } from 'node:crypto';
import { constantTimeEqual } from '../../protocol/compare.js';
import type { PortalSessionRow } from '../../store/contract.js';
import type { Deps } from '../deps.js';
import { newLinkToken } from '../ids.js';

export const PORTAL_SESSION_SECONDS = 15 * 60;
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const sessionIdHash = (id: string): string => createHash('sha256').update(`tandem-portal-session\n${id}`).digest('hex');
export const csrfToken = (id: string): string => createHash('sha256').update(`tandem-portal-csrf\n${id}`).digest('base64url');

export interface NewSession {
  id: string;
  row: PortalSessionRow;
}

export async function newPortalSession(deps: Deps, userId: string, integrationId: string | null): Promise<NewSession> {
  const id = newLinkToken(deps.random);
  const now = deps.clock.now();
  const row: PortalSessionRow = { idHash: sessionIdHash(id), userId, integrationId, createdAt: now, expiresAt: now + PORTAL_SESSION_SECONDS * 1000, provedAt: null, pendingTotpSealed: null };
  await deps.store.createPortalSession(row);
  return { id, row };
}

/** The live session for a cookie value, or undefined (absent, malformed, unknown, expired). */
export async function loadPortalSession(deps: Deps, id: string | undefined): Promise<PortalSessionRow | undefined> {
  if (id === undefined || !SESSION_ID_PATTERN.test(id)) return undefined;
  return deps.store.getPortalSession(sessionIdHash(id), deps.clock.now());
}

export function csrfValid(id: string, given: string | undefined): boolean {
  return typeof given === 'string' && given.length > 0 && given.length < 100 && constantTimeEqual(csrfToken(id), given);
}

export async function endPortalSession(deps: Deps, id: string): Promise<void> {
  await deps.store.deletePortalSession(sessionIdHash(id));
}
