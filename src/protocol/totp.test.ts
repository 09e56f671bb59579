import { describe, it, expect, vi, afterEach } from 'vitest';
import * as compare from './compare.js';
import { findOtpMatch, hotpCandidates, hotpResync, totpCandidates, totpStep } from './totp.js';
import { hotp } from './hotp.js';
import { ProtocolError } from './errors.js';

const SECRET = Buffer.from('12345678901234567890');
const SHA1_6 = { digits: 6, algorithm: 'sha1' } as const;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('totpStep', () => {
  it('is floor(seconds / period)', () => {
    expect(totpStep(0, 30)).toBe(0);
    expect(totpStep(29_999, 30)).toBe(0);
    expect(totpStep(30_000, 30)).toBe(1);
    expect(totpStep(59_000, 30)).toBe(1);
    expect(totpStep(1_111_111_109_000, 30)).toBe(0x23523ec);
    expect(totpStep(120_000, 60)).toBe(2);
  });

  it('rejects bad periods and times', () => {
    for (const p of [0, -30, 1.5, Number.NaN]) expect(() => totpStep(0, p)).toThrow(ProtocolError);
    for (const t of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => totpStep(t, 30)).toThrow(ProtocolError);
  });
});

describe('totpCandidates', () => {
  it('lists now-w .. now+w in ascending order', () => {
    expect(totpCandidates(300_000, 30, 1, 0)).toEqual([9, 10, 11]);
    expect(totpCandidates(300_000, 30, 0, 0)).toEqual([10]);
  });

  it('drops steps below nextCounter (already used, or earlier)', () => {
    expect(totpCandidates(300_000, 30, 1, 10)).toEqual([10, 11]);
    expect(totpCandidates(300_000, 30, 1, 12)).toEqual([]);
  });

  it('never yields negative steps near the epoch', () => {
    expect(totpCandidates(0, 30, 2, 0)).toEqual([0, 1, 2]);
  });

  it('rejects bad window or counter', () => {
    expect(() => totpCandidates(0, 30, -1, 0)).toThrow(ProtocolError);
    expect(() => totpCandidates(0, 30, 1, -1)).toThrow(ProtocolError);
  });
});

describe('hotpCandidates', () => {
  it('lists lookAhead counters starting at nextCounter', () => {
    expect(hotpCandidates(5, 3)).toEqual([5, 6, 7]);
    expect(hotpCandidates(5, 1)).toEqual([5]);
    expect(hotpCandidates(5, 0)).toEqual([]);
  });

  it('stops at the largest safe integer', () => {
    expect(hotpCandidates(Number.MAX_SAFE_INTEGER, 3)).toEqual([Number.MAX_SAFE_INTEGER]);
  });

  it('rejects bad arguments', () => {
    expect(() => hotpCandidates(-1, 3)).toThrow(ProtocolError);
    expect(() => hotpCandidates(0, 1.5)).toThrow(ProtocolError);
  });
});

