// Tandem Authenticator devices and their activation (docs/push.md §1). An activation code is 256
// random bits, base64url, handed out only in the link; the store keeps its SHA-256. Using it
// creates the device (its ECDSA P-256 public key) and a TOTP token sealed like any other, once.
import { createHash, createPublicKey } from 'node:crypto';
import { base32Encode } from '../protocol/base32.js';
import { hasControlChars, hasLoneSurrogate } from '../protocol/text-checks.js';
import { StoreConflictError, type DeviceRow, type TokenRow } from '../store/contract.js';
import { appendAudit } from './audit.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';
import { newDeviceId, newLinkToken, newTokenId, newUserId, randomString } from './ids.js';
import { adminAudit } from './integrations.js';
import { checkName } from './names.js';
import { portalBase } from './preauth.js';
import { sealSeed } from './tokens.js';
import { mustFindUser } from './users.js';

/** 32 bytes, base64url without padding. */
export const ACTIVATION_CODE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const DEFAULT_DEVICE_NAME = 'Tandem Authenticator';
export const MAX_DEVICE_NAME = 64;
/** `/auth/v2/enroll` valid_secs bounds (Duo's: up to 30 days). */
export const MAX_ACTIVATION_SECONDS = 30 * 86400;
const SEED_BYTES = 20;

export const activationHash = (code: string): string => createHash('sha256').update(code).digest('hex');

/** The app's URL for an activation code (the code in the fragment: never sent to a server). */
export const activationLink = (deps: Deps, code: string): string => `${portalBase(deps)}/app/#activate=${code}`;

/** The one refusal for an unknown, expired or used code (the route answers invalid_activation). */
export const invalidActivation = (): CoreError => new CoreError('not_found', 'invalid activation code');
export const isInvalidActivation = (e: unknown): boolean => e instanceof CoreError && e.code === 'not_found';

export interface ActivationView {
  code: string;
  link: string;
  expiresAt: number;
  userId: string;
  username: string;
}

function checkValidSecs(validSecs: number): void {
  if (!Number.isSafeInteger(validSecs) || validSecs < 1 || validSecs > MAX_ACTIVATION_SECONDS) {
    throw new CoreError('bad_request', `valid_secs must be an integer from 1 to ${MAX_ACTIVATION_SECONDS}`);
  }
}

async function newActivation(deps: Deps, user: { id: string; username: string }, validSecs: number, via: Record<string, unknown>): Promise<ActivationView> {
  checkValidSecs(validSecs);
  const code = newLinkToken(deps.random);
  const now = deps.clock.now();
  const expiresAt = now + validSecs * 1000;
  await deps.store.createActivation({ codeHash: activationHash(code), userId: user.id, createdAt: now, expiresAt, usedAt: null, deviceId: null });
  await adminAudit(deps, 'device_activation_created', { ...via, expiresAt }, user.username);
  return { code, link: activationLink(deps, code), expiresAt, userId: user.id, username: user.username };
}

/** `tandem device activate USER` (and the enrollment portal, `via`): an activation for an existing user. */
export async function createActivation(deps: Deps, username: string, validSecs: number = deps.settings.deviceActivationSeconds, via: Record<string, unknown> = { via: 'cli' }): Promise<ActivationView> {
  const user = await mustFindUser(deps, username);
  if (user.status !== 'active') throw new CoreError('refused', `user ${user.username} is disabled; enable them first`);
  return newActivation(deps, user, validSecs, via);
}

/**
 * `/auth/v2/enroll`: Duo's semantics — a new user (named, or with a generated name) and an
 * activation for it; a name already taken is refused ("username already exists").
 */
export async function enrollNewUser(deps: Deps, o: { username: string | null; validSecs: number; ikey: string }): Promise<ActivationView> {
  checkValidSecs(o.validSecs);
  const username = o.username === null ? `user-${randomString(deps.random, 'abcdefghijklmnopqrstuvwxyz0123456789', 12)}` : checkName('username', o.username);
  const row = { id: newUserId(deps.random), username, aliases: [], status: 'active' as const, createdAt: deps.clock.now() };
  try {
    await deps.store.createUser(row);
  } catch (e) {
    if (e instanceof StoreConflictError) throw new CoreError('conflict', 'username already exists');
    throw e;
  }
  await adminAudit(deps, 'user_created', { ikey: o.ikey, via: 'enroll', aliases: [] }, username);
  return newActivation(deps, row, o.validSecs, { ikey: o.ikey, via: 'enroll' });
}

