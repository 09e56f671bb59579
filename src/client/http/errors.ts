// Every way a call to the server can fail, sorted for failmode (ARCHITECTURE.md §6, issue 4):
//   unreachable — the server could not be reached and no auth request has been sent yet: name
//                 resolution failed, the connection was refused, timed out or found no route,
//                 no response arrived within https_timeout, or a 502/503/504 came back without a
//                 Duo envelope (a proxy or load balancer speaking, not the server). Only this
//                 class lets `failmode = safe` allow a login.
//   failed      — everything else: TLS errors (a certificate that does not verify may be an
//                 attacker), 401/403 and every other status, 5xx with an envelope, malformed or
//                 unsigned answers, polls that never settle, and anything at all once an auth
//                 request has been sent. Always a denial.

export type FailureKind = 'unreachable' | 'failed';

export class DuoCallError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly httpStatus: number | null = null,
  ) {
    super(message);
    this.name = 'DuoCallError';
  }
}

/** Socket error codes that mean "could not reach the server" (before any request bytes were answered). */
const UNREACHABLE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

/** The error code of a socket error; for Node's happy-eyeballs AggregateError, a code every attempt shares. */
export function socketErrorCode(err: unknown): string | null {
  if (err instanceof AggregateError) {
    const codes = err.errors.map((e) => socketErrorCode(e));
    if (codes.length > 0 && codes.every((c) => isUnreachableCode(c))) return codes[0]!;
    return codes.find((c) => c !== null && !isUnreachableCode(c)) ?? 'EAGGREGATE';
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

export function isUnreachableCode(code: string | null): boolean {
  return code !== null && UNREACHABLE_CODES.has(code);
}
