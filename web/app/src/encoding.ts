// Small byte/text encodings the app needs, written for the browser (no Buffer): base64url for
// signatures and keys, lowercase hex for digests, RFC 4648 base32 for the TOTP seed.

export function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64url (or standard base64), padding optional; throws on anything else. */
export function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_+/-]*={0,2}$/.test(text)) throw new Error('not base64url');
  const std = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (std.length % 4 === 1) throw new Error('not base64url');
  const bin = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 as the server sends seeds: case-insensitive, spaces/'-' ignored, '=' optional. */
export function base32Decode(text: string): Uint8Array<ArrayBuffer> {
  if (text.length > 4096) throw new Error('base32 input too long');
  const data = text.replace(/[ -]/g, '').toUpperCase().replace(/=+$/, '');
  if (![0, 2, 4, 5, 7].includes(data.length % 8)) throw new Error('base32 length is impossible');
  const out = new Uint8Array(Math.floor((data.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const ch of data) {
    const value = BASE32.indexOf(ch);
    if (value < 0) throw new Error('base32 contains a character outside the alphabet');
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

/** A copy backed by a plain ArrayBuffer: the type WebCrypto and fetch take (TS 5.9 typed arrays). */
export function bytes(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b);
}

export const utf8 = (text: string): Uint8Array<ArrayBuffer> => bytes(new TextEncoder().encode(text));

/** Lowercase hex SHA-256 (WebCrypto). */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes(data))));
}
