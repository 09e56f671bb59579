// Device-signed requests (docs/push.md §2): every app API call after activation carries the
// device id, the device's clock and an ECDSA P-256 / SHA-256 signature (IEEE P1363, base64url)
// over protocol/approval.ts `deviceRequestMessage`. Every failure is one CoreError; the reason
// goes to the server log at debug (never the signature), so a caller learns nothing from it.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { deviceRequestMessage } from '../protocol/approval.js';
import type { DeviceRow } from '../store/contract.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';

/** "DP" + 18 upper-case letters and digits (core/ids.ts newDeviceId). */
export const DEVICE_ID_PATTERN = /^DP[A-Z0-9]{18}$/;
/** A P1363 P-256 signature is 64 bytes: 86 base64url characters without padding. */
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;
/** Milliseconds since the epoch as decimal digits (no sign, no exponent, no leading zeros). */
const TIME_PATTERN = /^(0|[1-9][0-9]{0,15})$/;
/** lastSeenAt is written at most this often per device. */
const TOUCH_EVERY_MS = 60_000;

export interface DeviceRequest {
  /** The Tandem-Device header (absent: refused). */
  deviceId: string | undefined;
  /** The Tandem-Time header: the client's clock in ms since the epoch, decimal. */
  time: string | number | undefined;
  /** The Tandem-Signature header. */
  signatureB64url: string | undefined;
  /** Upper-case HTTP method. */
  method: string;
  /** Path and query exactly as sent. */
  path: string;
  /** The raw body bytes (undefined or empty: no body). */
  body: Uint8Array | undefined;
}

/** The one refusal for every device-authentication failure. */
export const deviceUnauthorized = (): CoreError => new CoreError('bad_signature', 'device request not authenticated');

// Imported public keys, by their JWK text (importing costs more than verifying).
const KEY_CACHE_MAX = 1000;
const keyCache = new Map<string, KeyObject>();

function publicKeyOf(jwkText: string): KeyObject | null {
  const hit = keyCache.get(jwkText);
  if (hit) return hit;
  let key: KeyObject;
  try {
    const jwk = JSON.parse(jwkText) as { kty?: unknown; crv?: unknown; x?: unknown; y?: unknown };
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return null;
    key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' });
  } catch {
    return null;
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(jwkText, key);
  return key;
}

/**
 * True when `signatureB64url` is the device key's ECDSA P-256 / SHA-256 signature (IEEE P1363,
 * r‖s, base64url) of `message`. Never throws: anything malformed is false.
 */
export function verifyDeviceSignature(device: DeviceRow, message: Uint8Array, signatureB64url: string): boolean {
  if (typeof signatureB64url !== 'string' || !SIGNATURE_PATTERN.test(signatureB64url)) return false;
  const sig = Buffer.from(signatureB64url, 'base64url');
  if (sig.length !== 64) return false;
  const key = publicKeyOf(device.publicKeyJwk);
  if (!key) return false;
  try {
    return verify('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

export const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Authenticates an app API request; returns the device. Checks, in order: header syntax, clock
 * skew, the device, its user (a disabled user's devices are refused), the signature.
 */
export async function verifyDeviceRequest(deps: Deps, r: DeviceRequest): Promise<DeviceRow> {
  const refuse = (reason: string): never => {
    deps.log.debug('device request refused', { reason, device: typeof r.deviceId === 'string' && DEVICE_ID_PATTERN.test(r.deviceId) ? r.deviceId : null, method: r.method, path: r.path.slice(0, 200) });
    throw deviceUnauthorized();
  };
  if (typeof r.deviceId !== 'string' || !DEVICE_ID_PATTERN.test(r.deviceId)) return refuse('malformed device id');
  const timeText = typeof r.time === 'number' ? String(r.time) : r.time;
  if (typeof timeText !== 'string' || !TIME_PATTERN.test(timeText)) return refuse('malformed time');
  const time = Number(timeText);
  if (!Number.isSafeInteger(time)) return refuse('malformed time');
  if (typeof r.signatureB64url !== 'string' || !SIGNATURE_PATTERN.test(r.signatureB64url)) return refuse('malformed signature');
  const now = deps.clock.now();
  if (Math.abs(time - now) > deps.settings.deviceRequestSkewSeconds * 1000) return refuse('time outside the accepted skew');

  const device = await deps.store.getDevice(r.deviceId);
  if (!device) return refuse('unknown device');
  const user = await deps.store.getUser(device.userId);
  if (!user) return refuse('device without a user');
  if (user.status !== 'active') return refuse('user disabled');

  const message = deviceRequestMessage({
    deviceId: r.deviceId,
    method: r.method.toUpperCase(),
    path: r.path,
    time,
    bodySha256: sha256Hex(r.body ?? new Uint8Array(0)),
  });
  if (!verifyDeviceSignature(device, message, r.signatureB64url)) return refuse('bad signature');

  if (device.lastSeenAt === null || now - device.lastSeenAt >= TOUCH_EVERY_MS) {
    await deps.store.touchDevice(device.id, now);
    return { ...device, lastSeenAt: now };
  }
  return device;
}
