// Enrollments held for an admin's approval (an integration with enrollmentApproval 'admin'). A
// held TOTP seed is sealed to its row and becomes a token only on approval; a held Tandem
// Authenticator becomes an activation (its link is for the admin to send). Nothing held is usable
// for login. `tandem enrollment list|approve|deny` and the console call these.
import type { PendingEnrollmentKind, PendingEnrollmentRow, TokenRow } from '../store/contract.js';
import type { Deps } from './deps.js';
import { createActivation, type ActivationView } from './devices.js';
import { CoreError } from './errors.js';
import { newTokenId, randomString } from './ids.js';
import { enrollmentAudit } from './portal/audit.js';
import { sealSeed } from './tokens.js';

const heldAad = (id: string, userId: string): string => `enrollment/${id}/${userId}/seed`;
export const newEnrollmentId = (deps: Deps): string => 'DE' + randomString(deps.random, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 18);

export async function holdEnrollment(
  deps: Deps,
  o: { userId: string; integrationId: string | null; kind: PendingEnrollmentKind; seed: Buffer | null; nextCounter: number },
): Promise<string> {
  const id = newEnrollmentId(deps);
  await deps.store.createPendingEnrollment({
    id,
    userId: o.userId,
    integrationId: o.integrationId,
    kind: o.kind,
    secretSealed: o.seed ? deps.keyring.seal('totp-seed', heldAad(id, o.userId), o.seed) : null,
    nextCounter: o.nextCounter,
    state: 'pending',
    createdAt: deps.clock.now(),
    decidedAt: null,
  });
  return id;
}

export interface EnrollmentView {
  id: string;
  username: string;
  kind: PendingEnrollmentKind;
  integration: string | null;
  state: PendingEnrollmentRow['state'];
  createdAt: number;
}

async function view(deps: Deps, r: PendingEnrollmentRow, ikeys: Map<string, string>): Promise<EnrollmentView> {
  const user = await deps.store.getUser(r.userId);
  return { id: r.id, username: user?.username ?? '', kind: r.kind, integration: r.integrationId === null ? null : (ikeys.get(r.integrationId) ?? null), state: r.state, createdAt: r.createdAt };
}

export async function listEnrollments(deps: Deps, o: { all?: boolean } = {}): Promise<EnrollmentView[]> {
  const ikeys = new Map((await deps.store.listIntegrations()).map((i) => [i.id, i.ikey]));
  const rows = await deps.store.listPendingEnrollments(o.all ?? false);
  return Promise.all(rows.map((r) => view(deps, r, ikeys)));
}

async function decide(deps: Deps, id: string, state: 'approved' | 'denied'): Promise<{ row: PendingEnrollmentRow; username: string }> {
  const row = await deps.store.decidePendingEnrollment(id, state, deps.clock.now());
  if (!row) throw new CoreError('not_found', `no held enrollment ${id}`);
  const user = await deps.store.getUser(row.userId);
  if (!user) throw new CoreError('not_found', `the user of enrollment ${id} is gone`);
  return { row, username: user.username };
}

/**
 * Approves once: a held TOTP becomes a token (the approval and the token in one store
 * transaction, so a crash cannot leave it approved without its token); a held device gets an
 * activation link.
 */
export async function approveEnrollment(deps: Deps, id: string, by: string = deps.actor ?? 'cli'): Promise<{ id: string; username: string; kind: PendingEnrollmentKind; tokenId?: string; activation?: ActivationView }> {
  const held = await deps.store.getPendingEnrollment(id);
  if (!held || held.state !== 'pending') throw new CoreError('not_found', `no held enrollment ${id}`);
  if (held.kind === 'totp') {
    if (held.secretSealed === null) throw new CoreError('refused', `enrollment ${id} holds no seed`);
    const user = await deps.store.getUser(held.userId);
    if (!user) throw new CoreError('not_found', `the user of enrollment ${id} is gone`);
    const seed = deps.keyring.unseal('totp-seed', heldAad(held.id, held.userId), held.secretSealed);
    const tokenId = newTokenId(deps.random);
    const token: TokenRow = { id: tokenId, userId: held.userId, type: 'totp', secretSealed: sealSeed(deps, tokenId, held.userId, seed), digits: 6, algorithm: 'sha1', period: 30, nextCounter: held.nextCounter, createdAt: deps.clock.now() };
    if (!(await deps.store.approvePendingTotp(id, token, deps.clock.now()))) throw new CoreError('not_found', `no held enrollment ${id}`);
    await enrollmentAudit(deps, { username: user.username, reason: 'approved', detail: { id, kind: held.kind, by, tokenId } });
    return { id, username: user.username, kind: held.kind, tokenId };
  }
  const { row, username } = await decide(deps, id, 'approved');
  const activation = await createActivation(deps, username, deps.settings.deviceActivationSeconds, { via: 'enrollment-approval', id });
  await enrollmentAudit(deps, { username, reason: 'approved', detail: { id, kind: row.kind, by, expiresAt: activation.expiresAt } });
  return { id, username, kind: row.kind, activation };
}

export async function denyEnrollment(deps: Deps, id: string, by: string = deps.actor ?? 'cli'): Promise<{ id: string; username: string }> {
  const { row, username } = await decide(deps, id, 'denied');
  await enrollmentAudit(deps, { username, reason: 'denied', result: 'refused', detail: { id, kind: row.kind, by } });
  return { id, username };
}

/** Sets an integration's enrollment approval policy ('open' | 'admin'), audited. */
export async function setEnrollmentApproval(deps: Deps, ikey: string, approval: string): Promise<void> {
  if (approval !== 'open' && approval !== 'admin') throw new CoreError('bad_request', 'enrollment approval must be open or admin');
  if (!(await deps.store.setIntegrationEnrollmentApproval(ikey, approval))) throw new CoreError('not_found', `no integration with ikey ${ikey}`);
  await enrollmentAudit(deps, { username: null, reason: 'policy_set', integration: ikey, detail: { enrollmentApproval: approval, by: deps.actor ?? 'cli' } });
}
