// Identifiers and secrets drawn from the injected Random. Formats follow Duo's where clients
// care: ikeys are 20 characters starting with "DI", skeys 40 characters (used as raw UTF-8 HMAC
// keys by every client), txids UUID-shaped.
import type { Random } from './deps.js';

const ALNUM_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Unbiased characters from `alphabet` by rejection sampling. */
export function randomString(random: Random, alphabet: string, length: number): string {
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of random.bytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

export const newIkey = (r: Random): string => 'DI' + randomString(r, ALNUM_UPPER, 18);
export const newSkey = (r: Random): string => randomString(r, ALNUM, 40);
export const newUserId = (r: Random): string => 'DU' + randomString(r, ALNUM_UPPER, 18);
export const newTokenId = (r: Random): string => 'DH' + randomString(r, ALNUM_UPPER, 18);
/** A Tandem Authenticator installation, shaped like Duo's phone ids. */
export const newDeviceId = (r: Random): string => 'DP' + randomString(r, ALNUM_UPPER, 18);
export const newBypassId = (r: Random): string => 'DB' + randomString(r, ALNUM_UPPER, 18);
export const newIntegrationId = (r: Random): string => 'IN' + randomString(r, ALNUM_UPPER, 18);
/** Nine decimal digits, like Duo's bypass codes. */
export const newBypassCode = (r: Random): string => randomString(r, '0123456789', 9);
/** 256-bit URL-safe token for links (enrollment). */
export const newLinkToken = (r: Random): string => r.bytes(32).toString('base64url');

/** A random (version 4) UUID, as Duo's txids look. */
export function newTxid(r: Random): string {
  const b = Buffer.from(r.bytes(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
