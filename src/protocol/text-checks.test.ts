import { describe, it, expect } from 'vitest';
import { hasControlChars, hasLoneSurrogate, stripControlChars } from './text-checks.js';

describe('hasLoneSurrogate', () => {
  it('accepts well-formed strings including astral characters', () => {
    expect(hasLoneSurrogate('abc 😀 é')).toBe(false);
  });

  it('finds unpaired high and low surrogates', () => {
    expect(hasLoneSurrogate('\uD83D')).toBe(true);
    expect(hasLoneSurrogate('a\uDE00')).toBe(true);
    expect(hasLoneSurrogate('\uDE00\uD83D')).toBe(true);
  });
});

describe('control characters', () => {
  it('detects and strips C0, DEL, C1 and bidi controls, keeping other text', () => {
    const hostile = 'a\x00b\x1b[31mc\x7fd\u0085e\u202Ef\u2066g';
    expect(hasControlChars(hostile)).toBe(true);
    expect(stripControlChars(hostile)).toBe('ab[31mcdefg');
    expect(hasControlChars('plain text – ünïcødé 😀')).toBe(false);
    expect(stripControlChars('plain')).toBe('plain');
  });

  it('is stateless across calls (global regex lastIndex)', () => {
    expect(hasControlChars('\x01')).toBe(true);
    expect(hasControlChars('\x01')).toBe(true);
  });
});
