// otpauth:// URIs, Google's Key Uri Format
// (github.com/google/google-authenticator/wiki/Key-Uri-Format):
//   otpauth://TYPE/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=…&digits=…&period=…|counter=…
// We always emit algorithm/digits/period|counter. google-authenticator's own tool omits them,
// and apps then fall back to 30 s / 6 digits / SHA1 even when the server uses something else.
import { base32Decode, base32Encode } from './base32.js';
import { ProtocolError } from './errors.js';
import type { OtpAlgorithm, OtpDigits } from './hotp.js';
import { hasControlChars, hasLoneSurrogate } from './text-checks.js';

export interface OtpauthUri {
  type: 'totp' | 'hotp';
  issuer: string;
  account: string;
  secretBase32: string;
  digits: OtpDigits;
  algorithm: OtpAlgorithm;
  /** TOTP only; parse fills in the spec default (30) when absent. */
  period?: number;
  /** HOTP only; parse leaves it undefined when the URI has none (google-authenticator omits it). */
  counter?: number;
}

const MAX_URI_CHARS = 2048;
const MAX_PERIOD_SECONDS = 3600;
const DEFAULT_PERIOD = 30;

/** RFC 3986 §2.3: everything except unreserved characters is percent-encoded (UTF-8 bytes). */
function encodeComponent(s: string): string {
  if (hasLoneSurrogate(s)) throw new ProtocolError('bad_uri', 'otpauth field is not valid Unicode');
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function decodeComponent(s: string, plusIsSpace: boolean): string {
  const text = plusIsSpace ? s.replace(/\+/g, ' ') : s;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ProtocolError('bad_uri', 'otpauth URI has a malformed percent escape');
  }
}

function algorithmName(algorithm: OtpAlgorithm): string {
  return algorithm.toUpperCase();
}

export function buildOtpauthUri(input: OtpauthUri): string {
  if (input.type !== 'totp' && input.type !== 'hotp') throw new ProtocolError('bad_argument', 'otpauth type must be totp or hotp');
  if (input.account === '') throw new ProtocolError('bad_argument', 'otpauth account must not be empty');
  if (input.digits !== 6 && input.digits !== 8) throw new ProtocolError('bad_argument', 'otpauth digits must be 6 or 8');
  if (!['sha1', 'sha256', 'sha512'].includes(input.algorithm)) throw new ProtocolError('bad_argument', 'unknown otpauth algorithm');
  // Normalise the secret (strip spaces, padding, lower case) so every app can read it.
  const secret = base32Encode(base32Decode(input.secretBase32));
  if (secret === '') throw new ProtocolError('bad_argument', 'otpauth secret must not be empty');

  const label = input.issuer === '' ? encodeComponent(input.account) : `${encodeComponent(input.issuer)}:${encodeComponent(input.account)}`;
  const params: string[] = [`secret=${secret}`];
  if (input.issuer !== '') params.push(`issuer=${encodeComponent(input.issuer)}`);
  params.push(`algorithm=${algorithmName(input.algorithm)}`, `digits=${input.digits}`);
  if (input.type === 'totp') {
    const period = input.period ?? DEFAULT_PERIOD;
    if (!Number.isSafeInteger(period) || period <= 0 || period > MAX_PERIOD_SECONDS) {
      throw new ProtocolError('bad_argument', 'otpauth period out of range');
    }
    params.push(`period=${period}`);
  } else {
    const counter = input.counter ?? 0;
    if (!Number.isSafeInteger(counter) || counter < 0) throw new ProtocolError('bad_argument', 'otpauth counter out of range');
    params.push(`counter=${counter}`);
  }
  return `otpauth://${input.type}/${label}?${params.join('&')}`;
}

function parseUnsigned(text: string, what: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new ProtocolError('bad_uri', `otpauth ${what} is not a number`);
  return Number(text);
}

function checkDisplayable(s: string, what: string): void {
  if (hasControlChars(s)) throw new ProtocolError('bad_uri', `otpauth ${what} contains control characters`);
}

/**
 * Parses an otpauth:// URI as scanned from a QR code or pasted by a user. Lenient where apps
 * differ (case of scheme/type/algorithm, '+' for space in the query, missing issuer or optional
 * parameters, unknown parameters such as `image`), strict where a wrong guess would yield
 * wrong codes (bad secret, digits other than 6/8, unknown algorithm, duplicate parameters).
 */