/** `/auth/v2/enroll_status`: success only if used, by that user. */
export async function enrollStatus(deps: Deps, userId: string, code: string): Promise<'success' | 'waiting' | 'invalid'> {
  if (!ACTIVATION_CODE_PATTERN.test(code)) return 'invalid';
  const a = await deps.store.getActivation(activationHash(code));
  if (!a || a.userId !== userId) return 'invalid';
  if (a.usedAt !== null) return a.deviceId !== null ? 'success' : 'invalid';
  return a.expiresAt > deps.clock.now() ? 'waiting' : 'invalid';
}

// ---- the public key ----------------------------------------------------------------------

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;

function coordinate(v: unknown): string {
  if (typeof v !== 'string' || !B64URL_32.test(v)) throw new CoreError('bad_request', 'publicKey x and y must be 32-byte base64url');
  const bytes = Buffer.from(v, 'base64url');
  // The canonical encoding only: the two spare bits of the last character must be zero.
  if (bytes.length !== 32 || bytes.toString('base64url') !== v) throw new CoreError('bad_request', 'publicKey x and y must be 32-byte base64url');
  return v;
}

/**
 * The device's public key, strictly: a plain object with exactly kty "EC", crv "P-256", x and y
 * (32-byte base64url each) that is a point on the curve. Returns the canonical JWK text stored.
 */
export function parseDevicePublicKey(raw: unknown): string {
  const bad = (): never => {
    throw new CoreError('bad_request', 'publicKey must be a P-256 public JWK {kty, crv, x, y}');
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad();
  const proto = Object.getPrototypeOf(raw) as unknown;
  if (proto !== Object.prototype && proto !== null) return bad();
  const o = raw as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 4 || Object.getOwnPropertySymbols(o).length > 0) return bad();
  for (const k of ['kty', 'crv', 'x', 'y']) if (!Object.prototype.hasOwnProperty.call(o, k)) return bad();
  if (o['kty'] !== 'EC' || o['crv'] !== 'P-256') return bad();
  const jwk = { kty: 'EC', crv: 'P-256', x: coordinate(o['x']), y: coordinate(o['y']) };
  try {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return bad();
  } catch {
    throw new CoreError('bad_request', 'publicKey is not a point on P-256');
  }
  return JSON.stringify(jwk);
}

/** A device name: printable, 1–64 characters (absent: "Tandem Authenticator"). */
export function parseDeviceName(raw: unknown): string {
  if (raw === undefined || raw === null) return DEFAULT_DEVICE_NAME;
  if (typeof raw !== 'string') throw new CoreError('bad_request', 'name must be a string');
  const name = raw.trim();
  if (name === '') return DEFAULT_DEVICE_NAME;
  if ([...name].length > MAX_DEVICE_NAME || hasControlChars(name) || hasLoneSurrogate(name) || /[\u2028\u2029]/.test(name)) {
    throw new CoreError('bad_request', `name must be printable and at most ${MAX_DEVICE_NAME} characters`);
  }
  return name;
}

export interface ActivationResult {
  deviceId: string;
  username: string;
  name: string;
  totp: { secret: string; digits: 6; period: 30; algorithm: 'SHA1' };
}

/**
 * POST /app/api/activate: uses the code once and creates the device with its TOTP token. Bad
 * input is bad_request (nothing used); an unknown, expired, used (or concurrently used) code, or
 * one whose user is gone or disabled, is invalidActivation().
 */
