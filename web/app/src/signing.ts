// Device signatures (docs/push.md §2, §3): ECDSA P-256 / SHA-256 with the device's non-extractable
// key. WebCrypto's ECDSA signatures are IEEE P1363 (r‖s) already, which is what the server checks.
// Pure WebCrypto and the shared encodings from src/protocol/approval.ts: no DOM, no storage, so
// these run (and are tested) in node too.
import { approvalMessage, deviceRequestMessage, type Decision } from '../../../src/protocol/approval.js';
import { base64url, bytes, sha256Hex, utf8 } from './encoding.js';
import type { LoginRequest } from './types.js';

export const ECDSA_PARAMS: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN_PARAMS: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/** A fresh device key pair; the private key can never be exported. */
export async function generateDeviceKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ECDSA_PARAMS, false /* non-extractable */, ['sign', 'verify']);
}

/** The public key as the server takes it: a JWK with only kty/crv/x/y. */
export async function publicJwk(publicKey: CryptoKey): Promise<{ kty: string; crv: string; x: string; y: string }> {
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string') throw new Error('unexpected public key');
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

/** base64url of the P1363 signature over `message`. */
export async function signBytes(privateKey: CryptoKey, message: Uint8Array): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.sign(SIGN_PARAMS, privateKey, bytes(message))));
}

export const HEADER_DEVICE = 'Tandem-Device';
export const HEADER_TIME = 'Tandem-Time';
export const HEADER_SIGNATURE = 'Tandem-Signature';

/**
 * The three headers of a device-signed request. `path` is the path with its query exactly as
 * sent; `body` the exact bytes sent (none: the SHA-256 of '' is signed).
 */
export async function signedRequestHeaders(o: {
  deviceId: string;
  privateKey: CryptoKey;
  method: string;
  path: string;
  body?: Uint8Array | null;
  time: number;
}): Promise<Record<string, string>> {
  const method = o.method.toUpperCase();
  const bodySha256 = await sha256Hex(o.body ?? new Uint8Array(0));
  const message = deviceRequestMessage({ deviceId: o.deviceId, method, path: o.path, time: o.time, bodySha256 });
  return {
    [HEADER_DEVICE]: o.deviceId,
    [HEADER_TIME]: String(o.time),
    [HEADER_SIGNATURE]: await signBytes(o.privateKey, message),
  };
}

/** What an approval signs, built from the fields exactly as the app received them (docs/push.md §3). */
export interface ApprovalInput {
  deviceId: string;
  request: LoginRequest;
  decision: Decision;
  /** The number the user typed, or '' when none was asked. */
  number: string;
}

/** The approval message (docs/push.md §3) of `decision` on `request`. */
export async function approvalBytes(o: ApprovalInput): Promise<Uint8Array> {
  const r = o.request;
  return approvalMessage({
    txid: r.txid,
    username: r.username,
    integration: r.integration,
    hostname: r.hostname ?? '',
    ipaddr: r.ipaddr ?? '',
    pushinfoSha256: await sha256Hex(utf8(r.pushinfo ?? '')),
    decision: o.decision,
    deviceId: o.deviceId,
    nonce: r.nonce,
    expiresAt: r.expiresAt,
    number: o.number,
  });
}

/** The approval signature of `decision` on `request`, over the fields exactly as the app received them. */
export async function signApproval(o: ApprovalInput & { privateKey: CryptoKey }): Promise<string> {
  return signBytes(o.privateKey, await approvalBytes(o));
}

/** The WebAuthn challenge that covers an approval (docs/push.md §8): base64url(SHA-256(approval message)). */
export async function approvalChallenge(o: ApprovalInput): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes(await approvalBytes(o)))));
}
