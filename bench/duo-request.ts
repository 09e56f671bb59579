// A signed Auth API v2 request as duo_unix and duo_client_python send it: form body, Date header,
// canonical string signed with HMAC-SHA512 (v2), signed host "localhost".
import { duoEncode } from '../src/protocol/duo-canon.js';
import { authorizationHeader, sign } from '../src/protocol/duo-signing.js';

export const SIGNED_HOST = 'localhost';

export interface Creds {
  ikey: string;
  skey: string;
}

/** RFC 2822 with "-0000", as Python's email.utils.formatdate(usegmt=False) writes it. */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '-0000');
}

export function signedPost(creds: Creds, port: number, path: string, params: Array<[string, string]>, now: number): { headers: Record<string, string>; body: string } {
  const date = rfc2822(now);
  const body = params.map(([k, v]) => `${duoEncode(k)}=${duoEncode(v)}`).join('&');
  const sig = sign(2, 'sha512', creds.skey, { method: 'POST', host: SIGNED_HOST, path, params, date, body });
  return {
    headers: {
      Host: `${SIGNED_HOST}:${port}`,
      Date: date,
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: authorizationHeader(creds.ikey, sig),
    },
    body,
  };
}
