// The enrollment portal's rows: links read without using them, portal sessions (by the SHA-256 of
// the cookie's id), and enrollments held for an admin's approval. Every change that guards
// something is one conditional statement: a pending seed is taken once, a held enrollment decided
// once; approving a held TOTP and adding its token is one transaction.
import type { Selectable } from 'kysely';
import type { PendingEnrollmentKind, PendingEnrollmentRow, PendingEnrollmentState, PortalSessionRow, Store } from '../contract.js';
import { changed, orConflict, type StoreContext } from '../context.js';
import { toEnrollToken } from '../rows.js';
import { insertToken } from './tokens.js';
import type { PendingEnrollmentsTable, PortalSessionsTable } from '../schema.js';

type PortalOps = Pick<
  Store,
  | 'getEnrollToken'
  | 'createPortalSession'
  | 'getPortalSession'
  | 'setPortalProved'
  | 'setPortalPendingTotp'
  | 'takePortalPendingTotp'
  | 'deletePortalSession'
  | 'createPendingEnrollment'
  | 'getPendingEnrollment'
  | 'listPendingEnrollments'
  | 'decidePendingEnrollment'
  | 'approvePendingTotp'
  | 'setIntegrationEnrollmentApproval'
>;

const toSession = (r: Selectable<PortalSessionsTable>): PortalSessionRow => ({
  idHash: r.id_hash,
  userId: r.user_id,
  integrationId: r.integration_id,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  provedAt: r.proved_at === null ? null : Number(r.proved_at),
  pendingTotpSealed: r.pending_totp_sealed,
});

const toPending = (r: Selectable<PendingEnrollmentsTable>): PendingEnrollmentRow => ({
  id: r.id,
  userId: r.user_id,
  integrationId: r.integration_id,
  kind: r.kind as PendingEnrollmentKind,
  secretSealed: r.secret_sealed,
  nextCounter: Number(r.next_counter),
  state: r.state as PendingEnrollmentState,
  createdAt: Number(r.created_at),
  decidedAt: r.decided_at === null ? null : Number(r.decided_at),
});

export function portalOps(ctx: StoreContext): PortalOps {
  const { db } = ctx;
  return {
    async getEnrollToken(tokenHash) {
      const row = await db.selectFrom('enroll_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row && toEnrollToken(row);
    },

    async createPortalSession(row) {
      await orConflict(ctx, 'portal session', () =>
        db.insertInto('portal_sessions').values({
          id_hash: row.idHash,
          user_id: row.userId,
          integration_id: row.integrationId,
          created_at: row.createdAt,
          expires_at: row.expiresAt,
          proved_at: row.provedAt,
          pending_totp_sealed: row.pendingTotpSealed,
        }).execute());
    },

    async getPortalSession(idHash, at) {
      const row = await db.selectFrom('portal_sessions').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', at).executeTakeFirst();
      return row && toSession(row);
    },

    async setPortalProved(idHash, at) {
      return changed(await db.updateTable('portal_sessions').set({ proved_at: at }).where('id_hash', '=', idHash).executeTakeFirst()) > 0;
    },

    async setPortalPendingTotp(idHash, sealed) {
      return changed(await db.updateTable('portal_sessions').set({ pending_totp_sealed: sealed }).where('id_hash', '=', idHash).executeTakeFirst()) > 0;
    },

    async takePortalPendingTotp(idHash, sealed) {
      const r = await db.updateTable('portal_sessions').set({ pending_totp_sealed: null }).where('id_hash', '=', idHash).where('pending_totp_sealed', '=', sealed).executeTakeFirst();
      return changed(r) > 0;
    },

    async deletePortalSession(idHash) {
      return changed(await db.deleteFrom('portal_sessions').where('id_hash', '=', idHash).executeTakeFirst()) > 0;
    },

    async createPendingEnrollment(row) {
      await orConflict(ctx, 'pending enrollment', () =>
        db.insertInto('pending_enrollments').values({
          id: row.id,
          user_id: row.userId,
          integration_id: row.integrationId,
          kind: row.kind,
          secret_sealed: row.secretSealed,
          next_counter: row.nextCounter,
          state: row.state,
          created_at: row.createdAt,
          decided_at: row.decidedAt,
        }).execute());
    },

    async getPendingEnrollment(id) {
      const row = await db.selectFrom('pending_enrollments').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPending(row);
    },

    async listPendingEnrollments(all = false) {
      let q = db.selectFrom('pending_enrollments').selectAll();
      if (!all) q = q.where('state', '=', 'pending');
      return (await q.orderBy('created_at').orderBy('id').execute()).map(toPending);
    },

    async decidePendingEnrollment(id, state, at) {
      const row = await db.updateTable('pending_enrollments')
        .set({ state, decided_at: at })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
      return row && { ...toPending(row), state: 'pending' as const, decidedAt: null };
    },

    async approvePendingTotp(id, token, at) {
      return orConflict(ctx, `token ${token.id}`, () =>
        db.transaction().execute(async (trx) => {
          const row = await trx.updateTable('pending_enrollments')
            .set({ state: 'approved', decided_at: at })
            .where('id', '=', id)
            .where('state', '=', 'pending')
            .where('kind', '=', 'totp')
            .where('user_id', '=', token.userId)
            .returningAll()
            .executeTakeFirst();
          if (!row) return undefined;
          // A failure here (a token id already taken, the user gone) rolls the approval back.
          await insertToken(trx, token);
          return { ...toPending(row), state: 'pending' as const, decidedAt: null };
        }));
    },

    async setIntegrationEnrollmentApproval(ikey, approval) {
      return changed(await db.updateTable('integrations').set({ enrollment_approval: approval }).where('ikey', '=', ikey).executeTakeFirst()) > 0;
    },
  };
}