describe('findOtpMatch', () => {
  const code = (c: number) => hotp(SECRET, c, SHA1_6);

  it('returns the matching candidate', () => {
    expect(findOtpMatch({ secret: SECRET, code: code(7), ...SHA1_6, candidates: [5, 6, 7, 8] })).toBe(7);
  });

  it('returns null for a wrong code or no candidates', () => {
    const wrong = code(7) === '000000' ? '000001' : '000000';
    expect(findOtpMatch({ secret: SECRET, code: wrong, ...SHA1_6, candidates: [7] })).toBeNull();
    expect(findOtpMatch({ secret: SECRET, code: code(7), ...SHA1_6, candidates: [] })).toBeNull();
  });

  it('returns the lowest match when candidates are unordered or repeat', () => {
    expect(findOtpMatch({ secret: SECRET, code: code(3), ...SHA1_6, candidates: [9, 3, 3, 1] })).toBe(3);
  });

  it('compares every candidate through constantTimeEqual, even after a match', () => {
    const spy = vi.spyOn(compare, 'constantTimeEqual');
    findOtpMatch({ secret: SECRET, code: code(0), ...SHA1_6, candidates: [0, 1, 2, 3, 4] });
    expect(spy).toHaveBeenCalledTimes(5);
  });

  it('rejects malformed codes after the same amount of work', () => {
    for (const bad of ['', '12345', '1234567', '12345a', ' 755224', '755224\n', '７５５２２４', '-55224', '+55224', '75522.']) {
      const spy = vi.spyOn(compare, 'constantTimeEqual');
      expect(findOtpMatch({ secret: SECRET, code: bad, ...SHA1_6, candidates: [0, 1, 2] })).toBeNull();
      expect(spy).toHaveBeenCalledTimes(3);
      spy.mockRestore();
    }
  });

  it('honours 8 digits and other algorithms', () => {
    const c = hotp(SECRET, 42, { digits: 8, algorithm: 'sha256' });
    expect(findOtpMatch({ secret: SECRET, code: c, digits: 8, algorithm: 'sha256', candidates: [41, 42] })).toBe(42);
    // The same code checked as SHA-1 does not match.
    expect(findOtpMatch({ secret: SECRET, code: c, digits: 8, algorithm: 'sha1', candidates: [42] })).toBe(
      hotp(SECRET, 42, { digits: 8, algorithm: 'sha1' }) === c ? 42 : null,
    );
  });
});

describe('hotpResync', () => {
  const code = (c: number) => hotp(SECRET, c, SHA1_6);

  it('returns the counter after code2 when two consecutive codes are found', () => {
    expect(hotpResync({ secret: SECRET, code1: code(50), code2: code(51), ...SHA1_6, from: 10, maxSearch: 100 })).toBe(52);
  });

  it('finds a pair at the very start of the range', () => {
    expect(hotpResync({ secret: SECRET, code1: code(10), code2: code(11), ...SHA1_6, from: 10, maxSearch: 2 })).toBe(12);
  });

  it('needs both codes inside [from, from+maxSearch)', () => {
    expect(hotpResync({ secret: SECRET, code1: code(11), code2: code(12), ...SHA1_6, from: 10, maxSearch: 2 })).toBeNull();
    expect(hotpResync({ secret: SECRET, code1: code(9), code2: code(10), ...SHA1_6, from: 10, maxSearch: 5 })).toBeNull();
  });

  it('rejects codes that are not consecutive, or in the wrong order', () => {
    expect(hotpResync({ secret: SECRET, code1: code(50), code2: code(52), ...SHA1_6, from: 0, maxSearch: 100 })).toBeNull();
    expect(hotpResync({ secret: SECRET, code1: code(51), code2: code(50), ...SHA1_6, from: 0, maxSearch: 100 })).toBeNull();
  });

  it('rejects malformed codes after the same work', () => {
    const spy = vi.spyOn(compare, 'constantTimeEqual');
    expect(hotpResync({ secret: SECRET, code1: 'abcdef', code2: code(1), ...SHA1_6, from: 0, maxSearch: 10 })).toBeNull();
    expect(spy).toHaveBeenCalledTimes(20);
  });

  it('returns null for an empty range and rejects bad ranges', () => {
    expect(hotpResync({ secret: SECRET, code1: code(0), code2: code(1), ...SHA1_6, from: 0, maxSearch: 0 })).toBeNull();
    expect(() => hotpResync({ secret: SECRET, code1: code(0), code2: code(1), ...SHA1_6, from: -1, maxSearch: 5 })).toThrow(ProtocolError);
    expect(() => hotpResync({ secret: SECRET, code1: code(0), code2: code(1), ...SHA1_6, from: 0, maxSearch: 100_001 })).toThrow(ProtocolError);
    expect(() => hotpResync({ secret: SECRET, code1: code(0), code2: code(1), ...SHA1_6, from: Number.MAX_SAFE_INTEGER, maxSearch: 5 })).toThrow(ProtocolError);
  });
});
