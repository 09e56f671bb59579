import { describe, it, expect } from 'vitest';
import {
  GaFileError,
  decodeGaSecret,
  describeGaFile,
  formatNewGaFile,
  getGaOption,
  hasTotpAuth,
  parseGaFile,
  parseGaFileBytes,
  readDisallowReuse,
  readHotpCounter,
  readLastLogins,
  readRateLimit,
  readResettingTimeSkew,
  readStepSize,
  readTimeSkew,
  readWindowSize,
  removeLine,
  scratchCodes,
  serializeGaFile,
  setGaOption,
} from './ga-file.js';
import { ProtocolError } from './errors.js';

const CLI_FILE = 'MQT3ACVZ4WVLFJLKULZUNX5B4U\n" RATE_LIMIT 3 30\n" WINDOW_SIZE 3\n" DISALLOW_REUSE\n" TOTP_AUTH\n13516678\n96071548\n49513593\n62096075\n15209418\n';

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GaFileError);
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as GaFileError).problem;
  }
  throw new Error('did not throw');
}

describe('parse / serialize', () => {
  it('round-trips the real CLI file byte for byte and reads every field', () => {
    const f = parseGaFile(CLI_FILE);
    expect(serializeGaFile(f)).toBe(CLI_FILE);
    const d = describeGaFile(f);
    expect(d.mode).toBe('totp');
    expect(d.secret?.length).toBe(16);
    expect(d.rateLimit).toEqual({ attempts: 3, interval: 30, timestamps: [] });
    expect(d.windowSize).toBe(3);
    expect(d.stepSize).toBe(30);
    expect(d.disallowReuse).toEqual([]);
    expect(d.scratchCodes).toEqual(['13516678', '96071548', '49513593', '62096075', '15209418']);
    expect(d.problems).toEqual([]);
  });

  it('round-trips CRLF, missing final newline and blank-line runs', () => {
    for (const t of ['JBSWY3DPEHPK3PXP\r\n" TOTP_AUTH\r\n12345678\r\n', 'JBSWY3DPEHPK3PXP', 'JBSWY3DPEHPK3PXP\n\n\n" TOTP_AUTH\n\n12345678']) {
      expect(serializeGaFile(parseGaFile(t))).toBe(t);
    }
    expect(scratchCodes(parseGaFile('S\r\n" X_Y\r\n12345678\r\n'))).toEqual([{ index: 1, code: '12345678' }]);
  });

  it('enforces the size limit and refuses NUL bytes', () => {
    expect(problemOf(() => parseGaFileBytes(new Uint8Array(0)))).toBe('size');
    expect(problemOf(() => parseGaFileBytes(Buffer.alloc(64 * 1024 + 1, 0x41)))).toBe('size');
    expect(parseGaFileBytes(Buffer.alloc(64 * 1024, 0x41)).secretLine.length).toBe(65536);
    expect(problemOf(() => parseGaFile('ABC\0\n'))).toBe('nul');
  });

  it('keeps non-ASCII bytes verbatim (latin1 in, latin1 out)', () => {
    const bytes = Buffer.from('JBSWY3DPEHPK3PXP\n" NOTE_X caf\u00e9\n', 'utf8');
    const f = parseGaFileBytes(bytes);
    expect(Buffer.from(serializeGaFile(f), 'latin1').equals(bytes)).toBe(true);
  });
});

