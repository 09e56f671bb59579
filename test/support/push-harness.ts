// What the push tests share: an in-process Tandem (test/support/harness.ts) with short push
// timers, a user with an activated ScriptedDevice talking through fastify.inject, and helpers to
// start logins and wait for the device to see them.
import { createActivation } from '../../src/core/devices.js';
import { createIntegration } from '../../src/core/integrations.js';
import { createUser } from '../../src/core/users.js';
import type { Settings } from '../../src/config/settings.js';
import type { PushPolicy } from '../../src/store/contract.js';
import { ScriptedDevice, injectTransport, type ListedRequest } from './device.js';
import { call, startHarness, type Creds, type Harness } from './harness.js';

export interface PushHarness {
  h: Harness;
  creds: Creds;
}

export async function startPushHarness(settings: Partial<Record<keyof Settings, unknown>> = {}, policy: PushPolicy = {}): Promise<PushHarness> {
  const h = await startHarness({
    settings: { longPollSeconds: 1, transactionTimeoutSeconds: 30, pushTimeoutSeconds: 30, rateLimitUserPerMinute: 10_000, rateLimitIntegrationPerMinute: 100_000, ...settings },
  });
  const r = await createIntegration(h.deps, { name: 'bastion hosts' });
  if (Object.keys(policy).length > 0) await h.deps.store.setIntegrationPushPolicy(r.integration.ikey, policy);
  return { h, creds: { ikey: r.integration.ikey, skey: r.skey } };
}

/** A user (created unless it exists) with a freshly activated device. */
export async function deviceFor(h: Harness, username: string, name = 'Pixel'): Promise<ScriptedDevice> {
  if (!(await h.deps.store.findUserByName(username))) await createUser(h.deps, username);
  const a = await createActivation(h.deps, username);
  return ScriptedDevice.activate('https://api.tandem.test', a.code, { ca: '', name, transport: injectTransport(h.app) });
}

export const LOGIN = { hostname: 'bastion.example.org', ipaddr: '203.0.113.7', pushinfo: 'Server+IP=192.0.2.2&Command=sudo%20ls%20-l' };

/** An async push on /auth/v2 (factor=push, device=auto unless given). */
export async function asyncPush(p: PushHarness, username: string, extra: Record<string, string> = {}) {
  const r = await call(p.h, p.creds, 'POST', '/auth/v2/auth', { username, factor: 'push', device: 'auto', async: '1', ...LOGIN, ...extra });
  return r;
}

export async function authStatus(p: PushHarness, txid: string) {
  return (await call(p.h, p.creds, 'GET', '/auth/v2/auth_status', { txid })).body.response as Record<string, unknown>;
}

/** Poll auth_status until the transaction has a result (each poll holds at most longPollSeconds). */
export async function finalStatus(p: PushHarness, txid: string, maxPolls = 10): Promise<Record<string, unknown>> {
  let r = await authStatus(p, txid);
  for (let i = 0; r['result'] === 'waiting' && i < maxPolls; i++) r = await authStatus(p, txid);
  return r;
}

/** The device's listed request for `txid`, waiting briefly until it shows up. */
export async function listed(device: ScriptedDevice, txid: string): Promise<ListedRequest & Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const l = await device.requests();
    const hit = l.requests.find((r: { txid: string }) => r.txid === txid);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`request ${txid} was never listed`);
}

/** The first listed request, waiting briefly for one (sync logins: the txid is not known yet). */
export async function firstListed(device: ScriptedDevice): Promise<ListedRequest & Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const l = await device.requests();
    if (l.requests.length > 0) return l.requests[0];
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no request was ever listed');
}

export async function auditEntries(h: Harness, event: string) {
  return (await h.deps.store.queryAudit({ event, limit: 1000 })).map((e) => ({ ...e, detailJson: JSON.parse(e.detail) as Record<string, unknown> }));
}
