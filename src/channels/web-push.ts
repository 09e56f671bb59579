// Web Push delivery to the Tandem Authenticator: one POST per message to the push service that
// issued the browser's subscription (RFC 8030 §5), authenticated with VAPID (RFC 8292) and
// encrypted to the browser's keys (RFC 8291, `aes128gcm` content coding of RFC 8188).
//
// `web-push` does the cryptography (the VAPID JWT and the RFC 8291 encryption, through its
// `generateRequestDetails`); the request itself is made here with node:https so that the whole
// exchange has one deadline (web-push's own `timeout` is only a socket idle timeout) and so that
// nothing can make `send` throw.
import { createECDH, createPublicKey } from 'node:crypto';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import webpush, { type RequestDetails } from 'web-push';

/** What a browser's `PushSubscription.toJSON()` gives, reduced to what delivery needs. */
export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface VapidKeys {
  /** The uncompressed P-256 point (65 bytes), base64url without padding. */
  publicKey: string;
  /** The P-256 private scalar (32 bytes), base64url without padding. */
  privateKey: string;
}

export interface WebPushChannelOptions {
  vapid: VapidKeys;
  /** RFC 8292 §2.1 `sub` claim: a `mailto:` or `https:` contact for the push service operator. */
  subject: string;
  /** Deadline for the whole exchange (connect, TLS, request, response headers). */
  timeoutMs: number;
  /** An extra CA to trust besides the system roots (tests: the loopback push service's CA). */
  ca?: string | Buffer;
}

export interface SendOptions {
  /** RFC 8030 §5.2: how long the push service keeps an undelivered message. */
  ttlSeconds: number;
  /** RFC 8030 §5.3. */
  urgency?: 'high' | 'normal';
  /** RFC 8030 §5.4: a newer message with the same topic replaces an undelivered older one. */
  topic?: string;
}

export interface SendResult {
  /** `gone`: the subscription no longer exists (404/410), the caller drops it. */
  outcome: 'sent' | 'gone' | 'failed';
  status?: number;
  /** Never contains keys, the payload or the push service's response body. */
  detail?: string;
}

export class SubscriptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SubscriptionError';
  }
}

/** The serialized payload limit. RFC 8291 §4 leaves 3993 bytes of plaintext in one 4096-byte record. */
export const MAX_PAYLOAD_BYTES = 3 * 1024;
/** Longer than any endpoint a browser vendor issues; keeps stored rows and requests small. */
export const MAX_ENDPOINT_LENGTH = 2048;
/** RFC 8030 §5.2 sets no maximum; a week is more than a login notification can be worth. */
export const MAX_TTL_SECONDS = 7 * 24 * 3600;
const MAX_TIMEOUT_MS = 60_000;
/** RFC 8030 §5.4: at most 32 characters of the URL- and filename-safe base64 alphabet. */
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** A fresh VAPID key pair (RFC 8292 §3.2: ECDSA on P-256), in the encoding web-push expects. */
export function generateVapidKeys(): VapidKeys {
  return webpush.generateVAPIDKeys();
}

// ---- subscriptions: hostile input ----------------------------------------------------------

/** Own data properties only, from a plain object: no accessors, arrays or exotic prototypes. */
function plainObject(raw: unknown, what: string, allowed: readonly string[], required: readonly string[]): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SubscriptionError(`${what} must be a JSON object`);
  const proto = Object.getPrototypeOf(raw) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new SubscriptionError(`${what} must be a plain JSON object`);
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const key of Reflect.ownKeys(raw)) {
    // Unknown keys are refused, not dropped: `__proto__`, `constructor` and friends included.
    if (typeof key !== 'string' || !allowed.includes(key)) throw new SubscriptionError(`${what} has an unexpected field ${JSON.stringify(String(key)).slice(0, 40)}`);
    const d = Object.getOwnPropertyDescriptor(raw, key);
    if (!d || !('value' in d)) throw new SubscriptionError(`${what}.${key} must be a plain value`);
    out[key] = d.value;
  }
  for (const key of required) if (!(key in out)) throw new SubscriptionError(`${what}.${key} is missing`);
  return out;
}

