// Single-use enrollment links.
import type { Store } from '../contract.js';
import { orConflict, type StoreContext } from '../context.js';
import { toEnrollToken } from '../rows.js';

type EnrollOps = Pick<Store, 'createEnrollToken' | 'consumeEnrollToken'>;

export function enrollmentOps(ctx: StoreContext): EnrollOps {
  const { db } = ctx;
  return {
    async createEnrollToken(row) {
      await orConflict(ctx, 'enrollment token', () =>
        db.insertInto('enroll_tokens').values({
          token_hash: row.tokenHash,
          integration_id: row.integrationId,
          username: row.username,
          created_at: row.createdAt,
          expires_at: row.expiresAt,
          used_at: row.usedAt,
        }).execute());
    },

    async consumeEnrollToken(tokenHash, at) {
      // Marking it used is the check: a second (or concurrent) use matches no row.
      const row = await db.updateTable('enroll_tokens')
        .set({ used_at: at })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at)
        .returningAll()
        .executeTakeFirst();
      return row && toEnrollToken(row);
    },
  };
}
