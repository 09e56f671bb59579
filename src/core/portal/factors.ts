// What a portal session can do for its user: see their factors, prove one they have, add the
// Tandem Authenticator or an authenticator app (TOTP, saved only after a correct code), and remove
// a factor. A user who already has a factor must prove it first (a current code, or a bypass code
// an admin gave), so a link shown at a login cannot add an attacker's phone to an enrolled account.
import { base32Encode } from '../../protocol/base32.js';
import { buildOtpauthUri } from '../../protocol/otpauth.js';
import { findOtpMatch, totpCandidates } from '../../protocol/totp.js';
import type { EnrollmentApproval, PortalSessionRow, TokenRow, UserRow } from '../../store/contract.js';
import type { Deps } from '../deps.js';
import { createHash } from 'node:crypto';
import { createActivation, type ActivationView } from '../devices.js';
import { effectivePushPolicy, pushDevices, startPush, type PushRefusal, REFUSAL_MSG } from '../push.js';
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
  /** For a device: how many passkeys it registered in the app (docs/push.md §8). */
  passkeys?: number;
}

export interface PortalOverview {
  user: UserRow;
  factors: PortalFactor[];
  /** Held enrollments waiting for an admin. */
  held: number;
  mustProve: boolean;
  /** Proof by an approved push is offered (the user has a Tandem Authenticator). */
  canPush: boolean;
  approval: EnrollmentApproval;
  ikey: string | null;
  /**
   * Push approvals for this session's integration (or the site default, for an admin's link) must
   * be covered by a passkey of the approving device. Passkeys are added in the app, not here.
   */
  passkeyRequired: boolean;
}

/** A refusal the page shows as it is (never a secret). */
export class PortalRefusal extends Error {}

async function sessionUser(deps: Deps, s: PortalSessionRow): Promise<UserRow> {
  const user = await deps.store.getUser(s.userId);
  // A user in bypass status may still enroll (the new phone after a lost one).
  if (!user || user.status === 'disabled') throw new PortalRefusal('This account is disabled. Contact your administrator.');
  return user;
}

async function integrationOf(deps: Deps, s: PortalSessionRow): Promise<{ approval: EnrollmentApproval; ikey: string | null; passkeyRequired: boolean }> {
  const i = s.integrationId === null ? undefined : (await deps.store.listIntegrations()).find((r) => r.id === s.integrationId);
  // An admin's link has no integration: the site's default push policy applies (as for its pushes).
  const passkeyRequired = effectivePushPolicy(deps, i).approvalAuth === 'passkey';
  return { approval: i?.enrollmentApproval ?? 'open', ikey: i?.ikey ?? null, passkeyRequired };
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
    ...(await Promise.all(devices.map(async (d): Promise<PortalFactor> => ({ kind: 'device', id: d.id, label: d.name, createdAt: d.createdAt, passkeys: (await deps.store.listPasskeys(d.id)).length })))),
    ...tokens.map((t): PortalFactor => ({ kind: 'token', id: t.id, label: t.type === 'totp' ? 'Authenticator app (TOTP)' : 'Hardware token (HOTP)', createdAt: t.createdAt })),
  ];
  const held = (await deps.store.listPendingEnrollments()).filter((p) => p.userId === user.id).length;
  const mustProve = s.provedAt === null && (await hasFactor(deps, user));
  const canPush = mustProve && devices.length > 0;
  return { user, factors, held, mustProve, canPush, ...(await integrationOf(deps, s)) };
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

/**
 * What ties a push to the portal session that started it: stored in the push's context, so only
 * an approval of a push this session made can prove this session (never the session's id itself).
 */
const pushBinding = (s: PortalSessionRow): string => createHash('sha256').update(`tandem-portal-push\n${s.idHash}`).digest('hex');

/** The context the Tandem Authenticator shows for a portal push. */
export const PORTAL_PUSH_HOSTNAME = 'enrollment portal';
export const PORTAL_PUSH_TYPE = 'Enrollment';

