// Web Push delivery of a new push (docs/push.md §4), through the real channel to the loopback
// push service, which checks VAPID (RFC 8292) and decrypts the payload itself (RFC 8291): what a
// phone's service worker receives, subscriptions the push service forgot, a push service that
// fails (the login still completes over the live channel), and endpoints outside the allow-list.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDevicePusher } from '../../src/server/push-delivery.js';
import { PushService } from '../support/push-service.js';
import { asyncPush, authStatus, deviceFor, finalStatus, listed, startPushHarness, type PushHarness } from '../support/push-harness.js';
import type { ScriptedDevice } from '../support/device.js';

const service = new PushService();
let p: PushHarness;

beforeAll(() => service.start());
afterAll(() => service.stop());
afterEach(async () => p.h.close());

async function withPusher(hosts = ['127.0.0.1']): Promise<void> {
  p = await startPushHarness({ pushServiceHosts: hosts });
  p.h.deps.pusher = await openDevicePusher(p.h.deps, 'https://localhost:8443', { ca: service.caPem, timeoutMs: 1000 });
}

async function subscribed(username: string, mode: 'accept' | 'gone' | 'hang' = 'accept'): Promise<{ device: ScriptedDevice; id: string }> {
  const device = await deviceFor(p.h, username);
  const sub = service.newSubscription({ mode, applicationServerKey: p.h.deps.pusher!.vapidPublicKey });
  await p.h.deps.store.setDeviceSubscription(device.deviceId, JSON.stringify(sub.subscription));
  return { device, id: sub.id };
}

const until = async (what: string, check: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('Web Push delivery', () => {
  it('sends the encrypted login request to the subscribed device, with a TTL inside the push lifetime', async () => {
    await withPusher();
    const { id } = await subscribed('alice');
    const txid = (await asyncPush(p, 'alice')).body.response!['txid'] as string;
    const msg = await service.waitForMessage((m) => m.id === id, 5000);
    expect(msg.payload).toEqual({ kind: 'login-request', txid, username: 'alice', hostname: 'bastion.example.org' });
    expect(msg.ttl).toBeGreaterThan(0);
    expect(msg.ttl).toBeLessThanOrEqual(30);
    expect(msg.urgency).toBe('high');
    expect((await authStatus(p, txid))['status']).toBe('pushed');
  });

  it('never puts the verification code in the payload', async () => {
    p = await startPushHarness({ pushServiceHosts: ['127.0.0.1'] }, { verifiedPush: 'required' });
    p.h.deps.pusher = await openDevicePusher(p.h.deps, 'https://localhost:8443', { ca: service.caPem, timeoutMs: 1000 });
    const { id } = await subscribed('vera');
    const r = (await asyncPush(p, 'vera', { client_supports_verified_push: '1' })).body.response!;
    const code = r['verification_code'] as string;
    expect(code).toMatch(/^[0-9]{3}$/);
    const msg = await service.waitForMessage((m) => m.id === id && (m.payload as { txid: string }).txid === r['txid'], 5000);
    expect(JSON.stringify(msg.payload)).not.toContain(`"${code}"`);
    expect(Object.keys(msg.payload as object).sort()).toEqual(['hostname', 'kind', 'txid', 'username']);
  });

  it('drops a subscription the push service no longer knows (410)', async () => {
    await withPusher();
    const { device } = await subscribed('bob', 'gone');
    await asyncPush(p, 'bob');
    await until('the subscription to be dropped', async () => (await p.h.deps.store.getDevice(device.deviceId))!.pushSubscription === null);
  });

  it('a push service that does not answer marks the push push_failed; the live channel still completes the login', async () => {
    await withPusher();
    const { device } = await subscribed('carol', 'hang');
    const txid = (await asyncPush(p, 'carol')).body.response!['txid'] as string;
    await until('push_failed', async () => (await p.h.deps.store.getTransaction(txid))!.status === 'push_failed');
    const st = await authStatus(p, txid);
    expect(st['result']).toBe('waiting');
    expect(st['status_msg']).toContain('Open the Tandem Authenticator');
    const req = await listed(device, txid);
    expect((await device.decide(req, 'approve')).status).toBe(200);
    expect((await finalStatus(p, txid))['result']).toBe('allow');
  });

  it('does not contact an endpoint outside pushServiceHosts', async () => {
    await withPusher(['fcm.googleapis.com']);
    const { id } = await subscribed('dave');
    const before = service.messages().length + service.rejections().length;
    const txid = (await asyncPush(p, 'dave')).body.response!['txid'] as string;
    await until('push_failed', async () => (await p.h.deps.store.getTransaction(txid))!.status === 'push_failed');
    expect(service.messages().length + service.rejections().length).toBe(before);
    expect(service.messages().some((m) => m.id === id)).toBe(false);
  });

  it('a device without a subscription is reached by the live channel alone (status stays pushed)', async () => {
    await withPusher();
    const device = await deviceFor(p.h, 'erin');
    const txid = (await asyncPush(p, 'erin')).body.response!['txid'] as string;
    await listed(device, txid);
    expect((await p.h.deps.store.getTransaction(txid))!.status).toBe('pushed');
  });
});
