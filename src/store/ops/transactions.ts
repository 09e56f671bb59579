// Authentication transactions (push/phone waits) and their change notification.
import type { Kysely } from 'kysely';
import type { Store, TransactionRow } from '../contract.js';
import { changed, orConflict, type StoreContext } from '../context.js';
import { toTransaction } from '../rows.js';
import type { Database } from '../schema.js';

type TransactionOps = Pick<Store,
  | 'createTransaction' | 'getTransaction' | 'settleTransaction' | 'updatePendingStatus'
  | 'countStatusPoll' | 'listExpiredPending' | 'listPendingTransactions' | 'purgeTransactions' | 'onTransactionChange'>;

export function transactionOps(ctx: StoreContext): TransactionOps {
  const { db, notifier } = ctx;
  return {
    async createTransaction(row) {
      await orConflict(ctx, `transaction ${row.txid}`, () => insertTransaction(db, row));
    },

    async getTransaction(txid) {
      const row = await db.selectFrom('transactions').selectAll().where('txid', '=', txid).executeTakeFirst();
      return row && toTransaction(row);
    },

    settleTransaction(txid, { state, status, statusMsg, at }) {
      // `state = 'pending'` in the WHERE is what makes settling happen once.
      return notifier.apply(db, db.updateTable('transactions')
        .set((eb) => ({ state, status, status_msg: statusMsg, settled_at: at, version: eb('version', '+', 1) }))
        .where('txid', '=', txid)
        .where('state', '=', 'pending')
        .returning('txid'));
    },

    updatePendingStatus(txid, status, statusMsg) {
      return notifier.apply(db, db.updateTable('transactions')
        .set((eb) => ({ status, status_msg: statusMsg, version: eb('version', '+', 1) }))
        .where('txid', '=', txid)
        .where('state', '=', 'pending')
        .returning('txid'));
    },

    async countStatusPoll(txid) {
      // One statement: concurrent polls (from any node) each count once.
      const row = await db.updateTable('transactions')
        .set((eb) => ({ status_polls: eb('status_polls', '+', 1) }))
        .where('txid', '=', txid)
        .returning('status_polls')
        .executeTakeFirst();
      return row?.status_polls ?? 0;
    },

    async listExpiredPending(at, limit) {
      const rows = await db.selectFrom('transactions').select('txid')
        .where('state', '=', 'pending')
        .where('expires_at', '<=', at)
        .orderBy('expires_at').orderBy('txid')
        .limit(limit)
        .execute();
      return rows.map((r) => r.txid);
    },

    async listPendingTransactions(at, limit) {
      const rows = await db.selectFrom('transactions').selectAll()
        .where('state', '=', 'pending')
        .where('expires_at', '>', at)
        .orderBy('created_at').orderBy('txid')
        .limit(limit)
        .execute();
      return rows.map(toTransaction);
    },

    async purgeTransactions(before) {
      // settled_at is NULL while pending, so pending transactions never match.
      return changed(await db.deleteFrom('transactions').where('settled_at', '<', before).executeTakeFirst());
    },

    onTransactionChange(txid, listener) {
      return notifier.subscribe(txid, listener);
    },
  };
}

/** The transaction INSERT, shared with createPushTransaction (which adds it in its transaction). */
export async function insertTransaction(db: Kysely<Database>, row: TransactionRow): Promise<void> {
  await db.insertInto('transactions').values({
    txid: row.txid,
    integration_id: row.integrationId,
    user_id: row.userId,
    username: row.username,
    factor: row.factor,
    state: row.state,
    status: row.status,
    status_msg: row.statusMsg,
    version: row.version,
    created_at: row.createdAt,
    expires_at: row.expiresAt,
    settled_at: row.settledAt,
    context: row.context,
  }).execute();
}