export type ProofPush = { kind: 'pushed'; txid: string; matchCode: string | null; expiresAt: number } | { kind: 'refused'; text: string };

/**
 * Proof by an approved push: a push to the user's Tandem Authenticator through the same core path
 * as a login (startPush: the integration's push policy, pending limit, pause after denials,
 * number matching, passkey-covered approvals), with the portal as its context. A session from a
 * login's link uses its integration and that integration's push policy; one from an admin's link
 * belongs to no integration: the push has none either (the app shows "Enrollment portal") and
 * follows the site's default push policy.
 */
export async function startProofPush(deps: Deps, s: PortalSessionRow, peer: string | null): Promise<ProofPush> {
  const user = await sessionUser(deps, s);
  const integration = s.integrationId === null ? null : ((await deps.store.listIntegrations()).find((r) => r.id === s.integrationId) ?? null);
  if (s.integrationId !== null && integration === null) return { kind: 'refused', text: 'This link belongs to an integration that no longer exists.' };
  const now = deps.clock.now();
  if (standing(user, now) !== 'active' || (await pushDevices(deps, user.id)).length === 0) {
    return { kind: 'refused', text: REFUSAL_MSG.factor_not_available };
  }
  const context = { ipaddr: peer, hostname: PORTAL_PUSH_HOSTNAME, type: PORTAL_PUSH_TYPE, pushinfo_raw: null, display_username: null, portal: pushBinding(s) };
  // The page shows a match code itself, so verified push is always possible here.
  const r = await startPush(deps, { integration }, user, { kind: 'any' }, context, effectivePushPolicy(deps, integration ?? undefined), true);
  const ikey = integration?.ikey ?? null;
  if (r.kind === 'refused') {
    await enrollmentAudit(deps, { username: user.username, reason: 'proof_push_refused', result: 'refused', integration: ikey, detail: { why: r.reason satisfies PushRefusal } });
    return { kind: 'refused', text: r.statusMsg };
  }
  await enrollmentAudit(deps, { username: user.username, reason: 'proof_push_sent', integration: ikey, ipaddr: peer, detail: { txid: r.tx.txid } });
  return { kind: 'pushed', txid: r.tx.txid, matchCode: r.matchCode, expiresAt: r.tx.expiresAt };
}

export type ProofPushState = 'pending' | 'approved' | 'refused';

/** Where this session's push `txid` stands; 'refused' for anything that is not its own push. */
export async function proofPushState(deps: Deps, s: PortalSessionRow, txid: string): Promise<ProofPushState> {
  if (txid.length > 64) return 'refused';
  const tx = await deps.store.getTransaction(txid);
  if (!tx || tx.factor !== 'push' || tx.userId !== s.userId) return 'refused';
  let binding: unknown;
  try {
    binding = (JSON.parse(tx.context) as Record<string, unknown>)['portal'];
  } catch {
    return 'refused';
  }
  if (binding !== pushBinding(s)) return 'refused';
  if (tx.state === 'pending') return tx.expiresAt > deps.clock.now() ? 'pending' : 'refused';
  return tx.state === 'allow' ? 'approved' : 'refused';
}

/** Proves the session when `txid` is its own push and was approved; audited either way. */
export async function proveByPush(deps: Deps, s: PortalSessionRow, txid: string): Promise<ProofPushState> {
  const user = await sessionUser(deps, s);
  const state = await proofPushState(deps, s, txid);
  if (state === 'approved') {
    await deps.store.setPortalProved(s.idHash, deps.clock.now());
    await enrollmentAudit(deps, { username: user.username, reason: 'proof_ok', detail: { factor: 'push', txid } });
  } else if (state === 'refused') {
    await enrollmentAudit(deps, { username: user.username, reason: 'proof_push_failed', result: 'refused', detail: { txid: txid.slice(0, 64) } });
  }
  return state;
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
