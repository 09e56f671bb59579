// The app's pure text helpers (web/app/src/text.ts, encoding.ts, types.ts): pushinfo rows agree
// with the server's parseForm, hidden characters become visible, malformed lists are filtered.
import { describe, expect, it } from 'vitest';
import { base32Encode } from '../../src/protocol/base32.js';
import { parseForm } from '../../src/protocol/form.js';
import { base32Decode, base64url, fromBase64url, hex } from '../../web/app/src/encoding.js';
import { MAX_SHOWN, pushinfoRows, shown, timeLeft, typeLabel } from '../../web/app/src/text.js';
import { parseActivationAnswer, parseRequestList } from '../../web/app/src/types.js';

describe('pushinfo rows', () => {
  const inputs = ['', 'a=1', 'a=1&b=2', 'command=sudo+ls+-la&tty=%2Fdev%2Fpts%2F0', 'a=1&&b=2&', 'k', 'k=', 'k=v=w', '%C3%BC=%E2%80%AE', 'a=1&a=2', 'x=%7e%7E', 'emoji=%F0%9F%98%80', 'ünï=cødé'];
  it.each(inputs)('decodes %j exactly as parseForm does', (text) => {
    expect(pushinfoRows(text)).toEqual(parseForm(text));
  });

  it.each(['a=%zz', 'a=%', 'a=%4', 'a=%FF', 'a=%C3', '%ED%A0%80=1'])('gives null for the undecodable %j (parseForm refuses it too)', (text) => {
    expect(pushinfoRows(text)).toBeNull();
    expect(() => parseForm(text)).toThrow();
  });

  it('gives null past 1000 pairs', () => {
    expect(pushinfoRows(Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join('&'))).toHaveLength(1000);
    expect(pushinfoRows(Array.from({ length: 1001 }, (_, i) => `k${i}=v`).join('&'))).toBeNull();
  });
});

describe('shown', () => {
  it('makes bidi overrides, controls and zero-width characters visible', () => {
    expect(shown('evil\u202Egnp.exe')).toBe('evil\\u202egnp.exe');
    expect(shown('a\u0000b\nc\u200Bd\u2066e\uFEFF')).toBe('a\\u0000b\\u000ac\\u200bd\\u2066e\\ufeff');
    expect(shown('<script>alert(1)</script>')).toBe('<script>alert(1)</script>'); // text, never markup
  });

  it('marks empty values and cuts long ones', () => {
    expect(shown(null)).toBe('—');
    expect(shown('')).toBe('—');
    expect(shown(undefined, '')).toBe('');
    const long = shown('x'.repeat(MAX_SHOWN + 50));
    expect(long).toHaveLength(MAX_SHOWN + 1);
    expect(long.endsWith('…')).toBe(true);
  });

  it('labels the request type and time left', () => {
    expect(typeLabel('login')).toBe('Login');
    expect(typeLabel(null)).toBe('Login');
    expect(typeLabel('Transaction\u202E')).toBe('Transaction\\u202e');
    expect(timeLeft(10_000, 0)).toBe('10 s');
    expect(timeLeft(65_000, 0)).toBe('1:05');
    expect(timeLeft(0, 0)).toBe('expired');
  });
});

describe('encodings', () => {
  it('base32-decodes what the server encodes', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(hex(base32Decode(base32Encode(bytes)))).toBe(Buffer.from(bytes).toString('hex'));
      expect(hex(base32Decode(base32Encode(bytes, { padding: true }).toLowerCase()))).toBe(Buffer.from(bytes).toString('hex'));
    }
    expect(() => base32Decode('A')).toThrow();
    expect(() => base32Decode('AB1C')).toThrow();
  });

  it('round-trips base64url like node does', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = crypto.getRandomValues(new Uint8Array(n));
      expect(base64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      expect(hex(fromBase64url(base64url(bytes)))).toBe(Buffer.from(bytes).toString('hex'));
    }
    expect(() => fromBase64url('a')).toThrow();
    expect(() => fromBase64url('a b')).toThrow();
  });
});

describe('API answers', () => {
  const good = { txid: 't1', username: 'alice', integration: 'DI1', nonce: 'n', createdAt: 1, expiresAt: 2, numberRequired: true, hostname: 'h', ipaddr: null, pushinfo: 'a=1' };

  it('keeps well-formed requests and drops malformed ones', () => {
    const list = parseRequestList({ fingerprint: 'fp', requests: [good, { ...good, txid: 5 }, { ...good, expiresAt: 'soon' }, { ...good, hostname: {} }, null, 'x', { ...good, txid: 't2', numberRequired: 'yes' }] });
    expect(list.fingerprint).toBe('fp');
    expect(list.requests.map((r) => r.txid)).toEqual(['t1', 't2']);
    expect(list.requests[0]!.numberRequired).toBe(true);
    expect(list.requests[1]!.numberRequired).toBe(false);
    expect(() => parseRequestList({ requests: [] })).toThrow();
    expect(() => parseRequestList(null)).toThrow();
  });

  it('checks the activation answer', () => {
    const a = { deviceId: 'DP1', username: 'alice', totp: { secret: 'JBSWY3DPEHPK3PXP', digits: 6, period: 30, algorithm: 'SHA1' }, vapidPublicKey: null };
    expect(parseActivationAnswer(a)).toEqual(a);
    expect(() => parseActivationAnswer({ ...a, totp: { ...a.totp, digits: 7 } })).toThrow();
    expect(() => parseActivationAnswer({ ...a, totp: { ...a.totp, algorithm: 'SHA256' } })).toThrow();
    expect(() => parseActivationAnswer({ ...a, deviceId: 1 })).toThrow();
  });
});
