// Server-wide secrets (the VAPID key pair), sealed by core: the first node to store one wins.
import type { Store } from '../contract.js';
import type { StoreContext } from '../context.js';

type SecretOps = Pick<Store, 'putSecretIfAbsent'>;

export function secretOps(ctx: StoreContext): SecretOps {
  const { db } = ctx;
  return {
    async putSecretIfAbsent(name, sealed, at) {
      // Insert-or-nothing, then read: every node (and every racing call) ends up with the value
      // that was stored first, never its own unstored one.
      await db.insertInto('server_secrets')
        .values({ name, sealed, created_at: at })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const row = await db.selectFrom('server_secrets').select('sealed').where('name', '=', name).executeTakeFirstOrThrow();
      return row.sealed;
    },
  };
}
