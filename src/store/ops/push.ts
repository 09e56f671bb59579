// Push transactions: their challenges, the per-user pending limit, the anti-fatigue counter and
// the "a user's pending pushes changed" notification (docs/push.md §2, §6).
import type { Store } from '../contract.js';
import { orConflict, type StoreContext } from '../context.js';
import { toPushChallenge, toTransaction } from '../rows.js';
import { insertTransaction } from './transactions.js';

type PushOps = Pick<Store,
  | 'createPushTransaction' | 'getPushChallenge' | 'listPendingPushes' | 'recordPushDenial'
  | 'clearPushDenials' | 'getPushPause' | 'onUserPushChange' | 'announcePushChange'>;

export function pushOps(ctx: StoreContext): PushOps {
  const { db, notifier } = ctx;

  const announce = async (userId: string) => {
    try {
      await notifier.announceUser(db, userId);
    } catch (err) {
      // The change itself committed; a lost wake-up only delays the app's long-poll until it
      // re-polls, so it must not turn a created push into a reported failure.
      process.emitWarning(`push change announcement failed: ${String(err)}`, 'TandemStoreWarning');
    }
  };

  return {
    async createPushTransaction(tx, challenge, maxPending, at) {
      if (tx.txid !== challenge.txid || tx.userId !== challenge.userId) {
        throw new Error('createPushTransaction: the challenge must be for the same txid and user as the transaction');
      }
      const outcome = await orConflict(ctx, `transaction ${tx.txid}`, () =>
        db.transaction().execute(async (trx) => {
          // Serialize per user, so the count below cannot be stale when we insert. SQLite: the
          // transaction began IMMEDIATE, holding the database's write lock already. PostgreSQL:
          // lock the user's row (NO KEY UPDATE: does not block FK checks of other inserts).
          if (ctx.backend === 'postgres') {
            await trx.selectFrom('users').select('id').where('id', '=', challenge.userId).forNoKeyUpdate().execute();
          }
          const { n } = await trx.selectFrom('push_challenges as c')
            .innerJoin('transactions as t', 't.txid', 'c.txid')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .where('c.user_id', '=', challenge.userId)
            .where('t.state', '=', 'pending')
            .where('t.expires_at', '>', at)
            .executeTakeFirstOrThrow();
          if (Number(n) >= maxPending) return 'too_many' as const;
          await insertTransaction(trx, tx);
          await trx.insertInto('push_challenges').values({
            txid: challenge.txid,
            user_id: challenge.userId,
            device_id: challenge.deviceId,
            nonce: challenge.nonce,
            match_code: challenge.matchCode,
            created_at: challenge.createdAt,
            expires_at: challenge.expiresAt,
          }).execute();
          return 'created' as const;
        }));
      // After the commit, so whoever wakes up reads the new push.
      if (outcome === 'created') await announce(challenge.userId);
      return outcome;
    },

    async getPushChallenge(txid) {
      const row = await db.selectFrom('push_challenges').selectAll().where('txid', '=', txid).executeTakeFirst();
      return row && toPushChallenge(row);
    },

    async listPendingPushes(userId, at) {
      const rows = await db.selectFrom('push_challenges as c')
        .innerJoin('transactions as t', 't.txid', 'c.txid')
        .leftJoin('integrations as i', 'i.id', 't.integration_id')
        .selectAll('t')
        .select([
          'c.user_id as c_user_id', 'c.device_id as c_device_id', 'c.nonce as c_nonce',
          'c.match_code as c_match_code', 'c.created_at as c_created_at', 'c.expires_at as c_expires_at',
          'i.ikey as i_ikey', 'i.name as i_name',
        ])
        .where('c.user_id', '=', userId)
        .where('t.state', '=', 'pending')
        .where('t.expires_at', '>', at)
        .orderBy('c.created_at').orderBy('c.txid')
        .execute();
      return rows.map(({ c_user_id, c_device_id, c_nonce, c_match_code, c_created_at, c_expires_at, i_ikey, i_name, ...t }) => ({
        challenge: toPushChallenge({
          txid: t.txid,
          user_id: c_user_id,
          device_id: c_device_id,
          nonce: c_nonce,
          match_code: c_match_code,
          created_at: c_created_at,
          expires_at: c_expires_at,
        }),
        tx: toTransaction(t),
        ikey: i_ikey ?? '',
        integrationName: i_name ?? '',
      }));
    },

    async recordPushDenial(userId, at, threshold, cooldownMs) {
      const pausedUntil = at + cooldownMs;
      // The first denial inserts the row (already pausing if threshold <= 1); later ones update
      // it in the same statement, where `denials + 1` reads the old row, so concurrent denials
      // each count once and exactly one of them reaches the threshold. INSERT … SELECT from
      // users: an unknown user gets no row (like recordFailure), not a foreign-key error.
      const first = threshold <= 1 ? { denials: 0, paused: pausedUntil } : { denials: 1, paused: null };
      const row = await db.insertInto('push_fatigue')
        .columns(['user_id', 'denials', 'paused_until'])
        .expression((eb) => eb.selectFrom('users')
          .select((s) => [
            s.ref('id').as('user_id'),
            s.cast<number>(s.val(first.denials), 'integer').as('denials'),
            s.cast<number | null>(s.val(first.paused), 'bigint').as('paused_until'),
          ])
          .where('id', '=', userId))
        .onConflict((oc) => oc.column('user_id').doUpdateSet((eb) => {
          const reached = eb(eb('push_fatigue.denials', '+', 1), '>=', threshold);
          return {
            denials: eb.case().when(reached).then(0).else(eb('push_fatigue.denials', '+', 1)).end(),
            paused_until: eb.case().when(reached).then(pausedUntil).else(eb.ref('push_fatigue.paused_until')).end(),
          };
        }))
        .returning(['denials', 'paused_until'])
        .executeTakeFirst();
      return row ? { denials: row.denials, pausedUntil: row.paused_until } : { denials: 0, pausedUntil: null };
    },

    async clearPushDenials(userId) {
      await db.updateTable('push_fatigue').set({ denials: 0 }).where('user_id', '=', userId).execute();
    },

    async getPushPause(userId) {
      const row = await db.selectFrom('push_fatigue').select('paused_until').where('user_id', '=', userId).executeTakeFirst();
      return row?.paused_until ?? null;
    },

    onUserPushChange(userId, listener) {
      return notifier.subscribeUser(userId, listener);
    },

    announcePushChange(userId) {
      return notifier.announceUser(db, userId);
    },
  };
}
