// Duo request signing (duo_api.md §1.1–1.7): HTTP Basic auth whose password is the hex HMAC of
// a canonical string. Versions differ only in which lines that string has:
//   v1  METHOD, host, path, params                                (duo_unix ≤ 2.0.3; no date)
//   v2  date, METHOD, host, path, params                          (most clients)
//   v4  v2 + sha512hex(body)                                      (python sig_version=4)
//   v5  v4 + sha512hex(x-duo headers)                             (python ≥ 5.1, duo_hmac_python)
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from './compare.js';
import { canonicalizeParams } from './duo-canon.js';
import { ProtocolError } from './errors.js';

export type SigVersion = 1 | 2 | 4 | 5;
export type SigDigest = 'sha1' | 'sha512';

export interface SignedRequest {
  method: string;
  host: string;
  path: string;
  params: Array<[string, string]>;
  date?: string;
  body?: Uint8Array | string;
  xDuoHeaders?: Array<[string, string]>;
}

function sha512Hex(data: Uint8Array | string): string {
  return createHash('sha512').update(data).digest('hex');
}

/**
 * duo_client_python canon_x_duo_headers / duo_hmac_python canonicalize_x_duo_headers: names
 * lowercased and sorted, joined with the values as name\0value\0name\0value, SHA-512 hex.
 * Only x-duo* headers count; duo_hmac_python's x-duo-date is one of them. No headers hashes "".
 * Repeated names (which the Python clients refuse to send) are kept in their given order.
 */
export function xDuoHeaderHash(headers: Array<[string, string]>): string {
  const lowered = headers
    .map(([name, value]) => [name.toLowerCase(), value] as const)
    .filter(([name]) => name.startsWith('x-duo'));
  lowered.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return sha512Hex(lowered.flatMap(([name, value]) => [name, value]).join('\0'));
}

/** Lines joined by '\n' with no trailing newline; an empty params line is still present. */
function buildCanonical(version: SigVersion, req: SignedRequest, host: string, paramsLine: string, bodyHash?: string, headerHash?: string): string {
  const core = [req.method.toUpperCase(), host, req.path, paramsLine];
  if (version === 1) return core.join('\n');
  if (req.date === undefined) throw new ProtocolError('bad_argument', `signature v${version} needs a date`);
  if (version === 2) return [req.date, ...core].join('\n');
  const body = bodyHash ?? sha512Hex(req.body ?? '');
  if (version === 4) return [req.date, ...core, body].join('\n');
  if (version === 5) return [req.date, ...core, body, headerHash ?? xDuoHeaderHash(req.xDuoHeaders ?? [])].join('\n');
  throw new ProtocolError('bad_argument', 'unknown signature version');
}

/** The string a client signs. The host is lowercased, as every official client except duo_unix does. */
export function canonicalString(version: SigVersion, req: SignedRequest): string {
  return buildCanonical(version, req, req.host.toLowerCase(), canonicalizeParams(req.params));
}

function hmacHex(digest: SigDigest, skey: string, canonical: string): string {
  return createHmac(digest, Buffer.from(skey, 'utf8')).update(canonical, 'utf8').digest('hex');
}

/** Lowercase hex HMAC of the canonical string, keyed with the skey's UTF-8 bytes. */
export function sign(version: SigVersion, digest: SigDigest, skey: string, req: SignedRequest): string {
  return hmacHex(digest, skey, canonicalString(version, req));
}

export function authorizationHeader(ikey: string, signatureHex: string): string {
  return 'Basic ' + Buffer.from(`${ikey}:${signatureHex}`, 'utf8').toString('base64');
}

// 'Basic ' + base64 of a 64-char ikey, ':' and 128 hex chars is 264 characters.
const MAX_AUTHORIZATION_CHARS = 512;

/**
 * Strict parse of `Basic base64(ikey:hexsig)`. The scheme name is case-insensitive (RFC 7235
 * §2.1); everything else must be exactly what Duo clients send: canonical padded base64, one ':',
 * an ikey of 1..64 printable ASCII characters, and a 40 (SHA1) or 128 (SHA512) hex signature,
 * returned lowercased. Anything else is null; the caller answers 401 40101/40103.
 */
