import { describe, expect, it } from 'vitest';
import { isNonce, responseSignature, verifyResponseSignature } from './response-signature.js';

const base = { skey: 'k'.repeat(40), nonce: 'ab'.repeat(16), method: 'POST', path: '/auth/v2/auth', body: '{"stat":"OK"}' };

describe('response signatures', () => {
  it('verifies what the server signed, and nothing else', () => {
    const signature = responseSignature(base);
    expect(signature).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyResponseSignature({ ...base, signature })).toBe(true);
    for (const change of [{ skey: 'x'.repeat(40) }, { nonce: 'cd'.repeat(16) }, { method: 'GET' }, { path: '/auth/v2/preauth' }, { body: '{"stat":"OK" }' }]) {
      expect(verifyResponseSignature({ ...base, ...change, signature })).toBe(false);
    }
    expect(verifyResponseSignature({ ...base, signature: undefined })).toBe(false);
    expect(verifyResponseSignature({ ...base, signature: signature.toUpperCase() })).toBe(false);
  });

  it('accepts only hex nonces of 128 to 512 bits', () => {
    expect(isNonce('a'.repeat(32))).toBe(true);
    expect(isNonce('a'.repeat(31))).toBe(false);
    expect(isNonce('g'.repeat(32))).toBe(false);
    expect(isNonce('a'.repeat(130))).toBe(false);
    expect(isNonce(['a'.repeat(32)])).toBe(false);
  });
});
