// RFC 4226 HOTP (and the HMAC core of RFC 6238 TOTP, which only changes the counter).
import { createHmac } from 'node:crypto';
import { ProtocolError } from './errors.js';

export type OtpAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type OtpDigits = 6 | 8;

const TWO_POW_32 = 0x1_0000_0000;
const MODULUS: Record<OtpDigits, number> = { 6: 1_000_000, 8: 100_000_000 };

/** RFC 4226 §5.2: 8-byte big-endian counter. Counters are JS numbers, so exact up to 2^53. */
function counterBytes(counter: number): Buffer {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new ProtocolError('bad_argument', 'OTP counter must be a non-negative safe integer');
  }
  const buf = Buffer.alloc(8);
  buf.writeUInt32BE(Math.floor(counter / TWO_POW_32), 0);
  buf.writeUInt32BE(counter % TWO_POW_32, 4);
  return buf;
}

/** The `digits`-digit HOTP value for `counter`, zero-padded (RFC 4226 §5.3 dynamic truncation). */
export function hotp(
  secret: Uint8Array,
  counter: number,
  opts: { digits: OtpDigits; algorithm: OtpAlgorithm },
): string {
  const modulus = MODULUS[opts.digits];
  if (modulus === undefined) throw new ProtocolError('bad_argument', 'OTP digits must be 6 or 8');
  if (opts.algorithm !== 'sha1' && opts.algorithm !== 'sha256' && opts.algorithm !== 'sha512') {
    throw new ProtocolError('bad_argument', 'OTP algorithm must be sha1, sha256 or sha512');
  }
  const mac = createHmac(opts.algorithm, secret).update(counterBytes(counter)).digest();
  // RFC 4226 §5.3: the low nibble of the last byte picks 4 bytes; drop the sign bit. RFC 6238
  // applies the same rule to the longer SHA-256/512 MACs.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fff_ffff;
  return String(binary % modulus).padStart(opts.digits, '0');
}
