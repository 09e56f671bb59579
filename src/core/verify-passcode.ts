// Passcode verification: TOTP/HOTP tokens within their windows, then bypass codes.
//
// Timing: a wrong code, a replayed code, an unknown, disabled or locked user must cost the same
// work, so a stopwatch cannot tell them apart. Every path unseals and evaluates the same number of
// candidate codes (a dummy token stands in when the user has none), computes the bypass HMAC, and
// makes exactly one atomic store call (acceptOtp or consumeBypassCode, against a dummy id when the
// user may not log in, so nothing real is consumed).
import { constantTimeEqual } from '../protocol/compare.js';
import { findOtpMatch, hotpCandidates, totpCandidates } from '../protocol/totp.js';
import type { TokenRow, UserRow } from '../store/contract.js';
import { bypassHmac } from './bypass.js';
import type { Deps } from './deps.js';
import { openSeed } from './tokens.js';

export type PasscodeOutcome =
  | { ok: true; factor: 'passcode' | 'bypass_code'; tokenId?: string }
  | { ok: false; reason: 'invalid_passcode' | 'replayed_passcode' }
  /** A valid code of a factor the integration does not allow (nothing consumed). */
  | { ok: false; reason: 'factor_not_allowed'; factor: 'passcode' | 'bypass_code' };

/** Which passcode factors the integration allows (core/integrations.ts policy `factors`). */
export interface PasscodeFactors {
  /** TOTP/HOTP tokens and the app's codes. */
  passcode: boolean;
  bypass: boolean;
}

const ALL: PasscodeFactors = { passcode: true, bypass: true };

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
 *
 * `allowed` restricts the factors. A disallowed factor's code is refused and never consumed, with
 * the same work as a wrong code on the same integration: a TOTP match on an integration without
 * passcodes skips acceptOtp and goes on to the bypass step like a wrong code; on an integration
 * without bypass codes, the bypass step of every path (wrong, unknown, disabled, disallowed) is
 * one read of the user's codes (listBypassCodes, against a dummy id when the user may not log in)
 * compared in memory, instead of consumeBypassCode.
 */
export async function verifyPasscode(deps: Deps, user: UserRow | undefined, mayLogIn: boolean, rawCode: string, allowed: PasscodeFactors = ALL): Promise<PasscodeOutcome> {
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
  const now = deps.clock.now();

  /** The bypass step: consume the code when bypass is allowed, else only look (nothing consumed). */
  const bypassStep = async (userId: string): Promise<boolean> => {
    if (allowed.bypass) return deps.store.consumeBypassCode(userId, hmac, now);
    const codes = await deps.store.listBypassCodes(userId);
    let hit = false;
    for (const b of codes) {
      const usable = (b.expiresAt === null || b.expiresAt > now) && (b.usesRemaining === null || b.usesRemaining > 0);
      if (constantTimeEqual(b.codeHmac, hmac) && usable) hit = true;
    }
    return hit;
  };

  if (!user || !mayLogIn) {
    await bypassStep(DUMMY_ID);
    return { ok: false, reason: 'invalid_passcode' };
  }
  if (matched && allowed.passcode) {
    // acceptOtp is the "at most once" guarantee: a unique, conditional update in the store.
    return (await deps.store.acceptOtp(matched.token.id, matched.value))
      ? { ok: true, factor: 'passcode', tokenId: matched.token.id }
      : { ok: false, reason: 'replayed_passcode' };
  }
  const bypassHit = await bypassStep(user.id);
  if (bypassHit) return allowed.bypass ? { ok: true, factor: 'bypass_code' } : { ok: false, reason: 'factor_not_allowed', factor: 'bypass_code' };
  if (matched) return { ok: false, reason: 'factor_not_allowed', factor: 'passcode' };
  return { ok: false, reason: 'invalid_passcode' };
}
