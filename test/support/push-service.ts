// A browser vendor's push service, on loopback, for tests: it issues subscriptions the way a
// browser would (its own P-256 key pair and auth secret), accepts push messages over HTTPS
// (RFC 8030 §5), checks the VAPID header (RFC 8292) and decrypts the body (RFC 8291 / RFC 8188)
// with node:crypto alone — never with web-push or http_ece, so a round trip through it is an
// independent check of what the sender produced, not the library agreeing with itself.
import { createECDH, createHmac, createDecipheriv, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PushSubscriptionJson } from '../../src/channels/web-push.js';
import { createSiteCa, issueServerCert } from '../../src/core/pki.js';

// ---- RFC 8291 §3.4 + RFC 8188 §2: the user agent's side of aes128gcm ------------------------

export interface DecryptInput {
  /** The whole request body: salt(16) || rs(4) || idlen(1) || keyid || records. */
  body: Buffer;
  /** The user agent's P-256 private key (32 bytes) and public point (65 bytes). */
  uaPrivate: Buffer;
  uaPublic: Buffer;
  /** The 16-byte authentication secret. */
  authSecret: Buffer;
}

export interface Decrypted {
  plaintext: Buffer;
  salt: Buffer;
  recordSize: number;
  asPublic: Buffer;
  /** The intermediate values of RFC 8291 Appendix A, for vector tests. */
  ecdhSecret: Buffer;
  prkKey: Buffer;
  ikm: Buffer;
  prk: Buffer;
  cek: Buffer;
  nonce: Buffer;
}

export class DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptError';
  }
}

const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest();
const TAG_BYTES = 16;

/**
 * Decrypts a Web Push message body. Each step is the RFC 8291 §3.4 pseudocode (HKDF written out as
 * the HMAC calls it consists of, RFC 5869 §2.2–2.3 with one output block).
 */
export function decryptAes128gcm({ body, uaPrivate, uaPublic, authSecret }: DecryptInput): Decrypted {
  // RFC 8188 §2.1: the content coding header.
  if (body.length < 21) throw new DecryptError('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idlen = body.readUInt8(20);
  // RFC 8291 §4: keyid is the application server's uncompressed P-256 point, and nothing else.
  if (idlen !== 65) throw new DecryptError(`keyid is ${idlen} bytes, not a 65-byte P-256 point`);
  if (body.length < 21 + idlen) throw new DecryptError('body shorter than its keyid');
  const asPublic = body.subarray(21, 21 + idlen);
  if (asPublic[0] !== 0x04) throw new DecryptError('keyid is not an uncompressed point');
  // RFC 8188 §2: rs counts ciphertext plus tag and must leave room for the delimiter octet.
  if (recordSize < TAG_BYTES + 2) throw new DecryptError(`record size ${recordSize} is too small`);
  const ciphertext = body.subarray(21 + idlen);
  // RFC 8291 §4: an application server MUST use a single record.
  if (ciphertext.length > recordSize) throw new DecryptError('more than one record');
  if (ciphertext.length < TAG_BYTES + 1) throw new DecryptError('record shorter than its tag');

  let ecdhSecret: Buffer;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(uaPrivate);
    ecdhSecret = ecdh.computeSecret(asPublic);
  } catch {
    throw new DecryptError('keyid is not a point on P-256');
  }
  // RFC 8291 §3.3-3.4: combine the ECDH secret with the auth secret.
  //   PRK_key = HMAC-SHA-256(auth_secret, ecdh_secret)
  //   key_info = "WebPush: info" || 0x00 || ua_public || as_public
  //   IKM = HMAC-SHA-256(PRK_key, key_info || 0x01)
  const prkKey = hmac(authSecret, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'latin1'), uaPublic, asPublic]);
  const ikm = hmac(prkKey, Buffer.concat([keyInfo, Buffer.from([1])]));
  // RFC 8188 §2.2-2.3, with IKM in place of the shared key:
  //   PRK = HMAC-SHA-256(salt, IKM)
  //   CEK = HMAC-SHA-256(PRK, "Content-Encoding: aes128gcm" || 0x00 || 0x01)[0..15]
  //   NONCE = HMAC-SHA-256(PRK, "Content-Encoding: nonce" || 0x00 || 0x01)[0..11]
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'latin1')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'latin1')).subarray(0, 12);

  // RFC 8188 §2.3: record i uses NONCE XOR i (96-bit big-endian); here i = 0, so NONCE itself.
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
  let padded: Buffer;
  try {
    padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DecryptError('authentication tag does not verify');
  }
  // RFC 8188 §2: plaintext || delimiter || 0x00*; the last (here: only) record's delimiter is 0x02.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x02) throw new DecryptError('missing last-record padding delimiter');
  return { plaintext: padded.subarray(0, end), salt, recordSize, asPublic, ecdhSecret, prkKey, ikm, prk, cek, nonce };
}

