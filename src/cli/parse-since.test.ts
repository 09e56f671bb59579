import { describe, expect, it } from 'vitest';
import { parseSince } from './parse-since.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

describe('parseSince', () => {
  it('relative durations count back from now', () => {
    expect(parseSince('90s', NOW)).toBe(NOW - 90_000);
    expect(parseSince('15m', NOW)).toBe(NOW - 15 * 60_000);
    expect(parseSince('2h', NOW)).toBe(NOW - 7_200_000);
    expect(parseSince('7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseSince('1w', NOW)).toBe(NOW - 7 * 86_400_000);
  });

  it('ISO 8601 dates and times', () => {
    expect(parseSince('2024-05-01', NOW)).toBe(Date.UTC(2024, 4, 1));
    expect(parseSince('2024-05-01T10:30:00Z', NOW)).toBe(Date.UTC(2024, 4, 1, 10, 30));
    expect(parseSince('2024-05-01T10:30:00.250+02:00', NOW)).toBe(Date.UTC(2024, 4, 1, 8, 30, 0, 250));
  });

  it('anything else is null', () => {
    for (const s of ['', 'yesterday', '15', 'm15', '-5m', '2024-13-45', '2024-05-01T25:00:00Z', '1715000000']) expect(parseSince(s, NOW)).toBeNull();
  });
});
