// Enrollment links: `${portalBase}/portal/enroll/<token>`, 256 random bits, single use, expiring,
// stored as SHA-256. Preauth makes them for users who must enroll (settings.enrollLinkSeconds);
// `tandem user enroll-link` makes them for an admin to send (7 days by default). Opening a link
// (GET) only reads it; the "Continue" POST exchanges it, once, for a portal session.
import { createHash } from 'node:crypto';
import { StoreConflictError, type EnrollTokenRow, type UserRow } from '../../store/contract.js';
import type { Deps } from '../deps.js';
import { CoreError } from '../errors.js';
import { newLinkToken, newUserId } from '../ids.js';
import { checkName } from '../names.js';
import { portalBase } from '../preauth.js';
import { mustFindUser } from '../users.js';
import { enrollmentAudit } from './audit.js';
import { newPortalSession, type NewSession } from './session.js';

export const ENROLL_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const ADMIN_LINK_DEFAULT_SECONDS = 7 * 86400;
export const ADMIN_LINK_MAX_SECONDS = 30 * 86400;

export const enrollTokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

export interface EnrollLinkView {
  url: string;
  username: string;
  expiresAt: number;
}

/** `tandem user enroll-link USER [--valid-secs N]`: a link bound to an existing user, no integration. */
export async function createAdminEnrollLink(deps: Deps, username: string, validSecs: number = ADMIN_LINK_DEFAULT_SECONDS): Promise<EnrollLinkView> {
  if (!Number.isSafeInteger(validSecs) || validSecs < 60 || validSecs > ADMIN_LINK_MAX_SECONDS) {
    throw new CoreError('bad_request', `valid-secs must be an integer from 60 to ${ADMIN_LINK_MAX_SECONDS}`);
  }
  const user = await mustFindUser(deps, username);
  if (user.status !== 'active') throw new CoreError('refused', `user ${user.username} is disabled; enable them first`);
  const token = newLinkToken(deps.random);
  const now = deps.clock.now();
  const expiresAt = now + validSecs * 1000;
  await deps.store.createEnrollToken({ tokenHash: enrollTokenHash(token), integrationId: null, username: user.username, createdAt: now, expiresAt, usedAt: null });
  await enrollmentAudit(deps, { username: user.username, reason: 'link_created', detail: { via: deps.actor === undefined ? 'cli' : 'console', expiresAt } });
  return { url: `${portalBase(deps)}/portal/enroll/${token}`, username: user.username, expiresAt };
}

/** Whether a link can still be used (read only: a GET, a link-preview bot, must not spend it). */
export async function enrollLinkUsable(deps: Deps, token: string): Promise<boolean> {
  if (!ENROLL_TOKEN_PATTERN.test(token)) return false;
  const row = await deps.store.getEnrollToken(enrollTokenHash(token));
  return row !== undefined && row.usedAt === null && row.expiresAt > deps.clock.now();
}

/** The link's user; created when preauth sent an unknown user to enroll (Duo's new-user policy). */
async function linkUser(deps: Deps, row: EnrollTokenRow): Promise<UserRow | undefined> {
  const found = await deps.store.findUserByName(row.username);
  if (found) return found;
  let username: string;
  try {
    username = checkName('username', row.username);
  } catch {
    return undefined;
  }
  const user = { id: newUserId(deps.random), username, aliases: [], status: 'active' as const, createdAt: deps.clock.now() };
  try {
    await deps.store.createUser(user);
  } catch (e) {
    if (e instanceof StoreConflictError) return deps.store.findUserByName(row.username);
    throw e;
  }
  await enrollmentAudit(deps, { username, reason: 'user_created', integration: null, detail: { via: 'portal' } });
  return deps.store.findUserByName(username);
}

/**
 * Uses the link once (the store's conditional update is the check) and opens a portal session for
 * its user. Undefined for an unknown, used, expired link, or a user who may not enroll.
 */
export async function exchangeEnrollLink(deps: Deps, token: string, ipaddr: string | null): Promise<NewSession | undefined> {
  if (!ENROLL_TOKEN_PATTERN.test(token)) return undefined;
  const row = await deps.store.consumeEnrollToken(enrollTokenHash(token), deps.clock.now());
  if (!row) return undefined;
  const user = await linkUser(deps, row);
  if (!user || user.status !== 'active') {
    await enrollmentAudit(deps, { username: row.username, reason: 'link_refused_user', result: 'refused', ipaddr });
    return undefined;
  }
  const session = await newPortalSession(deps, user.id, row.integrationId);
  await enrollmentAudit(deps, { username: user.username, reason: 'link_used', ipaddr, detail: { admin: row.integrationId === null } });
  return session;
}
