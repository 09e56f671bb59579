// Deterministic hostile requests for test/threats/hostile-input.test.ts. A seeded PRNG (no
// Math.random) picks endpoints, garbage bytes and mutations, so one seed always gives the same
// cases; only the signatures depend on `now` (the clock the dates are taken from).
//
// Every case says what the server must answer: the Duo FAIL codes that are acceptable, whether a
// stat OK envelope is acceptable, and whether a closed connection without an answer is acceptable
// (only for transport-level garbage such as oversized headers).
import { authorizationHeader, sign, type SigDigest, type SigVersion } from '../../src/protocol/duo-signing.js';
import { duoEncode } from '../../src/protocol/duo-canon.js';
import { rfc2822 } from '../support/harness.js';

// ---------------------------------------------------------------- PRNG

/** mulberry32: small, fast, good enough to pick test inputs; fully determined by the seed. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  chars(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)]!;
    return s;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

// ---------------------------------------------------------------- case types

export const CATEGORIES = [
  'auth-missing',
  'auth-scheme',
  'auth-garbled',
  'auth-huge',
  'unknown-ikey',
  'bad-signature',
  'date-missing',
  'date-bad',
  'body-oversized',
  'invalid-utf8',
  'bad-percent-escape',
  'json-body',
  'repeated-params',
  'missing-params',
  'overlong-values',
  'control-chars',
  'unknown-path',
  'path-traversal',
  'wrong-method',
  'head',
  'content-type',
  'mutation',
  'odd-headers',
  'header-overflow',
  'ping-junk',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface Expect {
  /** Acceptable FAIL codes. */
  codes: number[];
  /**
   * Whether stat OK is acceptable: 'any', or 'no-access' (acceptable unless it lets someone in
   * or resolves to the real enrolled user: result allow/auth).
   */
  ok?: 'any' | 'no-access';
  /** Closing the connection without an answer is acceptable. */
  close?: boolean;
  /** HEAD: the acceptable statuses (there is no body to read). */
  headStatus?: number[];
}

export interface HostileRequest {
  id: number;
  category: Category;
  note: string;
  method: string;
  /** Raw request target, sent as is. */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** Send the body in several chunks without Content-Length (chunked transfer coding). */
  chunked?: boolean;
  expect: Expect;
}

export interface RawCase {
  id: number;
  note: string;
  bytes: Buffer;
  /** 'reject': a 400 Duo envelope or a close. 'any': whatever comes back is a well-formed envelope (status < 500). */
  expect: 'reject' | 'any';
  /** Plain TCP to the TLS port (no TLS at all). */
  plain?: boolean;
}

export interface GenContext {
  ikey: string;
  skey: string;
  /** Server port: the Host header is localhost:<port>; signatures cover `localhost`. */
  port: number;
  /** The real, enrolled user. */
  username: string;
  /** Dates are taken from here (ms); keep the run within the server's skew window of it. */
  now: number;
  seed: number;
}

type Pairs = Array<[string, string]>;

export const SIGNED_HOST = 'localhost';
export const GET_ENDPOINTS = ['/auth/v2/check', '/auth/v2/logo', '/auth/v2/auth_status'] as const;
export const POST_ENDPOINTS = ['/auth/v2/preauth', '/auth/v2/auth'] as const;
export const SIGNED_ENDPOINTS = [...GET_ENDPOINTS, ...POST_ENDPOINTS] as const;
export const ALL_ENDPOINTS = ['/auth/v2/ping', ...SIGNED_ENDPOINTS] as const;
const METHOD_OF: Record<string, 'GET' | 'POST'> = {
  '/auth/v2/ping': 'GET',
  '/auth/v2/check': 'GET',
  '/auth/v2/logo': 'GET',
  '/auth/v2/auth_status': 'GET',
  '/auth/v2/preauth': 'POST',
  '/auth/v2/auth': 'POST',
};
const HEX = '0123456789abcdef';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// ---------------------------------------------------------------- signing

export interface SignedSpec {
  method: string;
  path: string;
  /** Query parameters (encoded canonically into the URL). */
  query?: Pairs;
  /** Query string appended verbatim instead of `query` (still signed over `query`). */
  rawQuery?: string;
  /** Form body parameters (v1/v2). */
  form?: Pairs;
  /** JSON body text (v4/v5). */
  json?: string;
  /** Body bytes sent verbatim instead of the form/json text (signature still over the spec). */
  rawBody?: Buffer;
  contentType?: string | null;
  version?: SigVersion;
  digest?: SigDigest;
  date?: string;
  /** Which header carries the date; 'none' signs with `date` but sends no date at all. */
  dateHeader?: 'date' | 'x-duo-date' | 'none';
  /** Send this date string instead of the signed one. */
  sendDate?: string;
  ikey?: string;
  skey?: string;
  /** Signed as if for this method / path / host / params. */
  signMethod?: string;
  signPath?: string;
  signHost?: string;
  signParams?: Pairs;
  signBody?: string;
  mutateSignature?: (hex: string) => string;
}

export interface Built {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
}

export function formText(pairs: Pairs): string {
  return pairs.map(([k, v]) => `${duoEncode(k)}=${duoEncode(v)}`).join('&');
}

/** What a Duo client sends for `spec` (with the deliberate deviations the spec asks for). */
export function buildSigned(ctx: Pick<GenContext, 'ikey' | 'skey' | 'port'>, spec: SignedSpec): Built {
  const version = spec.version ?? 2;
  const digest = spec.digest ?? 'sha512';
  const date = spec.date ?? rfc2822(Date.now());
  const query = spec.query ?? [];
  const form = spec.form ?? [];
  const json = spec.json !== undefined;
  const bodyText = json ? spec.json! : form.length > 0 ? formText(form) : '';
  const dateHeader = spec.dateHeader ?? 'date';
  const xDuo: Pairs = dateHeader === 'x-duo-date' ? [['x-duo-date', date]] : [];
  const sig = sign(version, digest, spec.skey ?? ctx.skey, {
    method: spec.signMethod ?? spec.method,
    host: spec.signHost ?? SIGNED_HOST,
    path: spec.signPath ?? spec.path,
    params: spec.signParams ?? (json ? query : [...query, ...form]),
    date,
    body: spec.signBody ?? bodyText,
    xDuoHeaders: xDuo,
  });
  const finalSig = spec.mutateSignature ? spec.mutateSignature(sig) : sig;
  const headers: Record<string, string | string[]> = {
    host: `localhost:${ctx.port}`,
    authorization: authorizationHeader(spec.ikey ?? ctx.ikey, finalSig),
  };
  if (dateHeader !== 'none') headers[dateHeader] = spec.sendDate ?? date;
  const body = spec.rawBody ?? (bodyText.length > 0 || spec.method === 'POST' ? Buffer.from(bodyText, 'utf8') : undefined);
  const ct = spec.contentType === undefined ? (json ? 'application/json' : spec.method === 'POST' ? 'application/x-www-form-urlencoded' : null) : spec.contentType;
  if (ct !== null && body !== undefined) headers['content-type'] = ct;
  const qs = spec.rawQuery ?? formText(query);
  return { method: spec.method, path: qs ? `${spec.path}?${qs}` : spec.path, headers, ...(body !== undefined ? { body } : {}) };
}

// ---------------------------------------------------------------- the generator

