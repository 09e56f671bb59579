// Secrets at rest (TOTP/HOTP seeds, integration skeys): AES-256-GCM under keys derived from the
// master key, with AAD binding each value to its row so a sealed value copied into another row
// (or column) fails to open. ARCHITECTURE.md §5. The IV is a parameter: protocol/ has no RNG,
// and the caller draws 12 random bytes per seal (NIST SP 800-38D §8.2.2 random IV construction).
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { ProtocolError } from './errors.js';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
// Seeds and skeys are tiny; a cap keeps hostile or corrupted rows from costing real work.
const MAX_SEALED_CHARS = 64 * 1024;

/**
 * HKDF-SHA256 (RFC 5869) with an empty salt, info `tandem:<purpose>:v1`, 32 bytes. One key per
 * purpose (core/keyring.ts: `totp-seed`, `integration-skey`, `bypass-code`, `request-id`; renaming one makes existing data unreadable) so a key is never used for two jobs.
 */
export function deriveKey(master: Uint8Array, purpose: string): Buffer {
  if (master.length < KEY_BYTES) throw new ProtocolError('bad_argument', 'master key must be at least 32 bytes');
  // ':' would make `info` ambiguous between purposes.
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(purpose)) throw new ProtocolError('bad_argument', 'key purpose must be a short lowercase name');
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `tandem:${purpose}:${VERSION}`, KEY_BYTES));
}

function toBytes(v: Uint8Array | string): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== KEY_BYTES) throw new ProtocolError('bad_argument', 'seal key must be 32 bytes');
}

/** `v1.<base64url iv>.<base64url ciphertext||tag>` */
export function seal(input: { key: Uint8Array; iv: Uint8Array; aad: Uint8Array | string; plaintext: Uint8Array | string }): string {
  checkKey(input.key);
  if (input.iv.length !== IV_BYTES) throw new ProtocolError('bad_argument', 'seal IV must be 12 bytes');
  const cipher = createCipheriv('aes-256-gcm', input.key, input.iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(toBytes(input.aad));
  const body = Buffer.concat([cipher.update(toBytes(input.plaintext)), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${Buffer.from(input.iv).toString('base64url')}.${body.toString('base64url')}`;
}

function decodeBase64url(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64url');
  // Node ignores stray characters and bits; require the canonical encoding.
  if (!/^[A-Za-z0-9_-]*$/.test(text) || bytes.toString('base64url') !== text) {
    throw new ProtocolError('bad_seal', 'sealed value is not canonical base64url');
  }
  return bytes;
}

/** Opens a sealed value; any format problem, wrong key, wrong AAD or tampering → bad_seal. */
export function unseal(input: { key: Uint8Array; aad: Uint8Array | string; sealed: string }): Buffer {
  checkKey(input.key);
  if (input.sealed.length > MAX_SEALED_CHARS) throw new ProtocolError('bad_seal', 'sealed value too long');
  const parts = input.sealed.split('.');
  if (parts.length !== 3) throw new ProtocolError('bad_seal', 'sealed value has the wrong number of parts');
  if (parts[0] !== VERSION) throw new ProtocolError('bad_seal', 'sealed value has an unknown version');
  const iv = decodeBase64url(parts[1]!);
  const body = decodeBase64url(parts[2]!);
  if (iv.length !== IV_BYTES) throw new ProtocolError('bad_seal', 'sealed value has a bad IV');
  if (body.length < TAG_BYTES) throw new ProtocolError('bad_seal', 'sealed value is truncated');
  const ciphertext = body.subarray(0, body.length - TAG_BYTES);
  const tag = body.subarray(body.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', input.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(toBytes(input.aad));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // Node reports "Unsupported state or unable to authenticate data"; we say no more than that.
    throw new ProtocolError('bad_seal', 'sealed value failed authentication');
  }
}
