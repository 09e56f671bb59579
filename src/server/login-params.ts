// Parameters both API families read the same way.
import { hasControlChars } from '../protocol/text-checks.js';
import type { LoginContext } from '../core/context.js';
import { CoreError } from '../core/errors.js';
import { parseLoginAddress } from './login-address.js';
import type { Params } from './request-params.js';

/** duo_unix buffers at most 255 characters; pushinfo may be up to 20,000 bytes (Duo docs). */
export const MAX_NAME = 255;
export const MAX_PUSHINFO = 20_000;

/**
 * A user name from a host. No user can be named with control characters (core/names.ts refuses
 * them), so such a name is malformed input, not an unknown user to hand an enrollment link to.
 */
export function userName(p: Params, name: string): string | null {
  const v = p.optional(name, MAX_NAME);
  if (v !== null && hasControlChars(v)) throw new CoreError('bad_request', 'user names cannot contain control characters');
  return v;
}

/** ipaddr (recorded as the client address when one can be read, else as reported), hostname, failmode. */
export function loginContext(p: Params): LoginContext {
  const raw = p.optional('ipaddr', MAX_NAME);
  const addr = raw === null ? null : parseLoginAddress(raw);
  const failmode = p.optional('failmode', 16);
  return {
    ipaddr: addr ? (addr.ip ?? (addr.reported || null)) : null,
    hostname: p.optional('hostname', MAX_NAME),
    ...(failmode !== null ? { failmode } : {}),
  };
}

/**
 * Verified push (docs/push.md §6): Duo's `client_supports_verified_push=1` (preauth and auth) and
 * the `txid` preauth gave such a client (auth).
 */
export function verifiedPushParams(p: Params): { clientSupportsVerifiedPush: boolean; txid: string | null } {
  return { clientSupportsVerifiedPush: p.flag('client_supports_verified_push'), txid: p.optional('txid', 64) };
}