export function parseAuthorization(header: string | undefined): { ikey: string; signature: string } | null {
  if (header === undefined || header.length > MAX_AUTHORIZATION_CHARS) return null;
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header);
  if (m === null) return null;
  const b64 = m[1]!;
  if (b64.length % 4 !== 0) return null;
  const decoded = Buffer.from(b64, 'base64');
  // Node's decoder is lenient; round-tripping rejects non-canonical encodings (stray bits).
  if (decoded.toString('base64') !== b64) return null;
  const text = decoded.toString('latin1');
  const parts = text.split(':');
  if (parts.length !== 2) return null;
  const [ikey, signature] = parts as [string, string];
  if (!/^[\x21-\x7E]{1,64}$/.test(ikey)) return null;
  if (!/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{128})$/.test(signature)) return null;
  return { ikey, signature: signature.toLowerCase() };
}

export interface VerifyInput {
  signature: string;
  skeys: string[];
  hosts: string[];
  method: string;
  path: string;
  date: string | undefined;
  params: Array<[string, string]>;
  body: Uint8Array;
  xDuoHeaders: Array<[string, string]>;
  jsonBody: boolean;
  allowV1: boolean;
}

export interface VerifyResult {
  version: SigVersion;
  digest: SigDigest;
  host: string;
  skeyIndex: number;
}

function candidateVersions(digest: SigDigest, input: VerifyInput): SigVersion[] {
  const hasDate = input.date !== undefined;
  const versions: SigVersion[] = [];
  if (digest === 'sha512' && hasDate) versions.push(5, 4);
  // A JSON body is only ever signed by v4/v5 (duo_api.md §1.7 step 5).
  if (!input.jsonBody) {
    if (hasDate) versions.push(2);
    if (input.allowV1) versions.push(1);
  }
  return versions;
}

/**
 * Tries every plausible canonicalisation (duo_api.md §1.7) and returns the first that matches,
 * or null. 40 hex digits mean HMAC-SHA1 (v2, and v1 when legacy duo_unix is allowed); 128 mean
 * HMAC-SHA512 (v5, v4, v2, v1). Each host candidate is tried lowercased, as clients sign it, and
 * also exactly as given when that differs, because duo_unix does not lowercase its configured
 * host. Every comparison goes through constantTimeEqual.
 */
export function verifySignature(input: VerifyInput): VerifyResult | null {
  const signature = input.signature.toLowerCase();
  let digest: SigDigest;
  if (/^[0-9a-f]{40}$/.test(signature)) digest = 'sha1';
  else if (/^[0-9a-f]{128}$/.test(signature)) digest = 'sha512';
  else return null;

  const versions = candidateVersions(digest, input);
  if (versions.length === 0 || input.skeys.length === 0) return null;

  const hosts: string[] = [];
  for (const host of input.hosts) {
    for (const h of [host.toLowerCase(), host]) if (!hosts.includes(h)) hosts.push(h);
  }
  const req: SignedRequest = { method: input.method, host: '', path: input.path, params: input.params, date: input.date };
  const paramsLine = canonicalizeParams(input.params);
  const bodyHash = versions.includes(4) || versions.includes(5) ? sha512Hex(input.body) : undefined;
  const headerHash = versions.includes(5) ? xDuoHeaderHash(input.xDuoHeaders) : undefined;

  for (const version of versions) {
    for (const host of hosts) {
      const canonical = buildCanonical(version, req, host, paramsLine, bodyHash, headerHash);
      for (let skeyIndex = 0; skeyIndex < input.skeys.length; skeyIndex++) {
        if (constantTimeEqual(hmacHex(digest, input.skeys[skeyIndex]!, canonical), signature)) {
          return { version, digest, host, skeyIndex };
        }
      }
    }
  }
  return null;
}
