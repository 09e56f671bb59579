// Passkeys in the Tandem Authenticator (docs/push.md §8): a device registers WebAuthn credentials
// through its device-signed API, and when a push's policy asks for it (approvalAuth: 'passkey') an
// approval must carry a WebAuthn assertion, user verified, whose challenge is the SHA-256 of the
// very approval message the device key signs. Verification is @simplewebauthn/server's.
//
//   relyingParty          the RP ID and origins a request's Host allows (one of settings.hosts)
//   registrationOptions   options for navigator.credentials.create, with a stateless challenge
//   registerPasskey       verify the attestation ('none' accepted) and store the credential
//   assertionOptions      what the app needs for navigator.credentials.get (its challenge is its own)
//   verifyApprovalAssertion  the check decide() runs for an approval that needs a passkey
//
// The registration challenge needs no table: 32 random bytes, an expiry and an HMAC (keyring
// purpose 'webauthn-challenge') over both, the device id and the RP ID. Only the device that asked,
// before the expiry, through the same host name, can use it; a replay within the expiry can only
// register the same credential again, which the store refuses.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import {
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { constantTimeEqual } from '../protocol/compare.js';
import { StoreConflictError, type DeviceRow, type PasskeyRow } from '../store/contract.js';
import { appendAudit } from './audit.js';
import type { Deps } from './deps.js';
import { CoreError } from './errors.js';

/** How long a registration ceremony may take (the challenge's lifetime and the browser's timeout). */
export const PASSKEY_CEREMONY_MS = 5 * 60_000;
/** How long the browser may wait for the user during an approval's assertion. */
export const ASSERTION_TIMEOUT_MS = 2 * 60_000;
/** Passkeys per device: enough for a phone's platform authenticator and a few security keys. */
export const MAX_PASSKEYS_PER_DEVICE = 10;

const CHALLENGE_VERSION = 1;
const NONCE_BYTES = 32;
const MAC_BYTES = 32;
const CHALLENGE_BYTES = 1 + NONCE_BYTES + 8 + MAC_BYTES;
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);
const B64URL = /^[A-Za-z0-9_-]*$/;
/** Bound on any one base64url field of a WebAuthn response (the app API body is 16 KiB anyway). */
const MAX_FIELD = 8192;

/** The relying party a request speaks to: its RP ID (a host name) and the origins the app may run at. */
export interface RelyingParty {
  rpID: string;
  origins: string[];
}

/**
 * The relying party for a request whose Host header is `host`: its host name (port dropped,
 * lower-cased) when that is one of settings.hosts or publicUrl's host name and not an IP address
 * (WebAuthn has no IP relying parties); otherwise null. Origins: https://<name> and
 * https://<name>:<listen port>, and publicUrl's origin when its host is that name.
 */
export function relyingParty(deps: Pick<Deps, 'settings'>, host: string | undefined): RelyingParty | null {
  if (typeof host !== 'string' || host.length === 0 || host.length > 300) return null;
  const m = /^([A-Za-z0-9.-]+)(?::([0-9]{1,5}))?$/.exec(host);
  if (!m) return null;
  const name = m[1]!.toLowerCase().replace(/\.$/, '');
  if (name === '' || isIP(name) !== 0) return null;
  const s = deps.settings;
  let publicOrigin: string | null = null;
  let publicHost: string | null = null;
  if (s.publicUrl) {
    try {
      const u = new URL(s.publicUrl);
      publicOrigin = u.origin;
      publicHost = u.hostname.toLowerCase();
    } catch {
      // Not a URL: only settings.hosts count.
    }
  }
  const allowed = s.hosts.some((h) => h.toLowerCase() === name) || publicHost === name;
  if (!allowed) return null;
  const origins = new Set([`https://${name}`, `https://${name}:${s.listen.port}`]);
  if (publicOrigin !== null && publicHost === name) origins.add(publicOrigin);
  if (s.listen.port === 443) origins.delete(`https://${name}:443`);
  return { rpID: name, origins: [...origins] };
}

/** base64url(SHA-256(approval message)): the WebAuthn challenge of an approval (docs/push.md §8). */
export function approvalChallenge(message: Uint8Array): string {
  return createHash('sha256').update(message).digest('base64url');
}

// ---- the stateless registration challenge ----------------------------------------------------