function checkEndpoint(raw: unknown): string {
  if (typeof raw !== 'string') throw new SubscriptionError('endpoint must be a string');
  if (raw.length > MAX_ENDPOINT_LENGTH) throw new SubscriptionError(`endpoint is longer than ${MAX_ENDPOINT_LENGTH} characters`);
  // Printable ASCII only: the URL parser would silently drop tabs/newlines and trim spaces.
  if (!/^[\x21-\x7e]+$/.test(raw)) throw new SubscriptionError('endpoint must be printable ASCII without spaces');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SubscriptionError('endpoint is not a URL');
  }
  // RFC 8030 §8.1: push messages travel over HTTPS only; the message carries a capability URL.
  if (url.protocol !== 'https:') throw new SubscriptionError('endpoint must be an https: URL');
  if (url.username || url.password) throw new SubscriptionError('endpoint must not carry credentials');
  if (!url.hostname) throw new SubscriptionError('endpoint has no host');
  if (url.hash) throw new SubscriptionError('endpoint must not have a fragment');
  return raw;
}

/** Strict base64url: the right alphabet and the canonical encoding of exactly `bytes` bytes. */
function checkKey(raw: unknown, what: string, bytes: number): { text: string; value: Buffer } {
  if (typeof raw !== 'string') throw new SubscriptionError(`${what} must be a string`);
  if (raw.length > 200 || !BASE64URL.test(raw)) throw new SubscriptionError(`${what} must be base64url`);
  const text = raw.replace(/=+$/, '');
  const value = Buffer.from(text, 'base64url');
  // Re-encoding catches stray trailing bits and impossible lengths (e.g. 1 mod 4).
  if (value.toString('base64url') !== text) throw new SubscriptionError(`${what} is not canonical base64url`);
  if (value.length !== bytes) throw new SubscriptionError(`${what} must decode to ${bytes} bytes, not ${value.length}`);
  return { text, value };
}

/**
 * Validates a subscription as a browser sends it (`PushSubscription.toJSON()`), and returns a
 * fresh object holding only what delivery needs (padding removed from the keys).
 * Throws SubscriptionError saying what is wrong.
 */
export function parseSubscription(raw: unknown): PushSubscriptionJson {
  const top = plainObject(raw, 'subscription', ['endpoint', 'expirationTime', 'keys'], ['endpoint', 'keys']);
  const endpoint = checkEndpoint(top.endpoint);
  const exp = top.expirationTime;
  if (exp !== undefined && exp !== null && !(typeof exp === 'number' && Number.isFinite(exp))) {
    throw new SubscriptionError('subscription.expirationTime must be null or a number');
  }
  const keys = plainObject(top.keys, 'subscription.keys', ['p256dh', 'auth'], ['p256dh', 'auth']);
  // RFC 8291 §3.2: the user agent's ECDH share is an uncompressed P-256 point (X9.62, 0x04 || X || Y).
  const p256dh = checkKey(keys.p256dh, 'keys.p256dh', 65);
  if (p256dh.value[0] !== 0x04) throw new SubscriptionError('keys.p256dh must be an uncompressed point (first byte 0x04)');
  try {
    // Refuses points not on the curve, which would otherwise fail only at encryption time.
    const x = p256dh.value.subarray(1, 33).toString('base64url');
    const y = p256dh.value.subarray(33).toString('base64url');
    createPublicKey({ key: { kty: 'EC', crv: 'P-256', x, y }, format: 'jwk' });
  } catch {
    throw new SubscriptionError('keys.p256dh is not a point on P-256');
  }
  // RFC 8291 §3.2: the authentication secret is 16 octets.
  const auth = checkKey(keys.auth, 'keys.auth', 16);
  return { endpoint, keys: { p256dh: p256dh.text, auth: auth.text } };
}

// ---- delivery ------------------------------------------------------------------------------

function checkOptions(opts: WebPushChannelOptions): void {
  const subject = opts.subject;
  if (typeof subject !== 'string' || !/^(mailto:|https:\/\/)\S+$/.test(subject)) {
    throw new Error('subject must be a mailto: or https: URL (RFC 8292 §2.1)');
  }
  if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1 || opts.timeoutMs > MAX_TIMEOUT_MS) {
    throw new Error(`timeoutMs must be an integer between 1 and ${MAX_TIMEOUT_MS}`);
  }
  const pub = Buffer.from(opts.vapid.publicKey, 'base64url');
  const priv = Buffer.from(opts.vapid.privateKey, 'base64url');
  let matches = false;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(priv);
    matches = priv.length === 32 && ecdh.getPublicKey().equals(pub);
  } catch {
    matches = false;
  }
  // Error text names the problem, never the keys.
  if (!matches) throw new Error('vapid.publicKey and vapid.privateKey are not a P-256 key pair (base64url)');
}

