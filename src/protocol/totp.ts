// RFC 6238 time steps, the candidate windows a verifier tries, and the constant-time search over
// them. Time is a parameter (milliseconds since the epoch): protocol/ never reads the clock.
import { constantTimeEqual } from './compare.js';
import { ProtocolError } from './errors.js';
import { hotp, type OtpAlgorithm, type OtpDigits } from './hotp.js';

const MAX_RESYNC_SEARCH = 100_000;

function requireNonNegativeInt(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ProtocolError('bad_argument', `${what} must be a non-negative safe integer`);
  }
}

/** RFC 6238 §4.2: T = floor((now - T0) / X) with T0 = 0. */
export function totpStep(nowMs: number, periodSeconds: number): number {
  if (!Number.isSafeInteger(periodSeconds) || periodSeconds <= 0) {
    throw new ProtocolError('bad_argument', 'TOTP period must be a positive integer');
  }
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new ProtocolError('bad_argument', 'time must be a non-negative number');
  return Math.floor(Math.floor(nowMs / 1000) / periodSeconds);
}

/**
 * Steps now-w .. now+w in ascending order (RFC 6238 §5.2 recommends allowing at most a small
 * window for clock drift), without steps below `nextCounter`: a step that was already accepted,
 * or any earlier one, must never be accepted again (RFC 6238 §5.2, one-time use).
 */
export function totpCandidates(nowMs: number, periodSeconds: number, windowSteps: number, nextCounter: number): number[] {
  requireNonNegativeInt(windowSteps, 'TOTP window');
  requireNonNegativeInt(nextCounter, 'next counter');
  const now = totpStep(nowMs, periodSeconds);
  const out: number[] = [];
  for (let step = now - windowSteps; step <= now + windowSteps; step++) {
    if (step >= nextCounter && step >= 0) out.push(step);
  }
  return out;
}

/**
 * RFC 4226 §7.2 look-ahead: the `lookAhead` counters starting at `nextCounter`
 * (nextCounter .. nextCounter+lookAhead-1). lookAhead = 1 accepts only the expected counter.
 */
export function hotpCandidates(nextCounter: number, lookAhead: number): number[] {
  requireNonNegativeInt(nextCounter, 'next counter');
  requireNonNegativeInt(lookAhead, 'HOTP look-ahead');
  const out: number[] = [];
  for (let i = 0; i < lookAhead; i++) {
    const c = nextCounter + i;
    if (!Number.isSafeInteger(c)) break;
    out.push(c);
  }
  return out;
}

function isCodeShape(code: string, digits: OtpDigits): boolean {
  return code.length === digits && /^[0-9]+$/.test(code);
}

/**
 * Which candidate counter (or time step) `code` belongs to, or null.
 *
 * Every candidate is computed and compared, with no early exit, so the response time does not
 * tell an attacker whether (or where in the window) a guess matched. A code that is not exactly
 * `digits` ASCII digits is replaced by a same-length value no HOTP output can equal and goes
 * through the same work. When several candidates match (a 10^-6 coincidence), the lowest wins so
 * the replay floor moves as little as possible.
 */
export function findOtpMatch(input: {
  secret: Uint8Array;
  code: string;
  digits: OtpDigits;
  algorithm: OtpAlgorithm;
  candidates: readonly number[];
}): number | null {
  const wellFormed = isCodeShape(input.code, input.digits);
  const probe = wellFormed ? input.code : 'x'.repeat(input.digits);
  let match: number | null = null;
  for (const candidate of input.candidates) {
    const expected = hotp(input.secret, candidate, { digits: input.digits, algorithm: input.algorithm });
    const equal = constantTimeEqual(expected, probe);
    if (equal && wellFormed && (match === null || candidate < match)) match = candidate;
  }
  return match;
}

/**
 * RFC 4226 §7.4 resynchronisation: find counter c in [from, from+maxSearch) with
 * hotp(c) = code1 and hotp(c+1) = code2 (both inside the range), and return c + 2, the next
 * counter to expect. Two consecutive codes make a chance match over a large range unlikely
 * (about maxSearch / 10^(2*digits)). All counters are computed and compared; lowest match wins.
 */
export function hotpResync(input: {
  secret: Uint8Array;
  code1: string;
  code2: string;
  digits: OtpDigits;
  algorithm: OtpAlgorithm;
  from: number;
  maxSearch: number;
}): number | null {
  requireNonNegativeInt(input.from, 'resync start');
  requireNonNegativeInt(input.maxSearch, 'resync range');
  // One HMAC per counter: bound the work a misconfigured caller can trigger.
  if (input.maxSearch > MAX_RESYNC_SEARCH) throw new ProtocolError('bad_argument', 'resync range too large');
  if (!Number.isSafeInteger(input.from + input.maxSearch)) throw new ProtocolError('bad_argument', 'resync range overflows');
  const wellFormed = isCodeShape(input.code1, input.digits) && isCodeShape(input.code2, input.digits);
  const filler = 'x'.repeat(input.digits);
  const probe1 = wellFormed ? input.code1 : filler;
  const probe2 = wellFormed ? input.code2 : filler;
  const opts = { digits: input.digits, algorithm: input.algorithm };

  let match: number | null = null;
  let previousEqualsCode1 = false;
  for (let i = 0; i < input.maxSearch; i++) {
    const counter = input.from + i;
    const code = hotp(input.secret, counter, opts);
    // Both comparisons run for every counter; `previousEqualsCode1` carries the first half of
    // the pair (counter-1) forward so each HMAC is computed once.
    const equals1 = constantTimeEqual(code, probe1);
    const equals2 = constantTimeEqual(code, probe2);
    if (i > 0 && previousEqualsCode1 && equals2 && wellFormed && match === null) match = counter + 1;
    previousEqualsCode1 = equals1;
  }
  return match;
}
