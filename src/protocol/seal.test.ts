import { describe, it, expect } from 'vitest';
import { createHmac } from 'node:crypto';
import { deriveKey, seal, unseal } from './seal.js';
import { ProtocolError } from './errors.js';

const MASTER = Buffer.alloc(32, 7);
const KEY = deriveKey(MASTER, 'otp-seed');
const IV = Buffer.from('000102030405060708090a0b', 'hex');
const AAD = 'otp_secrets:42:seed';

function expectBadSeal(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('bad_seal');
    return;
  }
  throw new Error('expected bad_seal');
}

describe('deriveKey', () => {
  it('is HKDF-SHA256 with empty salt and info tandem:<purpose>:v1 (RFC 5869 §2.2–2.3)', () => {
    // Independent computation: PRK = HMAC(salt = 32 zero bytes, IKM); OKM = HMAC(PRK, info || 0x01).
    const prk = createHmac('sha256', Buffer.alloc(32)).update(MASTER).digest();
    const okm = createHmac('sha256', prk).update(Buffer.concat([Buffer.from('tandem:otp-seed:v1'), Buffer.from([1])])).digest();
    expect(KEY.equals(okm)).toBe(true);
    expect(KEY).toHaveLength(32);
  });

  it('gives different keys for different purposes and masters', () => {
    expect(deriveKey(MASTER, 'skey').equals(KEY)).toBe(false);
    expect(deriveKey(Buffer.alloc(32, 8), 'otp-seed').equals(KEY)).toBe(false);
  });

  it('rejects short masters and ambiguous purposes', () => {
    expect(() => deriveKey(Buffer.alloc(16), 'x')).toThrow(ProtocolError);
    for (const p of ['', 'a:b', 'UPPER', 'with space', 'x'.repeat(65)]) expect(() => deriveKey(MASTER, p)).toThrow(ProtocolError);
  });
});

describe('seal / unseal', () => {
  it('round-trips bytes and text', () => {
    const secret = Buffer.from('12345678901234567890');
    const sealed = seal({ key: KEY, iv: IV, aad: AAD, plaintext: secret });
    expect(unseal({ key: KEY, aad: AAD, sealed }).equals(secret)).toBe(true);
    expect(unseal({ key: KEY, aad: Buffer.from(AAD), sealed: seal({ key: KEY, iv: IV, aad: Buffer.from(AAD), plaintext: 'skey' }) }).toString()).toBe('skey');
    expect(unseal({ key: KEY, aad: AAD, sealed: seal({ key: KEY, iv: IV, aad: AAD, plaintext: '' }) })).toHaveLength(0);
  });

  it('uses the envelope v1.<b64url iv>.<b64url ciphertext||tag>', () => {
    const sealed = seal({ key: KEY, iv: IV, aad: AAD, plaintext: 'abc' });
    const [version, iv, body] = sealed.split('.');
    expect(version).toBe('v1');
    expect(Buffer.from(iv!, 'base64url').equals(IV)).toBe(true);
    expect(Buffer.from(body!, 'base64url')).toHaveLength(3 + 16);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('is deterministic for a given IV (the caller must draw a fresh one)', () => {
    expect(seal({ key: KEY, iv: IV, aad: AAD, plaintext: 'x' })).toBe(seal({ key: KEY, iv: IV, aad: AAD, plaintext: 'x' }));
  });

  it('refuses the wrong AAD (value moved to another row) and the wrong key', () => {
    const sealed = seal({ key: KEY, iv: IV, aad: AAD, plaintext: 'seed' });
    expectBadSeal(() => unseal({ key: KEY, aad: 'otp_secrets:43:seed', sealed }));
    expectBadSeal(() => unseal({ key: KEY, aad: '', sealed }));
    expectBadSeal(() => unseal({ key: deriveKey(MASTER, 'skey'), aad: AAD, sealed }));
  });

  it('refuses any tampering or truncation', () => {
    const sealed = seal({ key: KEY, iv: IV, aad: AAD, plaintext: 'seed value' });
    const [v, iv, body] = sealed.split('.') as [string, string, string];
    const bodyBytes = Buffer.from(body, 'base64url');
    for (let i = 0; i < bodyBytes.length; i++) {
      const t = Buffer.from(bodyBytes);
      t[i] = t[i]! ^ 1;
      expectBadSeal(() => unseal({ key: KEY, aad: AAD, sealed: `${v}.${iv}.${t.toString('base64url')}` }));
    }
    const ivBytes = Buffer.from(iv, 'base64url');
    ivBytes[0] = ivBytes[0]! ^ 1;
    expectBadSeal(() => unseal({ key: KEY, aad: AAD, sealed: `${v}.${ivBytes.toString('base64url')}.${body}` }));
    expectBadSeal(() => unseal({ key: KEY, aad: AAD, sealed: `${v}.${iv}.${bodyBytes.subarray(0, bodyBytes.length - 1).toString('base64url')}` }));
    expectBadSeal(() => unseal({ key: KEY, aad: AAD, sealed: `${v}.${iv}.${bodyBytes.subarray(0, 15).toString('base64url')}` }));
  });

  it('refuses malformed envelopes', () => {
    const sealed = seal({ key: KEY, iv: IV, aad: AAD, plaintext: 'seed' });
    const [, iv, body] = sealed.split('.') as [string, string, string];
    for (const bad of [
      '',
      'v1',
      'v1..',
      `v2.${iv}.${body}`,
      `V1.${iv}.${body}`,
      `${iv}.${body}`,
      `v1.${iv}.${body}.x`,
      `v1.${iv}`,
      `v1.${iv}=.${body}`,
      `v1.${iv}.${body}=`,
      `v1.${iv}.${body.replace(/-/g, '+').replace(/_/g, '/')}+/`,
      `v1.${iv} .${body}`,
      `v1.${Buffer.alloc(16).toString('base64url')}.${body}`,
      `v1.${Buffer.alloc(8).toString('base64url')}.${body}`,
      `v1.${iv}.${'A'.repeat(70_000)}`,
    ]) expectBadSeal(() => unseal({ key: KEY, aad: AAD, sealed: bad }));
  });

  it('never puts the plaintext in errors', () => {
    const sealed = seal({ key: KEY, iv: IV, aad: AAD, plaintext: 'TOPSECRETSEED' });
    try {
      unseal({ key: KEY, aad: 'other', sealed });
    } catch (e) {
      expect((e as Error).message).not.toContain('TOPSECRET');
    }
  });

  it('rejects bad keys and IVs as programming errors', () => {
    expect(() => seal({ key: Buffer.alloc(16), iv: IV, aad: AAD, plaintext: 'x' })).toThrow(ProtocolError);
    expect(() => seal({ key: KEY, iv: Buffer.alloc(16), aad: AAD, plaintext: 'x' })).toThrow(ProtocolError);
    expect(() => unseal({ key: Buffer.alloc(31), aad: AAD, sealed: 'v1.a.b' })).toThrow(ProtocolError);
  });
});
