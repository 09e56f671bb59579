import { describe, it, expect } from 'vitest';
import { canonicalizeParams, duoEncode } from './duo-canon.js';

describe('duoEncode', () => {
  it('leaves RFC 3986 unreserved characters literal', () => {
    const unreserved = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
    expect(duoEncode(unreserved)).toBe(unreserved);
  });

  it('encodes every other ASCII byte as uppercase %XX (space is %20, never +)', () => {
    expect(duoEncode(' !"#$%&\'()*+,/:;<=>?@[\\]^`{|}')).toBe(
      '%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D',
    );
    expect(duoEncode('\0\t\n\x7f')).toBe('%00%09%0A%7F');
  });

  it('encodes non-ASCII as UTF-8 bytes', () => {
    expect(duoEncode('é€😀')).toBe('%C3%A9%E2%82%AC%F0%9F%98%80');
  });

  it('encodes the empty string as empty', () => {
    expect(duoEncode('')).toBe('');
  });
});

describe('canonicalizeParams', () => {
  it('is empty for no params', () => {
    expect(canonicalizeParams([])).toBe('');
  });

  it('sorts by encoded key, then encoded value', () => {
    expect(
      canonicalizeParams([
        ['username', 'alice'],
        ['b', '2'],
        ['b', '10'],
        ['a', 'z'],
      ]),
    ).toBe('a=z&b=10&b=2&username=alice');
  });

  it('sorts keys with a common prefix the way the clients do (foo < foo_bar)', () => {
    expect(
      canonicalizeParams([
        ['foo_bar', '2'],
        ['foo', '1'],
      ]),
    ).toBe('foo=1&foo_bar=2');
  });

  it('sorts in byte order of the encoded text (uppercase before lowercase, % before letters)', () => {
    expect(
      canonicalizeParams([
        ['b', ''],
        ['B', ''],
        [' ', ''],
        ['~', ''],
      ]),
    ).toBe('%20=&B=&b=&~=');
  });

  it('keeps empty values and duplicate pairs', () => {
    expect(
      canonicalizeParams([
        ['k', ''],
        ['k', ''],
      ]),
    ).toBe('k=&k=');
  });

  it('does not mutate its input', () => {
    const input: Array<[string, string]> = [
      ['b', '1'],
      ['a', '2'],
    ];
    canonicalizeParams(input);
    expect(input).toEqual([
      ['b', '1'],
      ['a', '2'],
    ]);
  });
});
