import { describe, it, expect } from 'vitest';
import { constantTimeEqual } from './compare.js';

describe('constantTimeEqual', () => {
  it('is true for equal strings and equal bytes', () => {
    expect(constantTimeEqual('123456', '123456')).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('compares strings as UTF-8 bytes, so a string equals its own encoding', () => {
    expect(constantTimeEqual('é', Buffer.from('é', 'utf8'))).toBe(true);
    expect(constantTimeEqual('é', Buffer.from('é', 'latin1'))).toBe(false);
  });

  it('is false for different values of the same length', () => {
    expect(constantTimeEqual('123456', '123457')).toBe(false);
    expect(constantTimeEqual(new Uint8Array([0]), new Uint8Array([1]))).toBe(false);
  });

  it('is false (and does not throw) for different lengths, including a prefix and empty', () => {
    expect(constantTimeEqual('12345', '123456')).toBe(false);
    expect(constantTimeEqual('123456', '')).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(1))).toBe(false);
  });

  it('handles long inputs', () => {
    const a = 'a'.repeat(100_000);
    expect(constantTimeEqual(a, a)).toBe(true);
    expect(constantTimeEqual(a, a.slice(1) + 'b')).toBe(false);
  });
});
