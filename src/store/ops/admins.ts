// Console administrators and their sessions. Every guard is one conditional statement or one
// transaction: a setup token is used once, a TOTP step accepted once, a failure counted once, a
// session touched only while it is live.
import type { Selectable } from 'kysely';
import type { AdminRow, AdminSessionRow, AdminStatus, Store } from '../contract.js';
import { byCodeUnits, changed, orConflict, type StoreContext } from '../context.js';
import type { AdminSessionsTable, AdminsTable } from '../schema.js';

type AdminOps = Pick<Store,
  | 'createAdmin' | 'getAdmin' | 'findAdminByName' | 'findAdminBySetupToken' | 'listAdmins' | 'resetAdmin'
  | 'completeAdminSetup' | 'setAdminStatus' | 'acceptAdminTotp' | 'recordAdminFailure' | 'clearAdminFailures'
  | 'createAdminSession' | 'touchAdminSession' | 'setAdminSessionReauth' | 'deleteAdminSession' | 'purgeAdminSessions'>;

const toAdmin = (r: Selectable<AdminsTable>): AdminRow => ({
  id: r.id,
  name: r.name,
  passwordHash: r.password_hash,
  totpSealed: r.totp_sealed,
  totpNextStep: Number(r.totp_next_step),
  status: r.status as AdminStatus,
  failures: Number(r.failures),
  lockedUntil: r.locked_until === null ? null : Number(r.locked_until),
  createdAt: Number(r.created_at),
  setupTokenHash: r.setup_token_hash,
  setupExpiresAt: r.setup_expires_at === null ? null : Number(r.setup_expires_at),
  setupUsedAt: r.setup_used_at === null ? null : Number(r.setup_used_at),
});

const toSession = (r: Selectable<AdminSessionsTable>): AdminSessionRow => ({
  idHash: r.id_hash,
  adminId: r.admin_id,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  expiresAt: Number(r.expires_at),
  reauthAt: r.reauth_at === null ? null : Number(r.reauth_at),
});

export function adminOps(ctx: StoreContext): AdminOps {
  const { db } = ctx;
  const one = async (by: 'id' | 'name' | 'setup_token_hash', value: string): Promise<AdminRow | undefined> => {
    const row = await db.selectFrom('admins').selectAll().where(by, '=', value).executeTakeFirst();
    return row && toAdmin(row);
  };
  return {
    async createAdmin(row) {
      await orConflict(ctx, `admin ${row.name}`, () =>
        db.insertInto('admins').values({
          id: row.id,
          name: row.name,
          password_hash: row.passwordHash,
          totp_sealed: row.totpSealed,
          totp_next_step: row.totpNextStep,
          status: row.status,
          failures: row.failures,
          locked_until: row.lockedUntil,
          created_at: row.createdAt,
          setup_token_hash: row.setupTokenHash,
          setup_expires_at: row.setupExpiresAt,
          setup_used_at: row.setupUsedAt,
        }).execute());
    },

    getAdmin: (id) => one('id', id),
    findAdminByName: (name) => one('name', name),
    findAdminBySetupToken: (tokenHash) => one('setup_token_hash', tokenHash),

    async listAdmins() {
      const rows = await db.selectFrom('admins').selectAll().execute();
      return rows.map(toAdmin).sort((a, b) => byCodeUnits(a.name, b.name));
    },

    async resetAdmin(id, setup) {
      return db.transaction().execute(async (trx) => {
        const n = changed(await trx.updateTable('admins').set({
          password_hash: null,
          totp_sealed: setup.totpSealed,
          totp_next_step: 0,
          status: 'pending',
          failures: 0,
          locked_until: null,
          setup_token_hash: setup.tokenHash,
          setup_expires_at: setup.expiresAt,
          setup_used_at: null,
        }).where('id', '=', id).executeTakeFirst());
        await trx.deleteFrom('admin_sessions').where('admin_id', '=', id).execute();
        return n > 0;
      });
    },

    async completeAdminSetup(tokenHash, at, passwordHash, totpNextStep) {
      // Marking the token used is the check: a second (or concurrent) use matches no row.
      const row = await db.updateTable('admins')
        .set({ password_hash: passwordHash, totp_next_step: totpNextStep, status: 'active', setup_used_at: at, failures: 0, locked_until: null })
        .where('setup_token_hash', '=', tokenHash)
        .where('setup_used_at', 'is', null)
        .where('setup_expires_at', '>', at)
        .where('status', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
      return row && toAdmin(row);
    },

    async setAdminStatus(id, status) {
      return db.transaction().execute(async (trx) => {
        // Only an admin who completed setup can be (re-)enabled; anyone can be disabled.
        let q = trx.updateTable('admins').set({ status }).where('id', '=', id);
        if (status === 'active') q = q.where('status', '!=', 'pending');
        const n = changed(await q.executeTakeFirst());
        if (status === 'disabled') await trx.deleteFrom('admin_sessions').where('admin_id', '=', id).execute();
        return n > 0;
      });
    },

    async acceptAdminTotp(id, step) {
      const r = await db.updateTable('admins').set({ totp_next_step: step + 1 })
        .where('id', '=', id).where('totp_next_step', '<=', step).executeTakeFirst();
      return changed(r) === 1;
    },

    async recordAdminFailure(id, at, threshold, lockMs) {
      // One statement, as recordFailure for users: concurrent failures each count once.
      const row = await db.updateTable('admins')
        .set((eb) => ({
          failures: eb('failures', '+', 1),
          locked_until: eb.case()
            .when(eb(eb('failures', '+', 1), '>=', threshold)).then(at + lockMs)
            .else(eb.ref('locked_until'))
            .end(),
        }))
        .where('id', '=', id)
        .returning(['failures', 'locked_until'])
        .executeTakeFirst();
      return row ? { failures: Number(row.failures), lockedUntil: row.locked_until === null ? null : Number(row.locked_until) } : { failures: 0, lockedUntil: null };
    },

    async clearAdminFailures(id) {
      return changed(await db.updateTable('admins').set({ failures: 0, locked_until: null }).where('id', '=', id).executeTakeFirst()) > 0;
    },

    async createAdminSession(row) {
      await orConflict(ctx, 'admin session', () =>
        db.insertInto('admin_sessions').values({
          id_hash: row.idHash,
          admin_id: row.adminId,
          created_at: row.createdAt,
          last_seen_at: row.lastSeenAt,
          expires_at: row.expiresAt,
          reauth_at: row.reauthAt,
        }).execute());
    },

    async touchAdminSession(idHash, at, idleMs) {
      const row = await db.updateTable('admin_sessions')
        .set({ last_seen_at: at })
        .where('id_hash', '=', idHash)
        .where('last_seen_at', '>', at - idleMs)
        .where('expires_at', '>', at)
        .returningAll()
        .executeTakeFirst();
      return row && toSession(row);
    },

    async setAdminSessionReauth(idHash, at) {
      return changed(await db.updateTable('admin_sessions').set({ reauth_at: at }).where('id_hash', '=', idHash).executeTakeFirst()) > 0;
    },

    async deleteAdminSession(idHash) {
      return changed(await db.deleteFrom('admin_sessions').where('id_hash', '=', idHash).executeTakeFirst()) > 0;
    },

    async purgeAdminSessions(at, idleBefore) {
      return changed(await db.deleteFrom('admin_sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', at), eb('last_seen_at', '<=', idleBefore)]))
        .executeTakeFirst());
    },
  };
}
