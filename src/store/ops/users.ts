// Users, their names (username + aliases in one namespace) and the lockout counter.
import type { Kysely, Selectable } from 'kysely';
import type { Store, UserRow } from '../contract.js';
import { byCodeUnits, changed, orConflict, type StoreContext } from '../context.js';
import { toUser } from '../rows.js';
import type { Database, UsersTable } from '../schema.js';

type UserOps = Pick<Store,
  | 'createUser' | 'addUserAlias' | 'removeUserAlias' | 'findUserByName' | 'getUser' | 'listUsers' | 'setUserStatus' | 'deleteUser'
  | 'recordFailure' | 'recordSuccess' | 'unlockUser' | 'lockUser'>;

export function userOps(ctx: StoreContext): UserOps {
  const { db } = ctx;
  return {
    async createUser(row) {
      const names = [row.username, ...row.aliases];
      // One transaction: the user and all its names exist together or not at all. The primary
      // key of user_names rejects a name held by anyone (including a repeat within `names`).
      await orConflict(ctx, `user name (${names.join(', ')})`, () =>
        db.transaction().execute(async (trx) => {
          await trx.insertInto('users').values({
            id: row.id,
            username: row.username,
            status: row.status,
            failures: 0,
            locked_until: null,
            created_at: row.createdAt,
            last_login_at: null,
          }).execute();
          await trx.insertInto('user_names').values(names.map((name, i) => ({
            name,
            user_id: row.id,
            is_alias: ctx.bool(i > 0),
          }))).execute();
        }));
    },

    async addUserAlias(userId, alias) {
      return orConflict(ctx, `user name (${alias})`, () =>
        db.transaction().execute(async (trx) => {
          const user = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
          if (!user) return false;
          await trx.insertInto('user_names').values({ name: alias, user_id: userId, is_alias: ctx.bool(true) }).execute();
          return true;
        }));
    },

    async removeUserAlias(userId, alias) {
      return changed(await db.deleteFrom('user_names')
        .where('name', '=', alias).where('user_id', '=', userId).where('is_alias', '=', ctx.bool(true))
        .executeTakeFirst()) > 0;
    },

    async findUserByName(name) {
      const [user] = await usersWithNames(db, { name });
      return user;
    },

    async getUser(id) {
      const [user] = await usersWithNames(db, { id });
      return user;
    },

    async listUsers() {
      const users = await usersWithNames(db, {});
      return users.sort((a, b) => byCodeUnits(a.username, b.username));
    },

    async setUserStatus(id, status) {
      return changed(await db.updateTable('users').set({ status }).where('id', '=', id).executeTakeFirst()) > 0;
    },

    async deleteUser(id) {
      // Names, tokens, bypass codes, devices, activations, push challenges and the push denial
      // count go with it (ON DELETE CASCADE); its transactions stay, as history, with user_id NULL.
      return changed(await db.deleteFrom('users').where('id', '=', id).executeTakeFirst()) > 0;
    },

    async recordFailure(id, at, threshold, lockMs) {
      // One statement: SET expressions all see the old row, so `failures + 1` is the new count
      // in both places and concurrent failures each count once.
      const row = await db.updateTable('users')
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
      // An unknown (e.g. just deleted) user has nothing to lock.
      return row ? { failures: row.failures, lockedUntil: row.locked_until } : { failures: 0, lockedUntil: null };
    },

    async recordSuccess(id, at) {
      await db.updateTable('users').set({ failures: 0, locked_until: null, last_login_at: at }).where('id', '=', id).execute();
    },

    async unlockUser(id) {
      return changed(await db.updateTable('users').set({ failures: 0, locked_until: null }).where('id', '=', id).executeTakeFirst()) > 0;
    },

    async lockUser(id, until) {
      return changed(await db.updateTable('users').set({ locked_until: until }).where('id', '=', id).executeTakeFirst()) > 0;
    },
  };
}

/**
 * Users with their aliases in one query: each user row is joined with all of its names, and the
 * alias list is assembled here (sorted, so both backends return the same order).
 */
async function usersWithNames(db: Kysely<Database>, by: { id?: string; name?: string }): Promise<UserRow[]> {
  let query = db.selectFrom('users as u')
    .innerJoin('user_names as n', 'n.user_id', 'u.id')
    .selectAll('u')
    .select(['n.name as name', 'n.is_alias as is_alias']);
  const { id, name } = by;
  if (id !== undefined) query = query.where('u.id', '=', id);
  if (name !== undefined) {
    query = query.where('u.id', '=', (eb) => eb.selectFrom('user_names').select('user_id').where('name', '=', name));
  }
  const rows = await query.execute();
  const users = new Map<string, { row: Selectable<UsersTable>; aliases: string[] }>();
  for (const { name, is_alias, ...row } of rows) {
    let entry = users.get(row.id);
    if (!entry) users.set(row.id, (entry = { row, aliases: [] }));
    if (is_alias) entry.aliases.push(name);
  }
  return [...users.values()].map(({ row, aliases }) => toUser(row, aliases.sort(byCodeUnits)));
}