// ---- RFC 8292: the VAPID Authorization header ----------------------------------------------

export interface VapidClaims {
  aud: string;
  exp: number;
  sub: string;
}

export class VapidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VapidError';
  }
}

function b64json(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw new VapidError(`JWT ${what} is not base64url`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new VapidError(`JWT ${what} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new VapidError(`JWT ${what} is not an object`);
  return v as Record<string, unknown>;
}

function p256Key(point: Buffer): KeyObject {
  if (point.length !== 65 || point[0] !== 0x04) throw new VapidError('k is not an uncompressed P-256 point');
  try {
    const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new VapidError('k is not a point on P-256');
  }
}

/**
 * Checks `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292 §3) for a request to `audience`
 * (the push resource's origin). Returns the application server key (base64url) and the claims.
 */
export function verifyVapid(header: string | undefined, audience: string, nowMs: number): { publicKey: string; claims: VapidClaims } {
  if (!header) throw new VapidError('no Authorization header');
  const m = /^vapid\s+(.+)$/i.exec(header);
  if (!m?.[1]) throw new VapidError('Authorization scheme is not vapid');
  const params = new Map<string, string>();
  for (const item of m[1].split(',')) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim().toLowerCase();
    if (eq < 1 || params.has(name)) throw new VapidError('malformed or repeated vapid parameter');
    params.set(name, item.slice(eq + 1).trim());
  }
  const t = params.get('t');
  const k = params.get('k');
  if (!t || !k) throw new VapidError('vapid t= and k= are both required');
  // RFC 8292 §3.2: k is the base64url uncompressed point, the same key the subscription named.
  if (!/^[A-Za-z0-9_-]+$/.test(k)) throw new VapidError('k is not base64url');
  const key = p256Key(Buffer.from(k, 'base64url'));

  const parts = t.split('.');
  if (parts.length !== 3) throw new VapidError('t is not a JWS compact serialization');
  const [h = '', p = '', s = ''] = parts;
  const head = b64json(h, 'header');
  // RFC 8292 §2: ES256 (RFC 7518 §3.4), the only algorithm a push service must accept.
  if (head.alg !== 'ES256') throw new VapidError('JWT alg is not ES256');
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new VapidError('JWT signature is not base64url');
  const sig = Buffer.from(s, 'base64url');
  // RFC 7518 §3.4: the signature is R || S, 32 octets each, not DER.
  if (sig.length !== 64) throw new VapidError('ES256 signature is not 64 bytes');
  const ok = verify('sha256', Buffer.from(`${h}.${p}`, 'ascii'), { key, dsaEncoding: 'ieee-p1363' }, sig);
  if (!ok) throw new VapidError('JWT signature does not verify with k');

  const claims = b64json(p, 'claims');
  // RFC 8292 §2: aud is the origin of the push resource.
  if (claims.aud !== audience) throw new VapidError(`aud ${JSON.stringify(claims.aud)} is not ${audience}`);
  // RFC 8292 §2: exp MUST be present and no more than 24 hours after the request.
  const exp = claims.exp;
  if (typeof exp !== 'number' || !Number.isInteger(exp)) throw new VapidError('exp is missing or not an integer');
  const now = Math.floor(nowMs / 1000);
  if (exp <= now) throw new VapidError('JWT has expired');
  if (exp > now + 24 * 3600) throw new VapidError('exp is more than 24 hours ahead');
  // RFC 8292 §2.1: sub, a contact (mailto: or https:), SHOULD be present; browsers' services require it.
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new VapidError('sub is missing or not mailto:/https:');
  return { publicKey: k, claims: { aud: claims.aud, exp, sub: claims.sub } };
}

// ---- the service ---------------------------------------------------------------------------

export type SubscriptionMode = 'accept' | 'gone' | 'hang';

export interface TestSubscription {
  id: string;
  subscription: PushSubscriptionJson;
  uaPrivate: Buffer;
  uaPublic: Buffer;
  authSecret: Buffer;
}

export interface PushMessage {
  id: string;
  payload: unknown;
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  headers: IncomingHttpHeaders;
  vapid: { publicKey: string; claims: VapidClaims };
}

export interface PushRejection {
  id: string | undefined;
  status: number;
  reason: string;
}

interface Entry extends TestSubscription {
  mode: SubscriptionMode;
  /** RFC 8292 §3.2: a subscription restricted to one application server key. */
  applicationServerKey: string | undefined;
}

/** RFC 8030 §7.2: a push service must accept at least 4096 octets; this one accepts no more. */
const MAX_BODY = 4096;
const MAX_WAIT_MS = 30_000;

export class PushService {
  #server: Server | undefined;
  #origin = '';
  #caPem = '';
  readonly #subs = new Map<string, Entry>();
  readonly #messages: PushMessage[] = [];
  readonly #rejections: PushRejection[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #now: () => number;

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  /** The CA that signed the service's certificate; give it to the sender to trust. */
  get caPem(): string {
    return this.#caPem;
  }

  /** `https://127.0.0.1:<port>`: what a VAPID `aud` must say. */
  get origin(): string {
    return this.#origin;
  }

  async start(): Promise<void> {
    if (this.#server) throw new Error('push service already started');
    const now = new Date(this.#now());
    const serial = (): string => '1' + randomBytes(8).toString('hex');
    const ca = await createSiteCa({ now, serialHex: serial(), commonName: 'Tandem test push service CA' });
    const leaf = await issueServerCert({ ca, hosts: ['127.0.0.1'], now, serialHex: serial(), days: 2 });
    this.#caPem = ca.certPem;
    const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => this.#handle(req, res));
    // Bounded even if a test forgets to answer: nothing lingers past stop() or a minute.
    server.requestTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A subscription as a browser's PushManager.subscribe() would create it. */
  newSubscription(opts: { mode?: SubscriptionMode; applicationServerKey?: string } = {}): TestSubscription {
    if (!this.#origin) throw new Error('start the push service first');
    const ecdh = createECDH('prime256v1');
    const uaPublic = ecdh.generateKeys();
    const uaPrivate = ecdh.getPrivateKey();
    const authSecret = randomBytes(16);
    const id = randomBytes(16).toString('base64url');
    const subscription: PushSubscriptionJson = {
      endpoint: `${this.#origin}/push/${id}`,
      keys: { p256dh: uaPublic.toString('base64url'), auth: authSecret.toString('base64url') },
    };
    const entry: Entry = { id, subscription, uaPrivate, uaPublic, authSecret, mode: opts.mode ?? 'accept', applicationServerKey: opts.applicationServerKey };
    this.#subs.set(id, entry);
    return { id, subscription, uaPrivate, uaPublic, authSecret };
  }

  /** `gone`: answer 410 (unsubscribed); `hang`: read the request and never answer. */
  setMode(id: string, mode: SubscriptionMode): void {
    const e = this.#subs.get(id);
    if (!e) throw new Error(`no subscription ${id}`);
    e.mode = mode;
  }

  messages(): PushMessage[] {
    return [...this.#messages];
  }

  rejections(): PushRejection[] {
    return [...this.#rejections];
  }

  /** The first recorded message matching `predicate`, waiting at most `timeoutMs` for one. */
  waitForMessage(predicate: (m: PushMessage) => boolean, timeoutMs: number): Promise<PushMessage> {
    const wait = Math.min(Math.max(0, timeoutMs), MAX_WAIT_MS);
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.#messages.find(predicate);
        if (m) resolve(m);
        return m !== undefined;
      };
      if (check()) return;
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no matching push message within ${wait} ms`));
      }, wait);
      this.#waiters.add(waiter);
    });
  }

  #reject(res: ServerResponse, id: string | undefined, status: number, reason: string): void {
    this.#rejections.push({ id, status, reason });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/push\/([A-Za-z0-9_-]{1,64})$/.exec(req.url ?? '');
    const entry = m?.[1] ? this.#subs.get(m[1]) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (req.method !== 'POST') return this.#reject(res, entry?.id, 405, 'method not allowed');
      if (!entry) return this.#reject(res, undefined, 404, 'no such subscription');
      if (entry.mode === 'hang') return; // Never answered; stop() closes the connection.
      if (entry.mode === 'gone') return this.#reject(res, entry.id, 410, 'subscription gone');
      if (tooBig) return this.#reject(res, entry.id, 413, 'payload too large');
      this.#accept(entry, req, Buffer.concat(chunks), res);
    });
  }

  #accept(entry: Entry, req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    let vapid: { publicKey: string; claims: VapidClaims };
    try {
      vapid = verifyVapid(req.headers.authorization, this.#origin, this.#now());
    } catch (e) {
      return this.#reject(res, entry.id, 401, `vapid: ${(e as Error).message}`);
    }
    if (entry.applicationServerKey !== undefined && vapid.publicKey !== entry.applicationServerKey) {
      return this.#reject(res, entry.id, 403, 'vapid: key does not match the subscription');
    }
    // RFC 8030 §5.2: TTL is required; RFC 8291 §4: the body is aes128gcm.
    const ttlText = req.headers.ttl;
    if (typeof ttlText !== 'string' || !/^\d{1,10}$/.test(ttlText)) return this.#reject(res, entry.id, 400, 'missing or invalid TTL');
    if (req.headers['content-encoding'] !== 'aes128gcm') return this.#reject(res, entry.id, 415, 'Content-Encoding is not aes128gcm');
    const urgency = req.headers.urgency as string | undefined;
    if (urgency !== undefined && !['very-low', 'low', 'normal', 'high'].includes(urgency)) return this.#reject(res, entry.id, 400, 'invalid Urgency');
    const topic = req.headers.topic as string | undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return this.#reject(res, entry.id, 400, 'invalid Topic');
    let payload: unknown;
    try {
      const { plaintext } = decryptAes128gcm({ body, uaPrivate: entry.uaPrivate, uaPublic: entry.uaPublic, authSecret: entry.authSecret });
      payload = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
    } catch (e) {
      const reason = e instanceof DecryptError ? `decrypt: ${e.message}` : 'payload is not UTF-8 JSON';
      return this.#reject(res, entry.id, 400, reason);
    }
    this.#messages.push({ id: entry.id, payload, ttl: Number(ttlText), urgency, topic, headers: { ...req.headers }, vapid });
    for (const w of [...this.#waiters]) w();
    // RFC 8030 §5: 201 Created with the push message resource.
    res.writeHead(201, { location: `${this.#origin}/message/${randomBytes(8).toString('hex')}` }).end();
  }
}
