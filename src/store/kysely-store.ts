// The Store contract assembled from its operation groups (ops/*), over either backend.
import type { Store } from './contract.js';
import type { StoreContext } from './context.js';
import { adminOps } from './ops/admins.js';
import { auditOps } from './ops/audit.js';
import { bypassCodeOps } from './ops/bypass-codes.js';
import { deviceOps } from './ops/devices.js';
import { enrollmentOps } from './ops/enrollment.js';
import { integrationOps } from './ops/integrations.js';
import { passkeyOps } from './ops/passkeys.js';
import { portalOps } from './ops/portal.js';
import { pushOps } from './ops/push.js';
import { requestOps } from './ops/requests.js';
import { secretOps } from './ops/secrets.js';
import { tokenOps } from './ops/tokens.js';
import { transactionOps } from './ops/transactions.js';
import { userOps } from './ops/users.js';

export function createKyselyStore(ctx: StoreContext): Store {
  let closing: Promise<void> | undefined;
  return {
    backend: ctx.backend,
    ...integrationOps(ctx),
    ...userOps(ctx),
    ...tokenOps(ctx),
    ...bypassCodeOps(ctx),
    ...transactionOps(ctx),
    ...deviceOps(ctx),
    ...passkeyOps(ctx),
    ...pushOps(ctx),
    ...secretOps(ctx),
    ...enrollmentOps(ctx),
    ...portalOps(ctx),
    ...requestOps(ctx),
    ...auditOps(ctx),
    ...adminOps(ctx),
    close() {
      // Idempotent: the listener connection first (it must not reconnect), then the pool/file.
      closing ??= ctx.notifier.close().finally(() => ctx.db.destroy());
      return closing;
    },
  };
}