describe('options', () => {
  it('matches keywords only at a boundary; the first occurrence wins', () => {
    const f = parseGaFile('S\n" WINDOW_SIZEX 9\n" WINDOW_SIZE\t 5\n" WINDOW_SIZE 7\n');
    expect(getGaOption(f, 'WINDOW_SIZE')).toBe('5');
    expect(readWindowSize(f)).toBe(5);
  });

  it('TOTP_AUTH is a substring test, as upstream', () => {
    expect(hasTotpAuth(parseGaFile('S\n" TOTP_AUTHX\n'))).toBe(true);
    expect(hasTotpAuth(parseGaFile('S\n" HOTP_COUNTER 1\n'))).toBe(false);
  });

  it('set replaces the first line, drops duplicates, inserts new keys after line 1', () => {
    let f = parseGaFile('S\r\n" TOTP_AUTH\r\n" DISALLOW_REUSE\r\n12345678\r\n" DISALLOW_REUSE 1\n');
    f = setGaOption(f, 'DISALLOW_REUSE', '10000');
    expect(serializeGaFile(f)).toBe('S\r\n" TOTP_AUTH\r\n" DISALLOW_REUSE 10000\n12345678\r\n');
    f = setGaOption(f, 'LAST0', 'h 1');
    f = setGaOption(f, 'LAST1', 'g 2');
    expect(serializeGaFile(f)).toBe('S\r\n" LAST1 g 2\n" LAST0 h 1\n" TOTP_AUTH\r\n" DISALLOW_REUSE 10000\n12345678\r\n');
    f = setGaOption(f, 'RESETTING_TIME_SKEW', '');
    expect(serializeGaFile(f).split('\n')[1]).toBe('" RESETTING_TIME_SKEW ');
    expect(serializeGaFile(setGaOption(parseGaFile('S'), 'TIME_SKEW', '1'))).toBe('S\n" TIME_SKEW 1\n');
  });

  it('reads numbers with upstream validation', () => {
    const w = (v: string) => readWindowSize(parseGaFile(`S\n" WINDOW_SIZE ${v}\n`));
    expect(w('17')).toBe(17);
    expect(w('100')).toBe(100);
    for (const bad of ['0', '101', '3x', '']) expect(problemOf(() => w(bad))).toBe('bad_window');
    const s = (v: string) => readStepSize(parseGaFile(`S\n" STEP_SIZE ${v}\n`));
    expect(s('60')).toBe(60);
    expect(s('1 ')).toBe(1);
    for (const bad of ['0', '61', '30s', '30 x']) expect(problemOf(() => s(bad))).toBe('bad_step');
    expect(readHotpCounter(parseGaFile('S\n" HOTP_COUNTER 12\n'))).toBe(12);
    expect(readHotpCounter(parseGaFile('S\n" HOTP_COUNTER x\n'))).toBe(0);
    expect(readHotpCounter(parseGaFile('S\n'))).toBeNull();
    expect(readTimeSkew(parseGaFile('S\n" TIME_SKEW -1000\n'))).toBe(-1000);
  });

  it('reads RATE_LIMIT with its timestamps; a trailing space is an error', () => {
    const r = (v: string) => readRateLimit(parseGaFile(`S\n" RATE_LIMIT ${v}\n`));
    expect(r('4 120 600060 600090')).toEqual({ attempts: 4, interval: 120, timestamps: [600060, 600090] });
    expect(problemOf(() => r('4 120 600060 '))).toBe('bad_rate_limit_timestamps');
    expect(problemOf(() => r('4 120 '))).toBe('bad_rate_limit_timestamps');
    expect(problemOf(() => r('4'))).toBe('bad_rate_limit');
    expect(problemOf(() => r('0 30'))).toBe('bad_rate_limit');
    expect(problemOf(() => r('3 3601'))).toBe('bad_rate_limit');
    expect(readRateLimit(parseGaFile('S\n'))).toBeNull();
  });

  it('reads DISALLOW_REUSE, RESETTING_TIME_SKEW and LASTn', () => {
    expect(readDisallowReuse(parseGaFile('S\n" DISALLOW_REUSE 1 2  3\n'))).toEqual([1, 2, 3]);
    expect(problemOf(() => readDisallowReuse(parseGaFile('S\n" DISALLOW_REUSE 1 x\n')))).toBe('bad_disallow_reuse');
    expect(readResettingTimeSkew(parseGaFile('S\n" RESETTING_TIME_SKEW 1-5 2+3 3-1 4+0\n'))).toEqual([
      { tm: 2, skew: 3 },
      { tm: 3, skew: -1 },
      { tm: 4, skew: 0 },
    ]);
    expect(readResettingTimeSkew(parseGaFile('S\n" RESETTING_TIME_SKEW 12000-1000 bad 1+1\n'))).toEqual([{ tm: 12000, skew: -1000 }]);
    const l = readLastLogins(parseGaFile('S\n" LAST1 fe80::1%eth0 300000\n" LAST0 bad/host 1\n'));
    expect(l.entries).toEqual([{ slot: 1, host: 'fe80::1%eth0', when: 300000 }]);
    expect(l.malformed).toEqual([0]);
  });
});