function checkSend(payload: object, opts: SendOptions): { body: string } | { error: string } {
  if (!Number.isInteger(opts.ttlSeconds) || opts.ttlSeconds < 0 || opts.ttlSeconds > MAX_TTL_SECONDS) {
    return { error: `ttlSeconds must be an integer between 0 and ${MAX_TTL_SECONDS}` };
  }
  if (opts.urgency !== undefined && opts.urgency !== 'high' && opts.urgency !== 'normal') return { error: 'urgency must be high or normal' };
  if (opts.topic !== undefined && !TOPIC.test(opts.topic)) return { error: 'topic must be 1-32 base64url characters' };
  if (typeof payload !== 'object' || payload === null) return { error: 'payload must be an object' };
  let body: string | undefined;
  try {
    body = JSON.stringify(payload);
  } catch {
    return { error: 'payload is not serializable as JSON' };
  }
  if (typeof body !== 'string') return { error: 'payload is not serializable as JSON' };
  const size = Buffer.byteLength(body, 'utf8');
  if (size > MAX_PAYLOAD_BYTES) return { error: `payload is ${size} bytes, over the ${MAX_PAYLOAD_BYTES}-byte limit` };
  return { body };
}

export class WebPushChannel {
  readonly #vapid: VapidKeys & { subject: string };
  readonly #timeoutMs: number;
  readonly #ca: Array<string | Buffer> | undefined;

  constructor(opts: WebPushChannelOptions) {
    checkOptions(opts);
    this.#vapid = { subject: opts.subject, publicKey: opts.vapid.publicKey, privateKey: opts.vapid.privateKey };
    this.#timeoutMs = opts.timeoutMs;
    // Node's `ca` replaces the default roots; keep them so a test CA is an addition, not a swap.
    this.#ca = opts.ca === undefined ? undefined : [...rootCertificates, opts.ca];
  }

  /** Delivers one message. Never throws; `detail` says why a message was not sent. */
  async send(sub: PushSubscriptionJson, payload: object, opts: SendOptions): Promise<SendResult> {
    try {
      return await this.#send(sub, payload, opts);
    } catch {
      // Only reachable through arguments the types forbid (e.g. no options object at all).
      return { outcome: 'failed', detail: 'could not send the push request' };
    }
  }

  async #send(sub: PushSubscriptionJson, payload: object, opts: SendOptions): Promise<SendResult> {
    const checked = checkSend(payload, opts);
    if ('error' in checked) return { outcome: 'failed', detail: checked.error };
    let details: RequestDetails;
    try {
      // Re-validated here too: a stored subscription is still input.
      const s = parseSubscription(sub);
      // RFC 8292 §2: the JWT's `aud` is the endpoint's origin, web-push derives it from `endpoint`.
      // RFC 8291 §4 and RFC 8188 §2: one record, `aes128gcm`, with a fresh salt and ephemeral key.
      details = webpush.generateRequestDetails(s, checked.body, {
        vapidDetails: this.#vapid,
        TTL: opts.ttlSeconds,
        contentEncoding: 'aes128gcm',
        urgency: opts.urgency ?? 'normal',
        ...(opts.topic === undefined ? {} : { topic: opts.topic }),
      });
    } catch (e) {
      const why = e instanceof SubscriptionError ? e.message : 'could not build the push request';
      return { outcome: 'failed', detail: why };
    }
    return this.#post(details);
  }

  #post(details: RequestDetails): Promise<SendResult> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: SendResult): void => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      const url = new URL(details.endpoint);
      const req = request(
        {
          host: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || 443,
          path: url.pathname + url.search,
          method: 'POST',
          headers: details.headers,
          ...(this.#ca ? { ca: this.#ca } : {}),
          agent: false,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // The body is the push service's to explain; it is drained, never read into `detail`.
          res.resume();
          res.on('end', () => clearTimeout(timer));
          res.on('error', () => undefined);
          if (status >= 200 && status < 300) finish({ outcome: 'sent', status });
          // RFC 8030 §7.3: 404/410 mean the subscription has expired or was removed.
          else if (status === 404 || status === 410) finish({ outcome: 'gone', status });
          else finish({ outcome: 'failed', status, detail: `push service answered HTTP ${status}` });
        },
      );
      const timer = setTimeout(() => {
        finish({ outcome: 'failed', detail: `no answer within ${this.#timeoutMs} ms` });
        req.destroy();
      }, this.#timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        finish({ outcome: 'failed', detail: `request failed: ${err.code ?? err.name}` });
      });
      req.end(details.body ?? undefined);
    });
  }
}

/**
 * Whether a subscription's endpoint is on one of the allowed push services (`host` exactly, or
 * `*.domain` for any subdomain of domain). The device picks the endpoint, so this is what keeps an
 * enrolled phone from making the server POST to arbitrary internal addresses.
 */
export function endpointAllowed(endpoint: string, hosts: readonly string[]): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return false;
  }
  return hosts.some((pattern) => (pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : host === pattern));
}
