import { describe, expect, it } from 'vitest';
import { parseSeed } from './parse-seed.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('parseSeed', () => {
  it('accepts base32 in any case, grouped by spaces or dashes, padded or not, with a trailing newline', () => {
    const want = Buffer.from('Hello!\xde\xad\xbe\xef', 'latin1');
    for (const s of ['JBSWY3DPEHPK3PXP', 'jbswy3dpehpk3pxp\n', 'jbsw y3dp ehpk 3pxp\r\n', 'JBSW-Y3DP-EHPK-3PXP', 'JBSWY3DPEHPK3PXP======'.slice(0, 16)]) {
      expect(parseSeed(b(s), 'x')).toEqual(want);
    }
  });

  it('accepts hex: with optional separators', () => {
    expect(parseSeed(b('hex:3132333435\n'), 'x')).toEqual(Buffer.from('12345'));
    expect(parseSeed(b('HEX:31:32 33'), 'x')).toEqual(Buffer.from('123'));
  });

  it('refuses garbage without quoting it', () => {
    for (const s of ['', '\n', 'not base32!', 'hex:123', 'hex:zz', 'hex:', 'JBSWY3DP\nJBSWY3DP', 'A']) {
      let message = '';
      try {
        parseSeed(b(s), 'the file');
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^the file/);
      if (s.trim().length > 4) expect(message).not.toContain(s.trim());
    }
  });
});
