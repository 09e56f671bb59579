// Bypass codes: stored as HMACs, used up atomically.
import type { Store } from '../contract.js';
import { changed, orConflict, type StoreContext } from '../context.js';
import { toBypassCode } from '../rows.js';

type BypassOps = Pick<Store, 'addBypassCodes' | 'listBypassCodes' | 'clearBypassCodes' | 'consumeBypassCode'>;

export function bypassCodeOps(ctx: StoreContext): BypassOps {
  const { db } = ctx;
  return {
    async addBypassCodes(userId, rows, replace) {
      for (const row of rows) {
        if (row.userId !== userId) throw new Error(`bypass code ${row.id} belongs to ${row.userId}, not ${userId}`);
      }
      await orConflict(ctx, 'bypass code', () =>
        db.transaction().execute(async (trx) => {
          if (replace) await trx.deleteFrom('bypass_codes').where('user_id', '=', userId).execute();
          if (rows.length === 0) return;
          await trx.insertInto('bypass_codes').values(rows.map((r) => ({
            id: r.id,
            user_id: userId,
            code_hmac: r.codeHmac,
            uses_remaining: r.usesRemaining,
            expires_at: r.expiresAt,
            created_at: r.createdAt,
          }))).execute();
        }));
    },

    async listBypassCodes(userId) {
      const rows = await db.selectFrom('bypass_codes').selectAll().where('user_id', '=', userId)
        .orderBy('created_at').orderBy('id').execute();
      return rows.map(toBypassCode);
    },

    async clearBypassCodes(userId) {
      return changed(await db.deleteFrom('bypass_codes').where('user_id', '=', userId).executeTakeFirst());
    },

    async consumeBypassCode(userId, codeHmac, at) {
      return db.transaction().execute(async (trx) => {
        // The conditional decrement is the use: concurrent callers of a last use block on the row
        // and then no longer match `uses_remaining > 0` (or find it deleted). NULL - 1 is NULL,
        // so an unlimited code stays unlimited.
        const used = await trx.updateTable('bypass_codes')
          .set((eb) => ({ uses_remaining: eb('uses_remaining', '-', 1) }))
          .where('user_id', '=', userId)
          .where('code_hmac', '=', codeHmac)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
          .where((eb) => eb.or([eb('uses_remaining', 'is', null), eb('uses_remaining', '>', 0)]))
          .returning(['id', 'uses_remaining'])
          .executeTakeFirst();
        if (!used) return false;
        if (used.uses_remaining === 0) await trx.deleteFrom('bypass_codes').where('id', '=', used.id).execute();
        return true;
      });
    },
  };
}
