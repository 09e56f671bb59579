// What a portal session can do for its user: see their factors, prove one they have, add the
// Tandem Authenticator or an authenticator app (TOTP, saved only after a correct code), and remove
// a factor. A user who already has a factor must prove it first (a current code, or a bypass code
// an admin gave), so a link shown at a login cannot add an attacker's phone to an enrolled account.
import { base32Encode } from '../../protocol/base32.js';
import { buildOtpauthUri } from '../../protocol/otpauth.js';
import { findOtpMatch, totpCandidates } from '../../protocol/totp.js';
import type { EnrollmentApproval, PortalSessionRow, TokenRow, UserRow } from '../../store/contract.js';
import type { Deps } from '../deps.js';
import { createActivation, type ActivationView } from '../devices.js';
import { newTokenId } from '../ids.js';
import { ISSUER, sealSeed } from '../tokens.js';
import { lockMs, standing } from '../user-state.js';
import { verifyPasscode } from '../verify-passcode.js';
import { enrollmentAudit } from './audit.js';
import { holdEnrollment } from '../enrollments.js';

const SEED_BYTES = 20;
const CODE = /^[0-9]{6}$/;
const pendingAad = (s: PortalSessionRow): string => `portal/${s.idHash}/${s.userId}/pending-totp`;

export interface PortalFactor {
  kind: 'device' | 'token';
  id: string;
  label: string;
  createdAt: number;
}

export interface PortalOverview {
  user: UserRow;
  factors: PortalFactor[];
  /** Held enrollments waiting for an admin. */
  held: number;
  mustProve: boolean;
  approval: EnrollmentApproval;
  ikey: string | null;
}

/** A refusal the page shows as it is (never a secret). */
export class PortalRefusal extends Error {}

async function sessionUser(deps: Deps, s: PortalSessionRow): Promise<UserRow> {
  const user = await deps.store.getUser(s.userId);
  if (!user || user.status !== 'active') throw new PortalRefusal('This account is disabled. Contact your administrator.');
  return user;
}

async function integrationOf(deps: Deps, s: PortalSessionRow): Promise<{ approval: EnrollmentApproval; ikey: string | null }> {
  if (s.integrationId === null) return { approval: 'open', ikey: null };
  const i = (await deps.store.listIntegrations()).find((r) => r.id === s.integrationId);
  return { approval: i?.enrollmentApproval ?? 'open', ikey: i?.ikey ?? null };
}

async function hasFactor(deps: Deps, user: UserRow): Promise<boolean> {
  const now = deps.clock.now();
  if ((await deps.store.listTokens(user.id)).length > 0) return true;
  return (await deps.store.listBypassCodes(user.id)).some((b) => b.expiresAt === null || b.expiresAt > now);
}

export async function portalOverview(deps: Deps, s: PortalSessionRow): Promise<PortalOverview> {
  const user = await sessionUser(deps, s);
  const devices = await deps.store.listDevices(user.id);
  const deviceTokens = new Set(devices.map((d) => d.tokenId));
  const tokens = (await deps.store.listTokens(user.id)).filter((t) => !deviceTokens.has(t.id));
  const factors: PortalFactor[] = [
    ...devices.map((d): PortalFactor => ({ kind: 'device', id: d.id, label: d.name, createdAt: d.createdAt })),
    ...tokens.map((t): PortalFactor => ({ kind: 'token', id: t.id, label: t.type === 'totp' ? 'Authenticator app (TOTP)' : 'Hardware token (HOTP)', createdAt: t.createdAt })),
  ];
  const held = (await deps.store.listPendingEnrollments()).filter((p) => p.userId === user.id).length;
  const mustProve = s.provedAt === null && (await hasFactor(deps, user));
  return { user, factors, held, mustProve, ...(await integrationOf(deps, s)) };
}

async function requireProof(deps: Deps, s: PortalSessionRow, user: UserRow, action: string): Promise<void> {
  if (s.provedAt !== null || !(await hasFactor(deps, user))) return;
  await enrollmentAudit(deps, { username: user.username, reason: 'proof_missing', result: 'refused', detail: { action } });
  throw new PortalRefusal('First confirm that you are you: enter a code from a device you already have.');
}

/** A code from an existing token (or a bypass code): accepted once, failures count toward lockout. */
export async function proveFactor(deps: Deps, s: PortalSessionRow, code: string): Promise<boolean> {
  const user = await sessionUser(deps, s);
  const now = deps.clock.now();
  const active = standing(user, now) === 'active';
  const outcome = await verifyPasscode(deps, user, active, code);
  if (outcome.ok) {
    await deps.store.recordSuccess(user.id, now);
    await deps.store.setPortalProved(s.idHash, now);
    await enrollmentAudit(deps, { username: user.username, reason: 'proof_ok', detail: { factor: outcome.factor } });
    return true;
  }
  if (active) await deps.store.recordFailure(user.id, now, deps.settings.lockoutThreshold, lockMs(deps));
  await enrollmentAudit(deps, { username: user.username, reason: active ? 'proof_failed' : 'proof_locked_out', result: 'refused' });
  return false;
}

export interface TotpOffer {
  secret: string;
  otpauth: string;
}

