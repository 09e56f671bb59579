// RFC 4648 §6 base32, the encoding of TOTP/HOTP seeds in otpauth:// URIs and
// google-authenticator files.
import { ProtocolError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DECODE: ReadonlyMap<string, number> = new Map([...ALPHABET].map((c, i) => [c, i]));

// A 64-byte SHA-512 seed is 103 characters; anything far beyond that is hostile input, and we
// refuse it before doing per-character work.
const MAX_INPUT_CHARS = 4096;

// Data characters per final quantum that RFC 4648 §6 can produce: 2, 4, 5 or 7. A remainder of
// 1, 3 or 6 characters cannot come from any byte string.
const VALID_REMAINDERS = new Set([0, 2, 4, 5, 7]);

/** Uppercase RFC 4648 base32; unpadded by default because authenticator apps expect that. */
export function base32Encode(bytes: Uint8Array, opts?: { padding?: boolean }): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  if (opts?.padding === true) {
    while (out.length % 8 !== 0) out += '=';
  }
  return out;
}

/**
 * Decodes base32 as people and apps write it: case-insensitive, spaces and '-' ignored
 * (google-authenticator prints seeds in groups; some sites use dashes), trailing '=' optional.
 * Non-zero bits in the last character's unused tail are ignored, as google-authenticator's
 * decoder does; otherwise seeds generated as random base32 text (e.g. 26 characters) would be
 * rejected although every authenticator app accepts them.
 */
export function base32Decode(text: string): Buffer {
  if (text.length > MAX_INPUT_CHARS) throw new ProtocolError('bad_base32', 'base32 input too long');
  const cleaned = text.replace(/[ -]/g, '').toUpperCase();
  const firstPad = cleaned.indexOf('=');
  const data = firstPad === -1 ? cleaned : cleaned.slice(0, firstPad);
  if (firstPad !== -1) {
    const padding = cleaned.slice(firstPad);
    if (!/^=+$/.test(padding)) throw new ProtocolError('bad_base32', 'base32 padding is only allowed at the end');
    if ((data.length + padding.length) % 8 !== 0 || padding.length > 6) {
      throw new ProtocolError('bad_base32', 'base32 padding has the wrong length');
    }
  }
  if (!VALID_REMAINDERS.has(data.length % 8)) throw new ProtocolError('bad_base32', 'base32 length is impossible');

  const out = Buffer.alloc(Math.floor((data.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const ch of data) {
    const value = DECODE.get(ch);
    if (value === undefined) throw new ProtocolError('bad_base32', 'base32 contains a character outside the alphabet');
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}
