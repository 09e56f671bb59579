import { describe, it, expect } from 'vitest';
import { createHmac } from 'node:crypto';
import { hotp } from './hotp.js';
import { ProtocolError } from './errors.js';

const SECRET = Buffer.from('12345678901234567890');

describe('hotp', () => {
  it('matches RFC 4226 Appendix D for counters 0 and 9 (all ten are in test/vectors)', () => {
    expect(hotp(SECRET, 0, { digits: 6, algorithm: 'sha1' })).toBe('755224');
    expect(hotp(SECRET, 9, { digits: 6, algorithm: 'sha1' })).toBe('520489');
  });

  it('gives 8 digits with leading zeros kept', () => {
    // RFC 6238 Appendix B, T = 1111111109 (step 0x23523EC), SHA1: "07081804".
    expect(hotp(SECRET, 0x23523ec, { digits: 8, algorithm: 'sha1' })).toBe('07081804');
  });

  it('encodes counters above 2^32 as 8 big-endian bytes', () => {
    const counter = 2 ** 40 + 5;
    const msg = Buffer.alloc(8);
    msg.writeBigUInt64BE(BigInt(counter));
    const mac = createHmac('sha1', SECRET).update(msg).digest();
    const offset = mac[19]! & 0xf;
    const expected = String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
    expect(hotp(SECRET, counter, { digits: 6, algorithm: 'sha1' })).toBe(expected);
  });

  it('accepts the largest safe counter', () => {
    expect(hotp(SECRET, Number.MAX_SAFE_INTEGER, { digits: 6, algorithm: 'sha512' })).toMatch(/^\d{6}$/);
  });

  it('rejects counters that are negative, fractional, unsafe or not numbers', () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => hotp(SECRET, bad, { digits: 6, algorithm: 'sha1' })).toThrow(ProtocolError);
    }
  });

  it('rejects unsupported digits and algorithms (callers get them from config or URIs)', () => {
    expect(() => hotp(SECRET, 0, { digits: 7 as 6, algorithm: 'sha1' })).toThrow(ProtocolError);
    expect(() => hotp(SECRET, 0, { digits: 6, algorithm: 'md5' as 'sha1' })).toThrow(ProtocolError);
  });
});
