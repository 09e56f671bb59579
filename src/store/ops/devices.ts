// Tandem Authenticator devices and their single-use activation codes.
import type { Store } from '../contract.js';
import { changed, orConflict, type StoreContext } from '../context.js';
import { toActivation, toDevice } from '../rows.js';
import { insertToken } from './tokens.js';

type DeviceOps = Pick<Store,
  | 'createActivation' | 'getActivation' | 'consumeActivation' | 'getDevice' | 'listDevices'
  | 'removeDevice' | 'setDeviceSubscription' | 'touchDevice'>;

export function deviceOps(ctx: StoreContext): DeviceOps {
  const { db } = ctx;
  return {
    async createActivation(row) {
      await orConflict(ctx, 'activation code', () =>
        db.insertInto('activations').values({
          code_hash: row.codeHash,
          user_id: row.userId,
          created_at: row.createdAt,
          expires_at: row.expiresAt,
          used_at: row.usedAt,
          device_id: row.deviceId,
        }).execute());
    },

    async getActivation(codeHash) {
      const row = await db.selectFrom('activations').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
      return row && toActivation(row);
    },

    consumeActivation(codeHash, at, device, token) {
      return orConflict(ctx, `device ${device.id} or token ${token.id}`, () =>
        db.transaction().execute(async (trx) => {
          // Marking it used is the check: of concurrent uses, the first to write wins and the
          // rest match no row (PostgreSQL re-checks the WHERE after waiting on the row lock).
          const used = await trx.updateTable('activations')
            .set({ used_at: at, device_id: device.id })
            .where('code_hash', '=', codeHash)
            .where('used_at', 'is', null)
            .where('expires_at', '>', at)
            .returningAll()
            .executeTakeFirst();
          if (!used) return undefined;
          // A device for someone else than the activation's user is a caller bug: throwing
          // rolls the use back rather than giving one user's code to another user's device.
          if (device.userId !== used.user_id || token.userId !== used.user_id || device.tokenId !== token.id) {
            throw new Error(`consumeActivation: device/token do not belong to the activation's user`);
          }
          await insertToken(trx, token);
          await trx.insertInto('devices').values({
            id: device.id,
            user_id: device.userId,
            name: device.name,
            public_key_jwk: device.publicKeyJwk,
            token_id: device.tokenId,
            push_subscription: device.pushSubscription,
            created_at: device.createdAt,
            last_seen_at: device.lastSeenAt,
          }).execute();
          return toActivation(used);
        }));
    },

    async getDevice(id) {
      const row = await db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDevice(row);
    },

    async listDevices(userId) {
      const rows = await db.selectFrom('devices').selectAll().where('user_id', '=', userId)
        .orderBy('created_at').orderBy('id').execute();
      return rows.map(toDevice);
    },

    removeDevice(id) {
      return db.transaction().execute(async (trx) => {
        const gone = await trx.deleteFrom('devices').where('id', '=', id).returning('token_id').executeTakeFirst();
        if (!gone) return false;
        await trx.deleteFrom('tokens').where('id', '=', gone.token_id).execute();
        return true;
      });
    },

    async setDeviceSubscription(id, subscription) {
      const result = await db.updateTable('devices').set({ push_subscription: subscription }).where('id', '=', id).executeTakeFirst();
      return changed(result) > 0;
    },

    async touchDevice(id, at) {
      await db.updateTable('devices').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
  };
}
