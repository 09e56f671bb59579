import { describe, it, expect } from 'vitest';
import { base32Decode, base32Encode } from './base32.js';
import { ProtocolError } from './errors.js';

// RFC 4648 §10 test vectors.
const RFC4648: Array<[string, string]> = [
  ['', ''],
  ['f', 'MY======'],
  ['fo', 'MZXQ===='],
  ['foo', 'MZXW6==='],
  ['foob', 'MZXW6YQ='],
  ['fooba', 'MZXW6YTB'],
  ['foobar', 'MZXW6YTBOI======'],
];

function expectBad(text: string): void {
  try {
    base32Decode(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('bad_base32');
    return;
  }
  throw new Error(`expected bad_base32 for ${JSON.stringify(text)}`);
}

describe('base32Encode', () => {
  it.each(RFC4648)('RFC 4648 §10: %j', (plain, encoded) => {
    expect(base32Encode(Buffer.from(plain), { padding: true })).toBe(encoded);
    expect(base32Encode(Buffer.from(plain))).toBe(encoded.replace(/=+$/, ''));
  });

  it('encodes the RFC 4226 seed as authenticator apps show it', () => {
    expect(base32Encode(Buffer.from('12345678901234567890'))).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });
});

describe('base32Decode', () => {
  it.each(RFC4648)('RFC 4648 §10: %j', (plain, encoded) => {
    expect(base32Decode(encoded).toString()).toBe(plain);
    expect(base32Decode(encoded.replace(/=+$/, '')).toString()).toBe(plain);
  });

  it('is case-insensitive and ignores spaces and dashes (grouped display)', () => {
    expect(base32Decode('mzxw 6ytb-oi').toString()).toBe('foobar');
    expect(base32Decode('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ').toString()).toBe('12345678901234567890');
  });

  it('round-trips random-looking bytes of every length', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n * 11) & 0xff));
      expect(base32Decode(base32Encode(bytes)).equals(bytes)).toBe(true);
      expect(base32Decode(base32Encode(bytes, { padding: true })).equals(bytes)).toBe(true);
    }
  });

  it('ignores non-zero bits after the last full byte, as google-authenticator does', () => {
    // 26 random base32 characters = 130 bits; the last 2 bits are not part of any byte.
    expect(base32Decode('MZXW6YTBOJ').equals(base32Decode('MZXW6YTBOI'))).toBe(true);
  });

  it('rejects characters outside the alphabet', () => {
    for (const bad of ['MZXW6YT1', 'MZXW6YT0', 'MZXW6YT8', 'MZXW6YT!', 'MZXW6YTÉ', 'MZXW6\0TB', 'MZXW6_TB']) expectBad(bad);
  });

  it('rejects impossible lengths (1, 3 or 6 characters in the last quantum)', () => {
    for (const bad of ['M', 'MZX', 'MZXW6Y', 'MZXW6YTBO', 'MZXW6YTBOI1']) expectBad(bad);
  });

  it('rejects misplaced or wrong-length padding', () => {
    for (const bad of ['MY=Y====', '=MY', 'MY=', 'MY=======', 'MZXW6YTB========', '========', 'MZXW6YQ==']) expectBad(bad);
  });

  it('rejects oversized input before decoding', () => {
    expectBad('A'.repeat(5000));
  });

  it('does not put the input in the error message', () => {
    try {
      base32Decode('SECRETSECRET1');
    } catch (e) {
      expect((e as Error).message).not.toContain('SECRET');
    }
  });
});
