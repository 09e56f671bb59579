// Passcode verification: TOTP/HOTP tokens within their windows, then bypass codes.
//
// Timing: a wrong code, a replayed code, an unknown, disabled or locked user must cost the same
// work, so a stopwatch cannot tell them apart. Every path unseals and evaluates the same number of
// candidate codes (a dummy token stands in when the user has none), computes the bypass HMAC, and
// makes exactly one atomic store call (acceptOtp or consumeBypassCode, against a dummy id when the
// user may not log in, so nothing real is consumed).
import { findOtpMatch, hotpCandidates, totpCandidates } from '../protocol/totp.js';
import type { TokenRow, UserRow } from '../store/contract.js';
import { bypassHmac } from './bypass.js';
import type { Deps } from './deps.js';
import { openSeed } from './tokens.js';

export type PasscodeOutcome =
  | { ok: true; factor: 'passcode' | 'bypass_code'; tokenId?: string }
  | { ok: false; reason: 'invalid_passcode' | 'replayed_passcode' };

const DUMMY_ID = 'DH00000000000000DUMMY';
const DUMMY_USER = 'DU00000000000000DUMMY';
const DUMMY_SEED = Buffer.alloc(20, 0x5a);
/** Longer input is not a passcode; it is still processed like one (same work) and refused. */
const MAX_PASSCODE = 64;

function candidates(deps: Pick<Deps, 'settings' | 'clock'>, t: Pick<TokenRow, 'type' | 'period' | 'nextCounter'>): number[] {
  return t.type === 'totp'
    ? totpCandidates(deps.clock.now(), t.period ?? 30, deps.settings.totpWindowSteps, t.nextCounter)
    : hotpCandidates(t.nextCounter, deps.settings.hotpLookAhead);
}

/**
 * `user` is the user the code is checked for, or undefined when unknown; `mayLogIn` is false for a
 * disabled or locked user (the check still runs, nothing is consumed, the result is a failure).
 */
export async function verifyPasscode(deps: Deps, user: UserRow | undefined, mayLogIn: boolean, rawCode: string): Promise<PasscodeOutcome> {
  const code = rawCode.length > MAX_PASSCODE ? '' : rawCode.trim();
  const tokens = await deps.store.listTokens(user?.id ?? DUMMY_USER);
  const evaluated = tokens.length > 0 ? tokens : [null];

  let matched: { token: TokenRow; value: number } | undefined;
  for (const t of evaluated) {
    const seed = t ? openSeed(deps, t) : DUMMY_SEED;
    const shape = t ?? { type: 'totp' as const, period: 30, nextCounter: 0 };
    const value = findOtpMatch({ secret: seed, code, digits: t?.digits ?? 6, algorithm: t?.algorithm ?? 'sha1', candidates: candidates(deps, shape) });
    if (value !== null && t && !matched) matched = { token: t, value };
  }
  const hmac = bypassHmac(deps, user?.id ?? DUMMY_ID, code);

  if (!user || !mayLogIn) {
    await deps.store.consumeBypassCode(DUMMY_ID, hmac, deps.clock.now());
    return { ok: false, reason: 'invalid_passcode' };
  }
  if (matched) {
    // acceptOtp is the "at most once" guarantee: a unique, conditional update in the store.
    return (await deps.store.acceptOtp(matched.token.id, matched.value))
      ? { ok: true, factor: 'passcode', tokenId: matched.token.id }
      : { ok: false, reason: 'replayed_passcode' };
  }
  return (await deps.store.consumeBypassCode(user.id, hmac, deps.clock.now()))
    ? { ok: true, factor: 'bypass_code' }
    : { ok: false, reason: 'invalid_passcode' };
}
