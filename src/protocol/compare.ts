// The one place secrets are compared (lint forbids timingSafeEqual anywhere else).
//
// Policy: both inputs are first reduced to HMAC-SHA256 digests under a fixed, public key, and the
// two 32-byte digests are compared with crypto.timingSafeEqual. Why:
// - timingSafeEqual throws on unequal lengths, and a plain length check would return early and
//   tell an attacker how long the expected value is. Digests are always 32 bytes, so the compare
//   itself is length-independent.
// - The key need not be secret: it only makes the reduction a fixed PRF. Hashing time grows with
//   input length in 64-byte blocks, which can reveal roughly the length of the *stored* value at
//   that granularity; every secret we compare (OTP codes, 40/128-hex signatures, tokens) has a
//   public, fixed length anyway.
// - Equal digests imply equal inputs except with negligible probability; the final length check
//   makes the result exact and leaks nothing the digest compare did not.
import { createHmac, timingSafeEqual } from 'node:crypto';

const REDUCTION_KEY = Buffer.from('tandem:constant-time-equal:v1', 'utf8');

// Strings are compared as UTF-8. A lone surrogate encodes as U+FFFD, so two different
// ill-formed strings can compare equal; every secret we store is ASCII, and the parsers in front
// of this (form.ts, otpauth.ts) refuse ill-formed text.
function toBytes(v: string | Uint8Array): Uint8Array {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function reduce(v: Uint8Array): Buffer {
  return createHmac('sha256', REDUCTION_KEY).update(v).digest();
}

/** Constant-time equality of two secrets (strings are compared as their UTF-8 bytes). */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const ab = toBytes(a);
  const bb = toBytes(b);
  const digestsEqual = timingSafeEqual(reduce(ab), reduce(bb));
  return digestsEqual && ab.length === bb.length;
}
