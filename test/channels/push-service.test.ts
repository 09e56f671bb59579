// The loopback push service's own checks: its RFC 8291 decryptor against the RFC's published
// example, its VAPID verification against forged tokens, and its refusal of tampered bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createECDH, createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import webpush from 'web-push';
import { generateVapidKeys } from '../../src/channels/web-push.js';
import { DecryptError, PushService, VapidError, decryptAes128gcm, verifyVapid } from '../support/push-service.js';

interface Rfc8291Vector {
  name: string;
  source: string;
  inputs: Record<'plaintext' | 'asPublic' | 'asPrivate' | 'uaPublic' | 'uaPrivate' | 'salt' | 'authSecret' | 'body', string>;
  expected: { plaintext: string; recordSize: number } & Record<'ecdhSecret' | 'prkKey' | 'ikm' | 'prk' | 'cek' | 'nonce', string>;
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64url');
const [vector] = JSON.parse(readFileSync(new URL('../vectors/rfc8291.json', import.meta.url), 'utf8')) as Rfc8291Vector[];
if (!vector) throw new Error('test/vectors/rfc8291.json is empty');
const v = vector.inputs;

function rfcInput(body = b64(v.body)): Parameters<typeof decryptAes128gcm>[0] {
  return { body, uaPrivate: b64(v.uaPrivate), uaPublic: b64(v.uaPublic), authSecret: b64(v.authSecret) };
}

describe('decryptAes128gcm: RFC 8291 Section 5 / Appendix A', () => {
  it('the vector is self-consistent: each public key belongs to its private key', () => {
    for (const [priv, pub] of [[v.asPrivate, v.asPublic], [v.uaPrivate, v.uaPublic]] as const) {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(b64(priv));
      expect(ecdh.getPublicKey().toString('base64url')).toBe(pub);
    }
  });

  it('decrypts the published message, with every published intermediate value', () => {
    const d = decryptAes128gcm(rfcInput());
    expect(d.plaintext.toString('utf8')).toBe(vector.expected.plaintext);
    expect(d.salt.toString('base64url')).toBe(v.salt);
    expect(d.asPublic.toString('base64url')).toBe(v.asPublic);
    expect(d.recordSize).toBe(vector.expected.recordSize);
    for (const k of ['ecdhSecret', 'prkKey', 'ikm', 'prk', 'cek', 'nonce'] as const) {
      expect(d[k].toString('base64url'), k).toBe(vector.expected[k]);
    }
  });

  it('refuses a message with any single byte of its ciphertext or tag flipped', () => {
    const body = b64(v.body);
    const start = 21 + 65;
    for (let i = start; i < body.length; i++) {
      const bad = Buffer.from(body);
      bad[i]! ^= 0x01;
      expect(() => decryptAes128gcm(rfcInput(bad)), `byte ${i}`).toThrow(DecryptError);
    }
  });

  it('refuses a changed salt, a changed keyid, a wrong auth secret and truncations', () => {
    const body = b64(v.body);
    const salt = Buffer.from(body);
    salt[0]! ^= 0x80;
    expect(() => decryptAes128gcm(rfcInput(salt))).toThrow(DecryptError);
    const keyid = Buffer.from(body);
    keyid[21 + 64]! ^= 0x01; // still 0x04-prefixed, no longer the sender's point (nor on the curve)
    expect(() => decryptAes128gcm(rfcInput(keyid))).toThrow(DecryptError);
    expect(() => decryptAes128gcm({ ...rfcInput(), authSecret: Buffer.alloc(16) })).toThrow(/tag does not verify/);
    for (const n of [0, 20, 21 + 64, 21 + 65 + 16, body.length - 1]) {
      expect(() => decryptAes128gcm(rfcInput(body.subarray(0, n))), `length ${n}`).toThrow(DecryptError);
    }
    const tinyRs = Buffer.from(body);
    tinyRs.writeUInt32BE(17, 16);
    expect(() => decryptAes128gcm(rfcInput(tinyRs))).toThrow(/record size/);
    const twoRecords = Buffer.from(body);
    twoRecords.writeUInt32BE(40, 16);
    expect(() => decryptAes128gcm(rfcInput(twoRecords))).toThrow(/more than one record/);
  });
});

// ---- VAPID ---------------------------------------------------------------------------------

const vapid = generateVapidKeys();
const AUD = 'https://127.0.0.1:4430';
const NOW = 1_700_000_000_000;

function signingKey(keys: { publicKey: string; privateKey: string }) {
  const pub = b64(keys.publicKey);
  const jwk = { kty: 'EC', crv: 'P-256', x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33).toString('base64url'), d: keys.privateKey };
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

function jwt(claims: object, opts: { header?: object; keys?: { publicKey: string; privateKey: string } } = {}): string {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(opts.header ?? { typ: 'JWT', alg: 'ES256' })}.${enc(claims)}`;
  const sig = sign('sha256', Buffer.from(input), { key: signingKey(opts.keys ?? vapid), dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

const good = { aud: AUD, exp: NOW / 1000 + 3600, sub: 'mailto:ops@example.org' };
const header = (t: string, k = vapid.publicKey): string => `vapid t=${t}, k=${k}`;

describe('verifyVapid (RFC 8292)', () => {
  it('accepts a token web-push makes, and one made here', () => {
    const wp = webpush.getVapidHeaders(AUD, 'mailto:ops@example.org', vapid.publicKey, vapid.privateKey, 'aes128gcm');
    const got = verifyVapid(wp.Authorization, AUD, Date.now());
    expect(got.publicKey).toBe(vapid.publicKey);
    expect(got.claims.sub).toBe('mailto:ops@example.org');
    expect(verifyVapid(header(jwt(good)), AUD, NOW).claims).toEqual(good);
  });

  it.each([
    ['wrong audience', header(jwt({ ...good, aud: 'https://127.0.0.1:4431' })), /aud/],
    ['audience with a path', header(jwt({ ...good, aud: `${AUD}/push` })), /aud/],
    ['expired', header(jwt({ ...good, exp: NOW / 1000 - 1 })), /expired/],
    ['more than 24 h ahead', header(jwt({ ...good, exp: NOW / 1000 + 24 * 3600 + 1 })), /24 hours/],
    ['no exp', header(jwt({ aud: AUD, sub: good.sub })), /exp/],
    ['no sub', header(jwt({ aud: AUD, exp: good.exp })), /sub/],
    ['signed by another key', header(jwt(good, { keys: generateVapidKeys() })), /does not verify/],
    ['k is another key', header(jwt(good), generateVapidKeys().publicKey), /does not verify/],
    ['alg none', header(jwt(good, { header: { alg: 'none' } })), /ES256/],
    ['alg HS256', header(jwt(good, { header: { alg: 'HS256' } })), /ES256/],
    ['signature stripped', header(jwt(good).replace(/\.[^.]+$/, '.')), /signature/],
    ['DER signature', header(jwt(good).replace(/\.[^.]+$/, '.' + Buffer.alloc(70, 0x30).toString('base64url'))), /64 bytes/],
    ['no k', `vapid t=${jwt(good)}`, /both required/],
    ['repeated t', `vapid t=${jwt(good)}, t=${jwt(good)}, k=${vapid.publicKey}`, /repeated/],
    ['WebPush scheme (aesgcm draft)', `WebPush ${jwt(good)}`, /scheme/],
    ['k not a point', header(jwt(good), Buffer.alloc(65, 4).toString('base64url')), /k is not/],
    ['no header', undefined, /no Authorization/],
  ])('refuses %s', (_name, value, why) => {
    expect(() => verifyVapid(value, AUD, NOW)).toThrow(VapidError);
    expect(() => verifyVapid(value, AUD, NOW)).toThrow(why);
  });
});

// ---- the service over HTTPS ----------------------------------------------------------------

describe('PushService over loopback HTTPS', () => {
  const svc = new PushService();
  beforeAll(() => svc.start());
  afterAll(() => svc.stop());

  function post(endpoint: string, headers: Record<string, string | number>, body: Buffer): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(endpoint, { method: 'POST', headers, ca: svc.caPem, timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
  }

  function details(endpointSub: ReturnType<PushService['newSubscription']>, text: string) {
    return webpush.generateRequestDetails(endpointSub.subscription, text, {
      vapidDetails: { subject: 'mailto:ops@example.org', ...vapid },
      contentEncoding: 'aes128gcm',
      TTL: 30,
    });
  }

  it('listens on 127.0.0.1 only, with endpoints under its origin', () => {
    expect(svc.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(svc.newSubscription().subscription.endpoint.startsWith(`${svc.origin}/push/`)).toBe(true);
  });

  it('accepts an intact message and refuses the same message with one ciphertext byte flipped', async () => {
    const sub = svc.newSubscription();
    const d = details(sub, '{"n":1}');
    const headers = d.headers as Record<string, string | number>;
    expect(await post(d.endpoint, headers, d.body)).toBe(201);
    const tampered = Buffer.from(d.body);
    tampered[tampered.length - 20]! ^= 0x01;
    expect(await post(d.endpoint, headers, tampered)).toBe(400);
    expect(svc.rejections()).toContainEqual({ id: sub.id, status: 400, reason: 'decrypt: authentication tag does not verify' });
    expect(svc.messages().filter((m) => m.id === sub.id)).toHaveLength(1);
  });

  it('refuses a missing TTL, a foreign content coding and a missing VAPID header', async () => {
    const sub = svc.newSubscription();
    const d = details(sub, '{}');
    const h = d.headers as Record<string, string | number>;
    const without = (name: string): Record<string, string | number> => Object.fromEntries(Object.entries(h).filter(([k]) => k !== name));
    expect(await post(d.endpoint, without('TTL'), d.body)).toBe(400);
    expect(await post(d.endpoint, { ...h, 'Content-Encoding': 'aesgcm' }, d.body)).toBe(415);
    expect(await post(d.endpoint, without('Authorization'), d.body)).toBe(401);
    expect(await post(`${svc.origin}/push/nope`, h, d.body)).toBe(404);
    expect(svc.messages().filter((m) => m.id === sub.id)).toHaveLength(0);
  });

  it('waitForMessage gives up after its timeout', async () => {
    const t0 = Date.now();
    await expect(svc.waitForMessage(() => false, 200)).rejects.toThrow(/within 200 ms/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
