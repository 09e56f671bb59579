import { describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { createKeyring, type SealPurpose } from './keyring.js';
import { deriveKey } from '../protocol/seal.js';
import { ProtocolError } from '../protocol/errors.js';

const MASTER = Buffer.alloc(32, 7);

/** A deterministic byte stream: fixed RNG, different bytes on every call. */
function counterRandom(seed = 'r'): { bytes(n: number): Buffer } {
  let i = 0;
  return {
    bytes(n) {
      const out = Buffer.alloc(n);
      for (let off = 0; off < n; off += 32) createHash('sha256').update(`${seed}:${i++}`).digest().copy(out, off);
      return out;
    },
  };
}

describe('createKeyring', () => {
  it('seals and unseals, for Buffers and strings', () => {
    const k = createKeyring(MASTER, counterRandom());
    const a = k.seal('totp-seed', 'token:DH1', Buffer.from([0, 1, 2, 255]));
    expect(k.unseal('totp-seed', 'token:DH1', a)).toEqual(Buffer.from([0, 1, 2, 255]));
    const b = k.seal('integration-skey', 'integration:IN1', 'sëcret');
    expect(k.unseal('integration-skey', 'integration:IN1', b).toString('utf8')).toBe('sëcret');
  });

  it('uses a fresh IV from the injected RNG on every seal', () => {
    const k = createKeyring(MASTER, counterRandom());
    const a = k.seal('totp-seed', 'x', 'same');
    const b = k.seal('totp-seed', 'x', 'same');
    expect(a).not.toBe(b);
    // Fixed RNG → reproducible output.
    expect(createKeyring(MASTER, counterRandom()).seal('totp-seed', 'x', 'same')).toBe(a);
  });

  it('does not open with another AAD (row), purpose or master key', () => {
    const k = createKeyring(MASTER, counterRandom());
    const sealed = k.seal('totp-seed', 'token:DH1', 'seed');
    expect(() => k.unseal('totp-seed', 'token:DH2', sealed)).toThrow(ProtocolError);
    expect(() => k.unseal('integration-skey', 'token:DH1', sealed)).toThrow(ProtocolError);
    expect(() => createKeyring(Buffer.alloc(32, 8), counterRandom()).unseal('totp-seed', 'token:DH1', sealed)).toThrow(ProtocolError);
  });

  it('detects tampering and garbage', () => {
    const k = createKeyring(MASTER, counterRandom());
    const sealed = k.seal('totp-seed', 'a', 'seed');
    const last = sealed.at(-1) === 'A' ? 'B' : 'A';
    for (const bad of [sealed.slice(0, -1) + last, sealed.slice(0, -4), '', 'v1..', 'v2' + sealed.slice(2), 'x'.repeat(100_000)]) {
      expect(() => k.unseal('totp-seed', 'a', bad)).toThrow(ProtocolError);
    }
  });

  it('HMACs with a per-purpose key derived by HKDF (known answer)', () => {
    const k = createKeyring(MASTER, counterRandom());
    const expected = createHmac('sha256', deriveKey(MASTER, 'bypass-code')).update('123456789').digest('hex');
    expect(k.hmac('bypass-code', '123456789')).toBe(expected);
    expect(k.hmac('bypass-code', '123456789')).toMatch(/^[0-9a-f]{64}$/);
    expect(k.hmac('request-id', '123456789')).not.toBe(expected);
    expect(createKeyring(Buffer.alloc(32, 8), counterRandom()).hmac('bypass-code', '123456789')).not.toBe(expected);
    // Never the bare master key.
    expect(expected).not.toBe(createHmac('sha256', MASTER).update('123456789').digest('hex'));
  });

  it('seals with the HKDF key for the purpose (interoperable with protocol/seal)', async () => {
    const { unseal } = await import('../protocol/seal.js');
    const sealed = createKeyring(MASTER, counterRandom()).seal('integration-skey', 'row', 'skey');
    expect(unseal({ key: deriveKey(MASTER, 'integration-skey'), aad: 'row', sealed }).toString()).toBe('skey');
  });

  it('refuses unknown purposes from untyped callers and short master keys', () => {
    const k = createKeyring(MASTER, counterRandom());
    expect(() => k.seal('bypass-code' as SealPurpose, 'a', 'b')).toThrow('unknown seal purpose');
    expect(() => k.unseal('__proto__' as SealPurpose, 'a', 'b')).toThrow('unknown seal purpose');
    expect(() => k.hmac('totp-seed' as never, 'a')).toThrow('unknown hmac purpose');
    expect(() => createKeyring(Buffer.alloc(31), counterRandom())).toThrow('32 bytes');
    expect(() => createKeyring(Buffer.alloc(33), counterRandom())).toThrow('32 bytes');
  });

  it('refuses a short IV from a broken RNG', () => {
    const k = createKeyring(MASTER, { bytes: () => Buffer.alloc(4) });
    expect(() => k.seal('totp-seed', 'a', 'b')).toThrow();
  });
});
