// Console administrators (issue 7): created by `tandem admin create` with a one-time setup link
// (256-bit token, only its SHA-256 stored, 24 h), through which they set a password (scrypt) and
// confirm a TOTP authenticator in one step. Sign-in needs name, password and a code, checked
// with the same work whatever is wrong; failures count toward the site's lockout settings.
import { createHash } from 'node:crypto';
import { base32Encode } from '../protocol/base32.js';
import { buildOtpauthUri } from '../protocol/otpauth.js';
import { stripControlChars } from '../protocol/text-checks.js';
import { findOtpMatch, totpCandidates } from '../protocol/totp.js';
import { StoreConflictError, type AdminRow } from '../store/contract.js';
import type { Settings } from '../config/settings.js';
import { dummyHash, hashPassword, MAX_PASSWORD, passwordProblem, verifyPassword } from './admin-password.js';
import { appendAudit } from './audit.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { newLinkToken, randomString } from './ids.js';
import { adminAudit } from './integrations.js';
import { checkName } from './names.js';
import { ISSUER } from './tokens.js';

export const SETUP_LINK_MS = 24 * 3600_000;
const SEED_BYTES = 20;
const PERIOD = 30;
const DIGITS = 6;
const DUMMY_SEED = Buffer.alloc(SEED_BYTES, 1);
/** 32 bytes, base64url without padding. */
export const SETUP_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');
const seedAad = (adminId: string): string => `admin/${adminId}/totp`;

/** Where the console listens: the setting, else the main host and the port after the main one. */
export function consoleListen(s: Pick<Settings, 'listen' | 'consoleListen'>): { host: string; port: number } {
  if (s.consoleListen) return s.consoleListen;
  return { host: s.listen.host, port: s.listen.port === 0 || s.listen.port === 65535 ? 0 : s.listen.port + 1 };
}

/** The console's base URL for links: the first certificate host name and the console port. */
export function consoleBase(s: Pick<Settings, 'listen' | 'consoleListen' | 'hosts'>): string {
  const host = s.hosts[0] ?? 'localhost';
  return `https://${host.includes(':') ? `[${host}]` : host}:${consoleListen(s).port}`;
}

export const setupLink = (s: Settings, token: string): string => `${consoleBase(s)}/console/setup/${token}`;

export interface AdminView {
  name: string;
  status: 'pending' | 'active' | 'disabled' | 'locked';
  createdAt: number;
  setupExpiresAt: number | null;
}

const view = (a: AdminRow, now: number): AdminView => ({
  name: a.name,
  status: a.status === 'active' && a.lockedUntil !== null && a.lockedUntil > now ? 'locked' : a.status,
  createdAt: a.createdAt,
  setupExpiresAt: a.status === 'pending' ? a.setupExpiresAt : null,
});

function newSetup(deps: Deps, adminId: string): { token: string; tokenHash: string; expiresAt: number; totpSealed: string } {
  const token = newLinkToken(deps.random);
  return {
    token,
    tokenHash: tokenHash(token),
    expiresAt: deps.clock.now() + SETUP_LINK_MS,
    totpSealed: deps.keyring.seal('totp-seed', seedAad(adminId), deps.random.bytes(SEED_BYTES)),
  };
}

export interface SetupLinkView {
  name: string;
  link: string;
  expiresAt: number;
}

/** `tandem admin create NAME`: a pending admin and its setup link (never a password here). */
export async function createAdmin(deps: Deps, name: string): Promise<SetupLinkView> {
  const n = checkName('admin name', name, 64);
  const id = 'AD' + randomString(deps.random, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 18);
  const setup = newSetup(deps, id);
  try {
    await deps.store.createAdmin({
      id, name: n, passwordHash: null, totpSealed: setup.totpSealed, totpNextStep: 0, status: 'pending', failures: 0, lockedUntil: null,
      createdAt: deps.clock.now(), setupTokenHash: setup.tokenHash, setupExpiresAt: setup.expiresAt, setupUsedAt: null,
    });
  } catch (e) {
    if (e instanceof StoreConflictError) throw new CoreError('conflict', `an admin named ${n} already exists`);
    throw e;
  }
  await adminAudit(deps, 'admin_created', { admin: n, setupExpiresAt: setup.expiresAt });
  return { name: n, link: setupLink(deps.settings, setup.token), expiresAt: setup.expiresAt };
}

async function mustFind(deps: Deps, name: string): Promise<AdminRow> {
  const a = await deps.store.findAdminByName(name);
  if (!a) throw new CoreError('not_found', `no admin named ${name}`);
  return a;
}

export async function listAdmins(deps: Deps): Promise<AdminView[]> {
  const now = deps.clock.now();
  return (await deps.store.listAdmins()).map((a) => view(a, now));
}

/** `tandem admin disable NAME`: no more sign-ins, and every session ends now. */
export async function disableAdmin(deps: Deps, name: string): Promise<void> {
  const a = await mustFind(deps, name);
  // A pending admin's setup link stops working too (setup needs status pending).
  await deps.store.setAdminStatus(a.id, 'disabled');
  await adminAudit(deps, 'admin_disabled', { admin: a.name });
}

/** `tandem admin reset NAME`: credentials cleared, sessions ended, a new setup link. */
export async function resetAdmin(deps: Deps, name: string): Promise<SetupLinkView> {
  const a = await mustFind(deps, name);
  const setup = newSetup(deps, a.id);
  await deps.store.resetAdmin(a.id, setup);
  await adminAudit(deps, 'admin_reset', { admin: a.name, setupExpiresAt: setup.expiresAt });
  return { name: a.name, link: setupLink(deps.settings, setup.token), expiresAt: setup.expiresAt };
}

