import { describe, it, expect } from 'vitest';
import { buildOtpauthUri, parseOtpauthUri, type OtpauthUri } from './otpauth.js';
import { ProtocolError } from './errors.js';

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

function expectBadUri(uri: string): void {
  try {
    parseOtpauthUri(uri);
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).code).toBe('bad_uri');
    return;
  }
  throw new Error(`expected bad_uri for ${uri}`);
}

describe('buildOtpauthUri', () => {
  it('follows the Key Uri Format for TOTP', () => {
    expect(
      buildOtpauthUri({ type: 'totp', issuer: 'ACME Co', account: 'alice@example.com', secretBase32: SECRET, digits: 6, algorithm: 'sha1', period: 30 }),
    ).toBe(`otpauth://totp/ACME%20Co:alice%40example.com?secret=${SECRET}&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30`);
  });

  it('emits counter for HOTP and defaults period/counter', () => {
    expect(buildOtpauthUri({ type: 'hotp', issuer: 'Tandem', account: 'bob', secretBase32: SECRET, digits: 8, algorithm: 'sha512', counter: 7 })).toBe(
      `otpauth://hotp/Tandem:bob?secret=${SECRET}&issuer=Tandem&algorithm=SHA512&digits=8&counter=7`,
    );
    expect(buildOtpauthUri({ type: 'totp', issuer: 'T', account: 'b', secretBase32: SECRET, digits: 6, algorithm: 'sha256' })).toContain('&period=30');
    expect(buildOtpauthUri({ type: 'hotp', issuer: 'T', account: 'b', secretBase32: SECRET, digits: 6, algorithm: 'sha1' })).toContain('&counter=0');
  });

  it('percent-encodes everything outside RFC 3986 unreserved, including : / # ? & = + and non-ASCII', () => {
    const uri = buildOtpauthUri({ type: 'totp', issuer: 'ACME Corp/€', account: "al ice&b=c?d%e/f#g+h:i!'()*", secretBase32: SECRET, digits: 6, algorithm: 'sha1' });
    expect(uri).toBe(
      `otpauth://totp/ACME%20Corp%2F%E2%82%AC:al%20ice%26b%3Dc%3Fd%25e%2Ff%23g%2Bh%3Ai%21%27%28%29%2A?secret=${SECRET}&issuer=ACME%20Corp%2F%E2%82%AC&algorithm=SHA1&digits=6&period=30`,
    );
    const parsed = parseOtpauthUri(uri);
    expect(parsed.issuer).toBe('ACME Corp/€');
    expect(parsed.account).toBe("al ice&b=c?d%e/f#g+h:i!'()*");
  });

  it('omits the issuer prefix and parameter when the issuer is empty', () => {
    expect(buildOtpauthUri({ type: 'totp', issuer: '', account: 'bob', secretBase32: SECRET, digits: 6, algorithm: 'sha1' })).toBe(
      `otpauth://totp/bob?secret=${SECRET}&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it('normalises the secret (case, spaces, padding)', () => {
    expect(buildOtpauthUri({ type: 'totp', issuer: 'T', account: 'b', secretBase32: 'mzxw 6ytb oi======', digits: 6, algorithm: 'sha1' })).toContain('secret=MZXW6YTBOI&');
  });

  it('refuses unusable input', () => {
    const base: OtpauthUri = { type: 'totp', issuer: 'T', account: 'b', secretBase32: SECRET, digits: 6, algorithm: 'sha1' };
    expect(() => buildOtpauthUri({ ...base, account: '' })).toThrow(ProtocolError);
    expect(() => buildOtpauthUri({ ...base, secretBase32: '' })).toThrow(ProtocolError);
    expect(() => buildOtpauthUri({ ...base, secretBase32: 'not base32!' })).toThrow(ProtocolError);
    expect(() => buildOtpauthUri({ ...base, period: 0 })).toThrow(ProtocolError);
    expect(() => buildOtpauthUri({ ...base, digits: 7 as 6 })).toThrow(ProtocolError);
    expect(() => buildOtpauthUri({ ...base, account: 'a\uD800b' })).toThrow(ProtocolError);
    expect(() => buildOtpauthUri({ ...base, type: 'hotp', counter: -1 })).toThrow(ProtocolError);
  });
});

describe('parseOtpauthUri', () => {
  it('round-trips what buildOtpauthUri emits', () => {
    const inputs: OtpauthUri[] = [
      { type: 'totp', issuer: 'ACME Co', account: 'alice@example.com', secretBase32: SECRET, digits: 6, algorithm: 'sha1', period: 30 },
      { type: 'totp', issuer: 'A:B', account: 'c:d', secretBase32: SECRET, digits: 8, algorithm: 'sha256', period: 60 },
      { type: 'hotp', issuer: 'Tandem', account: 'bob', secretBase32: SECRET, digits: 6, algorithm: 'sha512', counter: 2 ** 40 },
      { type: 'totp', issuer: '', account: 'ünïcødé 用户', secretBase32: 'MZXW6YTBOI', digits: 6, algorithm: 'sha1', period: 30 },
    ];
    for (const input of inputs) expect(parseOtpauthUri(buildOtpauthUri(input))).toEqual(input);
  });

  it('applies the spec defaults (SHA1, 6 digits, 30 s) and takes the issuer from the label', () => {
    expect(parseOtpauthUri(`otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP`)).toEqual({
      type: 'totp', issuer: 'Example', account: 'alice@google.com', secretBase32: 'JBSWY3DPEHPK3PXP', digits: 6, algorithm: 'sha1', period: 30,
    });
  });

  it('reads the examples from the Key Uri Format page', () => {
    expect(parseOtpauthUri('otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example')).toMatchObject({ issuer: 'Example', account: 'alice@google.com' });
    expect(parseOtpauthUri('otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30')).toMatchObject({
      issuer: 'ACME Co', account: 'john.doe@email.com', period: 30,
    });
  });

  it('reads google-authenticator output (no issuer prefix, no counter, raw / and @)', () => {
    expect(parseOtpauthUri('otpauth://totp/root@testhost?secret=MQT3ACVZ4WVLFJLKULZUNX5B4U&issuer=Test%20Issuer')).toMatchObject({
      issuer: 'Test Issuer', account: 'root@testhost', digits: 6, period: 30,
    });
    const hotpUri = parseOtpauthUri('otpauth://hotp/alice@vm?secret=MQT3ACVZ4WVLFJLKULZUNX5B4U');
    expect(hotpUri.counter).toBeUndefined();
    expect(hotpUri.period).toBeUndefined();
  });

  it('is lenient about case, %3A as separator, spaces before the account, + in the query, unknown params', () => {
    expect(parseOtpauthUri('OTPAUTH://TOTP/Big%20Corp%3A%20bob?SECRET=jbswy3dpehpk3pxp&Issuer=Big+Corp&algorithm=sha256&image=https%3A%2F%2Fx')).toEqual({
      type: 'totp', issuer: 'Big Corp', account: 'bob', secretBase32: 'JBSWY3DPEHPK3PXP', digits: 6, algorithm: 'sha256', period: 30,
    });
  });

  it('prefers the issuer parameter over the label prefix', () => {
    expect(parseOtpauthUri(`otpauth://totp/Old:bob?secret=${SECRET}&issuer=New`).issuer).toBe('New');
  });

  it('rejects malformed or hostile URIs', () => {
    for (const bad of [
      '',
      'otpauth://',
      `http://totp/a:b?secret=${SECRET}`,
      `otpauth://motp/a:b?secret=${SECRET}`,
      `otpauth://totp?secret=${SECRET}`,
      `otpauth://totp/?secret=${SECRET}`,
      `otpauth://totp/Issuer:?secret=${SECRET}`,
      'otpauth://totp/a:b',
      'otpauth://totp/a:b?secret=',
      'otpauth://totp/a:b?secret=1NVALID8',
      'otpauth://totp/a:b?secret=ABC',
      `otpauth://totp/a:b?secret=${SECRET}&secret=${SECRET}`,
      `otpauth://totp/a:b?secret=${SECRET}&digits=7`,
      `otpauth://totp/a:b?secret=${SECRET}&digits=six`,
      `otpauth://totp/a:b?secret=${SECRET}&digits=-6`,
      `otpauth://totp/a:b?secret=${SECRET}&algorithm=MD5`,
      `otpauth://totp/a:b?secret=${SECRET}&period=0`,
      `otpauth://totp/a:b?secret=${SECRET}&period=86400`,
      `otpauth://totp/a:b?secret=${SECRET}&period=1e3`,
      `otpauth://hotp/a:b?secret=${SECRET}&counter=99999999999999999999`,
      `otpauth://hotp/a:b?secret=${SECRET}&counter=0x10`,
      `otpauth://totp/a%ZZ:b?secret=${SECRET}`,
      `otpauth://totp/a:b%E2%82?secret=${SECRET}`,
      `otpauth://totp/a:b?secret=${SECRET}&issuer=%`,
      `otpauth://totp/a b?secret=${SECRET}`,
      `otpauth://totp/a:b\n?secret=${SECRET}`,
      `otpauth://totp/a:é?secret=${SECRET}`,
      `otpauth://totp/a:b%1B%5B31m?secret=${SECRET}`,
      `otpauth://totp/a:b?secret=${SECRET}&issuer=%E2%80%AEevil`,
      `otpauth://totp/a:${'x'.repeat(3000)}?secret=${SECRET}`,
    ]) expectBadUri(bad);
  });

  it('keeps the secret out of error messages', () => {
    try {
      parseOtpauthUri('otpauth://totp/a:b?secret=SECRETSECRETSE1');
    } catch (e) {
      expect((e as Error).message).not.toContain('SECRET');
    }
  });
});
