// Authenticated responses for Tandem's own clients. Stock duo_unix trusts whatever arrives over
// TLS; our clients send a fresh nonce in `X-Tandem-Nonce` and refuse any answer without a valid
// `X-Tandem-Signature`: HMAC-SHA512 under the integration's skey over the nonce, the request's
// method and path, and the exact response body. A response replayed from another request, or
// forged by anything that is not the server holding the skey, fails. Stock clients send no nonce
// and get no signature.
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from './compare.js';

export const NONCE_HEADER = 'x-tandem-nonce';
export const SIGNATURE_HEADER = 'x-tandem-signature';
const LABEL = 'tandem-response-v1';

/** 128 to 512 bits of hex: anything else is not one of our clients' nonces. */
export function isNonce(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32,128}$/.test(value);
}

export function responseSignature(o: { skey: string; nonce: string; method: string; path: string; body: Uint8Array | string }): string {
  const bodyHash = createHash('sha512').update(o.body).digest('hex');
  const text = [LABEL, o.nonce, o.method.toUpperCase(), o.path, bodyHash].join('\n');
  return createHmac('sha512', o.skey).update(text).digest('hex');
}

export function verifyResponseSignature(o: { skey: string; nonce: string; method: string; path: string; body: Uint8Array | string; signature: string | undefined }): boolean {
  if (typeof o.signature !== 'string' || !/^[0-9a-f]{128}$/.test(o.signature)) return false;
  return constantTimeEqual(responseSignature(o), o.signature);
}
