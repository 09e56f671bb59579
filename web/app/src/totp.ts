// RFC 6238 TOTP (RFC 4226 dynamic truncation) from a non-extractable WebCrypto HMAC key: the app
// computes codes but nothing on the device can read the seed back (docs/push.md §1.4).

export type TotpDigits = 6 | 8;

const MODULUS: Record<TotpDigits, number> = { 6: 1_000_000, 8: 100_000_000 };

/** Imports a seed as a non-extractable HMAC-SHA-1 signing key, then wipes the caller's copy. */
export async function importTotpKey(seed: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey('raw', seed, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']);
  } finally {
    seed.fill(0);
  }
}

/** RFC 6238 §4.2 time step: floor(now / period), T0 = 0. */
export function totpStep(nowMs: number, periodSeconds: number): number {
  return Math.floor(Math.floor(nowMs / 1000) / periodSeconds);
}

/** Seconds until the current code changes (1 … period). */
export function secondsLeft(nowMs: number, periodSeconds: number): number {
  return periodSeconds - (Math.floor(nowMs / 1000) % periodSeconds);
}

/** RFC 4226 §5.2: the 8-byte big-endian counter. */
export function counterBytes(counter: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('counter must be a non-negative safe integer');
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(counter / 0x1_0000_0000), false);
  view.setUint32(4, counter % 0x1_0000_0000, false);
  return out;
}

/** The zero-padded HOTP value of `counter` (RFC 4226 §5.3 dynamic truncation). */
export async function hotpCode(key: CryptoKey, counter: number, digits: TotpDigits): Promise<string> {
  const modulus = MODULUS[digits];
  if (modulus === undefined) throw new RangeError('digits must be 6 or 8');
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, counterBytes(counter)));
  const view = new DataView(mac.buffer);
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = view.getUint32(offset, false) & 0x7fff_ffff;
  return String(binary % modulus).padStart(digits, '0');
}

/** The TOTP code at `nowMs`. */
export function totpCode(key: CryptoKey, nowMs: number, opts: { digits: TotpDigits; period: number }): Promise<string> {
  return hotpCode(key, totpStep(nowMs, opts.period), opts.digits);
}
