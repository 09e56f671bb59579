import { describe, expect, it } from 'vitest';
import { parseOtpauthUri } from '../../protocol/otpauth.js';
import { buildAuthenticatorUrl, buildUpstreamUrl, encodeLabel, encodeQueryValue, urlFieldTooLarge } from './otpauth-url.js';

const SECRET = 'JBSWY3DPEHPK3PXP';
const NASTY = { label: 'ACME:al ice&b=c?d%e/f#g+h', issuer: 'ACME Corp/€' };

describe('otpauth URL', () => {
  it('reproduces upstream escaping exactly (reference §2.3 example)', () => {
    expect(buildUpstreamUrl({ type: 'totp', secretBase32: SECRET, ...NASTY })).toBe(`otpauth://totp/ACME:al%20ice%26b%3Dc%3Fd%25e/f#g+h?secret=${SECRET}&issuer=ACME%20Corp/%E2%82%AC`);
    expect(buildUpstreamUrl({ type: 'totp', secretBase32: 'MQT3ACVZ4WVLFJLKULZUNX5B4U', label: 'root@testhost', issuer: 'Test Issuer' })).toBe(
      'otpauth://totp/root@testhost?secret=MQT3ACVZ4WVLFJLKULZUNX5B4U&issuer=Test%20Issuer',
    );
  });

  it('escapes per RFC 3986: label keeps unreserved, ":" and "@"; issuer keeps unreserved only', () => {
    expect(encodeLabel('a-b.c_d~e:f@g')).toBe('a-b.c_d~e:f@g');
    expect(encodeLabel(' #?/&=+%\u00e9')).toBe('%20%23%3F%2F%26%3D%2B%25%C3%A9');
    expect(encodeQueryValue('A b:c@d+e&f=g')).toBe('A%20b%3Ac%40d%2Be%26f%3Dg');
    expect(encodeLabel('\x01\x7f')).toBe('%01%7F');
  });

  it('the escaped URL survives real parsers (WHATWG URL, our otpauth parser)', () => {
    const url = buildAuthenticatorUrl({ type: 'totp', secretBase32: SECRET, ...NASTY });
    expect(url).toBe(`otpauth://totp/ACME:al%20ice%26b%3Dc%3Fd%25e%2Ff%23g%2Bh?secret=${SECRET}&issuer=ACME%20Corp%2F%E2%82%AC`);
    const u = new URL(url);
    expect(u.hash).toBe('');
    expect(u.searchParams.get('secret')).toBe(SECRET);
    expect(u.searchParams.get('issuer')).toBe('ACME Corp/€');
    const p = parseOtpauthUri(url);
    expect(p).toMatchObject({ type: 'totp', issuer: 'ACME Corp/€', account: 'al ice&b=c?d%e/f#g+h', secretBase32: SECRET, period: 30, digits: 6, algorithm: 'sha1' });
    // Upstream's URL loses everything after '#'.
    expect(new URL(buildUpstreamUrl({ type: 'totp', secretBase32: SECRET, ...NASTY })).searchParams.get('secret')).toBeNull();
  });

  it('adds period/digits/algorithm only when they differ from 30/6/SHA1; HOTP gets counter=0', () => {
    const base = { label: 'u@h', issuer: 'h', secretBase32: SECRET };
    expect(buildAuthenticatorUrl({ type: 'totp', ...base, period: 30, digits: 6, algorithm: 'sha1' })).toBe(`otpauth://totp/u@h?secret=${SECRET}&issuer=h`);
    expect(buildAuthenticatorUrl({ type: 'totp', ...base, period: 60 })).toBe(`otpauth://totp/u@h?secret=${SECRET}&issuer=h&period=60`);
    expect(buildAuthenticatorUrl({ type: 'totp', ...base, digits: 8, algorithm: 'sha256', period: 15 })).toBe(`otpauth://totp/u@h?secret=${SECRET}&issuer=h&algorithm=SHA256&digits=8&period=15`);
    expect(buildAuthenticatorUrl({ type: 'hotp', ...base, period: 60 })).toBe(`otpauth://hotp/u@h?secret=${SECRET}&issuer=h&counter=0`);
    expect(buildAuthenticatorUrl({ type: 'hotp', ...base, issuer: '' })).toBe(`otpauth://hotp/u@h?secret=${SECRET}&counter=0`);
    expect(parseOtpauthUri(buildAuthenticatorUrl({ type: 'totp', ...base, period: 60 })).period).toBe(60);
  });

  it("upstream's size limit: 3×bytes+1 > 10000", () => {
    expect(urlFieldTooLarge('x'.repeat(3333))).toBe(false);
    expect(urlFieldTooLarge('x'.repeat(3334))).toBe(true);
    expect(urlFieldTooLarge('€'.repeat(1112))).toBe(true);
  });

  it('refuses a secret that is not unpadded upper-case base32', () => {
    expect(() => buildAuthenticatorUrl({ type: 'totp', label: 'a', issuer: '', secretBase32: 'abc=' })).toThrow();
  });
});
