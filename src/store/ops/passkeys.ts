// Passkeys: WebAuthn credentials a Tandem Authenticator registered (docs/push.md §8). The counter
// moves only forward, in one conditional UPDATE, so of two uses of one counter value one fails.
import type { Store } from '../contract.js';
import { changed, orConflict, type StoreContext } from '../context.js';
import { toPasskey } from '../rows.js';

type PasskeyOps = Pick<Store, 'addPasskey' | 'listPasskeys' | 'getPasskey' | 'updatePasskeyCounter'>;

export function passkeyOps(ctx: StoreContext): PasskeyOps {
  const { db } = ctx;
  return {
    async addPasskey(row) {
      if (!Number.isSafeInteger(row.counter) || row.counter < 0) throw new RangeError('passkey counter must be a non-negative integer');
      await orConflict(ctx, `passkey ${row.credentialId}`, () =>
        db.transaction().execute(async (trx) => {
          // The device must be the user's: a passkey can never cover another user's approvals.
          const device = await trx.selectFrom('devices').select('user_id').where('id', '=', row.deviceId).executeTakeFirst();
          if (!device || device.user_id !== row.userId) throw new Error(`addPasskey: device ${row.deviceId} is not a device of user ${row.userId}`);
          await trx.insertInto('passkeys').values({
            credential_id: row.credentialId,
            device_id: row.deviceId,
            user_id: row.userId,
            public_key: row.publicKey,
            counter: row.counter,
            transports: JSON.stringify(row.transports),
            created_at: row.createdAt,
          }).execute();
        }));
    },

    async listPasskeys(deviceId) {
      const rows = await db.selectFrom('passkeys').selectAll().where('device_id', '=', deviceId)
        .orderBy('created_at').orderBy('credential_id').execute();
      return rows.map(toPasskey);
    },

    async getPasskey(credentialId) {
      const row = await db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
      return row && toPasskey(row);
    },

    async updatePasskeyCounter(credentialId, newCounter) {
      if (!Number.isSafeInteger(newCounter) || newCounter < 0) return false;
      const result = await db.updateTable('passkeys')
        .set({ counter: newCounter })
        .where('credential_id', '=', credentialId)
        // Forward only; 0 → 0 is the one repeat allowed (an authenticator that does not count).
        .where('counter', newCounter === 0 ? '=' : '<', newCounter)
        .executeTakeFirst();
      return changed(result) > 0;
    },
  };
}