export function parseOtpauthUri(uri: string): OtpauthUri {
  if (uri.length > MAX_URI_CHARS) throw new ProtocolError('bad_uri', 'otpauth URI too long');
  // Raw (unencoded) bytes outside printable ASCII are not valid in a URI (RFC 3986 §2).
  if (!/^[\x21-\x7E]*$/.test(uri)) throw new ProtocolError('bad_uri', 'otpauth URI contains characters that must be percent-encoded');
  const head = /^otpauth:\/\/(totp|hotp)\/([^?]*)(?:\?(.*))?$/i.exec(uri);
  if (head === null) throw new ProtocolError('bad_uri', 'not an otpauth://totp/ or otpauth://hotp/ URI');
  const type = head[1]!.toLowerCase() as 'totp' | 'hotp';
  const rawLabel = head[2]!;
  const rawQuery = head[3] ?? '';

  // The spec allows a literal or percent-encoded ':' between issuer and account. Split before
  // decoding, preferring a literal ':' (what we emit; our encoder turns any ':' inside the
  // issuer or account into %3A), and fall back to the first %3A for generators that encode it.
  const labelMatch = rawLabel.includes(':') ? /^([^:]*):(.*)$/.exec(rawLabel) : /^(.*?)%3A(.*)$/i.exec(rawLabel);
  const labelIssuer = labelMatch === null ? '' : decodeComponent(labelMatch[1]!, false);
  const account = decodeComponent(labelMatch === null ? rawLabel : labelMatch[2]!, false).replace(/^ +/, '');
  if (account === '') throw new ProtocolError('bad_uri', 'otpauth URI has no account name');

  const params = new Map<string, string>();
  if (rawQuery !== '') {
    for (const part of rawQuery.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const key = decodeComponent(eq === -1 ? part : part.slice(0, eq), true).toLowerCase();
      const value = eq === -1 ? '' : decodeComponent(part.slice(eq + 1), true);
      if (params.has(key)) throw new ProtocolError('bad_uri', 'otpauth URI repeats a parameter');
      params.set(key, value);
    }
  }

  const secretText = params.get('secret');
  if (secretText === undefined || secretText === '') throw new ProtocolError('bad_uri', 'otpauth URI has no secret');
  let secretBytes: Buffer;
  try {
    secretBytes = base32Decode(secretText);
  } catch {
    throw new ProtocolError('bad_uri', 'otpauth secret is not base32');
  }
  if (secretBytes.length === 0) throw new ProtocolError('bad_uri', 'otpauth secret is empty');

  const issuerParam = params.get('issuer');
  const issuer = issuerParam ?? labelIssuer;
  checkDisplayable(issuer, 'issuer');
  checkDisplayable(account, 'account');

  const algorithmText = (params.get('algorithm') ?? 'SHA1').toUpperCase();
  const algorithms: Record<string, OtpAlgorithm> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };
  const algorithm = algorithms[algorithmText];
  if (algorithm === undefined) throw new ProtocolError('bad_uri', 'otpauth algorithm is not SHA1, SHA256 or SHA512');

  const digitsNumber = parseUnsigned(params.get('digits') ?? '6', 'digits');
  if (digitsNumber !== 6 && digitsNumber !== 8) throw new ProtocolError('bad_uri', 'otpauth digits must be 6 or 8');
  const digits: OtpDigits = digitsNumber;

  const result: OtpauthUri = { type, issuer, account, secretBase32: base32Encode(secretBytes), digits, algorithm };
  if (type === 'totp') {
    const period = parseUnsigned(params.get('period') ?? String(DEFAULT_PERIOD), 'period');
    if (period <= 0 || period > MAX_PERIOD_SECONDS) throw new ProtocolError('bad_uri', 'otpauth period out of range');
    result.period = period;
  } else {
    const counterText = params.get('counter');
    if (counterText !== undefined) {
      const counter = parseUnsigned(counterText, 'counter');
      if (!Number.isSafeInteger(counter)) throw new ProtocolError('bad_uri', 'otpauth counter out of range');
      result.counter = counter;
    }
  }
  return result;
}
