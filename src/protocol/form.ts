// application/x-www-form-urlencoded bodies and query strings, decoded for Duo signature checks.
// Duo clients disagree on the wire encoding (Python/Go send '+' for space, Node leaves !'()*
// raw, duo_unix sends the canonical form), so the server decodes and re-canonicalises; see
// duo_api.md §1.3. Unlike URLSearchParams we refuse malformed input instead of guessing: a lossy
// decode would make a signature check compare different text than the client signed.
// Platform-neutral (Uint8Array, TextEncoder/TextDecoder): the Tandem Authenticator web app uses the
// same parser to show pushinfo, so the server and the app split it identically.
import { ProtocolError } from './errors.js';
import { hasLoneSurrogate } from './text-checks.js';

/** More pairs than any Duo endpoint takes; the cap bounds the work hostile bodies can cause. */
export const MAX_FORM_PAIRS = 1000;

// ignoreBOM: a U+FEFF the client encoded is part of the value it signed; never drop it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

/** '+' → space, %XX → byte, then strict UTF-8. */
function decodeComponent(raw: Uint8Array): string {
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (byte === 0x2b) {
      out[n++] = 0x20;
    } else if (byte === 0x25) {
      const hi = i + 1 < raw.length ? hexValue(raw[i + 1]!) : -1;
      const lo = i + 2 < raw.length ? hexValue(raw[i + 2]!) : -1;
      if (hi < 0 || lo < 0) throw new ProtocolError('bad_encoding', 'form data has a malformed percent escape');
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else {
      out[n++] = byte;
    }
  }
  try {
    return utf8.decode(out.subarray(0, n));
  } catch {
    throw new ProtocolError('bad_encoding', 'form data is not valid UTF-8 after percent-decoding');
  }
}

/**
 * Pairs in wire order. Repeated keys are kept (Duo canonicalisation signs every value), `k=` and
 * a bare `k` both give an empty value, empty segments (`a=1&&b=2`, a trailing '&') are skipped
 * as browsers do.
 */
export function parseForm(body: Uint8Array | string): Array<[string, string]> {
  let bytes: Uint8Array;
  if (typeof body === 'string') {
    if (hasLoneSurrogate(body)) throw new ProtocolError('bad_encoding', 'form data is not valid Unicode');
    bytes = new TextEncoder().encode(body);
  } else {
    bytes = body;
    // Raw (unescaped) bytes must be UTF-8 too; check once up front.
    try {
      utf8.decode(bytes);
    } catch {
      throw new ProtocolError('bad_encoding', 'form data is not valid UTF-8');
    }
  }
  if (bytes.length === 0) return [];

  // Count separators before decoding anything, so an oversized body costs one pass.
  let segments = 1;
  for (const byte of bytes) if (byte === 0x26) segments++;
  if (segments > MAX_FORM_PAIRS) {
    // Empty segments do not count as pairs; only pay for the exact count when the fast one is over.
    let pairs = 0;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x26) {
        if (i > start) pairs++;
        start = i + 1;
      }
    }
    if (pairs > MAX_FORM_PAIRS) throw new ProtocolError('bad_encoding', 'form data has too many pairs');
  }

  const pairs: Array<[string, string]> = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i !== bytes.length && bytes[i] !== 0x26) continue;
    if (i > start) {
      const segment = bytes.subarray(start, i);
      const eq = segment.indexOf(0x3d);
      const key = decodeComponent(eq === -1 ? segment : segment.subarray(0, eq));
      const value = eq === -1 ? '' : decodeComponent(segment.subarray(eq + 1));
      pairs.push([key, value]);
    }
    start = i + 1;
  }
  return pairs;
}
