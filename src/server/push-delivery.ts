// Web Push for the Tandem Authenticator (docs/push.md §4), composed at server start: the VAPID
// key pair is made once and kept sealed in the store, so every node of a cluster signs with the
// same key and subscriptions survive restarts.
import { endpointAllowed, generateVapidKeys, parseSubscription, WebPushChannel, type VapidKeys } from '../channels/web-push.js';
import type { DevicePusher, Deps } from '../core/deps.js';

const VAPID_SECRET = 'vapid';
const VAPID_AAD = 'server-secret/vapid';
/** A push service that does not answer within this is treated as unreachable (the live channel still delivers). */
const SEND_TIMEOUT_MS = 10_000;

async function vapidKeys(deps: Deps): Promise<VapidKeys> {
  const fresh = deps.keyring.seal('server-secret', VAPID_AAD, JSON.stringify(generateVapidKeys()));
  // Another node may have won the race: whatever is stored is the key pair.
  const stored = await deps.store.putSecretIfAbsent(VAPID_SECRET, fresh, deps.clock.now());
  const keys = JSON.parse(deps.keyring.unseal('server-secret', VAPID_AAD, stored).toString('utf8')) as VapidKeys;
  return { publicKey: keys.publicKey, privateKey: keys.privateKey };
}

/** `subject` is the VAPID contact (RFC 8292 §2.1): the server's public https URL. */
export async function openDevicePusher(deps: Deps, subject: string, opts: { ca?: string; timeoutMs?: number } = {}): Promise<DevicePusher> {
  const vapid = await vapidKeys(deps);
  const channel = new WebPushChannel({ vapid, subject, timeoutMs: opts.timeoutMs ?? SEND_TIMEOUT_MS, ...(opts.ca ? { ca: opts.ca } : {}) });
  return {
    vapidPublicKey: vapid.publicKey,
    async send(subscription, payload, ttlSeconds) {
      let endpoint: string;
      let sub;
      try {
        sub = parseSubscription(JSON.parse(subscription));
        endpoint = sub.endpoint;
      } catch {
        deps.log.warn('web push: stored subscription is not valid; dropping it');
        return 'gone';
      }
      if (!endpointAllowed(endpoint, deps.settings.pushServiceHosts)) {
        deps.log.warn('web push: endpoint host is not in pushServiceHosts; not sending', { host: new URL(endpoint).hostname });
        return 'failed';
      }
      const r = await channel.send(sub, payload, { ttlSeconds, urgency: 'high' });
      if (r.outcome !== 'sent') deps.log.info('web push not delivered', { outcome: r.outcome, status: r.status, detail: r.detail, host: new URL(endpoint).hostname });
      return r.outcome;
    },
  };
}
