// What an authenticated API request brings to core/: the integration whose skey signed it and
// what the host told us about the login. Strings from hosts are untrusted and only ever stored or
// rendered as text.
import type { IntegrationRow } from '../store/contract.js';

export interface RequestContext {
  integration: IntegrationRow;
  /** The TCP peer of the request (not the login's source address). */
  peer: string;
}

export interface LoginContext {
  /** The login's source address as the host reports it (PAM_RHOST). */
  ipaddr: string | null;
  /** The Unix host's own name. */
  hostname: string | null;
  /** duo_unix says what it will do if we cannot be reached (open | closed): recorded only. */
  failmode?: string;
}

/** Either a username/alias or a Duo user_id; exactly one. */
export type UserRef = { username: string } | { userId: string };