export function generateHostile(ctx: GenContext): { requests: HostileRequest[]; raw: RawCase[] } {
  const rng = new Prng(ctx.seed);
  const out: HostileRequest[] = [];
  const hostHeader = `localhost:${ctx.port}`;
  let dateSeq = 0;
  /** A distinct second for every signed request (1..200 s in the past, inside the skew window). */
  const freshDate = (): string => rfc2822(ctx.now - (1 + (dateSeq++ % 200)) * 1000);
  const signedReq = (spec: SignedSpec): Built => buildSigned(ctx, { date: freshDate(), ...spec });

  const add = (category: Category, note: string, b: Built, expect: Expect, extra: { chunked?: boolean } = {}): void => {
    out.push({ id: 0, category, note, method: b.method, path: b.path, headers: b.headers, ...(b.body !== undefined ? { body: b.body } : {}), expect, ...extra });
  };
  /** An unsigned request with the given Authorization (or none). */
  const plain = (method: string, path: string, authorization: string | string[] | null, body?: Buffer | string, contentType?: string | null, extraHeaders: Record<string, string | string[]> = {}): Built => {
    const headers: Record<string, string | string[]> = { host: hostHeader, date: rfc2822(ctx.now), ...extraHeaders };
    if (authorization !== null) headers['authorization'] = authorization;
    const b = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    if (b !== undefined && contentType !== null) headers['content-type'] = contentType ?? 'application/x-www-form-urlencoded';
    return { method, path, headers, ...(b !== undefined ? { body: b } : {}) };
  };
  /** Parameters that make each endpoint succeed once the request is authenticated. */
  const goodParams = (path: string): Pairs => {
    if (path === '/auth/v2/preauth') return [['username', ctx.username]];
    if (path === '/auth/v2/auth') return [['username', 'mallory'], ['factor', 'passcode'], ['passcode', '123456']];
    if (path === '/auth/v2/auth_status') return [['txid', '00000000-0000-4000-8000-000000000000']];
    return [];
  };
  /** A correctly signed request for `path` in its own method, v2 by default. */
  const validSpec = (path: string, over: Partial<SignedSpec> = {}): SignedSpec => {
    const method = METHOD_OF[path]!;
    const params = goodParams(path);
    return method === 'GET' ? { method, path, query: params, ...over } : { method, path, form: params, ...over };
  };
  const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
  const fakeSig = (n: 40 | 128): string => rng.chars(n, HEX);
  const signedEndpoint = (): string => rng.pick(SIGNED_ENDPOINTS);
  const unsignedBodyFor = (path: string): { body?: string; ct?: string } => (METHOD_OF[path] === 'POST' ? { body: formText(goodParams(path)) } : {});
  const sendAuth = (category: Category, note: string, path: string, authorization: string | string[] | null, codes: number[]): void => {
    const u = unsignedBodyFor(path);
    const method = METHOD_OF[path]!;
    const target = method === 'GET' && goodParams(path).length > 0 ? `${path}?${formText(goodParams(path))}` : path;
    add(category, note, plain(method, target, authorization, u.body), { codes });
  };

  // -------- missing Authorization → 40101
  for (const path of SIGNED_ENDPOINTS) {
    sendAuth('auth-missing', 'no Authorization header', path, null, [40101]);
    const s = signedReq(validSpec(path));
    delete s.headers['authorization'];
    add('auth-missing', 'signed request with Authorization removed', s, { codes: [40101] });
    sendAuth('auth-missing', 'empty Authorization header', path, '', [40101]);
  }

  // -------- wrong scheme / shape → 40101
  const validPair = `${ctx.ikey}:${fakeSig(128)}`;
  const schemes: Array<[string, string]> = [
    ['Bearer token', `Bearer ${b64(validPair)}`],
    ['Digest', `Digest username="${ctx.ikey}", realm="x", nonce="1", uri="/", response="${fakeSig(40)}"`],
    ['Negotiate', `Negotiate ${b64(validPair)}`],
    ['Basic without credentials', 'Basic'],
    ['Basic with a space only', 'Basic '],
    ['Basic twice', `Basic Basic ${b64(validPair)}`],
    ['double space', `Basic  ${b64(validPair)}`],
    ['tab separator', `Basic\t${b64(validPair)}`],
    ['trailing token', `Basic ${b64(validPair)} extra`],
    ['unencoded credentials', `Basic ${validPair}`],
    ['HOBA', `HOBA result="${b64(validPair)}"`],
    ['AWS4', `AWS4-HMAC-SHA256 Credential=${ctx.ikey}/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${fakeSig(128).slice(0, 64)}`],
    ['scheme only, comma', `Basic, ${b64(validPair)}`],
    ['no scheme', b64(validPair)],
  ];
  for (const [note, value] of schemes) {
    sendAuth('auth-scheme', note, signedEndpoint(), value, [40101]);
    sendAuth('auth-scheme', `${note} (second endpoint)`, signedEndpoint(), value, [40101]);
  }

  // -------- garbled credentials → 40101
  const garbled: Array<[string, string]> = [
    ['no colon', `Basic ${b64(ctx.ikey + fakeSig(128))}`],
    ['two colons', `Basic ${b64(`${ctx.ikey}:${fakeSig(128)}:x`)}`],
    ['empty ikey', `Basic ${b64(`:${fakeSig(128)}`)}`],
    ['empty signature', `Basic ${b64(`${ctx.ikey}:`)}`],
    ['only a colon', `Basic ${b64(':')}`],
    ['signature 39 hex', `Basic ${b64(`${ctx.ikey}:${fakeSig(40).slice(1)}`)}`],
    ['signature 41 hex', `Basic ${b64(`${ctx.ikey}:${fakeSig(40)}a`)}`],
    ['signature 64 hex', `Basic ${b64(`${ctx.ikey}:${fakeSig(128).slice(64)}`)}`],
    ['signature 127 hex', `Basic ${b64(`${ctx.ikey}:${fakeSig(128).slice(1)}`)}`],
    ['signature 129 hex', `Basic ${b64(`${ctx.ikey}:${fakeSig(128)}0`)}`],
    ['signature not hex', `Basic ${b64(`${ctx.ikey}:${'g'.repeat(128)}`)}`],
    ['signature base64', `Basic ${b64(`${ctx.ikey}:${b64(rng.bytes(64))}`)}`],
    ['ikey with space', `Basic ${b64(`DI KEY:${fakeSig(128)}`)}`],
    ['ikey with NUL', `Basic ${b64(`DI\0KEY:${fakeSig(128)}`)}`],
    ['ikey with non-ASCII', `Basic ${b64(`DIé:${fakeSig(128)}`)}`],
    ['ikey 65 chars', `Basic ${b64(`${'D'.repeat(65)}:${fakeSig(128)}`)}`],
    ['unpadded base64', `Basic ${b64(`${ctx.ikey}:${fakeSig(128)}x`).replace(/=+$/, '')}`],
    // 61 bytes: the last character before '==' carries 2 data bits; setting a low bit makes the
    // encoding non-canonical (Node would still decode it).
    ['base64 with stray bits', `Basic ${b64(`${ctx.ikey}:${fakeSig(40)}`).replace(/.(==)$/, (m) => B64[B64.indexOf(m[0]!) | 1]! + m.slice(1))}`],
    ['base64url alphabet', `Basic ${b64(Buffer.from([0xfb, 0xff, 0xfe, 0x3a]))}`.replace(/\+/g, '-').replace(/\//g, '_')],
    ['latin1 garbage', `Basic \xe9\xe8\xff${b64(validPair)}`],
    ['percent-encoded', `Basic ${encodeURIComponent(b64(validPair))}`.replace(/=/g, '%3D')],
    ['padding in the middle', `Basic ${b64(ctx.ikey)}${b64(`:${fakeSig(128)}`)}`],
  ];
  for (const [note, value] of garbled) sendAuth('auth-garbled', note, signedEndpoint(), value, [40101]);
  for (let i = 0; i < 24; i++) {
    const kind = rng.int(3);
    const value =
      kind === 0 ? `Basic ${b64(rng.bytes(1 + rng.int(120)))}` : kind === 1 ? `Basic ${rng.chars(4 + rng.int(200), B64)}` : rng.chars(1 + rng.int(300), PRINTABLE).trim() || 'x';
    // A random run of base64 characters is almost never a valid `ikey:hex` pair; if it happens to
    // decode to one, the ikey is unknown (40102) — never a 2xx.
    sendAuth('auth-garbled', `random garbage #${i} (kind ${kind})`, signedEndpoint(), value, [40101, 40102]);
  }

  // -------- huge Authorization (still inside Node's 16 KiB header limit) → 40101
  for (const n of [513, 600, 1024, 4096, 8192, 12_000]) {
    sendAuth('auth-huge', `Basic + ${n} base64 characters`, signedEndpoint(), `Basic ${rng.chars(n - (n % 4), B64)}`, [40101]);
  }
  sendAuth('auth-huge', 'real ikey, 10 KB signature', signedEndpoint(), `Basic ${b64(`${ctx.ikey}:${fakeSig(128).repeat(60)}`)}`, [40101]);
  sendAuth('auth-huge', '10 KB ikey', signedEndpoint(), `Basic ${b64(`${'D'.repeat(7000)}:${fakeSig(128)}`)}`, [40101]);

  // -------- unknown ikeys → 40102
  const unknownIkeys: string[] = [
    ctx.ikey.toLowerCase(),
    ctx.ikey + 'X',
    ctx.ikey.slice(0, -1),
    'D',
    'D'.repeat(64),
    "'OR'1'='1",
    '"--;DROP',
    '%00',
    '${jndi.ldap.x}',
    '../../etc/passwd',
    '*',
    'DI%',
  ];
  for (let i = 0; i < 12; i++) unknownIkeys.push('DI' + rng.chars(18, UPPER_ALNUM));
  for (const ikey of unknownIkeys) {
    const path = signedEndpoint();
    // Correctly signed with the real skey: the unknown ikey must still be what decides.
    add('unknown-ikey', `ikey ${JSON.stringify(ikey)}, signed with the real skey`, signedReq(validSpec(path, { ikey })), { codes: [40102] });
    sendAuth('unknown-ikey', `ikey ${JSON.stringify(ikey)}, random sha1 signature`, signedEndpoint(), `Basic ${b64(`${ikey}:${fakeSig(40)}`)}`, [40102]);
  }

  // -------- bad signatures with the real ikey → 40103
  for (let i = 0; i < 10; i++) {
    sendAuth('bad-signature', `random sha512 signature #${i}`, signedEndpoint(), `Basic ${b64(`${ctx.ikey}:${fakeSig(128)}`)}`, [40103]);
    sendAuth('bad-signature', `random sha1 signature #${i}`, signedEndpoint(), `Basic ${b64(`${ctx.ikey}:${fakeSig(40).toUpperCase()}`)}`, [40103]);
  }
  for (const path of SIGNED_ENDPOINTS) {
    const other = SIGNED_ENDPOINTS.find((p) => p !== path && METHOD_OF[p] === METHOD_OF[path])!;
    add('bad-signature', `signed for ${other}`, signedReq(validSpec(path, { signPath: other })), { codes: [40103] });
    add('bad-signature', 'signed for another host', signedReq(validSpec(path, { signHost: 'evil.example' })), { codes: [40103] });
    add('bad-signature', 'signed for the host with a wrong port', signedReq(validSpec(path, { signHost: 'localhost:1' })), { codes: [40103] });
    add('bad-signature', 'signed for another method', signedReq(validSpec(path, { signMethod: METHOD_OF[path] === 'GET' ? 'POST' : 'GET' })), { codes: [40103] });
    add('bad-signature', 'signed with another skey', signedReq(validSpec(path, { skey: rng.chars(40, UPPER_ALNUM) })), { codes: [40103] });
    add('bad-signature', 'signed with an empty skey', signedReq(validSpec(path, { skey: '' })), { codes: [40103] });
    add('bad-signature', 'signed over other params', signedReq(validSpec(path, { signParams: [['username', 'root']] })), { codes: [40103] });
    add('bad-signature', 'v2 signature sent with the date one second later', signedReq(validSpec(path, { sendDate: rfc2822(ctx.now + 1000) })), { codes: [40103] });
    add('bad-signature', 'sha1 signature over other params', signedReq(validSpec(path, { digest: 'sha1', signParams: [['a', 'b']] })), { codes: [40103] });
    add('bad-signature', 'v1 signature (legacy disabled) with date', signedReq(validSpec(path, { version: 1 })), { codes: [40103] });
    add('bad-signature', 'signed for a made-up method', signedReq(validSpec(path, { signMethod: METHOD_OF[path]!.toLowerCase() + 'x' })), { codes: [40103] });
  }
  for (const path of POST_ENDPOINTS) {
    const params = goodParams(path);
    const json = JSON.stringify(Object.fromEntries(params));
    add('bad-signature', 'JSON body with a v2 signature', signedReq({ method: 'POST', path, json, version: 2, signParams: params }), { codes: [40103] });
    add('bad-signature', 'v5 signature over a different body', signedReq({ method: 'POST', path, json, version: 5, signBody: json.replace('}', ',"x":"1"}') }), { codes: [40103] });
    add('bad-signature', 'v5 x-duo-date, signature over the body plus a space', signedReq({ method: 'POST', path, json, version: 5, dateHeader: 'x-duo-date', signBody: json + ' ' }), { codes: [40103] });
    add('bad-signature', 'JSON body with a v5 signature over form params', signedReq({ method: 'POST', path, json, version: 5, signParams: params }), { codes: [40103] });
  }

  // -------- dates
  for (const path of SIGNED_ENDPOINTS) {
    add('date-missing', 'v2 signed with a date that is not sent', signedReq(validSpec(path, { dateHeader: 'none' })), { codes: [40103] });
    add('date-missing', 'v2 sha1 signed with a date that is not sent', signedReq(validSpec(path, { dateHeader: 'none', digest: 'sha1' })), { codes: [40103] });
  }
  for (const path of POST_ENDPOINTS) {
    const json = JSON.stringify(Object.fromEntries(goodParams(path)));
    add('date-missing', 'v5 signed with a date that is not sent', signedReq({ method: 'POST', path, json, version: 5, dateHeader: 'none' }), { codes: [40103] });
    const s = signedReq({ method: 'POST', path, json, version: 5, dateHeader: 'x-duo-date' });
    delete s.headers['x-duo-date'];
    out.push({ id: 0, category: 'date-missing', note: 'v5 x-duo-date removed after signing', method: s.method, path: s.path, headers: s.headers, body: s.body!, expect: { codes: [40103] } });
  }
  const now = ctx.now;
  const d = new Date(now);
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const yyyy = d.getUTCFullYear();
  const hms = d.toISOString().slice(11, 19);
  const badDates: string[] = [
    '',
    'yesterday',
    'now',
    '0',
    String(Math.floor(now / 1000)),
    new Date(now).toISOString(),
    new Date(now).toString(),
    // The skew window is 300 s; requests reach the server a few seconds after `now`.
    rfc2822(now - 400_000),
    rfc2822(now + 400_000),
    rfc2822(now - 3_600_000),
    rfc2822(now + 86_400_000),
    rfc2822(0),
    rfc2822(Date.UTC(2099, 0, 1)),
    rfc2822(Date.UTC(1969, 11, 31, 23, 59, 59)),
    `Mon, 31 Feb ${yyyy} ${hms} -0000`,
    `Mon, ${dd} Jan ${yyyy} 24:00:00 -0000`,
    `Mon, ${dd} Jan ${yyyy} 23:60:00 -0000`,
    `Mon, ${dd} Jan ${yyyy} 23:59:60 -0000`,
    `Mon, ${dd} Jan ${yyyy} ${hms} +2500`,
    `Mon, ${dd} Jan ${yyyy} ${hms} +0099`,
    `Mon, ${dd} Jan ${yyyy} ${hms} CEST`,
    `Mon, ${dd} Jan ${yyyy} ${hms}`,
    `Mon, ${dd} Jan 99999 ${hms} -0000`,
    `Mon, ${dd} Jan ${yyyy} ${hms} -0000 `.padEnd(80, 'x'),
    `Monday, ${dd}-Jan-${String(yyyy).slice(2)} ${hms} GMT`,
    `Mon Jan ${dd} ${hms} ${yyyy}`,
    `\xe9\xe9\xe9, ${dd} \xe9\xe9\xe9 ${yyyy} ${hms} +0000`,
  ];
  // Localized month names (duo_unix ≤ 2.2.3 under a non-English locale): with the current time.
  const localized = ['Okt', 'Dez', 'Mai', 'M\xe4r', 'janv.', 'f\xe9vr.', 'ago', 'Ene', 'dic'];
  for (const month of localized) badDates.push(`Mo., ${dd} ${month} ${yyyy} ${hms} +0000`);
  for (const date of badDates) {
    const path = signedEndpoint();
    add('date-bad', `Date ${JSON.stringify(date.slice(0, 60))}`, signedReq(validSpec(path, { date })), { codes: [40105] });
    add('date-bad', `X-Duo-Date ${JSON.stringify(date.slice(0, 60))}`, signedReq(validSpec(signedEndpoint(), { date, dateHeader: 'x-duo-date' })), { codes: [40105] });
  }
  for (const path of POST_ENDPOINTS) {
    const json = JSON.stringify(Object.fromEntries(goodParams(path)));
    add('date-bad', 'v5, skewed 10 min', signedReq({ method: 'POST', path, json, version: 5, date: rfc2822(now - 600_000) }), { codes: [40105] });
    add('date-bad', 'v5 x-duo-date, skewed +1 day', signedReq({ method: 'POST', path, json, version: 5, dateHeader: 'x-duo-date', date: rfc2822(now + 86_400_000) }), { codes: [40105] });
  }

  // -------- oversized bodies (limit 64 KiB) → 40002
  const sizes = [65_537, 70_000, 131_072, 1_048_576];
  for (const path of POST_ENDPOINTS) {
    for (const size of sizes) {
      const pad = Buffer.alloc(size, 'a');
      pad.write('username=alice&pad=', 0);
      const ct = rng.pick(['application/x-www-form-urlencoded', 'application/json', 'text/plain', 'application/octet-stream']);
      add('body-oversized', `${size} bytes, ${ct}, unsigned`, plain('POST', path, null, pad, ct), { codes: [40002], close: size > 200_000 });
      add('body-oversized', `${size} bytes, garbage Authorization`, plain('POST', path, `Basic ${b64(`${ctx.ikey}:${fakeSig(128)}`)}`, rng.bytes(size), 'application/x-www-form-urlencoded'), { codes: [40002], close: size > 200_000 });
    }
    const chunked = plain('POST', path, null, Buffer.alloc(100_000, 'b'), 'application/x-www-form-urlencoded');
    add('body-oversized', '100 kB chunked (no Content-Length)', chunked, { codes: [40002] }, { chunked: true });
    const form = [...goodParams(path), ['pad', 'p'.repeat(70_000)]] as Pairs;
    add('body-oversized', 'validly signed v2, 70 kB', signedReq({ method: 'POST', path, form }), { codes: [40002] });
    const json = JSON.stringify({ ...Object.fromEntries(goodParams(path)), pad: 'p'.repeat(70_000) });
    add('body-oversized', 'validly signed v5, 70 kB', signedReq({ method: 'POST', path, json, version: 5 }), { codes: [40002] });
  }

  // -------- invalid UTF-8 in bodies and query strings
  const badUtf8: Array<[string, number[]]> = [
    ['0xFF', [0xff]],
    ['0xFE 0xFF', [0xfe, 0xff]],
    ['C3 28', [0xc3, 0x28]],
    ['overlong /', [0xc0, 0xaf]],
    ['overlong NUL', [0xc0, 0x80]],
    ['surrogate', [0xed, 0xa0, 0x80]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['truncated', [0xe2, 0x82]],
    ['lone continuation', [0x80]],
    ['5-byte form', [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ];
  const authVariants: Array<[string, string | null, number[]]> = [
    ['unsigned', null, [40002, 40101]],
    ['garbage signature', `Basic ${b64(`${ctx.ikey}:${fakeSig(128)}`)}`, [40002, 40103]],
  ];
  for (const [name, bytes] of badUtf8) {
    const raw = Buffer.from(bytes);
    const pct = bytes.map((x) => '%' + x.toString(16).toUpperCase().padStart(2, '0')).join('');
    const postPath = rng.pick(POST_ENDPOINTS);
    const getPath = rng.pick(GET_ENDPOINTS);
    for (const [an, auth, codes] of authVariants) {
      add('invalid-utf8', `raw ${name} in a form value, ${an}`, plain('POST', postPath, auth, Buffer.concat([Buffer.from('username=al'), raw, Buffer.from('ice')])), { codes });
      add('invalid-utf8', `raw ${name} in a form key, ${an}`, plain('POST', postPath, auth, Buffer.concat([Buffer.from('user'), raw, Buffer.from('name=alice')])), { codes });
      add('invalid-utf8', `%-escaped ${name} in a form value, ${an}`, plain('POST', postPath, auth, `username=${pct}`), { codes });
      add('invalid-utf8', `%-escaped ${name} in the query, ${an}`, plain('GET', `${getPath}?txid=${pct}`, auth), { codes });
    }
    // Signed over the (lossy) text a client would have produced: the server cannot decode the
    // bytes, so it must refuse the parameters, whatever it makes of the signature.
    add('invalid-utf8', `%-escaped ${name} in a query, signed`, signedReq({ method: 'GET', path: '/auth/v2/auth_status', query: [['txid', Buffer.from(bytes).toString('latin1')]], rawQuery: `txid=${pct}` }), { codes: [40002] });
    add('invalid-utf8', `raw ${name} in a JSON string, v5 signed`, (() => {
      const body = Buffer.concat([Buffer.from('{"username":"al'), raw, Buffer.from('ice"}')]);
      const s = signedReq({ method: 'POST', path: postPath, json: '{}', version: 5 });
      const sig = sign(5, 'sha512', ctx.skey, { method: 'POST', host: SIGNED_HOST, path: postPath, params: [], date: s.headers['date'] as string, body, xDuoHeaders: [] });
      return { ...s, headers: { ...s.headers, authorization: authorizationHeader(ctx.ikey, sig) }, body };
    })(), { codes: [40002] });
  }
  // Raw bytes ≥ 0x80 in the request target (Node sends the path as latin1).
  for (const path of GET_ENDPOINTS) {
    add('invalid-utf8', 'raw 0xFF byte in the query string, unsigned', plain('GET', `${path}?txid=\xff\xfe`, null), { codes: [40002, 40101] });
  }

  // -------- malformed percent escapes
  const escapes = ['%', '%G1', '%1', 'a%zz', '%%41', '%u0041', '%%', '%2', '100%', '%-1', '%+1', '% 1'.replace(' ', '%20%')];
  for (const esc of escapes) {
    const postPath = rng.pick(POST_ENDPOINTS);
    const getPath = rng.pick(GET_ENDPOINTS);
    const [an, auth, codes] = rng.pick(authVariants);
    add('bad-percent-escape', `${JSON.stringify(esc)} in a form value, ${an}`, plain('POST', postPath, auth, `username=${esc}`), { codes });
    add('bad-percent-escape', `${JSON.stringify(esc)} in a form key, ${an}`, plain('POST', postPath, auth, `${esc}=alice&factor=push`), { codes });
    add('bad-percent-escape', `${JSON.stringify(esc)} in the query, ${an}`, plain('GET', `${getPath}?txid=${esc}`, auth), { codes });
    add('bad-percent-escape', `${JSON.stringify(esc)} in a query key, validly signed otherwise`, signedReq({ method: 'GET', path: getPath, query: [['txid', 'x']], rawQuery: `txid=x&${esc}=1` }), { codes: [40002] });
  }

  // -------- JSON bodies
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const deepObj = '{"a":'.repeat(2000) + '1' + '}'.repeat(2000);
  const jsonBodies: Array<[string, string]> = [
    ['array', '[]'],
    ['array of the params', `[{"username":"${ctx.username}"}]`],
    ['nested object value', `{"username":{"$ne":null}}`],
    ['object in an array value', `{"username":["${ctx.username}",{"a":1}]}`],
    ['null value', `{"username":null}`],
    ['truncated', `{"username":"${ctx.username}"`],
    ['trailing comma', `{"username":"${ctx.username}",}`],
    ['single quotes', `{'username':'${ctx.username}'}`],
    ['null', 'null'],
    ['string', `"${ctx.username}"`],
    ['number', '123'],
    ['true', 'true'],
    ['empty', ''],
    ['whitespace', '   '],
    ['5000-deep array', deep],
    ['2000-deep object', deepObj],
    ['1e999', `{"username":"${ctx.username}","n":1e999}`],
    ['__proto__ object', `{"__proto__":{"admin":true},"username":"${ctx.username}"}`],
    ['constructor.prototype', `{"constructor":{"prototype":{"x":1}},"username":"${ctx.username}"}`],
    ['NaN', `{"username":NaN}`],
    ['comment', `{/*x*/"username":"${ctx.username}"}`],
    ['two documents', `{"username":"${ctx.username}"}{"username":"root"}`],
  ];
  for (const [note, text] of jsonBodies) {
    const path = rng.pick(POST_ENDPOINTS);
    add('json-body', `${note}, unsigned`, plain('POST', path, null, text, 'application/json'), { codes: [40002, 40101] });
    add('json-body', `${note}, garbage signature`, plain('POST', path, `Basic ${b64(`${ctx.ikey}:${fakeSig(128)}`)}`, text, 'application/json'), { codes: [40002, 40103] });
    add('json-body', `${note}, valid v5 signature`, signedReq({ method: 'POST', path, json: text, version: 5 }), { codes: [40002] });
    add('json-body', `${note}, valid v5 signature, x-duo-date`, signedReq({ method: 'POST', path: rng.pick(POST_ENDPOINTS), json: text, version: 5, dateHeader: 'x-duo-date' }), { codes: [40002] });
  }

  // -------- repeated parameters on validly signed requests → 40002
  const rep = (note: string, spec: SignedSpec): void => add('repeated-params', note, signedReq(spec), { codes: [40002] });
  rep('preauth username twice, same value', { method: 'POST', path: '/auth/v2/preauth', form: [['username', ctx.username], ['username', ctx.username]] });
  rep('preauth username twice, different values', { method: 'POST', path: '/auth/v2/preauth', form: [['username', ctx.username], ['username', 'root']] });
  rep('preauth username in query and body', { method: 'POST', path: '/auth/v2/preauth', query: [['username', 'root']], form: [['username', ctx.username]] });
  rep('preauth user_id twice', { method: 'POST', path: '/auth/v2/preauth', form: [['user_id', 'DUAAAAAAAAAAAAAAAAAA'], ['user_id', 'DUBBBBBBBBBBBBBBBBBB']] });
  rep('auth factor twice', { method: 'POST', path: '/auth/v2/auth', form: [['username', 'mallory'], ['factor', 'passcode'], ['factor', 'push'], ['passcode', '1']] });
  rep('auth passcode twice', { method: 'POST', path: '/auth/v2/auth', form: [['username', 'mallory'], ['factor', 'passcode'], ['passcode', '111111'], ['passcode', '222222']] });
  rep('auth async twice', { method: 'POST', path: '/auth/v2/auth', form: [['username', 'mallory'], ['factor', 'passcode'], ['passcode', '1'], ['async', '1'], ['async', '0']] });
  rep('auth_status txid twice', { method: 'GET', path: '/auth/v2/auth_status', query: [['txid', 'a'], ['txid', 'b']] });
  rep('auth_status txid twice, same value', { method: 'GET', path: '/auth/v2/auth_status', query: [['txid', 'a'], ['txid', 'a']] });
  rep('preauth v5 JSON array value', { method: 'POST', path: '/auth/v2/preauth', json: `{"username":["${ctx.username}","root"]}`, version: 5 });
  rep('auth v5 JSON factor array', { method: 'POST', path: '/auth/v2/auth', json: '{"username":"mallory","factor":["passcode","push"],"passcode":"1"}', version: 5 });
  rep('preauth v5 JSON plus query username', { method: 'POST', path: '/auth/v2/preauth', query: [['username', 'root']], json: `{"username":"${ctx.username}"}`, version: 5 });
  rep('preauth username 50 times', { method: 'POST', path: '/auth/v2/preauth', form: Array.from({ length: 50 }, () => ['username', ctx.username] as [string, string]) });

  // -------- missing or invalid required parameters on validly signed requests → 40002
  const missing: Array<[string, string, Pairs]> = [
    ['auth without factor', '/auth/v2/auth', [['username', ctx.username]]],
    ['auth without user', '/auth/v2/auth', [['factor', 'passcode'], ['passcode', '123456']]],
    ['auth with an unknown factor', '/auth/v2/auth', [['username', ctx.username], ['factor', 'telepathy']]],
    ['auth with an empty factor', '/auth/v2/auth', [['username', ctx.username], ['factor', '']]],
    ['auth with factor in upper case', '/auth/v2/auth', [['username', ctx.username], ['factor', 'PASSCODE'], ['passcode', '1']]],
    ['auth with both username and user_id', '/auth/v2/auth', [['username', ctx.username], ['user_id', 'DUAAAAAAAAAAAAAAAAAA'], ['factor', 'passcode'], ['passcode', '1']]],
    ['auth with async=2', '/auth/v2/auth', [['username', ctx.username], ['factor', 'passcode'], ['passcode', '1'], ['async', '2']]],
    ['auth with async=yes', '/auth/v2/auth', [['username', ctx.username], ['factor', 'passcode'], ['passcode', '1'], ['async', 'yes']]],
    ['auth with no parameters', '/auth/v2/auth', []],
    ['preauth with both username and user_id', '/auth/v2/preauth', [['username', ctx.username], ['user_id', 'DUAAAAAAAAAAAAAAAAAA']]],
    ['preauth with neither username nor user_id', '/auth/v2/preauth', [['ipaddr', '192.0.2.1']]],
    ['preauth with no parameters', '/auth/v2/preauth', []],
    ['preauth with an empty username', '/auth/v2/preauth', [['username', '']]],
    ['preauth text_prompt=2', '/auth/v2/preauth', [['username', ctx.username], ['text_prompt', '2']]],
    ['auth_status without txid', '/auth/v2/auth_status', []],
    ['auth_status with an empty txid', '/auth/v2/auth_status', [['txid', '']]],
    ['auth_status with an unknown txid', '/auth/v2/auth_status', [['txid', 'f00dcafe-0000-4000-8000-000000000001']]],
    ['auth_status with a traversal txid', '/auth/v2/auth_status', [['txid', '../../../etc/passwd']]],
    ['auth_status with a SQL txid', '/auth/v2/auth_status', [['txid', "' OR '1'='1"]]],
    ['auth_status with a wildcard txid', '/auth/v2/auth_status', [['txid', '%']]],
  ];
  for (const [note, path, params] of missing) {
    const method = METHOD_OF[path]!;
    const base: SignedSpec = method === 'GET' ? { method, path, query: params } : { method, path, form: params };
    add('missing-params', `${note} (v2 sha512)`, signedReq(base), { codes: [40002] });
    add('missing-params', `${note} (v2 sha1, x-duo-date)`, signedReq({ ...base, digest: 'sha1', dateHeader: 'x-duo-date' }), { codes: [40002] });
    if (method === 'POST') add('missing-params', `${note} (v5 JSON)`, signedReq({ method, path, json: JSON.stringify(Object.fromEntries(params)), version: 5 }), { codes: [40002] });
    else add('missing-params', `${note} (v5)`, signedReq({ ...base, version: 5 }), { codes: [40002] });
  }

  // -------- overlong values on validly signed requests → 40002
  const long = (n: number): string => rng.chars(n, 'abcdefghijklmnopqrstuvwxyz');
  const overlong: Array<[string, string, Pairs]> = [
    ['preauth username 10 KB', '/auth/v2/preauth', [['username', long(10_240)]]],
    ['preauth user_id 10 KB', '/auth/v2/preauth', [['user_id', long(10_240)]]],
    ['preauth username 256 chars', '/auth/v2/preauth', [['username', long(256)]]],
    ['preauth hostname 5 KB', '/auth/v2/preauth', [['username', ctx.username], ['hostname', long(5000)]]],
    ['preauth ipaddr 1 KB', '/auth/v2/preauth', [['username', ctx.username], ['ipaddr', '1.'.repeat(512)]]],
    ['auth username 10 KB', '/auth/v2/auth', [['username', long(10_240)], ['factor', 'passcode'], ['passcode', '1']]],
    ['auth passcode 1 KB', '/auth/v2/auth', [['username', 'mallory'], ['factor', 'passcode'], ['passcode', '1'.repeat(1024)]]],
    ['auth pushinfo 30 KB', '/auth/v2/auth', [['username', 'mallory'], ['factor', 'passcode'], ['passcode', '1'], ['pushinfo', long(30_000)]]],
    ['auth device 300 chars', '/auth/v2/auth', [['username', 'mallory'], ['factor', 'passcode'], ['passcode', '1'], ['device', long(300)]]],
    ['auth factor 100 chars', '/auth/v2/auth', [['username', 'mallory'], ['factor', long(100)]]],
    ['auth type 5 KB', '/auth/v2/auth', [['username', 'mallory'], ['factor', 'passcode'], ['passcode', '1'], ['type', long(5000)]]],
    ['auth_status txid 8 KB', '/auth/v2/auth_status', [['txid', long(8000)]]],
    ['auth_status txid 65 chars', '/auth/v2/auth_status', [['txid', long(65)]]],
  ];
  for (const [note, path, params] of overlong) {
    const method = METHOD_OF[path]!;
    add('overlong-values', `${note} (v2)`, signedReq(method === 'GET' ? { method, path, query: params } : { method, path, form: params }), { codes: [40002] });
    if (method === 'POST') add('overlong-values', `${note} (v5)`, signedReq({ method, path, json: JSON.stringify(Object.fromEntries(params)), version: 5 }), { codes: [40002] });
  }
  // An overlong parameter *name* the endpoint does not read: ignored or refused, never a crash.
  add('overlong-values', 'preauth with an unknown 10 KB parameter name', signedReq({ method: 'POST', path: '/auth/v2/preauth', form: [['username', ctx.username], [long(10_240), '1']] }), { codes: [40002], ok: 'any' });
  add('overlong-values', 'preauth with 999 unknown parameters', signedReq({ method: 'POST', path: '/auth/v2/preauth', form: [['username', ctx.username], ...Array.from({ length: 998 }, (_, i) => [`p${i}`, 'x'] as [string, string])] }), { codes: [40002], ok: 'any' });
  add('overlong-values', 'preauth with 1001 parameters', signedReq({ method: 'POST', path: '/auth/v2/preauth', form: [['username', ctx.username], ...Array.from({ length: 1000 }, (_, i) => [`p${i}`, 'x'] as [string, string])] }), { codes: [40002] });
  add('overlong-values', '20000 empty segments', plain('POST', '/auth/v2/preauth', null, '&'.repeat(20_000) + 'username=alice'), { codes: [40002, 40101] });
  add('overlong-values', '5000 pairs, unsigned', plain('POST', '/auth/v2/preauth', null, Array.from({ length: 5000 }, (_, i) => `k${i}=v`).join('&')), { codes: [40002, 40101] });

  // -------- control characters and NULs in names, validly signed → clean envelope, no access
  const nasty: string[] = [
    '\0',
    `${ctx.username}\0`,
    `\0${ctx.username}`,
    `${ctx.username.slice(0, 2)}\0${ctx.username.slice(2)}`,
    `${ctx.username}\r\n`,
    `${ctx.username}\nX-Injected: 1`,
    `${ctx.username}\r\nSet-Cookie: a=b`,
    '\u001b[2J\u001b[31mroot',
    `${ctx.username}\u007f`,
    `${ctx.username}\u0085`,
    `${ctx.username}\u2028`,
    `\u202e${[...ctx.username].reverse().join('')}`,
    ` ${ctx.username}`,
    `${ctx.username} `,
    `${ctx.username}\t`,
    `${ctx.username}%00`,
    `../../${ctx.username}`,
    `${ctx.username}' OR '1'='1`,
    `${ctx.username}"; DROP TABLE users; --`,
    '\ud800',
    '\udfff\ud800',
    '\ufeffalice',
    '\u200balice',
    '{"$gt":""}',
    '*',
    '%',
    '_',
    '${jndi:ldap://x/a}',
    '<script>alert(1)</script>',
    // SQL LIKE wildcards that would match the real user if a lookup used LIKE.
    '_'.repeat(ctx.username.length),
    `${ctx.username[0]}%`,
    `${ctx.username.slice(0, -1)}_`,
  ];
  for (let i = 0; i < 8; i++) nasty.push(Array.from({ length: 1 + rng.int(12) }, () => String.fromCharCode(rng.int(0x20))).join('') + rng.chars(3, 'abc'));
  for (const name of nasty) {
    const j = JSON.stringify(name);
    add('control-chars', `preauth username ${j} (v2)`, signedReq({ method: 'POST', path: '/auth/v2/preauth', form: [['username', name]] }), { codes: [40002], ok: 'no-access' });
    add('control-chars', `preauth user_id ${j} (v5)`, signedReq({ method: 'POST', path: '/auth/v2/preauth', json: JSON.stringify({ user_id: name }), version: 5 }), { codes: [40002], ok: 'no-access' });
    add('control-chars', `auth username ${j}, wrong passcode`, signedReq({ method: 'POST', path: '/auth/v2/auth', form: [['username', name], ['factor', 'passcode'], ['passcode', '000000']] }), { codes: [40002], ok: 'no-access' });
  }
  add('control-chars', 'NUL in a parameter name', signedReq({ method: 'POST', path: '/auth/v2/preauth', form: [['username', 'mallory'], ['user\0name', ctx.username]] }), { codes: [40002], ok: 'no-access' });
  add('control-chars', 'NUL in hostname and ipaddr', signedReq({ method: 'POST', path: '/auth/v2/preauth', form: [['username', 'mallory'], ['hostname', 'h\0st'], ['ipaddr', '1.2.3.4\0']] }), { codes: [40002], ok: 'no-access' });
  add('control-chars', 'NUL in a txid', signedReq({ method: 'GET', path: '/auth/v2/auth_status', query: [['txid', 'a\0b']] }), { codes: [40002] });

  // -------- unknown paths → 40401 (whatever the credentials)
  const unknownPaths = [
    '/',
    '/auth',
    '/auth/v2',
    '/auth/v2/',
    '/auth/v1/ping',
    '/auth/v3/ping',
    '/auth/v2/pingx',
    '/auth/v2/preauth2',
    '/AUTH/V2/PING',
    '/Auth/v2/check',
    '/auth/v2/ping/extra',
    '/admin/v1/users',
    '/admin/v1/integrations',
    '/frame/web/v1/auth',
    '/favicon.ico',
    '/.env',
    '/.git/config',
    '/server-status',
    '/cgi-bin/test.cgi',
    '/auth/v2/check.json',
    '/auth/v2/check;jsessionid=1',
    '/auth/v2/%00',
    '/auth/v2/check%00',
    '/' + 'a'.repeat(8000),
    '/auth/v2/' + 'x/'.repeat(2000),
    '/wp-login.php?x=' + '%41'.repeat(100),
  ];
  for (const path of unknownPaths) {
    const method = rng.pick(['GET', 'POST', 'PUT', 'DELETE']);
    add('unknown-path', `${method}, unsigned`, plain(method, path, null, method === 'POST' ? 'username=alice' : undefined), { codes: [40401] });
    add('unknown-path', `GET, validly signed over the path`, signedReq({ method: 'GET', path }), { codes: [40401] });
  }
  for (const path of ['/auth/v2/%zz', '/%', '/auth/v2/check%', '/auth/%E0%A4%A']) {
    add('unknown-path', 'malformed escape in the path', plain('GET', path, null), { codes: [40002, 40401] });
  }
  add('unknown-path', 'asterisk-form target', plain('OPTIONS', '*', null), { codes: [40002, 40401] });

  // -------- path traversal → 40401, even when validly signed over the raw path
  const traversal = [
    '/auth/v2/../v2/check',
    '/auth/v2/../v2/preauth',
    '/auth/v2/%2e%2e/v2/check',
    '/auth/v2/%2E%2E/v2/ping',
    '/auth/v2/%2e%2e%2fv2%2fcheck',
    '/auth/v2/..%2fv2/check',
    '/auth/v2/./check',
    '/auth/v2/%2e/check',
    '/./auth/v2/check',
    '/../auth/v2/check',
    '/auth//v2/check',
    '//auth/v2/check',
    '/auth/v2/check/..',
    '/auth/v2/check/.',
    '/auth/v2/..;/check',
    '/auth/v2/..\\check',
    '/auth/v2/%5c..%5ccheck',
    '/auth/v3/../v2/check',
    '/admin/../auth/v2/check',
  ];
  for (const path of traversal) {
    const method = path.includes('preauth') ? 'POST' : 'GET';
    add('path-traversal', 'unsigned', plain(method, path, null, method === 'POST' ? 'username=alice' : undefined), { codes: [40401] });
    add('path-traversal', 'validly signed over the raw path', signedReq(method === 'POST' ? { method, path, form: [['username', ctx.username]] } : { method, path }), { codes: [40401] });
  }
  // Percent-encoded unreserved letters: the router may decode them to a real endpoint; then the
  // signature covers the raw path, so only a client that signed that raw path gets in.
  for (const path of ['/auth/v2/%63heck', '/auth/v2/che%63k', '/auth/%762/check']) {
    add('path-traversal', 'encoded letters, unsigned', plain('GET', path, null), { codes: [40101, 40401] });
    add('path-traversal', 'encoded letters, signed over the decoded path', signedReq({ method: 'GET', path, signPath: '/auth/v2/check' }), { codes: [40103, 40401] });
    add('path-traversal', 'encoded letters, signed over the raw path', signedReq({ method: 'GET', path }), { codes: [40401], ok: 'any' });
  }

  // -------- wrong methods on known paths → 40501
  for (const path of ALL_ENDPOINTS) {
    const right = METHOD_OF[path]!;
    const wrong = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', right === 'GET' ? 'POST' : 'GET'];
    for (const method of wrong) {
      const withBody = method !== 'GET' && method !== 'TRACE' && method !== 'DELETE';
      add('wrong-method', `${method}, unsigned`, plain(method, path, null, withBody ? 'username=alice' : undefined), { codes: [40501] });
      add('wrong-method', `${method}, validly signed for that method`, signedReq({ method, path, ...(withBody ? { form: [['username', ctx.username]] } : {}) }), { codes: [40501] });
    }
    add('wrong-method', 'SEARCH', plain('SEARCH', path, null), { codes: [40501] });
    add('wrong-method', 'wrong method with a query string', plain(right === 'GET' ? 'POST' : 'GET', `${path}?username=alice`, null), { codes: [40501] });
    add('wrong-method', 'OPTIONS CORS preflight', plain('OPTIONS', path, null, undefined, null, { origin: 'https://evil.example', 'access-control-request-method': right }), { codes: [40501] });
  }

  // -------- Duo's enroll endpoints (signed POSTs, test/http/devices.test.ts covers them in depth)
  for (const path of ['/auth/v2/enroll', '/auth/v2/enroll_status']) {
    add('auth-missing', `${path} unsigned`, plain('POST', path, null, 'username=alice'), { codes: [40101] });
    for (const method of ['GET', 'PUT', 'DELETE']) add('wrong-method', `${method} ${path}`, plain(method, path, null), { codes: [40501] });
  }

  // -------- HEAD: no body; status only
  add('head', 'HEAD ping', plain('HEAD', '/auth/v2/ping', null), { codes: [], headStatus: [200, 405] });
  for (const path of GET_ENDPOINTS) add('head', `HEAD ${path} unsigned`, plain('HEAD', path, null), { codes: [], headStatus: [403, 405] });
  for (const path of POST_ENDPOINTS) add('head', `HEAD ${path}`, plain('HEAD', path, null), { codes: [], headStatus: [405] });
  add('head', 'HEAD unknown path', plain('HEAD', '/nope', null), { codes: [], headStatus: [404] });

  // -------- content types
  const oddTypes = [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=xyz',
    'application/x-www-form-urlencoded; charset=ISO-8859-1',
    'application/x-www-form-urlencoded; charset=utf-16',
    'application/octet-stream',
    'image/png',
    'application/jsonx',
    'text/json',
    'application/x-www-form-urlencoded, application/json',
    'x'.repeat(5000),
    ';;;',
    '*/*',
  ];
  for (const ct of oddTypes) {
    const path = rng.pick(POST_ENDPOINTS);
    const params = path === '/auth/v2/preauth' ? ([['username', 'mallory']] as Pairs) : goodParams(path);
    add('content-type', `${ct.slice(0, 50)}, form body, validly signed v2`, signedReq({ method: 'POST', path, form: params, contentType: ct }), { codes: [40002], ok: 'no-access' });
    add('content-type', `${ct.slice(0, 50)}, form body, unsigned`, plain('POST', path, null, formText(params), ct), { codes: [40002, 40101] });
  }
  for (const ct of ['application/json', 'APPLICATION/JSON', 'application/json; charset=utf-8', ' application/json ']) {
    const path = rng.pick(POST_ENDPOINTS);
    // A form body labelled JSON is not JSON, whatever signs it.
    add('content-type', `${ct} with a form body, v2 signed`, signedReq({ method: 'POST', path, form: [['username', 'mallory']], contentType: ct }), { codes: [40002] });
    add('content-type', `${ct} with a form body, unsigned`, plain('POST', path, null, 'username=mallory', ct), { codes: [40002, 40101] });
  }
  for (const path of POST_ENDPOINTS) {
    add('content-type', 'no Content-Type, form body, validly signed', signedReq({ method: 'POST', path, form: [['username', 'mallory'], ['factor', 'passcode'], ['passcode', '1']], contentType: null }), { codes: [40002], ok: 'no-access' });
    add('content-type', 'no Content-Type, form body, unsigned', plain('POST', path, null, 'username=mallory', null), { codes: [40002, 40101] });
    add('content-type', 'multipart body, unsigned', plain('POST', path, null, '--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\nalice\r\n--xyz--\r\n', 'multipart/form-data; boundary=xyz'), { codes: [40002, 40101] });
    add('content-type', 'JSON body labelled form, unsigned', plain('POST', path, null, '{"username":"alice"}', 'application/x-www-form-urlencoded'), { codes: [40002, 40101] });
    add('content-type', 'random binary body, octet-stream, unsigned', plain('POST', path, null, rng.bytes(2000), 'application/octet-stream'), { codes: [40002, 40101] });
  }

  // -------- single mutations of valid requests (fuzz), each with an exact expected code
  const bases: Array<() => SignedSpec> = [
    () => validSpec('/auth/v2/check'),
    () => validSpec('/auth/v2/logo'),
    () => validSpec('/auth/v2/auth_status'),
    () => validSpec('/auth/v2/preauth'),
    () => validSpec('/auth/v2/auth'),
    () => ({ method: 'POST', path: '/auth/v2/preauth', json: JSON.stringify({ username: ctx.username }), version: 5 }),
    () => ({ method: 'POST', path: '/auth/v2/auth', json: JSON.stringify({ username: 'mallory', factor: 'passcode', passcode: '123456' }), version: 5, dateHeader: 'x-duo-date' }),
    () => ({ ...validSpec('/auth/v2/check'), digest: 'sha1' }),
  ];
  const flipHex = (hex: string): string => {
    const i = rng.int(hex.length);
    const cur = hex[i]!.toLowerCase();
    const choices = HEX.split('').filter((c) => c !== cur);
    return hex.slice(0, i) + rng.pick(choices) + hex.slice(i + 1);
  };
  const mutations = ['flip-signature', 'flip-ikey', 'change-param', 'add-param', 'drop-param', 'date-changed', 'host', 'path-case', 'method'] as const;
  for (let i = 0; i < 90; i++) {
    const spec = rng.pick(bases)();
    const m = rng.pick(mutations);
    const note = `${m} on ${spec.method} ${spec.path}${spec.version === 5 ? ' v5' : ''}${spec.digest === 'sha1' ? ' sha1' : ''}`;
    switch (m) {
      case 'flip-signature':
        add('mutation', note, signedReq({ ...spec, mutateSignature: flipHex }), { codes: [40103] });
        break;
      case 'flip-ikey': {
        const k = rng.int(ctx.ikey.length);
        const ikey = ctx.ikey.slice(0, k) + rng.pick(UPPER_ALNUM.replace(ctx.ikey[k]!.toUpperCase(), '').split('')) + ctx.ikey.slice(k + 1);
        add('mutation', note, signedReq({ ...spec, ikey }), { codes: [40102] });
        break;
      }
      case 'change-param': {
        // The request carries other params than the ones signed.
        const signed: Pairs = spec.json !== undefined ? (spec.query ?? []) : [...(spec.query ?? []), ...(spec.form ?? [])];
        if (spec.json !== undefined) {
          const json = spec.json.replace(/"([a-z])/, (_m0, c: string) => `"${c === 'z' ? 'y' : String.fromCharCode(c.charCodeAt(0) + 1)}`);
          add('mutation', note, signedReq({ ...spec, json, signBody: spec.json }), { codes: [40103] });
        } else if (spec.method === 'GET' && (spec.query ?? []).length > 0) {
          const query: Pairs = spec.query!.map(([k, v]) => [k, v.slice(0, -1) + (v.endsWith('1') ? '2' : '1')]);
          add('mutation', note, signedReq({ ...spec, query, signParams: signed }), { codes: [40103] });
        } else if (spec.method === 'POST') {
          const form: Pairs = spec.form!.map(([k, v]) => [k, v + 'x']);
          add('mutation', note, signedReq({ ...spec, form, signParams: signed }), { codes: [40103] });
        } else {
          add('mutation', note, signedReq({ ...spec, query: [['x', '1']], signParams: [] }), { codes: [40103] });
        }
        break;
      }
      case 'add-param':
        add('mutation', note, signedReq({ ...spec, rawQuery: formText([...(spec.query ?? []), ['extra', rng.chars(4, 'xyz')]]) }), { codes: [40103] });
        break;
      case 'drop-param': {
        if (spec.json !== undefined) add('mutation', note, signedReq({ ...spec, signBody: spec.json.replace(/^\{/, '{"d":"1",') }), { codes: [40103] });
        else if (spec.method === 'POST') add('mutation', note, signedReq({ ...spec, form: spec.form!.slice(1), signParams: spec.form! }), { codes: [40103] });
        else add('mutation', note, signedReq({ ...spec, query: [], signParams: [['txid', 'y']] }), { codes: [40103] });
        break;
      }
      case 'date-changed':
        add('mutation', note, signedReq({ ...spec, sendDate: rfc2822(ctx.now - 250_000) }), { codes: [40103] });
        break;
      case 'host':
        add('mutation', note, signedReq({ ...spec, signHost: rng.pick(['api.tandem.test', 'LOCALHOST.', 'localhost.', '127.0.0.1', 'localhost:443']) }), { codes: [40103] });
        break;
      case 'path-case': {
        const path = spec.path.replace(/\/([a-z])([a-z_]*)$/, (_m0, c: string, rest: string) => `/${c.toUpperCase()}${rest}`);
        add('mutation', note, signedReq({ ...spec, path }), { codes: [40401] });
        break;
      }
      case 'method':
        add('mutation', note, signedReq({ ...spec, method: spec.method === 'GET' ? rng.pick(['POST', 'PUT', 'DELETE']) : rng.pick(['GET', 'PUT', 'PATCH']) }), { codes: [40501] });
        break;
    }
  }

  // -------- odd headers
  {
    const v = signedReq(validSpec('/auth/v2/check'));
    const auth = v.headers['authorization'] as string;
    add('odd-headers', 'two Authorization headers, garbage first', { ...v, headers: { ...v.headers, authorization: [`Basic ${b64('x:y')}`, auth] } }, { codes: [40101, 40103] });
    add('odd-headers', 'two Date headers', { ...v, headers: { ...v.headers, date: [v.headers['date'] as string, rfc2822(ctx.now)] } }, { codes: [40103, 40105] });
    const x = signedReq(validSpec('/auth/v2/check', { dateHeader: 'x-duo-date' }));
    add('odd-headers', 'two X-Duo-Date headers', { ...x, headers: { ...x.headers, 'x-duo-date': [x.headers['x-duo-date'] as string, rfc2822(ctx.now)] } }, { codes: [40103, 40105] });
    const dv = signedReq(validSpec('/auth/v2/check'));
    add('odd-headers', 'Date signed, garbage X-Duo-Date wins', { ...dv, headers: { ...dv.headers, 'x-duo-date': 'garbage' } }, { codes: [40103] });
    const v5 = signedReq({ method: 'POST', path: '/auth/v2/preauth', json: JSON.stringify({ username: 'mallory' }), version: 5 });
    add('odd-headers', 'v5 with an extra unsigned x-duo header', { ...v5, headers: { ...v5.headers, 'x-duo-extra': 'injected' } }, { codes: [40103] });
    const v5b = signedReq({ method: 'POST', path: '/auth/v2/preauth', json: JSON.stringify({ username: 'mallory' }), version: 5 });
    add('odd-headers', 'v5 with a repeated x-duo header', { ...v5b, headers: { ...v5b.headers, 'x-duo-a': ['1', '2'] } }, { codes: [40103] });
    for (const expectHdr of ['100-continue', 'bogus-expectation']) {
      add('odd-headers', `Expect: ${expectHdr}, unsigned`, plain('POST', '/auth/v2/preauth', null, 'username=alice', undefined, { expect: expectHdr }), { codes: [40101, 40002], close: false });
    }
    add('odd-headers', 'Upgrade: websocket', plain('GET', '/auth/v2/check', null, undefined, null, { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': b64(rng.bytes(16)), 'sec-websocket-version': '13' }), { codes: [40101, 40002], close: true });
    add('odd-headers', 'Upgrade: h2c', plain('GET', '/auth/v2/ping', null, undefined, null, { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' }), { codes: [40002], ok: 'any', close: true });
    const h = signedReq(validSpec('/auth/v2/check'));
    add('odd-headers', 'Host header of another site, signed for localhost', { ...h, headers: { ...h.headers, host: 'evil.example' } }, { codes: [40103], ok: 'any' });
    add('odd-headers', '4 KB Host header', plain('GET', '/auth/v2/check', null, undefined, null, { host: 'h'.repeat(4096) }), { codes: [40101] });
    add('odd-headers', 'X-Forwarded-For spoof, unsigned', plain('POST', '/auth/v2/auth', null, 'username=alice&factor=passcode&passcode=1', undefined, { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1' }), { codes: [40101] });
    add('odd-headers', 'Content-Encoding: gzip with a plain body, unsigned', plain('POST', '/auth/v2/preauth', null, 'username=alice', undefined, { 'content-encoding': 'gzip' }), { codes: [40002, 40101] });
    add('odd-headers', 'Content-Encoding: gzip bomb-ish bytes, unsigned', plain('POST', '/auth/v2/preauth', null, Buffer.from('1f8b0800000000000003', 'hex'), undefined, { 'content-encoding': 'gzip' }), { codes: [40002, 40101] });
    add('odd-headers', '200 x-duo-* headers on a v2 request, unsigned', plain('GET', '/auth/v2/check', null, undefined, null, Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-duo-h${i}`, 'v']))), { codes: [40101] });
  }

  // -------- header overflow (> Node's 16 KiB header limit): a 400 envelope or a close
  for (const [note, headers] of [
    ['20 KB Authorization', { authorization: `Basic ${'A'.repeat(20_000)}` }],
    ['40 KB cookie', { cookie: 'c='.padEnd(40_000, 'z') }],
    ['600 headers of 40 bytes', Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`x-h${i}`, 'v'.repeat(40)]))],
  ] as Array<[string, Record<string, string>]>) {
    add('header-overflow', note, plain('GET', rng.pick(ALL_ENDPOINTS.filter((p) => METHOD_OF[p] === 'GET')), null, undefined, null, headers), { codes: [40002], close: true });
  }
  add('header-overflow', '17 KB query string', plain('GET', `/auth/v2/check?x=${'q'.repeat(17_000)}`, null), { codes: [40002], close: true });

  // -------- ping ignores everything: always OK
  const pingJunk: Array<[string, Built]> = [
    ['garbage Authorization', plain('GET', '/auth/v2/ping', `Basic ${rng.chars(40, B64)}`)],
    ['unknown ikey', plain('GET', '/auth/v2/ping', `Basic ${b64(`DIXXXXXXXXXXXXXXXXXX:${fakeSig(128)}`)}`)],
    ['bad date', plain('GET', '/auth/v2/ping', null, undefined, null, { date: 'garbage', 'x-duo-date': 'garbage' })],
    ['invalid UTF-8 escape in the query', plain('GET', '/auth/v2/ping?x=%FF%FE', null)],
    ['malformed escape in the query', plain('GET', '/auth/v2/ping?x=%zz', null)],
    ['repeated params', plain('GET', '/auth/v2/ping?a=1&a=2&a=3', null)],
    ['validly signed (duo_unix ≥ 2.2 signs ping)', signedReq({ method: 'GET', path: '/auth/v2/ping' })],
    ['validly signed with a skewed date', signedReq({ method: 'GET', path: '/auth/v2/ping', date: rfc2822(ctx.now - 7_200_000) })],
  ];
  for (const [note, b] of pingJunk) add('ping-junk', note, b, { codes: [], ok: 'any' });

  // Ids, then a seeded shuffle so categories interleave on the wire.
  out.forEach((r, i) => (r.id = i));
  rng.shuffle(out);
  return { requests: out, raw: rawCases(ctx) };
}

// ---------------------------------------------------------------- raw HTTP over TLS

function rawCases(ctx: GenContext): RawCase[] {
  const host = `Host: localhost:${ctx.port}\r\n`;
  const cases: Array<Omit<RawCase, 'id' | 'bytes'> & { text: string | Buffer }> = [
    { note: 'not HTTP at all', text: 'GARBAGE\r\n\r\n', expect: 'reject' },
    // llhttp may take this as HTTP/0.9-style and answer it; either way it must be an envelope.
    { note: 'request line without version', text: 'GET /auth/v2/ping\r\n\r\n', expect: 'any' },
    { note: 'HTTP/9.9', text: `GET /auth/v2/ping HTTP/9.9\r\n${host}\r\n`, expect: 'any' },
    { note: 'header without a colon', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}NoColonHere\r\n\r\n`, expect: 'reject' },
    { note: 'space before the colon', text: `GET /auth/v2/ping HTTP/1.1\r\nHost : localhost\r\n\r\n`, expect: 'reject' },
    { note: 'header name with a space', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}Bad Name: x\r\n\r\n`, expect: 'reject' },
    { note: '100 KB header', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(100_000)}\r\n\r\n`, expect: 'reject' },
    { note: '1500 small headers', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}${Array.from({ length: 1500 }, (_, i) => `x${i}: v\r\n`).join('')}\r\n`, expect: 'any' },
    { note: 'bare LF line endings', text: `GET /auth/v2/ping HTTP/1.1\nHost: localhost\n\n`, expect: 'any' },
    { note: 'NUL in the request target', text: `GET /auth/v2/p\0ing HTTP/1.1\r\n${host}\r\n`, expect: 'reject' },
    { note: 'NUL in a header value', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}X-A: a\0b\r\n\r\n`, expect: 'reject' },
    { note: 'CR in a header value', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}X-A: a\rb\r\n\r\n`, expect: 'reject' },
    { note: 'Content-Length and Transfer-Encoding', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, expect: 'reject' },
    { note: 'two different Content-Lengths', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef`, expect: 'reject' },
    { note: 'negative Content-Length', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`, expect: 'reject' },
    { note: 'non-numeric Content-Length', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Content-Length: abc\r\n\r\n`, expect: 'reject' },
    { note: 'invalid chunk size', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`, expect: 'reject' },
    { note: 'Transfer-Encoding: gzip, chunked', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, expect: 'any' },
    { note: 'Content-Length 100000 with a short body, then EOF', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Content-Length: 100000\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nusername=alice`, expect: 'reject' },
    { note: 'Content-Length 10 with 5 bytes, then EOF', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Content-Length: 10\r\n\r\nabcde`, expect: 'reject' },
    { note: 'chunked body cut off mid-chunk, then EOF', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n10\r\nabc`, expect: 'reject' },
    { note: 'raw 0xFF bytes in the query', text: Buffer.concat([Buffer.from('GET /auth/v2/check?username='), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(` HTTP/1.1\r\n${host}\r\n`)]), expect: 'any' },
    { note: 'space inside the target', text: `GET /auth/v2/ping x HTTP/1.1\r\n${host}\r\n`, expect: 'reject' },
    // Node's bare 400 for a missing Host is turned off (requireHostHeader: false): ping then simply answers.
    { note: 'HTTP/1.1 without Host', text: 'GET /auth/v2/ping HTTP/1.1\r\n\r\n', expect: 'any' },
    { note: 'HTTP/1.0 without Host', text: 'GET /auth/v2/ping HTTP/1.0\r\n\r\n', expect: 'any' },
    { note: 'valid ping, then garbage (pipelined)', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}\r\nGARBAGE /\r\n\r\n`, expect: 'any' },
    { note: 'obs-fold continuation line', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}X-A: b\r\n c\r\n\r\n`, expect: 'any' },
    { note: 'lower-case method', text: `get /auth/v2/ping HTTP/1.1\r\n${host}\r\n`, expect: 'reject' },
    { note: 'unknown method', text: `FOO /auth/v2/ping HTTP/1.1\r\n${host}\r\n`, expect: 'reject' },
    { note: 'HTTP/2 preface over HTTP/1.1 TLS', text: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', expect: 'reject' },
    { note: 'absolute-form target', text: `GET https://localhost:${ctx.port}/auth/v2/ping HTTP/1.1\r\n${host}\r\n`, expect: 'any' },
    { note: 'CONNECT', text: `CONNECT localhost:${ctx.port} HTTP/1.1\r\n${host}\r\n`, expect: 'any' },
    { note: 'only blank lines', text: '\r\n\r\n\r\n', expect: 'reject' },
    { note: 'partial header, then EOF', text: 'GET /auth/v2/ping HTTP/1.1\r\nHo', expect: 'reject' },
    { note: 'Expect: bogus', text: `POST /auth/v2/preauth HTTP/1.1\r\n${host}Expect: 42-pony\r\nContent-Length: 14\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nusername=alice`, expect: 'any' },
    { note: 'Upgrade: websocket, no listener', text: `GET /auth/v2/check HTTP/1.1\r\n${host}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`, expect: 'any' },
    { note: '10 KB request target', text: `GET /auth/v2/${'a'.repeat(10_000)} HTTP/1.1\r\n${host}\r\n`, expect: 'any' },
    { note: 'plain HTTP to the TLS port', text: `GET /auth/v2/ping HTTP/1.1\r\n${host}\r\n`, expect: 'reject', plain: true },
    { note: 'TLS-looking garbage to the TLS port', text: Buffer.from('16030100ffffffff', 'hex'), expect: 'reject', plain: true },
  ];
  return cases.map((c, i) => {
    const { text, ...rest } = c;
    return { id: i, ...rest, bytes: Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1') };
  });
}