export type SetupState =
  | { state: 'valid'; admin: AdminRow; otpauth: string; secret: string }
  | { state: 'used' | 'expired' | 'unknown' };

/** What a setup link shows: the TOTP enrollment for a valid link, or why it cannot be used. */
export async function setupState(deps: Deps, token: string): Promise<SetupState> {
  if (!SETUP_TOKEN_PATTERN.test(token)) return { state: 'unknown' };
  const a = await deps.store.findAdminBySetupToken(tokenHash(token));
  if (!a) return { state: 'unknown' };
  if (a.setupUsedAt !== null) return { state: 'used' };
  if (a.status !== 'pending') return { state: 'unknown' };
  if (a.setupExpiresAt === null || a.setupExpiresAt <= deps.clock.now()) return { state: 'expired' };
  const secret = base32Encode(deps.keyring.unseal('totp-seed', seedAad(a.id), a.totpSealed));
  const otpauth = buildOtpauthUri({ type: 'totp', issuer: `${ISSUER} console`, account: a.name, secretBase32: secret, digits: DIGITS, algorithm: 'sha1', period: PERIOD });
  return { state: 'valid', admin: a, otpauth, secret };
}

/** The matching TOTP step of `code` for this seed, or null (every candidate computed). */
function matchStep(deps: Deps, seed: Buffer, code: string, nextStep: number): number | null {
  return findOtpMatch({
    secret: seed,
    code: code.slice(0, 16),
    digits: DIGITS,
    algorithm: 'sha1',
    candidates: totpCandidates(deps.clock.now(), PERIOD, deps.settings.totpWindowSteps, nextStep),
  });
}

/**
 * The setup form: a new password (twice) and a code from the authenticator just added. The
 * token is used only when both are right, atomically (a second use finds it used).
 */
export async function completeSetup(deps: Deps, token: string, f: { password: string; confirm: string; code: string }): Promise<AdminRow> {
  const s = await setupState(deps, token);
  if (s.state !== 'valid') throw new CoreError('refused', `this setup link is ${s.state === 'unknown' ? 'not valid' : s.state}`);
  const problem = passwordProblem(f.password, f.confirm);
  if (problem) throw new CoreError('bad_request', problem);
  const seed = deps.keyring.unseal('totp-seed', seedAad(s.admin.id), s.admin.totpSealed);
  const step = matchStep(deps, seed, f.code.trim(), 0);
  if (step === null) throw new CoreError('bad_request', 'That code is not right. Check the time on the device and enter the current code.');
  const done = await deps.store.completeAdminSetup(tokenHash(token), deps.clock.now(), await hashPassword(deps.random, f.password), step + 1);
  if (!done) throw new CoreError('refused', 'this setup link is used');
  await adminAudit({ ...deps, actor: done.name }, 'admin_setup_completed', { admin: done.name });
  return done;
}

const lockMs = (deps: Deps): number => (deps.settings.lockoutSeconds > 0 ? deps.settings.lockoutSeconds * 1000 : 100 * 365 * 86400_000);

/**
 * Password and code for an admin by name: the same store calls and the same scrypt cost whether
 * the name is unknown, the password or the code wrong, or the admin locked or disabled. Returns
 * the admin on success, null otherwise (the audit entry has the reason).
 */
export async function checkAdminCredentials(deps: Deps, f: { name: string; password: string; code: string; peer: string; purpose: 'sign_in' | 'reauth' }): Promise<AdminRow | null> {
  const now = deps.clock.now();
  let a = await deps.store.findAdminByName(f.name.slice(0, 64));
  if (a && a.lockedUntil !== null && a.lockedUntil <= now) {
    await deps.store.clearAdminFailures(a.id);
    a = { ...a, failures: 0, lockedUntil: null };
  }
  const password = f.password.length > MAX_PASSWORD * 2 ? f.password.slice(0, MAX_PASSWORD * 2) : f.password;
  const passwordOk = await verifyPassword(a?.passwordHash ?? (await dummyHash()), password);
  const seed = a ? deps.keyring.unseal('totp-seed', seedAad(a.id), a.totpSealed) : DUMMY_SEED;
  const step = matchStep(deps, seed, f.code.trim(), a?.totpNextStep ?? 0);
  const reason =
    !a ? 'unknown_admin'
    : a.status !== 'active' ? `admin_${a.status}`
    : a.lockedUntil !== null ? 'locked_out'
    : !passwordOk ? 'bad_password'
    : step === null ? 'bad_code'
    : !(await deps.store.acceptAdminTotp(a.id, step)) ? 'replayed_code'
    : null;
  const actor = stripControlChars(f.name).slice(0, 64);
  if (reason === null && a) {
    await deps.store.clearAdminFailures(a.id);
    await adminAudit({ ...deps, actor: a.name }, f.purpose === 'sign_in' ? 'console_sign_in' : 'console_reauth', { peer: f.peer });
    return a;
  }
  await deps.store.recordAdminFailure(a?.id ?? 'AD-none', now, deps.settings.lockoutThreshold, lockMs(deps));
  await appendAudit(deps, {
    event: 'admin', integration: null, username: null, factor: null, result: 'deny', reason: f.purpose === 'sign_in' ? 'console_sign_in_failed' : 'console_reauth_failed',
    ipaddr: null, hostname: null, txid: null, detail: { actor, why: reason, peer: f.peer },
  });
  return null;
}