function challengeMac(deps: Deps, deviceId: string, rpID: string, nonce: Buffer, expiresAt: number): Buffer {
  const text = `tandem-webauthn-register-1\n${deviceId}\n${rpID}\n${nonce.toString('hex')}\n${expiresAt}`;
  return Buffer.from(deps.keyring.hmac('webauthn-challenge', text), 'hex');
}

/** version ‖ nonce ‖ expiry (ms, 64-bit big-endian) ‖ HMAC. */
export function issueRegistrationChallenge(deps: Deps, deviceId: string, rpID: string): Buffer {
  const nonce = deps.random.bytes(NONCE_BYTES);
  const expiresAt = deps.clock.now() + PASSKEY_CEREMONY_MS;
  const out = Buffer.alloc(CHALLENGE_BYTES);
  out[0] = CHALLENGE_VERSION;
  nonce.copy(out, 1);
  out.writeBigUInt64BE(BigInt(expiresAt), 1 + NONCE_BYTES);
  challengeMac(deps, deviceId, rpID, nonce, expiresAt).copy(out, 1 + NONCE_BYTES + 8);
  return out;
}

/** True when `challengeB64url` (as the browser echoes it) is one we issued to this device and RP, unexpired. */
export function checkRegistrationChallenge(deps: Deps, deviceId: string, rpID: string, challengeB64url: string): boolean {
  if (typeof challengeB64url !== 'string' || !B64URL.test(challengeB64url) || challengeB64url.length > 200) return false;
  const b = Buffer.from(challengeB64url, 'base64url');
  if (b.length !== CHALLENGE_BYTES || b[0] !== CHALLENGE_VERSION) return false;
  const nonce = b.subarray(1, 1 + NONCE_BYTES);
  const expiresAt = Number(b.readBigUInt64BE(1 + NONCE_BYTES));
  const mac = b.subarray(1 + NONCE_BYTES + 8);
  const expected = challengeMac(deps, deviceId, rpID, Buffer.from(nonce), expiresAt);
  // The MAC first (constant time), so an expiry check cannot be probed with forged values.
  if (!constantTimeEqual(mac, expected)) return false;
  return expiresAt > deps.clock.now();
}

// ---- shapes of what the browser sends ---------------------------------------------------------

