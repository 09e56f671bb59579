// OTP tokens and the accept-once counter.
import type { Kysely } from 'kysely';
import type { Store, TokenRow } from '../contract.js';
import { changed, orConflict, type StoreContext } from '../context.js';
import { toToken } from '../rows.js';
import type { Database } from '../schema.js';

type TokenOps = Pick<Store, 'addToken' | 'listTokens' | 'getToken' | 'removeToken' | 'acceptOtp' | 'setTokenCounter'>;

export function tokenOps(ctx: StoreContext): TokenOps {
  const { db } = ctx;
  return {
    async addToken(row) {
      await orConflict(ctx, `token ${row.id}`, () => insertToken(db, row));
    },

    async listTokens(userId) {
      const rows = await db.selectFrom('tokens').selectAll().where('user_id', '=', userId)
        .orderBy('created_at').orderBy('id').execute();
      return rows.map(toToken);
    },

    async getToken(id) {
      const row = await db.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toToken(row);
    },

    async removeToken(id) {
      return changed(await db.deleteFrom('tokens').where('id', '=', id).executeTakeFirst()) > 0;
    },

    async acceptOtp(tokenId, value) {
      integer(value);
      // The check and the move are one conditional UPDATE: of concurrent callers presenting the
      // same value, the first to write moves next_counter past it and the rest match no row.
      const result = await db.updateTable('tokens')
        .set({ next_counter: value + 1 })
        .where('id', '=', tokenId)
        .where('next_counter', '<=', value)
        .executeTakeFirst();
      return changed(result) > 0;
    },

    async setTokenCounter(tokenId, nextCounter) {
      integer(nextCounter);
      return changed(await db.updateTable('tokens').set({ next_counter: nextCounter }).where('id', '=', tokenId).executeTakeFirst()) > 0;
    },
  };
}

/** The token INSERT, shared with consumeActivation (which adds the device's token in its transaction). */
export async function insertToken(db: Kysely<Database>, row: TokenRow): Promise<void> {
  await db.insertInto('tokens').values({
    id: row.id,
    user_id: row.userId,
    type: row.type,
    secret_sealed: row.secretSealed,
    digits: row.digits,
    algorithm: row.algorithm,
    period: row.period,
    next_counter: row.nextCounter,
    created_at: row.createdAt,
  }).execute();
}

function integer(n: number): void {
  if (!Number.isSafeInteger(n)) throw new TypeError(`OTP counter must be a safe integer, got ${n}`);
}
