// Every parse/verify failure in protocol/ is a ProtocolError with a closed code, so edges can map
// codes to HTTP answers or CLI messages without string matching. Messages describe the shape of
// the problem only; they never quote the offending value (it may be a secret or hostile input).

export type ProtocolErrorCode =
  | 'bad_base32' // not RFC 4648 base32 (alphabet, length, padding)
  | 'bad_encoding' // malformed percent escape, invalid UTF-8, too many form pairs
  | 'bad_uri' // malformed otpauth:// URI
  | 'bad_seal' // sealed envelope tampered, truncated, wrong key/AAD or unknown version
  | 'bad_authorization' // Authorization header not usable (reserved for edges building on parseAuthorization)
  | 'bad_argument'; // a caller passed an out-of-range parameter (programming error, not client input)

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
