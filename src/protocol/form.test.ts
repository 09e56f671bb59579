import { describe, it, expect } from 'vitest';
import { MAX_FORM_PAIRS, parseForm } from './form.js';
import { ProtocolError } from './errors.js';

function expectBadEncoding(body: Buffer | string): void {
  try {
    parseForm(body);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('bad_encoding');
    return;
  }
  throw new Error('expected bad_encoding');
}

describe('parseForm', () => {
  it('parses pairs in order', () => {
    expect(parseForm('username=alice&ipaddr=192.0.2.10')).toEqual([
      ['username', 'alice'],
      ['ipaddr', '192.0.2.10'],
    ]);
  });

  it('accepts a Buffer body', () => {
    expect(parseForm(Buffer.from('a=1&b=2'))).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('returns [] for an empty body', () => {
    expect(parseForm('')).toEqual([]);
    expect(parseForm(Buffer.alloc(0))).toEqual([]);
  });

  it('keeps empty values and bare keys, skips empty segments', () => {
    expect(parseForm('a=&b&&c=3&')).toEqual([
      ['a', ''],
      ['b', ''],
      ['c', '3'],
    ]);
    expect(parseForm('=x')).toEqual([['', 'x']]);
  });

  it('keeps repeated keys in order', () => {
    expect(parseForm('k=2&k=1&j=0&k=3')).toEqual([
      ['k', '2'],
      ['k', '1'],
      ['j', '0'],
      ['k', '3'],
    ]);
  });

  it("decodes '+' as space and %XX (either case) as bytes, in keys too", () => {
    expect(parseForm('real+name=First+Last&x%2By=a%2bb%20c')).toEqual([
      ['real name', 'First Last'],
      ['x+y', 'a+b c'],
    ]);
  });

  it('splits only on the first = of a pair', () => {
    expect(parseForm('pushinfo=Server+IP=1.2.3.4')).toEqual([['pushinfo', 'Server IP=1.2.3.4']]);
  });

  it('decodes what each Duo client sends (Python/Go +, Node raw !\'()*, duo_unix canonical)', () => {
    expect(parseForm("username=J.%20O'Brien&limit=100")).toEqual([
      ['username', "J. O'Brien"],
      ['limit', '100'],
    ]);
    expect(parseForm('pushinfo=Server%2BIP%3D198.51.100.7%26Command%3Dsudo%2520ls')).toEqual([['pushinfo', 'Server+IP=198.51.100.7&Command=sudo%20ls']]);
  });

  it('decodes percent-encoded UTF-8, and raw UTF-8', () => {
    expect(parseForm('name=%E2%82%AC%C3%A9')).toEqual([['name', '€é']]);
    expect(parseForm(Buffer.from('name=€é', 'utf8'))).toEqual([['name', '€é']]);
    expect(parseForm('name=€é')).toEqual([['name', '€é']]);
  });

  it('keeps decoded NUL and control characters (callers decide)', () => {
    expect(parseForm('a=%00%0A')).toEqual([['a', '\0\n']]);
  });

  it('rejects malformed percent escapes', () => {
    for (const bad of ['a=%', 'a=%2', 'a=%G0', 'a=%0G', 'a=100%', '%=1', 'a=%%41', 'a=%u00e9', 'a=% 1']) expectBadEncoding(bad);
  });

  it('rejects percent-encoded bytes that are not UTF-8', () => {
    for (const bad of ['a=%FF', 'a=%C3', 'a=%C3%28', 'a=%E2%82', 'a=%ED%A0%80', 'a=%C0%AF', 'a=%F8%88%80%80%80', '%80=1']) expectBadEncoding(bad);
  });

  it('rejects raw bytes that are not UTF-8, and strings with lone surrogates', () => {
    expectBadEncoding(Buffer.from([0x61, 0x3d, 0xff]));
    expectBadEncoding(Buffer.from([0x61, 0x3d, 0xc3]));
    expectBadEncoding('a=\uD800');
    expectBadEncoding('a=\uDC00x');
  });

  it(`accepts ${MAX_FORM_PAIRS} pairs and rejects one more`, () => {
    const pairs = Array.from({ length: MAX_FORM_PAIRS }, (_, i) => `k${i}=v`);
    expect(parseForm(pairs.join('&'))).toHaveLength(MAX_FORM_PAIRS);
    expectBadEncoding([...pairs, 'one=more'].join('&'));
  });

  it('does not count empty segments towards the cap', () => {
    const body = 'a=1' + '&'.repeat(5000) + 'b=2';
    expect(parseForm(body)).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('handles a large single value', () => {
    const value = 'x'.repeat(1_000_000);
    expect(parseForm(`a=${value}`)[0]![1]).toHaveLength(1_000_000);
  });

  it('never leaks input into error messages', () => {
    try {
      parseForm('password=hunter2%ZZ');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});
