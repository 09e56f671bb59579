// The bytes a Tandem Authenticator signs (docs/push.md §3). Shared verbatim by the server
// (verifying) and the web app (signing), so it uses only what both platforms have: TextEncoder
// and typed arrays. Hashing and signing are the caller's (node:crypto / WebCrypto).
//
// Encoding: a list of UTF-8 strings, each preceded by its byte length as a 4-byte big-endian
// unsigned integer, the first being a domain-separation tag. Length prefixes make the encoding
// unambiguous (no field can run into the next, whatever characters a hostile host name or
// pushinfo holds), and the tag stops a signature made for one purpose from being replayed as
// another (an approval is never a valid device-request signature, and the reverse).

export const APPROVAL_TAG = 'TANDEM-APPROVAL-1';
export const DEVICE_REQUEST_TAG = 'TANDEM-DEVICE-REQUEST-1';

export type Decision = 'approve' | 'deny' | 'fraud';
export const DECISIONS: readonly Decision[] = ['approve', 'deny', 'fraud'];

export interface ApprovalFields {
  txid: string;
  username: string;
  /** The integration's ikey. */
  integration: string;
  /** '' when the request carried none. */
  hostname: string;
  ipaddr: string;
  /** Lowercase hex SHA-256 of the pushinfo text exactly as the app received it ('' hashed when absent). */
  pushinfoSha256: string;
  decision: Decision;
  deviceId: string;
  nonce: string;
  /** The push's expiry, milliseconds since the epoch. */
  expiresAt: number;
  /** The number the user typed (number matching), or '' when none was asked. */
  number: string;
}

/** Length-prefixed concatenation of UTF-8 fields. */
export function lengthPrefixed(fields: readonly string[]): Uint8Array {
  const enc = new TextEncoder();
  const parts = fields.map((f) => enc.encode(f));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length, false);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

/** The signed message of an approval, deny or fraud report, in the documented field order. */
export function approvalMessage(f: ApprovalFields): Uint8Array {
  if (!Number.isSafeInteger(f.expiresAt) || f.expiresAt < 0) throw new RangeError('expiresAt must be a non-negative integer');
  return lengthPrefixed([
    APPROVAL_TAG,
    f.txid,
    f.username,
    f.integration,
    f.hostname,
    f.ipaddr,
    f.pushinfoSha256,
    f.decision,
    f.deviceId,
    f.nonce,
    String(f.expiresAt),
    f.number,
  ]);
}

export interface DeviceRequestFields {
  deviceId: string;
  /** Upper-case HTTP method. */
  method: string;
  /** Path and query exactly as sent, e.g. "/app/api/requests?wait=25". */
  path: string;
  /** The client's clock, milliseconds since the epoch. */
  time: number;
  /** Lowercase hex SHA-256 of the body bytes ('' hashed for no body). */
  bodySha256: string;
}

/** The signed message of an app API request (the Tandem-Device-* headers, docs/push.md §2). */
export function deviceRequestMessage(f: DeviceRequestFields): Uint8Array {
  if (!Number.isSafeInteger(f.time) || f.time < 0) throw new RangeError('time must be a non-negative integer');
  return lengthPrefixed([DEVICE_REQUEST_TAG, f.deviceId, f.method, f.path, String(f.time), f.bodySha256]);
}
