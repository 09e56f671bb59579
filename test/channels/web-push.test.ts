// WebPushChannel against the loopback push service (test/support/push-service.ts), which checks
// VAPID and decrypts with its own RFC 8291 code; and parseSubscription against hostile input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createECDH } from 'node:crypto';
import {
  MAX_PAYLOAD_BYTES,
  SubscriptionError,
  WebPushChannel,
  generateVapidKeys,
  parseSubscription,
  type PushSubscriptionJson,
  type SendResult,
} from '../../src/channels/web-push.js';
import { PushService } from '../support/push-service.js';

const SUBJECT = 'mailto:ops@tandem.test';
const vapid = generateVapidKeys();
const svc = new PushService();
let channel: WebPushChannel;

beforeAll(async () => {
  await svc.start();
  channel = new WebPushChannel({ vapid, subject: SUBJECT, timeoutMs: 500, ca: svc.caPem });
});
afterAll(() => svc.stop());

/** No failure may leak the keys, the auth secret or the payload into `detail`. */
function expectClean(r: SendResult, sub: PushSubscriptionJson, secret: string): void {
  for (const s of [vapid.privateKey, vapid.publicKey, sub.keys.auth, sub.keys.p256dh, secret]) {
    expect(r.detail ?? '').not.toContain(s);
  }
}

