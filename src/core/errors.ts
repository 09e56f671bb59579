// Typed error codes for everything core/ refuses. They are mapped to the wire (HTTP status, Duo
// code, message) in exactly one place: src/server/error-map.ts. Codes are append-only.
// Policy outcomes (deny, lockout, wrong passcode) are NOT errors: they are results.

export type CoreErrorCode =
  | 'bad_request' // malformed or missing parameters
  | 'missing_credentials' // no or unparseable Authorization header
  | 'unknown_integration' // ikey not found
  | 'bad_signature' // no canonicalization matched
  | 'bad_date' // missing, unparseable or out-of-window date
  | 'replayed_request' // a signed POST seen before whose answer was delivered
  | 'rate_limited'
  | 'not_found' // unknown object (CLI) or unknown path
  | 'conflict' // name already taken
  | 'refused'; // an operator action refused by a safety check (e.g. delete of a used integration)

export class CoreError extends Error {
  constructor(
    readonly code: CoreErrorCode,
    /** Safe to show to the caller: never contains secrets. */
    readonly detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
    this.name = 'CoreError';
  }
}
