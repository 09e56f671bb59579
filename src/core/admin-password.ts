// Console admin passwords: scrypt with a per-admin random salt, the parameters stored with the
// hash (`scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`, base64url) so they can be raised later without
// breaking stored hashes. Verification runs scrypt whatever is wrong, through the one
// constant-time compare; unknown admins are checked against a dummy hash with the same cost.
import { scrypt as scryptCb, type ScryptOptions } from 'node:crypto';
import { constantTimeEqual } from '../protocol/compare.js';
import type { Random } from './deps.js';

const LOG_N = 15;
const R = 8;
const P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Room for N = 2^15, r = 8 (32 MiB) and Node's overhead; stored parameters are bounded below. */
const MAX_MEM = 128 * 1024 * 1024;
export const MIN_PASSWORD = 12;
export const MAX_PASSWORD = 1024;

function scrypt(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** logN, r, p, maxmem: MAX_MEM };
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_BYTES, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(random: Random, password: string): Promise<string> {
  const salt = random.bytes(SALT_BYTES);
  const key = await scrypt(password, salt, LOG_N, R, P);
  return ['scrypt', LOG_N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Same cost as a real check; for names that match no admin. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword({ bytes: (n) => Buffer.alloc(n, 7) }, 'no admin has this password');
  return dummy;
}

export async function verifyPassword(encoded: string, password: string): Promise<boolean> {
  const parts = encoded.split('$');
  const [alg, logN, r, p, salt, key] = [parts[0], Number(parts[1]), Number(parts[2]), Number(parts[3]), parts[4] ?? '', parts[5] ?? ''];
  const sane = parts.length === 6 && alg === 'scrypt' && Number.isInteger(logN) && logN >= 10 && logN <= 20 && Number.isInteger(r) && r >= 1 && r <= 32 && Number.isInteger(p) && p >= 1 && p <= 16;
  // A malformed stored hash still costs the same and never matches.
  const derived = sane ? await scrypt(password, Buffer.from(salt, 'base64url'), logN, r, p) : await scrypt(password, Buffer.alloc(SALT_BYTES), LOG_N, R, P);
  return constantTimeEqual(derived, Buffer.from(key, 'base64url')) && sane;
}

/** Why a new password is refused, or null. Lengths in code points. */
export function passwordProblem(password: string, confirm: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD) return `The password must have at least ${MIN_PASSWORD} characters.`;
  if (length > MAX_PASSWORD) return `The password must have at most ${MAX_PASSWORD} characters.`;
  if (password !== confirm) return 'The two passwords differ.';
  return null;
}
