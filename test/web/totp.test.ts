// The app's TOTP (web/app/src/totp.ts): WebCrypto HMAC with a non-extractable key, against the
// RFC 6238 SHA-1 vectors and against the server's own HOTP (src/protocol/hotp.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hotp } from '../../src/protocol/hotp.js';
import { counterBytes, hotpCode, importTotpKey, secondsLeft, totpCode, totpStep } from '../../web/app/src/totp.js';
import { base32Decode } from '../../web/app/src/encoding.js';
import { base32Encode } from '../../src/protocol/base32.js';

interface Vector {
  name: string;
  inputs: { secretAscii: string; timeSeconds: number; periodSeconds: number; digits: 6 | 8; algorithm: string };
  expected: { stepHex: string; code: string };
}

const vectors = (JSON.parse(readFileSync(new URL('../vectors/rfc6238-totp.json', import.meta.url), 'utf8')) as Vector[]).filter((v) => v.inputs.algorithm === 'sha1');

describe('web app TOTP', () => {
  it('has the RFC 6238 SHA-1 vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(6);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const key = await importTotpKey(new TextEncoder().encode(v.inputs.secretAscii));
    const now = v.inputs.timeSeconds * 1000;
    expect(totpStep(now, v.inputs.periodSeconds).toString(16).padStart(16, '0')).toBe(v.expected.stepHex.toLowerCase());
    expect(Buffer.from(counterBytes(totpStep(now, v.inputs.periodSeconds))).toString('hex')).toBe(v.expected.stepHex.toLowerCase());
    expect(await totpCode(key, now, { digits: v.inputs.digits, period: v.inputs.periodSeconds })).toBe(v.expected.code);
    // 6 digits is the same truncation, modulo 10^6.
    expect(await totpCode(key, now, { digits: 6, period: 30 })).toBe(v.expected.code.slice(-6));
  });

  it('agrees with the server HOTP for random seeds and counters, via the base32 the server sends', async () => {
    for (let i = 0; i < 20; i++) {
      const seed = crypto.getRandomValues(new Uint8Array(20));
      const key = await importTotpKey(base32Decode(base32Encode(seed)));
      const counter = Math.floor(Math.random() * 2 ** 40);
      expect(await hotpCode(key, counter, 6)).toBe(hotp(seed, counter, { digits: 6, algorithm: 'sha1' }));
    }
  });

  it('keeps the seed non-extractable and wipes the bytes it was given', async () => {
    const seed = new TextEncoder().encode('12345678901234567890');
    const key = await importTotpKey(seed);
    expect(key.extractable).toBe(false);
    expect(key.usages).toEqual(['sign']);
    expect(key.algorithm).toMatchObject({ name: 'HMAC', hash: { name: 'SHA-1' } });
    expect([...seed].every((b) => b === 0)).toBe(true);
    await expect(crypto.subtle.exportKey('raw', key)).rejects.toThrow();
  });

  it('counts down to the next step', () => {
    expect(secondsLeft(0, 30)).toBe(30);
    expect(secondsLeft(29_999, 30)).toBe(1);
    expect(secondsLeft(30_000, 30)).toBe(30);
    expect(() => counterBytes(-1)).toThrow(RangeError);
  });
});