describe('secret and scratch codes', () => {
  it('decodes base32 leniently, like upstream', () => {
    const hex = '48656c6c6f21deadbeef';
    expect(decodeGaSecret('JBSWY3DPEHPK3PXP').toString('hex')).toBe(hex);
    expect(decodeGaSecret('J8SWY3DPEHPK3PXP').toString('hex')).toBe(hex);
    expect(decodeGaSecret('jbsw y3dp-ehpk3pxp\r').toString('hex')).toBe(hex);
    expect(decodeGaSecret('JBSWY3DPEB3W64TMMQXC4LQA').toString('latin1')).toBe('Hello world...\0');
    expect(decodeGaSecret('2SH3V3GDW7ZNMGYE').toString('hex')).toBe('d48fbaecc3b7f2d61b04');
    expect(problemOf(() => decodeGaSecret('JBSWY3DPEHPK3PXP===='))).toBe('bad_secret');
    expect(problemOf(() => decodeGaSecret('A'))).toBe('bad_secret');
    expect(problemOf(() => decodeGaSecret(''))).toBe('bad_secret');
  });

  it('walks scratch codes like upstream: stops at garbage, rejects leading zeros', () => {
    const f = parseGaFile('S\n" TOTP_AUTH\n12345678\n01234567\n87654321\n');
    expect(scratchCodes(f).map((c) => c.code)).toEqual(['12345678']);
    expect(scratchCodes(parseGaFile('S\n12345678\n" TOTP_AUTH\n87654321\nfoo\n11111111\n')).map((c) => c.code)).toEqual(['12345678', '87654321']);
    expect(scratchCodes(parseGaFile('S\n123456789\n')).length).toBe(0);
  });

  it('removes a used code with its terminator', () => {
    const f = parseGaFile(CLI_FILE);
    const c = scratchCodes(f)[1]!;
    expect(serializeGaFile(removeLine(f, c.index))).toBe(CLI_FILE.replace('96071548\n', ''));
  });
});

describe('formatNewGaFile', () => {
  it('writes the CLI layout', () => {
    expect(
      formatNewGaFile({
        secret: 'MQT3ACVZ4WVLFJLKULZUNX5B4U',
        mode: 'totp',
        rateLimit: { attempts: 3, interval: 30 },
        windowSize: 3,
        disallowReuse: true,
        scratchCodes: ['13516678', '96071548', '49513593', '62096075', '15209418'],
      }),
    ).toBe(CLI_FILE);
    expect(formatNewGaFile({ secret: 'ABCD', mode: 'totp', windowSize: 3, stepSize: 60, scratchCodes: ['12345678', '23456789'] })).toBe(
      'ABCD\n" WINDOW_SIZE 3\n" STEP_SIZE 60\n" TOTP_AUTH\n12345678\n23456789\n',
    );
    expect(formatNewGaFile({ secret: 'ABCD', mode: 'hotp', rateLimit: { attempts: 5, interval: 60 }, windowSize: 1, stepSize: 60, scratchCodes: [] })).toBe(
      'ABCD\n" RATE_LIMIT 5 60\n" WINDOW_SIZE 1\n" HOTP_COUNTER 1\n',
    );
  });

  it('refuses out-of-range values', () => {
    expect(problemOf(() => formatNewGaFile({ secret: 'abc', mode: 'totp', scratchCodes: [] }))).toBe('bad_spec');
    expect(problemOf(() => formatNewGaFile({ secret: 'ABC', mode: 'totp', windowSize: 0, scratchCodes: [] }))).toBe('bad_spec');
    expect(problemOf(() => formatNewGaFile({ secret: 'ABC', mode: 'hotp', disallowReuse: true, scratchCodes: [] }))).toBe('bad_spec');
    expect(problemOf(() => formatNewGaFile({ secret: 'ABC', mode: 'totp', scratchCodes: ['01234567'] }))).toBe('bad_spec');
  });
});