describe('generateVapidKeys', () => {
  it('gives a P-256 pair in unpadded base64url', () => {
    const k = generateVapidKeys();
    expect(k.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
    expect(k.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(k.privateKey, 'base64url'));
    expect(ecdh.getPublicKey().toString('base64url')).toBe(k.publicKey);
    expect(generateVapidKeys().privateKey).not.toBe(k.privateKey);
  });
});

describe('WebPushChannel options', () => {
  it('refuses a bad subject, timeout or key pair without echoing keys', () => {
    const other = generateVapidKeys();
    expect(() => new WebPushChannel({ vapid, subject: 'ops@tandem.test', timeoutMs: 500 })).toThrow(/subject/);
    expect(() => new WebPushChannel({ vapid, subject: 'http://tandem.test', timeoutMs: 500 })).toThrow(/subject/);
    expect(() => new WebPushChannel({ vapid, subject: SUBJECT, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new WebPushChannel({ vapid, subject: SUBJECT, timeoutMs: 600_000 })).toThrow(/timeoutMs/);
    const mixed = { publicKey: vapid.publicKey, privateKey: other.privateKey };
    expect(() => new WebPushChannel({ vapid: mixed, subject: SUBJECT, timeoutMs: 500 })).toThrow(/key pair/);
    try {
      new WebPushChannel({ vapid: mixed, subject: SUBJECT, timeoutMs: 500 });
    } catch (e) {
      expect((e as Error).message).not.toContain(other.privateKey);
    }
    expect(() => new WebPushChannel({ vapid: { publicKey: 'x', privateKey: 'y' }, subject: SUBJECT, timeoutMs: 500 })).toThrow(/key pair/);
  });
});

describe('WebPushChannel.send through the loopback push service', () => {
  it('delivers: the service verifies VAPID, decrypts the payload, and sees TTL, urgency and topic', async () => {
    const { id, subscription } = svc.newSubscription({ applicationServerKey: vapid.publicKey });
    const payload = { type: 'login-request', txid: 'tx-1', user: 'alice', host: 'büro-1', at: 1700000000 };
    const before = Math.floor(Date.now() / 1000);
    const r = await channel.send(subscription, payload, { ttlSeconds: 60, urgency: 'high', topic: 'login-tx-1' });
    expect(r).toEqual({ outcome: 'sent', status: 201 });
    const m = await svc.waitForMessage((x) => x.id === id, 2000);
    expect(m.payload).toEqual(payload);
    expect(m.ttl).toBe(60);
    expect(m.urgency).toBe('high');
    expect(m.topic).toBe('login-tx-1');
    expect(m.headers['content-encoding']).toBe('aes128gcm');
    expect(m.vapid.publicKey).toBe(vapid.publicKey);
    expect(m.vapid.claims.aud).toBe(svc.origin);
    expect(m.vapid.claims.sub).toBe(SUBJECT);
    expect(m.vapid.claims.exp).toBeGreaterThan(before);
    expect(m.vapid.claims.exp).toBeLessThanOrEqual(before + 24 * 3600 + 5);
  });

  it('defaults urgency to normal and sends no topic unless asked', async () => {
    const { id, subscription } = svc.newSubscription();
    expect((await channel.send(subscription, { n: 2 }, { ttlSeconds: 0 })).outcome).toBe('sent');
    const m = await svc.waitForMessage((x) => x.id === id, 2000);
    expect(m).toMatchObject({ payload: { n: 2 }, ttl: 0, urgency: 'normal', topic: undefined });
  });

  it('accepts a padded subscription the way parseSubscription normalizes it', async () => {
    const { id, subscription } = svc.newSubscription();
    const padded = { ...subscription, keys: { p256dh: subscription.keys.p256dh + '=', auth: subscription.keys.auth + '==' } };
    expect((await channel.send(padded, { n: 3 }, { ttlSeconds: 5 })).outcome).toBe('sent');
    expect((await svc.waitForMessage((x) => x.id === id, 2000)).payload).toEqual({ n: 3 });
  });

  it('sends a payload of exactly the limit and refuses one byte more without a request', async () => {
    const { id, subscription } = svc.newSubscription();
    const fill = (n: number): { f: string } => ({ f: 'x'.repeat(n - '{"f":""}'.length) });
    expect(JSON.stringify(fill(MAX_PAYLOAD_BYTES)).length).toBe(MAX_PAYLOAD_BYTES);
    expect((await channel.send(subscription, fill(MAX_PAYLOAD_BYTES), { ttlSeconds: 5 })).outcome).toBe('sent');
    expect((await svc.waitForMessage((x) => x.id === id, 2000)).payload).toEqual(fill(MAX_PAYLOAD_BYTES));
    const seen = svc.messages().length + svc.rejections().length;
    const big = { f: 'é'.repeat(MAX_PAYLOAD_BYTES / 2) }; // counted in UTF-8 bytes, not characters
    const r = await channel.send(subscription, big, { ttlSeconds: 5 });
    expect(r.outcome).toBe('failed');
    expect(r.detail).toMatch(/over the 3072-byte limit/);
    expect(r.status).toBeUndefined();
    expect(svc.messages().length + svc.rejections().length).toBe(seen);
    expectClean(r, subscription, 'é'.repeat(8));
  });

  it('410 from the push service is gone, so is an unknown subscription (404)', async () => {
    const { id, subscription } = svc.newSubscription();
    svc.setMode(id, 'gone');
    expect(await channel.send(subscription, { n: 4 }, { ttlSeconds: 5 })).toEqual({ outcome: 'gone', status: 410 });
    const unknown = { ...subscription, endpoint: `${svc.origin}/push/unknown-id` };
    expect(await channel.send(unknown, { n: 4 }, { ttlSeconds: 5 })).toEqual({ outcome: 'gone', status: 404 });
  });

  it('a push service that never answers is failed after the timeout', async () => {
    const { id, subscription } = svc.newSubscription({ mode: 'hang' });
    const t0 = Date.now();
    const r = await channel.send(subscription, { secret: 'hang-payload' }, { ttlSeconds: 5 });
    const elapsed = Date.now() - t0;
    expect(r.outcome).toBe('failed');
    expect(r.detail).toBe('no answer within 500 ms');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(3000);
    expect(svc.messages().some((m) => m.id === id)).toBe(false);
    expectClean(r, subscription, 'hang-payload');
  });

  it('other answers are failed with the status: a VAPID key the subscription is not restricted to (403)', async () => {
    const { subscription } = svc.newSubscription({ applicationServerKey: generateVapidKeys().publicKey });
    const r = await channel.send(subscription, { secret: 'p' }, { ttlSeconds: 5 });
    expect(r).toEqual({ outcome: 'failed', status: 403, detail: 'push service answered HTTP 403' });
  });

  it('without the extra CA the service\'s certificate is refused: failed, not sent', async () => {
    const { subscription } = svc.newSubscription();
    const noCa = new WebPushChannel({ vapid, subject: SUBJECT, timeoutMs: 2000 });
    const r = await noCa.send(subscription, { secret: 'tls-payload' }, { ttlSeconds: 5 });
    expect(r.outcome).toBe('failed');
    expect(r.status).toBeUndefined();
    expect(r.detail).toMatch(/^request failed: /);
    expectClean(r, subscription, 'tls-payload');
  });

  it('a closed port is failed, not thrown', async () => {
    const gone = new PushService();
    await gone.start();
    const { subscription } = gone.newSubscription();
    await gone.stop();
    const r = await channel.send(subscription, { n: 5 }, { ttlSeconds: 5 });
    expect(r).toEqual({ outcome: 'failed', detail: 'request failed: ECONNREFUSED' });
  });

  it('bad send options, payloads and subscriptions are failed before any request', async () => {
    const { subscription } = svc.newSubscription();
    const seen = svc.messages().length + svc.rejections().length;
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: Array<[PushSubscriptionJson, unknown, { ttlSeconds: number; urgency?: 'high' | 'normal'; topic?: string }, RegExp]> = [
      [subscription, { n: 1 }, { ttlSeconds: -1 }, /ttlSeconds/],
      [subscription, { n: 1 }, { ttlSeconds: 1.5 }, /ttlSeconds/],
      [subscription, { n: 1 }, { ttlSeconds: 5, urgency: 'low' as 'high' }, /urgency/],
      [subscription, { n: 1 }, { ttlSeconds: 5, topic: 'has space' }, /topic/],
      [subscription, { n: 1 }, { ttlSeconds: 5, topic: 'x'.repeat(33) }, /topic/],
      [subscription, cyclic, { ttlSeconds: 5 }, /JSON/],
      [subscription, { n: 10n }, { ttlSeconds: 5 }, /JSON/],
      [subscription, null, { ttlSeconds: 5 }, /object/],
      [{ ...subscription, endpoint: subscription.endpoint.replace('https:', 'http:') }, { n: 1 }, { ttlSeconds: 5 }, /https/],
      [{ ...subscription, keys: { ...subscription.keys, auth: 'AAAA' } }, { n: 1 }, { ttlSeconds: 5 }, /auth/],
    ];
    for (const [sub, payload, opts, why] of cases) {
      const r = await channel.send(sub, payload as object, opts);
      expect(r.outcome).toBe('failed');
      expect(r.detail).toMatch(why);
      expectClean(r, sub, '"n":1');
    }
    const noOpts = await channel.send(subscription, { n: 1 }, undefined as unknown as { ttlSeconds: number });
    expect(noOpts).toEqual({ outcome: 'failed', detail: 'could not send the push request' });
    expect(svc.messages().length + svc.rejections().length).toBe(seen);
  });
});

// ---- parseSubscription ---------------------------------------------------------------------

const point = (): string => createECDH('prime256v1').generateKeys().toString('base64url');
const AUTH = Buffer.alloc(16, 7).toString('base64url');
const P256DH = point();
const ENDPOINT = 'https://fcm.googleapis.com/fcm/send/abc:APA91b-xyz';
const valid = (): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } } => ({
  endpoint: ENDPOINT,
  expirationTime: null,
  keys: { p256dh: P256DH, auth: AUTH },
});

describe('parseSubscription', () => {
  it('accepts what a browser sends and returns a fresh object with only endpoint and keys', () => {
    const raw = valid();
    const s = parseSubscription(JSON.parse(JSON.stringify(raw)));
    expect(s).toEqual({ endpoint: ENDPOINT, keys: { p256dh: P256DH, auth: AUTH } });
    expect(Object.getPrototypeOf(s)).toBe(Object.prototype);
    expect(parseSubscription({ endpoint: 'https://127.0.0.1:8443/push/x', keys: raw.keys }).endpoint).toBe('https://127.0.0.1:8443/push/x');
    expect(parseSubscription({ ...raw, expirationTime: 1700000000000 }).endpoint).toBe(ENDPOINT);
    expect(parseSubscription(Object.assign(Object.create(null), raw)).endpoint).toBe(ENDPOINT);
    expect(parseSubscription({ ...raw, keys: { p256dh: P256DH + '=', auth: AUTH + '==' } }).keys).toEqual({ p256dh: P256DH, auth: AUTH });
    expect(parseSubscription({ ...raw, endpoint: 'https://h.example/' + 'a'.repeat(2048 - 18) }).endpoint).toHaveLength(2048);
  });

  /** 65 bytes take 87 characters whose last carries 2 unused bits; setting one keeps the bytes. */
  const nonCanonical = (text: string): string => {
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    return text.slice(0, -1) + abc[abc.indexOf(text.slice(-1)) ^ 1];
  };
  const withKeys = (keys: unknown): unknown => ({ ...valid(), keys });
  const onCurveButCompressedPrefix = Buffer.from(P256DH, 'base64url');
  onCurveButCompressedPrefix[0] = 0x03;
  const offCurve = Buffer.from(P256DH, 'base64url');
  offCurve[64]! ^= 0x01;

  it.each<[string, unknown, RegExp]>([
    ['null', null, /JSON object/],
    ['a string', JSON.stringify(valid()), /JSON object/],
    ['a number', 42, /JSON object/],
    ['an array', [valid()], /JSON object/],
    ['undefined', undefined, /JSON object/],
    ['a class instance', Object.assign(new (class Sub {})(), valid()), /plain JSON object/],
    ['a Map', new Map(Object.entries(valid())), /plain JSON object/],
    ['no endpoint', { keys: valid().keys }, /endpoint is missing/],
    ['no keys', { endpoint: ENDPOINT }, /keys is missing/],
    ['no p256dh', withKeys({ auth: AUTH }), /p256dh is missing/],
    ['no auth', withKeys({ p256dh: P256DH }), /auth is missing/],
    ['keys not an object', withKeys('p256dh'), /keys must be/],
    ['keys an array', withKeys([P256DH, AUTH]), /keys must be/],
    ['endpoint not a string', { ...valid(), endpoint: { href: ENDPOINT } }, /endpoint must be a string/],
    ['http: endpoint', { ...valid(), endpoint: 'http://fcm.googleapis.com/fcm/send/x' }, /https/],
    ['javascript: endpoint', { ...valid(), endpoint: 'javascript:alert(1)' }, /https/],
    ['file: endpoint', { ...valid(), endpoint: 'file:///etc/passwd' }, /https/],
    ['relative endpoint', { ...valid(), endpoint: '/push/x' }, /not a URL/],
    ['credentials in endpoint', { ...valid(), endpoint: 'https://user:pw@push.example/x' }, /credentials/],
    ['user only in endpoint', { ...valid(), endpoint: 'https://user@push.example/x' }, /credentials/],
    ['fragment in endpoint', { ...valid(), endpoint: 'https://push.example/x#y' }, /fragment/],
    ['newline in endpoint', { ...valid(), endpoint: 'https://push.example/x\nHost: evil' }, /printable ASCII/],
    ['tab in endpoint', { ...valid(), endpoint: 'https://push.\texample/x' }, /printable ASCII/],
    ['leading space', { ...valid(), endpoint: ' https://push.example/x' }, /printable ASCII/],
    ['non-ASCII endpoint', { ...valid(), endpoint: 'https://püsh.example/x' }, /printable ASCII/],
    ['oversized endpoint', { ...valid(), endpoint: 'https://h.example/' + 'a'.repeat(2048 - 17) }, /longer than 2048/],
    ['huge endpoint', { ...valid(), endpoint: 'https://h.example/' + 'a'.repeat(1_000_000) }, /longer than 2048/],
    ['bad expirationTime', { ...valid(), expirationTime: 'soon' }, /expirationTime/],
    ['p256dh in standard base64', withKeys({ p256dh: P256DH.slice(0, -2) + '+/', auth: AUTH }), /base64url/],
    ['p256dh with junk', withKeys({ p256dh: P256DH + '!', auth: AUTH }), /base64url/],
    ['p256dh not a string', withKeys({ p256dh: [...Buffer.from(P256DH, 'base64url')], auth: AUTH }), /p256dh must be a string/],
    ['p256dh empty', withKeys({ p256dh: '', auth: AUTH }), /base64url/],
    ['p256dh non-canonical trailing bits', withKeys({ p256dh: nonCanonical(P256DH), auth: AUTH }), /not canonical/],
    ['p256dh 64 bytes', withKeys({ p256dh: Buffer.from(P256DH, 'base64url').subarray(0, 64).toString('base64url'), auth: AUTH }), /65 bytes, not 64/],
    ['p256dh 66 bytes', withKeys({ p256dh: Buffer.concat([Buffer.from(P256DH, 'base64url'), Buffer.alloc(1)]).toString('base64url'), auth: AUTH }), /65 bytes, not 66/],
    ['p256dh compressed (33 bytes)', withKeys({ p256dh: Buffer.from(P256DH, 'base64url').subarray(0, 33).toString('base64url'), auth: AUTH }), /65 bytes/],
    ['p256dh not 0x04-prefixed', withKeys({ p256dh: onCurveButCompressedPrefix.toString('base64url'), auth: AUTH }), /first byte 0x04/],
    ['p256dh off the curve', withKeys({ p256dh: offCurve.toString('base64url'), auth: AUTH }), /not a point on P-256/],
    ['p256dh oversized', withKeys({ p256dh: 'A'.repeat(100_000), auth: AUTH }), /base64url/],
    ['auth 15 bytes', withKeys({ p256dh: P256DH, auth: Buffer.alloc(15).toString('base64url') }), /16 bytes, not 15/],
    ['auth 17 bytes', withKeys({ p256dh: P256DH, auth: Buffer.alloc(17).toString('base64url') }), /16 bytes, not 17/],
    ['auth with bad padding', withKeys({ p256dh: P256DH, auth: AUTH + '===' }), /base64url/],
    ['auth a number', withKeys({ p256dh: P256DH, auth: 16 }), /auth must be a string/],
    ['extra top-level field', { ...valid(), extra: 1 }, /unexpected field "extra"/],
    ['extra keys field', withKeys({ p256dh: P256DH, auth: AUTH, aesgcm: 'x' }), /unexpected field "aesgcm"/],
    ['__proto__ at the top (JSON.parse)', JSON.parse(`{"__proto__":{"polluted":true},${JSON.stringify(valid()).slice(1)}`), /unexpected field "__proto__"/],
    ['__proto__ in keys (JSON.parse)', JSON.parse(`{"endpoint":"${ENDPOINT}","keys":{"__proto__":{"auth":"${AUTH}"},"p256dh":"${P256DH}"}}`), /unexpected field "__proto__"/],
    ['constructor key', { ...valid(), constructor: { prototype: { polluted: true } } }, /unexpected field "constructor"/],
    ['prototype key', withKeys({ p256dh: P256DH, auth: AUTH, prototype: {} }), /unexpected field "prototype"/],
    ['a symbol key', { ...valid(), [Symbol('x')]: 1 }, /unexpected field/],
    ['auth inherited, not own', withKeys(Object.assign(Object.create({ auth: AUTH }) as object, { p256dh: P256DH })), /plain JSON object/],
    ['a getter for endpoint', Object.defineProperty({ keys: valid().keys }, 'endpoint', { get: () => ENDPOINT, enumerable: true }), /plain value/],
  ])('refuses %s', (_name, raw, why) => {
    let err: unknown;
    try {
      parseSubscription(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SubscriptionError);
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message.length).toBeLessThan(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
