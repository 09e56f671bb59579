// The audit log: one hash chain per node.
import { sql } from 'kysely';
import { AUDIT_GENESIS, type AuditEntry, type Store } from '../contract.js';
import { byCodeUnits, type StoreContext } from '../context.js';
import { toAuditEntry } from '../rows.js';

type AuditOps = Pick<Store, 'appendAudit' | 'readAuditChain' | 'listAuditNodes' | 'queryAudit' | 'countAudit'>;

export function auditOps(ctx: StoreContext): AuditOps {
  const { db } = ctx;
  return {
    appendAudit(entry, hash) {
      return db.transaction().execute(async (trx) => {
        // Create-or-lock the node's head row and read it, in one statement. The no-op DO UPDATE
        // is there for its row lock (PostgreSQL: a concurrent append waits here, then sees the
        // head it committed); SQLite already holds the write lock from BEGIN IMMEDIATE.
        const head = await trx.insertInto('audit_heads')
          .values({ node_id: entry.nodeId, seq: 0, hash: AUDIT_GENESIS })
          .onConflict((oc) => oc.column('node_id').doUpdateSet((eb) => ({ seq: eb.ref('audit_heads.seq') })))
          .returning(['seq', 'hash'])
          .executeTakeFirstOrThrow();
        const seq = head.seq + 1;
        const appended: AuditEntry = { ...entry, seq, prevHash: head.hash, hash: hash(head.hash, seq) };
        // UNIQUE (node_id, seq) backs the head lock: a second entry at one seq cannot exist.
        await trx.insertInto('audit_log').values({
          node_id: appended.nodeId,
          seq,
          time: appended.time,
          event: appended.event,
          integration: appended.integration,
          username: appended.username,
          factor: appended.factor,
          result: appended.result,
          reason: appended.reason,
          ipaddr: appended.ipaddr,
          hostname: appended.hostname,
          txid: appended.txid,
          detail: appended.detail,
          prev_hash: appended.prevHash,
          hash: appended.hash,
        }).execute();
        await trx.updateTable('audit_heads').set({ seq, hash: appended.hash }).where('node_id', '=', entry.nodeId).execute();
        return appended;
      });
    },

    async readAuditChain(nodeId, afterSeq, limit) {
      const rows = await db.selectFrom('audit_log').selectAll()
        .where('node_id', '=', nodeId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(toAuditEntry);
    },

    async listAuditNodes() {
      const rows = await db.selectFrom('audit_heads').select('node_id').execute();
      return rows.map((r) => r.node_id).sort(byCodeUnits);
    },

    async queryAudit(q) {
      let query = db.selectFrom('audit_log').selectAll();
      if (q.username !== undefined) query = query.where('username', '=', q.username);
      if (q.event !== undefined) query = query.where('event', '=', q.event);
      if (q.events !== undefined) query = query.where('event', 'in', q.events.length > 0 ? q.events : ['']);
      if (q.integration !== undefined) query = query.where('integration', '=', q.integration);
      if (q.result !== undefined) query = query.where('result', '=', q.result);
      if (q.factor !== undefined) query = query.where('factor', '=', q.factor);
      if (q.since !== undefined) query = query.where('time', '>=', q.since);
      if (q.until !== undefined) query = query.where('time', '<=', q.until);
      query = query.orderBy('time', 'desc').orderBy('seq', 'desc').orderBy('node_id');
      // No limit given: everything that matches (the caller chose not to bound it).
      if (q.limit !== undefined) query = query.limit(q.limit);
      return (await query.execute()).map(toAuditEntry);
    },

    async countAudit(q) {
      if (!Number.isSafeInteger(q.bucketMs) || q.bucketMs <= 0) throw new Error('bucketMs must be a positive integer');
      // Integer division on both backends (time is INTEGER in SQLite, BIGINT in PostgreSQL).
      const bucket = sql<number | string>`(${sql.ref('time')} / ${sql.lit(q.bucketMs)}) * ${sql.lit(q.bucketMs)}`;
      const rows = await db.selectFrom('audit_log')
        .select([bucket.as('bucket'), 'result', 'factor', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('time', '>=', q.since)
        .where('time', '<=', q.until)
        .where('event', 'in', q.events.length > 0 ? q.events : [''])
        .groupBy([bucket, 'result', 'factor'])
        .execute();
      return rows
        .map((r) => ({ bucket: Number(r.bucket), result: r.result, factor: r.factor, count: Number(r.n) }))
        .sort((a, b) => a.bucket - b.bucket || byCodeUnits(a.result, b.result) || byCodeUnits(a.factor ?? '', b.factor ?? ''));
    },
  };
}