/** A fresh seed, kept sealed in the session until the user types a code from it. */
export async function startTotp(deps: Deps, s: PortalSessionRow): Promise<TotpOffer> {
  const user = await sessionUser(deps, s);
  await requireProof(deps, s, user, 'totp');
  const seed = deps.random.bytes(SEED_BYTES);
  await deps.store.setPortalPendingTotp(s.idHash, deps.keyring.seal('totp-seed', pendingAad(s), seed));
  const secret = base32Encode(seed);
  return { secret, otpauth: buildOtpauthUri({ type: 'totp', issuer: ISSUER, account: user.username, secretBase32: secret, digits: 6, algorithm: 'sha1', period: 30 }) };
}

export type TotpConfirmation = 'saved' | 'held' | 'wrong_code' | 'nothing_pending';

/** Saves the pending seed only when `code` is one of its current codes; that code is spent. */
export async function confirmTotp(deps: Deps, s: PortalSessionRow, code: string): Promise<TotpConfirmation> {
  const user = await sessionUser(deps, s);
  await requireProof(deps, s, user, 'totp');
  const sealed = s.pendingTotpSealed;
  if (sealed === null) return 'nothing_pending';
  const seed = deps.keyring.unseal('totp-seed', pendingAad(s), sealed);
  const trimmed = code.length > 64 ? '' : code.trim();
  const step = CODE.test(trimmed)
    ? findOtpMatch({ secret: seed, code: trimmed, digits: 6, algorithm: 'sha1', candidates: totpCandidates(deps.clock.now(), 30, deps.settings.totpWindowSteps, 0) })
    : null;
  if (step === null) {
    await enrollmentAudit(deps, { username: user.username, reason: 'totp_wrong_code', result: 'refused' });
    return 'wrong_code';
  }
  if (!(await deps.store.takePortalPendingTotp(s.idHash, sealed))) return 'nothing_pending';
  const { approval, ikey } = await integrationOf(deps, s);
  if (approval === 'admin') {
    const id = await holdEnrollment(deps, { userId: user.id, integrationId: s.integrationId, kind: 'totp', seed, nextCounter: step + 1 });
    await enrollmentAudit(deps, { username: user.username, reason: 'totp_held', result: 'held', integration: ikey, detail: { id } });
    return 'held';
  }
  const id = newTokenId(deps.random);
  const row: TokenRow = { id, userId: user.id, type: 'totp', secretSealed: sealSeed(deps, id, user.id, seed), digits: 6, algorithm: 'sha1', period: 30, nextCounter: step + 1, createdAt: deps.clock.now() };
  await deps.store.addToken(row);
  // The session holder has just shown they hold a factor of this account.
  await deps.store.setPortalProved(s.idHash, deps.clock.now());
  await enrollmentAudit(deps, { username: user.username, reason: 'totp_added', integration: ikey, detail: { tokenId: id } });
  return 'saved';
}

/** The Tandem Authenticator: an activation (QR and link), or a held request under admin approval. */
export async function addAuthenticator(deps: Deps, s: PortalSessionRow): Promise<{ activation: ActivationView } | { held: string }> {
  const user = await sessionUser(deps, s);
  await requireProof(deps, s, user, 'device');
  const { approval, ikey } = await integrationOf(deps, s);
  if (approval === 'admin') {
    const id = await holdEnrollment(deps, { userId: user.id, integrationId: s.integrationId, kind: 'device', seed: null, nextCounter: 0 });
    await enrollmentAudit(deps, { username: user.username, reason: 'device_held', result: 'held', integration: ikey, detail: { id } });
    return { held: id };
  }
  const activation = await createActivation(deps, user.username, deps.settings.deviceActivationSeconds, { via: 'portal' });
  await enrollmentAudit(deps, { username: user.username, reason: 'device_activation_issued', integration: ikey, detail: { expiresAt: activation.expiresAt } });
  return { activation };
}

/** Removes one of the session user's devices or tokens (always after proof). */
export async function removeFactor(deps: Deps, s: PortalSessionRow, kind: string, id: string): Promise<void> {
  const user = await sessionUser(deps, s);
  await requireProof(deps, s, user, 'remove');
  if (kind === 'device') {
    const d = await deps.store.getDevice(id);
    if (!d || d.userId !== user.id) throw new PortalRefusal('No such device.');
    await deps.store.removeDevice(id);
    await enrollmentAudit(deps, { username: user.username, reason: 'device_removed', detail: { deviceId: id, name: d.name } });
    return;
  }
  if (kind === 'token') {
    const t = await deps.store.getToken(id);
    const owned = t && t.userId === user.id && !(await deps.store.listDevices(user.id)).some((d) => d.tokenId === id);
    if (!owned) throw new PortalRefusal('No such token.');
    await deps.store.removeToken(id);
    await enrollmentAudit(deps, { username: user.username, reason: 'token_removed', detail: { tokenId: id } });
    return;
  }
  throw new PortalRefusal('No such sign-in method.');
}

/** The seed still waiting for its code (to show it again after a wrong code), or undefined. */
export async function pendingTotpOffer(deps: Deps, s: PortalSessionRow): Promise<TotpOffer | undefined> {
  if (s.pendingTotpSealed === null) return undefined;
  const user = await sessionUser(deps, s);
  const secret = base32Encode(deps.keyring.unseal('totp-seed', pendingAad(s), s.pendingTotpSealed));
  return { secret, otpauth: buildOtpauthUri({ type: 'totp', issuer: ISSUER, account: user.username, secretBase32: secret, digits: 6, algorithm: 'sha1', period: 30 }) };
}
