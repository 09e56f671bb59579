// The keys derived from the master key, one per purpose, so a key used for one job can never
// open or forge data meant for another. Sealing is AES-256-GCM with the caller's AAD (bind it to
// the row, e.g. the token id, so a sealed value copied to another row does not open); HMACs make
// short secrets (bypass codes) unguessable offline even with the database in hand.
import { createHmac } from 'node:crypto';
import { deriveKey, seal, unseal } from '../protocol/seal.js';
import type { Random } from './deps.js';

export type SealPurpose = 'totp-seed' | 'integration-skey' | 'server-secret';
export type HmacPurpose = 'bypass-code' | 'request-id' | 'webauthn-challenge';

const SEAL_PURPOSES: readonly SealPurpose[] = ['totp-seed', 'integration-skey', 'server-secret'];
const HMAC_PURPOSES: readonly HmacPurpose[] = ['bypass-code', 'request-id', 'webauthn-challenge'];
/** AES-GCM's standard nonce length; random per seal, so 2^32 seals per key stay safe. */
const IV_BYTES = 12;

export interface Keyring {
  seal(purpose: SealPurpose, aad: string, plaintext: Buffer | string): string;
  /** Throws (ProtocolError) when the value, the AAD or the purpose does not match. */
  unseal(purpose: SealPurpose, aad: string, sealed: string): Buffer;
  /** Hex HMAC-SHA256 under the purpose's key. */
  hmac(purpose: HmacPurpose, data: string): string;
}

export function createKeyring(master: Buffer, random: Pick<Random, 'bytes'>): Keyring {
  if (master.length !== 32) throw new Error(`master key must be 32 bytes (got ${master.length})`);
  // Derive everything up front: the keyring keeps no reference to the master key itself.
  const sealKeys = new Map(SEAL_PURPOSES.map((p) => [p, deriveKey(master, p)] as const));
  const hmacKeys = new Map(HMAC_PURPOSES.map((p) => [p, deriveKey(master, p)] as const));

  // Purposes are checked at run time too: a typo from untyped code must fail loudly, not fall
  // back to some other key.
  const sealKey = (p: SealPurpose): Buffer => {
    const k = sealKeys.get(p);
    if (!k) throw new Error(`unknown seal purpose ${JSON.stringify(p)}`);
    return k;
  };

  return {
    seal(purpose, aad, plaintext) {
      const key = sealKey(purpose);
      const iv = random.bytes(IV_BYTES);
      if (iv.length !== IV_BYTES) throw new Error('random source returned a short IV');
      const pt = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
      return seal({ key, iv, aad, plaintext: pt });
    },
    unseal(purpose, aad, sealed) {
      return unseal({ key: sealKey(purpose), aad, sealed });
    },
    hmac(purpose, data) {
      const key = hmacKeys.get(purpose);
      if (!key) throw new Error(`unknown hmac purpose ${JSON.stringify(purpose)}`);
      return createHmac('sha256', key).update(data, 'utf8').digest('hex');
    },
  };
}
