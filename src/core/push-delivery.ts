// Web Push delivery of a new push (docs/push.md §4). The live channel needs nothing from here:
// the store announces every new push to held `GET /app/api/requests` polls on every node.
// Web Push wakes a phone whose app is closed. It runs beside the login, never in its way: the
// login does not wait for a push service, and a push service that fails only marks the
// transaction `push_failed` (still pending: the live channel and the next app open deliver).
import type { DeviceRow, PendingPush } from '../store/contract.js';
import type { Deps } from './deps.js';

export function verificationMessage(code: string): string {
  return `Verification code ${code}: enter it in the Tandem Authenticator.`;
}

export const PUSH_FAILED_MSG = 'Could not reach your phone. Open the Tandem Authenticator to see the request.';

/** What the service worker receives: enough for a notification, nothing a login could use. */
export interface PushPayload {
  kind: 'login-request';
  txid: string;
  username: string;
  hostname: string | null;
}

export async function deliverWebPush(deps: Deps, pending: PendingPush, devices: readonly DeviceRow[]): Promise<'none' | 'sent' | 'failed'> {
  const pusher = deps.pusher;
  const { challenge, tx } = pending;
  const targets = devices.filter((d) => d.pushSubscription !== null && (challenge.deviceId === null || d.id === challenge.deviceId));
  if (!pusher || targets.length === 0) return 'none';
  const context = JSON.parse(tx.context) as { hostname?: unknown };
  const payload: PushPayload = { kind: 'login-request', txid: tx.txid, username: tx.username, hostname: typeof context.hostname === 'string' ? context.hostname : null };
  const ttl = Math.max(Math.ceil((challenge.expiresAt - deps.clock.now()) / 1000), 1);
  const outcomes = await Promise.all(
    targets.map(async (d) => {
      const outcome = await pusher.send(d.pushSubscription!, payload, ttl);
      // The push service forgot the subscription (app uninstalled, permission revoked).
      if (outcome === 'gone') await deps.store.setDeviceSubscription(d.id, null);
      return outcome;
    }),
  );
  if (outcomes.includes('sent')) return 'sent';
  // duo_unix prints status_msg: with number matching the code must stay in it.
  const msg = challenge.matchCode !== null ? `${verificationMessage(challenge.matchCode)} ${PUSH_FAILED_MSG}` : PUSH_FAILED_MSG;
  await deps.store.updatePendingStatus(tx.txid, 'push_failed', msg);
  return 'failed';
}
