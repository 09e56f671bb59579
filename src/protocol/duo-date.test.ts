import { describe, it, expect } from 'vitest';
import { parseDuoDate } from './duo-date.js';

const T = Date.UTC(2025, 0, 6, 15, 4, 5);

describe('parseDuoDate', () => {
  it('parses what each client sends', () => {
    expect(parseDuoDate('Mon, 06 Jan 2025 15:04:05 -0000')).toBe(T); // Python formatdate
    expect(parseDuoDate('Mon, 06 Jan 2025 15:04:05 GMT')).toBe(T); // Node toUTCString
    expect(parseDuoDate('Mon, 06 Jan 2025 15:04:05 +0000')).toBe(T); // Go RFC1123Z, duo_unix HEAD
    expect(parseDuoDate('Mon, 06 Jan 2025 16:04:05 +0100')).toBe(T); // duo_unix ≤ 2.2.3 local time
    expect(parseDuoDate('Mon, 06 Jan 2025 10:04:05 -0500')).toBe(T); // python sig_timezone
    expect(parseDuoDate('Mon, 06 Jan 2025 15:04:05 UTC')).toBe(T);
    expect(parseDuoDate('Mon, 06 Jan 2025 15:04:05 UT')).toBe(T);
  });

  it('handles offsets with minutes and across midnight', () => {
    expect(parseDuoDate('Mon, 06 Jan 2025 20:34:05 +0530')).toBe(T);
    expect(parseDuoDate('Tue, 07 Jan 2025 00:04:05 +0900')).toBe(T);
    expect(parseDuoDate('Sun, 05 Jan 2025 23:04:05 -1600')).toBe(T);
  });

  it('ignores the weekday entirely (it may be wrong or localised) and allows it to be absent', () => {
    expect(parseDuoDate('Fri, 06 Jan 2025 15:04:05 -0000')).toBe(T);
    expect(parseDuoDate('lun., 06 Jan 2025 15:04:05 +0000')).toBe(T);
    expect(parseDuoDate('Пн, 06 Jan 2025 15:04:05 +0000')).toBe(T);
    expect(parseDuoDate('06 Jan 2025 15:04:05 +0000')).toBe(T);
  });

  it('accepts month names in any case, one-digit days and omitted seconds', () => {
    expect(parseDuoDate('Mon, 06 JAN 2025 15:04:05 gmt')).toBe(T);
    expect(parseDuoDate('Mon, 6 jan 2025 15:04:05 +0000')).toBe(T);
    expect(parseDuoDate('Mon, 06 Jan 2025 15:04 +0000')).toBe(T - 5000);
  });

  it('reads the published vector dates', () => {
    expect(parseDuoDate('Tue, 21 Aug 2012 17:29:18 -0000')).toBe(Date.UTC(2012, 7, 21, 17, 29, 18));
    expect(parseDuoDate('Fri, 29 Feb 2024 00:00:00 +0000')).toBe(Date.UTC(2024, 1, 29));
  });

  it('rejects out-of-range fields', () => {
    for (const bad of [
      'Mon, 00 Jan 2025 15:04:05 +0000',
      'Mon, 32 Jan 2025 15:04:05 +0000',
      'Mon, 29 Feb 2025 15:04:05 +0000',
      'Mon, 31 Apr 2025 15:04:05 +0000',
      'Mon, 06 Jan 2025 24:04:05 +0000',
      'Mon, 06 Jan 2025 15:60:05 +0000',
      'Mon, 06 Jan 2025 15:04:60 +0000',
      'Mon, 06 Jan 2025 15:04:05 +0060',
      'Mon, 06 Jan 2025 15:04:05 +2400',
      'Mon, 06 Jan 1969 15:04:05 +0000',
    ]) expect(parseDuoDate(bad), bad).toBeNull();
  });

  it('rejects other formats and garbage', () => {
    for (const bad of [
      '',
      ' ',
      'now',
      '1736175845',
      '2025-01-06T15:04:05Z',
      'Mon Jan  6 15:04:05 2025',
      'Mon, 06 Jan 25 15:04:05 +0000',
      'Mon, 06 Janvier 2025 15:04:05 +0000',
      'Mon, 06 Jån 2025 15:04:05 +0000',
      'Mon, 06 Foo 2025 15:04:05 +0000',
      'Mon, 06 Jan 2025 15:04:05',
      'Mon, 06 Jan 2025 15:04:05 EST',
      'Mon, 06 Jan 2025 15:04:05 +000',
      'Mon, 06 Jan 2025 15:04:05 +00000',
      'Mon, 06 Jan 2025 15:04:05 Z',
      'Mon, 06 Jan 2025 5:04:05 +0000',
      ' Mon, 06 Jan 2025 15:04:05 +0000',
      'Mon, 06 Jan 2025 15:04:05 +0000 ',
      'Mon, 06 Jan 2025 15:04:05 +0000\n',
      'Mon,\t06 Jan 2025 15:04:05 +0000',
      'Mon, 06 Jan 2025 15:04:05.123 +0000',
      'Mon, 06 Jan ２０２５ 15:04:05 +0000',
    ]) expect(parseDuoDate(bad), JSON.stringify(bad)).toBeNull();
  });

  it('rejects input over 64 characters before matching', () => {
    const long = 'Monday-and-some-more-text-to-make-it-long, 06 Jan 2025 15:04:05 +0000';
    expect(long.length).toBeGreaterThan(64);
    expect(parseDuoDate(long)).toBeNull();
    expect(parseDuoDate('x'.repeat(100_000))).toBeNull();
  });
});
