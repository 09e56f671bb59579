// The otpauth:// URL tandem-authenticator shows (as a QR code and as text).
//
// google-authenticator's own escaping (reference §2.3) only encodes % & ? = and bytes outside
// 0x21..0x7E, so a '#' in a label cuts the URL short for every real parser, and it never says
// `period` although `-S` changes the step. We keep its shape (`otpauth://TYPE/LABEL?secret=…
// &issuer=…`, the label exactly as given, no `ISSUER:` prefix added) but percent-encode per
// RFC 3986: in the label every byte except unreserved characters and the path characters ':'
// and '@' (so `Issuer:account` and `user@host` stay readable, and ':' keeps separating issuer
// from account as the Key Uri Format wants); in the issuer every byte except unreserved ones
// (so a space is %20, never '+'). `period`, `digits` and `algorithm` are added when they differ
// from what apps assume (30, 6, SHA1); an HOTP URL says `counter=0` (the parameter is required
// by the Key Uri Format; apps advance before showing a code, so their first code is counter 1,
// which is where the file's HOTP_COUNTER 1 starts).
import { ProtocolError } from '../../protocol/errors.js';

export interface OtpauthUrlInput {
  type: 'totp' | 'hotp';
  label: string;
  /** Empty: no issuer parameter (as upstream). */
  issuer: string;
  secretBase32: string;
  period?: number;
  digits?: 6 | 8;
  algorithm?: 'sha1' | 'sha256' | 'sha512';
}


function percentEncode(text: string, keep: RegExp): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && keep.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const LABEL_KEEP = /^[A-Za-z0-9\-._~:@]$/;
const QUERY_KEEP = /^[A-Za-z0-9\-._~]$/;

export function encodeLabel(label: string): string {
  return percentEncode(label, LABEL_KEEP);
}

export function encodeQueryValue(value: string): string {
  return percentEncode(value, QUERY_KEEP);
}

/** True when a field is too long for upstream's URL builder (it then exits 1). */
export function urlFieldTooLarge(text: string): boolean {
  return 3 * Buffer.byteLength(text, 'utf8') + 1 > 10000;
}

export function buildAuthenticatorUrl(input: OtpauthUrlInput): string {
  if (/[^A-Z2-7]/.test(input.secretBase32) || input.secretBase32 === '') throw new ProtocolError('bad_argument', 'secret must be unpadded upper-case base32');
  const params = [`secret=${input.secretBase32}`];
  if (input.issuer !== '') params.push(`issuer=${encodeQueryValue(input.issuer)}`);
  if (input.algorithm !== undefined && input.algorithm !== 'sha1') params.push(`algorithm=${input.algorithm.toUpperCase()}`);
  if (input.digits !== undefined && input.digits !== 6) params.push(`digits=${input.digits}`);
  if (input.type === 'totp') {
    if (input.period !== undefined && input.period !== 30) params.push(`period=${input.period}`);
  } else {
    params.push('counter=0');
  }
  return `otpauth://${input.type}/${encodeLabel(input.label)}?${params.join('&')}`;
}

/** google-authenticator's exact URL (reference §2.3), for comparison and tests. */
export function buildUpstreamUrl(input: Pick<OtpauthUrlInput, 'type' | 'label' | 'issuer' | 'secretBase32'>): string {
  const enc = (s: string): string => {
    let out = '';
    for (const byte of Buffer.from(s, 'utf8')) {
      const ch = String.fromCharCode(byte);
      out += byte <= 0x20 || byte >= 0x7f || '%&?='.includes(ch) ? '%' + byte.toString(16).toUpperCase().padStart(2, '0') : ch;
    }
    return out;
  };
  const base = `otpauth://${input.type}/${enc(input.label)}?secret=${input.secretBase32}`;
  return input.issuer === '' ? base : `${base}&issuer=${enc(input.issuer)}`;
}
