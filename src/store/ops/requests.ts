// Records of signed requests, for replay detection and retransmission of the same answer.
import type { Store } from '../contract.js';
import { changed, type StoreContext } from '../context.js';
import { toRequestRecord } from '../rows.js';

type RequestOps = Pick<Store, 'rememberRequest' | 'restartRequest' | 'setRequestResponse' | 'markRequestDelivered' | 'getRequest' | 'purgeRequests'>;

export function requestOps(ctx: StoreContext): RequestOps {
  const { db } = ctx;
  const get = async (key: string) => {
    const row = await db.selectFrom('request_records').selectAll().where('key', '=', key).executeTakeFirst();
    return row && toRequestRecord(row);
  };
  return {
    async rememberRequest(row) {
      // The insert decides who saw the request first; only a loser reads. If the existing record
      // is purged between the two statements, insert again rather than report a phantom.
      for (let attempt = 0; attempt < 3; attempt++) {
        const inserted = await db.insertInto('request_records')
          .values({
            key: row.key,
            integration_id: row.integrationId,
            peer: row.peer,
            created_at: row.createdAt,
            expires_at: row.expiresAt,
            response: null,
            delivered: ctx.bool(false),
          })
          .onConflict((oc) => oc.column('key').doNothing())
          .returning('key')
          .executeTakeFirst();
        if (inserted) return 'inserted';
        const existing = await get(row.key);
        if (existing) return existing;
      }
      throw new Error(`request record ${row.key} keeps disappearing (purge racing rememberRequest)`);
    },

    async restartRequest(row) {
      await db.updateTable('request_records')
        .set({ integration_id: row.integrationId, peer: row.peer, created_at: row.createdAt, expires_at: row.expiresAt, response: null, delivered: ctx.bool(false) })
        .where('key', '=', row.key)
        .execute();
    },

    async setRequestResponse(key, response) {
      await db.updateTable('request_records').set({ response }).where('key', '=', key).execute();
    },

    async markRequestDelivered(key) {
      await db.updateTable('request_records').set({ delivered: ctx.bool(true) }).where('key', '=', key).execute();
    },

    getRequest: get,

    async purgeRequests(before) {
      // By expiry, not creation: a record still inside its replay window is never purged early.
      return changed(await db.deleteFrom('request_records').where('expires_at', '<', before).executeTakeFirst());
    },
  };
}
