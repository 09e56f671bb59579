// The console's dashboard: logins over time (counted by the database: store.countAudit groups by
// time bucket, result and factor, so the cost does not grow with the number of logins shown),
// locked users, pending pushes and recent enrollment events.
import type { AuditEntry } from '../store/contract.js';
import type { Deps } from './deps.js';
import { listUsers, type UserView } from './users.js';

export type ChartRange = '24h' | '7d';
export const CHART_RANGES: Record<ChartRange, { buckets: number; bucketMs: number }> = {
  '24h': { buckets: 24, bucketMs: 3_600_000 },
  '7d': { buckets: 7, bucketMs: 86_400_000 },
};

export interface ChartBucket {
  start: number;
  total: number;
  byResult: Record<string, number>;
  byFactor: Record<string, number>;
}

/**
 * Logins per bucket (hours for 24 h, days for 7 days; the last bucket is the current one). A
 * login is an `auth` entry with its final result, or a `push` entry (the answer to a push, whose
 * `auth` entry said "waiting"): waiting entries are left out so a push counts once.
 */
export async function loginChart(deps: Pick<Deps, 'store' | 'clock'>, range: ChartRange): Promise<ChartBucket[]> {
  const { buckets, bucketMs } = CHART_RANGES[range];
  const now = deps.clock.now();
  const last = Math.floor(now / bucketMs) * bucketMs;
  const first = last - (buckets - 1) * bucketMs;
  const out: ChartBucket[] = Array.from({ length: buckets }, (_, i) => ({ start: first + i * bucketMs, total: 0, byResult: {}, byFactor: {} }));
  const counts = await deps.store.countAudit({ since: first, until: now, bucketMs, events: ['auth', 'push'] });
  for (const c of counts) {
    if (c.result === 'waiting') continue;
    const b = out[Math.round((c.bucket - first) / bucketMs)];
    if (!b) continue;
    const factor = c.factor ?? 'none';
    b.total += c.count;
    b.byResult[c.result] = (b.byResult[c.result] ?? 0) + c.count;
    b.byFactor[factor] = (b.byFactor[factor] ?? 0) + c.count;
  }
  return out;
}

export async function lockedUsers(deps: Deps): Promise<UserView[]> {
  return (await listUsers(deps)).filter((u) => u.status === 'locked out');
}

export interface PendingPushView {
  txid: string;
  username: string;
  hostname: string | null;
  ipaddr: string | null;
  createdAt: number;
  ageSeconds: number;
}

export const PENDING_PUSH_LIMIT = 100;

export async function pendingPushes(deps: Pick<Deps, 'store' | 'clock'>): Promise<PendingPushView[]> {
  const now = deps.clock.now();
  const rows = await deps.store.listPendingTransactions(now, PENDING_PUSH_LIMIT);
  return rows.map((t) => {
    let ctx: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(t.context);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) ctx = parsed as Record<string, unknown>;
    } catch {
      // a context that is not JSON shows no host
    }
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return { txid: t.txid, username: t.username, hostname: str(ctx['hostname']), ipaddr: str(ctx['ipaddr']), createdAt: t.createdAt, ageSeconds: Math.max(0, Math.floor((now - t.createdAt) / 1000)) };
  });
}

/** Recent enrollments, approvals, denials and removals (the audit log's enrollment events). */
export async function recentEnrollmentEvents(deps: Pick<Deps, 'store'>, limit = 20): Promise<AuditEntry[]> {
  return deps.store.queryAudit({ events: ['enrollment'], limit });
}