function isObj(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function onlyKeys(o: Record<string, unknown>, required: readonly string[], optional: readonly string[]): boolean {
  if (Object.getOwnPropertySymbols(o).length > 0) return false;
  for (const k of required) if (!Object.prototype.hasOwnProperty.call(o, k)) return false;
  return Object.keys(o).every((k) => required.includes(k) || optional.includes(k));
}

const b64 = (v: unknown, allowEmpty = false): v is string => typeof v === 'string' && v.length <= MAX_FIELD && (allowEmpty || v.length > 0) && B64URL.test(v);

const ATTACHMENTS = ['platform', 'cross-platform'];

/**
 * A registration response as @simplewebauthn/browser's startRegistration gives it, or null.
 * Only the known members are accepted; client extension results are dropped (none are used).
 */
export function parseRegistrationResponse(raw: unknown): RegistrationResponseJSON | null {
  if (!isObj(raw) || !onlyKeys(raw, ['id', 'rawId', 'type', 'response'], ['clientExtensionResults', 'authenticatorAttachment'])) return null;
  const { id, rawId, type, response } = raw;
  if (!b64(id) || !b64(rawId) || id !== rawId || type !== 'public-key' || !isObj(response)) return null;
  if (raw['clientExtensionResults'] !== undefined && !isObj(raw['clientExtensionResults'])) return null;
  const attachment = raw['authenticatorAttachment'];
  if (attachment !== undefined && attachment !== null && !ATTACHMENTS.includes(attachment as string)) return null;
  if (!onlyKeys(response, ['clientDataJSON', 'attestationObject'], ['authenticatorData', 'transports', 'publicKeyAlgorithm', 'publicKey'])) return null;
  if (!b64(response['clientDataJSON']) || !b64(response['attestationObject'])) return null;
  if (response['authenticatorData'] !== undefined && !b64(response['authenticatorData'])) return null;
  if (response['publicKey'] !== undefined && !b64(response['publicKey'])) return null;
  if (response['publicKeyAlgorithm'] !== undefined && !Number.isSafeInteger(response['publicKeyAlgorithm'])) return null;
  const transports = response['transports'];
  if (transports !== undefined && (!Array.isArray(transports) || transports.length > 16 || !transports.every((t) => typeof t === 'string' && t.length <= 32))) return null;
  return {
    id,
    rawId,
    type: 'public-key',
    response: {
      clientDataJSON: response['clientDataJSON'],
      attestationObject: response['attestationObject'],
      ...(Array.isArray(transports) ? { transports: (transports as string[]).filter((t) => TRANSPORTS.has(t)) as RegistrationResponseJSON['response']['transports'] } : {}),
    },
    clientExtensionResults: {},
  };
}

/** An assertion as @simplewebauthn/browser's startAuthentication gives it, or null. */
export function parseAssertion(raw: unknown): AuthenticationResponseJSON | null {
  if (!isObj(raw) || !onlyKeys(raw, ['id', 'rawId', 'type', 'response'], ['clientExtensionResults', 'authenticatorAttachment'])) return null;
  const { id, rawId, type, response } = raw;
  if (!b64(id) || !b64(rawId) || id !== rawId || type !== 'public-key' || !isObj(response)) return null;
  if (raw['clientExtensionResults'] !== undefined && !isObj(raw['clientExtensionResults'])) return null;
  const attachment = raw['authenticatorAttachment'];
  if (attachment !== undefined && attachment !== null && !ATTACHMENTS.includes(attachment as string)) return null;
  if (!onlyKeys(response, ['clientDataJSON', 'authenticatorData', 'signature'], ['userHandle'])) return null;
  if (!b64(response['clientDataJSON']) || !b64(response['authenticatorData']) || !b64(response['signature'])) return null;
  const userHandle = response['userHandle'];
  if (userHandle !== undefined && userHandle !== null && !b64(userHandle, true)) return null;
  return {
    id,
    rawId,
    type: 'public-key',
    response: {
      clientDataJSON: response['clientDataJSON'],
      authenticatorData: response['authenticatorData'],
      signature: response['signature'],
      ...(typeof userHandle === 'string' ? { userHandle } : {}),
    },
    clientExtensionResults: {},
  };
}

// ---- registration ---------------------------------------------------------------------------

const userIdBytes = (userId: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(userId, 'utf8'));

/** Options for navigator.credentials.create (POST /app/api/passkey/options). */
export async function registrationOptions(deps: Deps, device: DeviceRow, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const user = await deps.store.getUser(device.userId);
  if (!user) throw new CoreError('not_found', 'no such user');
  const existing = await deps.store.listPasskeys(device.id);
  return generateRegistrationOptions({
    rpName: 'Tandem',
    rpID: rp.rpID,
    userName: user.username,
    userDisplayName: user.username,
    userID: userIdBytes(user.id),
    challenge: new Uint8Array(issueRegistrationChallenge(deps, device.id, rp.rpID)),
    timeout: PASSKEY_CEREMONY_MS,
    attestationType: 'none',
    excludeCredentials: existing.map((k) => ({ id: k.credentialId, transports: k.transports })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
  });
}

export type RegisterResult = { ok: true; credentialId: string } | { ok: false; reason: 'invalid_passkey' | 'too_many_passkeys' | 'passkey_exists' };

async function deviceAudit(deps: Deps, device: DeviceRow, result: string, reason: string, detail: Record<string, unknown>): Promise<void> {
  const user = await deps.store.getUser(device.userId);
  await appendAudit(deps, {
    event: 'device',
    integration: null,
    username: user?.username ?? null,
    factor: null,
    result,
    reason,
    ipaddr: null,
    hostname: null,
    txid: null,
    detail: { deviceId: device.id, ...detail },
  });
}

/**
 * Verifies a registration response (challenge ours, for this device and RP, unexpired; origin and
 * RP ID; user verified; attestation 'none' or a verifiable one) and stores the credential for the
 * device. Audited either way ('passkey_added' / 'passkey_refused').
 */
export async function registerPasskey(deps: Deps, device: DeviceRow, rp: RelyingParty, response: RegistrationResponseJSON): Promise<RegisterResult> {
  const refuse = async (reason: 'invalid_passkey' | 'too_many_passkeys' | 'passkey_exists', why: string): Promise<RegisterResult> => {
    await deviceAudit(deps, device, 'refused', 'passkey_refused', { why });
    return { ok: false, reason };
  };
  if ((await deps.store.listPasskeys(device.id)).length >= MAX_PASSKEYS_PER_DEVICE) return refuse('too_many_passkeys', 'too many passkeys');
  let info;
  try {
    const v = await verifyRegistrationResponse({
      response,
      expectedChallenge: (c) => checkRegistrationChallenge(deps, device.id, rp.rpID, c),
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpID,
      requireUserPresence: true,
      requireUserVerification: true,
    });
    if (!v.verified) return refuse('invalid_passkey', 'not verified');
    info = v.registrationInfo;
  } catch (e) {
    return refuse('invalid_passkey', String(e instanceof Error ? e.message : e).slice(0, 200));
  }
  const row: PasskeyRow = {
    credentialId: info.credential.id,
    deviceId: device.id,
    userId: device.userId,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    counter: info.credential.counter,
    transports: (response.response.transports ?? []).filter((t) => TRANSPORTS.has(t)),
    createdAt: deps.clock.now(),
  };
  try {
    await deps.store.addPasskey(row);
  } catch (e) {
    if (e instanceof StoreConflictError) return refuse('passkey_exists', 'credential already registered');
    throw e;
  }
  await deviceAudit(deps, device, 'ok', 'passkey_added', { credentialId: row.credentialId, aaguid: info.aaguid, backedUp: info.credentialBackedUp });
  return { ok: true, credentialId: row.credentialId };
}

/** What the app needs to ask for an approval's assertion (GET /app/api/passkey/assert-options). */
export async function assertionOptions(deps: Deps, device: DeviceRow, rp: RelyingParty): Promise<{ rpId: string; allowCredentials: { id: string; type: 'public-key'; transports: string[] }[]; userVerification: 'required'; timeout: number }> {
  const keys = await deps.store.listPasskeys(device.id);
  return {
    rpId: rp.rpID,
    allowCredentials: keys.map((k) => ({ id: k.credentialId, type: 'public-key', transports: k.transports })),
    userVerification: 'required',
    timeout: ASSERTION_TIMEOUT_MS,
  };
}

export type AssertionCheck = { ok: true; credentialId: string } | { ok: false; why: string };

/**
 * The assertion that covers an approval: by a passkey registered to `device` (of its user), over
 * expectedChallenge = base64url(SHA-256(message)), from one of the RP's origins, user present and
 * verified, and a signature counter that moves forward (store.updatePasskeyCounter, atomic).
 * Never throws: anything wrong is `ok: false` with why (for the audit detail).
 */
export async function verifyApprovalAssertion(deps: Deps, device: DeviceRow, rp: RelyingParty | null, message: Uint8Array, assertion: AuthenticationResponseJSON | undefined): Promise<AssertionCheck> {
  if (!assertion) return { ok: false, why: 'missing' };
  if (!rp) return { ok: false, why: 'host is not a relying party' };
  const key = await deps.store.getPasskey(assertion.id);
  if (!key) return { ok: false, why: 'unknown credential' };
  if (key.deviceId !== device.id || key.userId !== device.userId) return { ok: false, why: 'credential of another device' };
  const handle = assertion.response.userHandle;
  if (handle !== undefined && handle !== '' && handle !== Buffer.from(device.userId, 'utf8').toString('base64url')) return { ok: false, why: 'user handle of another user' };
  let newCounter: number;
  try {
    const v = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: approvalChallenge(message),
      expectedOrigin: rp.origins,
      expectedRPID: rp.rpID,
      credential: { id: key.credentialId, publicKey: new Uint8Array(Buffer.from(key.publicKey, 'base64url')), counter: key.counter, transports: key.transports as never },
      requireUserVerification: true,
    });
    if (!v.verified || !v.authenticationInfo.userVerified) return { ok: false, why: 'not verified' };
    newCounter = v.authenticationInfo.newCounter;
  } catch (e) {
    return { ok: false, why: String(e instanceof Error ? e.message : e).slice(0, 200) };
  }
  if (!(await deps.store.updatePasskeyCounter(key.credentialId, newCounter))) return { ok: false, why: 'counter did not move forward' };
  return { ok: true, credentialId: key.credentialId };
}
