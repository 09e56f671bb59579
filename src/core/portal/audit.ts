// Every portal enrollment, approval, denial and removal is an 'enrollment' audit entry, in the
// same hash chain as logins.
import { appendAudit } from '../audit.js';
import type { Deps } from '../deps.js';

export async function enrollmentAudit(
  deps: Deps,
  o: { username: string | null; reason: string; result?: 'ok' | 'refused' | 'held'; integration?: string | null; ipaddr?: string | null; detail?: Record<string, unknown> },
): Promise<void> {
  await appendAudit(deps, {
    event: 'enrollment',
    integration: o.integration ?? null,
    username: o.username,
    factor: null,
    result: o.result ?? 'ok',
    reason: o.reason,
    ipaddr: o.ipaddr ?? null,
    hostname: null,
    txid: null,
    // A console admin acting is named in the entry, as admin audit entries do (core/integrations.ts).
    detail: deps.actor === undefined ? (o.detail ?? {}) : { ...(o.detail ?? {}), actor: deps.actor },
  });
}