export async function activate(deps: Deps, input: { code: unknown; publicKeyJwk: unknown; name?: unknown }): Promise<ActivationResult> {
  if (typeof input.code !== 'string') throw new CoreError('bad_request', 'code must be a string');
  const publicKeyJwk = parseDevicePublicKey(input.publicKeyJwk);
  const name = parseDeviceName(input.name);
  if (!ACTIVATION_CODE_PATTERN.test(input.code)) throw invalidActivation();
  const codeHash = activationHash(input.code);
  const now = deps.clock.now();
  // The activation's user never changes, so reading it first is safe; the use itself is the
  // store's single conditional update (consumeActivation).
  const pending = await deps.store.getActivation(codeHash);
  if (!pending || pending.usedAt !== null || pending.expiresAt <= now) throw invalidActivation();
  const user = await deps.store.getUser(pending.userId);
  if (!user || user.status !== 'active') throw invalidActivation();

  const deviceId = newDeviceId(deps.random);
  const tokenId = newTokenId(deps.random);
  const seed = deps.random.bytes(SEED_BYTES);
  const token: TokenRow = {
    id: tokenId,
    userId: user.id,
    type: 'totp',
    secretSealed: sealSeed(deps, tokenId, user.id, seed),
    digits: 6,
    algorithm: 'sha1',
    period: 30,
    nextCounter: 0,
    createdAt: now,
  };
  const device: DeviceRow = { id: deviceId, userId: user.id, name, publicKeyJwk, tokenId, pushSubscription: null, createdAt: now, lastSeenAt: now };
  const used = await deps.store.consumeActivation(codeHash, now, device, token);
  if (!used) throw invalidActivation();
  await appendAudit(deps, {
    event: 'device',
    integration: null,
    username: user.username,
    factor: null,
    result: 'ok',
    reason: 'activated',
    ipaddr: null,
    hostname: null,
    txid: null,
    detail: { deviceId, name, tokenId },
  });
  return { deviceId, username: user.username, name, totp: { secret: base32Encode(seed), digits: 6, period: 30, algorithm: 'SHA1' } };
}

// ---- listing, removal, subscriptions -----------------------------------------------------

export interface DeviceView {
  deviceId: string;
  name: string;
  tokenId: string;
  webPush: boolean;
  createdAt: number;
  lastSeenAt: number | null;
}

const view = (d: DeviceRow): DeviceView => ({ deviceId: d.id, name: d.name, tokenId: d.tokenId, webPush: d.pushSubscription !== null, createdAt: d.createdAt, lastSeenAt: d.lastSeenAt });

export async function listDevices(deps: Deps, username: string): Promise<DeviceView[]> {
  const user = await mustFindUser(deps, username);
  return (await deps.store.listDevices(user.id)).map(view);
}

export async function removeDevice(deps: Deps, username: string, deviceId: string): Promise<void> {
  const user = await mustFindUser(deps, username);
  const d = await deps.store.getDevice(deviceId);
  if (!d || d.userId !== user.id) throw new CoreError('not_found', `user ${username} has no device ${deviceId}`);
  await deps.store.removeDevice(deviceId);
  await adminAudit(deps, 'device_removed', { deviceId, name: d.name, tokenId: d.tokenId }, user.username);
}

/**
 * Sets (or with null clears) the device's Web Push subscription, already validated by the
 * caller. An unchanged subscription is not written again (the app re-posts it on every open).
 */
export async function setSubscription(deps: Deps, device: DeviceRow, subscription: string | null): Promise<void> {
  if (device.pushSubscription === subscription) return;
  if (!(await deps.store.setDeviceSubscription(device.id, subscription))) throw new CoreError('not_found', 'no such device');
  const user = await deps.store.getUser(device.userId);
  await appendAudit(deps, {
    event: 'device',
    integration: null,
    username: user?.username ?? null,
    factor: null,
    result: 'ok',
    reason: subscription === null ? 'subscription_cleared' : 'subscription_set',
    ipaddr: null,
    hostname: null,
    txid: null,
    detail: { deviceId: device.id },
  });
}

/** What GET /app/api/device answers. */
export async function describeDevice(deps: Deps, device: DeviceRow): Promise<{ deviceId: string; username: string; name: string }> {
  const user = await deps.store.getUser(device.userId);
  return { deviceId: device.id, username: user?.username ?? '', name: device.name };
}
