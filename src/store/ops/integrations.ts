// Integrations (ikey/skey pairs).
import type { Store } from '../contract.js';
import { changed, orConflict, type StoreContext } from '../context.js';
import { toIntegration } from '../rows.js';

type IntegrationOps = Pick<Store,
  | 'createIntegration' | 'getIntegrationByIkey' | 'listIntegrations' | 'deleteIntegration' | 'rotateSkey'
  | 'touchIntegration' | 'setIntegrationPushPolicy' | 'setIntegrationNewUserPolicy'>;

export function integrationOps(ctx: StoreContext): IntegrationOps {
  const { db } = ctx;
  return {
    async createIntegration(row) {
      await orConflict(ctx, `integration ${row.ikey}`, () =>
        db.insertInto('integrations').values({
          id: row.id,
          ikey: row.ikey,
          name: row.name,
          skey_sealed: row.skeySealed,
          prev_skey_sealed: row.prevSkeySealed,
          prev_skey_expires_at: row.prevSkeyExpiresAt,
          new_user_policy: row.newUserPolicy,
          push_policy: JSON.stringify(row.pushPolicy),
          legacy_v1: ctx.bool(row.legacyV1),
          created_at: row.createdAt,
          last_used_at: row.lastUsedAt,
        }).execute());
    },

    async getIntegrationByIkey(ikey) {
      const row = await db.selectFrom('integrations').selectAll().where('ikey', '=', ikey).executeTakeFirst();
      return row && toIntegration(row);
    },

    async listIntegrations() {
      const rows = await db.selectFrom('integrations').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(toIntegration);
    },

    async deleteIntegration(ikey) {
      // Its transactions and enrollment links go with it (ON DELETE CASCADE).
      return changed(await db.deleteFrom('integrations').where('ikey', '=', ikey).executeTakeFirst()) > 0;
    },

    async rotateSkey(ikey, newSealed, prevSealed, prevExpiresAt) {
      const result = await db.updateTable('integrations')
        .set({ skey_sealed: newSealed, prev_skey_sealed: prevSealed, prev_skey_expires_at: prevExpiresAt })
        .where('ikey', '=', ikey)
        .executeTakeFirst();
      return changed(result) > 0;
    },

    async setIntegrationNewUserPolicy(ikey, policy) {
      return changed(await db.updateTable('integrations').set({ new_user_policy: policy }).where('ikey', '=', ikey).executeTakeFirst()) > 0;
    },

    async touchIntegration(id, at) {
      await db.updateTable('integrations').set({ last_used_at: at }).where('id', '=', id).execute();
    },

    async setIntegrationPushPolicy(ikey, policy) {
      const result = await db.updateTable('integrations')
        .set({ push_policy: JSON.stringify(policy) })
        .where('ikey', '=', ikey)
        .executeTakeFirst();
      return changed(result) > 0;
    },
  };
}
