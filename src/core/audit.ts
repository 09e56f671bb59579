// The tamper-evident audit log: one SHA-256 hash chain per server node (so nodes never wait on
// each other), each entry hashing its predecessor's hash and its own fields. `verifyAudit` walks
// every chain; deleting, editing or reordering an entry breaks the chain at that entry, and
// truncating a chain's tail is caught by comparing with the heads written to the server log.
import { createHash } from 'node:crypto';
import { AUDIT_GENESIS, type AuditEntry, type NewAuditEntry } from '../store/contract.js';
import type { Deps } from './deps.js';
import { toWellFormed } from '../protocol/text-checks.js';

/** What a caller records; the node, the time and the chain fields are filled in here. */
export type AuditFields = Omit<NewAuditEntry, 'nodeId' | 'time' | 'event' | 'detail'> & {
  event: 'preauth' | 'auth' | 'admin' | 'push' | 'device' | 'enrollment';
  detail?: Record<string, unknown>;
};

/** The hash of one entry: fixed field order, JSON-encoded so no separator can be forged. */
export function auditHash(prevHash: string, seq: number, e: NewAuditEntry): string {
  const fields = [e.nodeId, seq, e.time, e.event, e.integration, e.username, e.factor, e.result, e.reason, e.ipaddr, e.hostname, e.txid, e.detail];
  return createHash('sha256').update(prevHash).update('\n').update(JSON.stringify(fields)).digest('hex');
}

export async function appendAudit(deps: Pick<Deps, 'store' | 'settings' | 'clock'>, f: AuditFields): Promise<AuditEntry> {
  // Well-formed strings only: the hash must cover exactly what the database gives back, and a
  // lone surrogate would come back from UTF-8 storage as U+FFFD (a "tampered" entry).
  const wf = <T extends string | null>(v: T): T => (v === null ? v : (toWellFormed(v) as T));
  const entry: NewAuditEntry = {
    nodeId: deps.settings.nodeId,
    time: deps.clock.now(),
    event: f.event,
    integration: wf(f.integration),
    username: wf(f.username),
    factor: f.factor,
    result: f.result,
    reason: f.reason,
    ipaddr: wf(f.ipaddr),
    hostname: wf(f.hostname),
    txid: f.txid,
    detail: JSON.stringify(f.detail ?? {}),
  };
  return deps.store.appendAudit(entry, (prevHash, seq) => auditHash(prevHash, seq, entry));
}

export interface ChainReport {
  nodeId: string;
  entries: number;
  headSeq: number;
  headHash: string;
}

export interface AuditVerification {
  ok: boolean;
  chains: ChainReport[];
  /** The first broken entry found, if any. */
  broken?: { nodeId: string; seq: number; problem: string };
}

const PAGE = 1000;

export async function verifyAudit(deps: Pick<Deps, 'store'>): Promise<AuditVerification> {
  const chains: ChainReport[] = [];
  for (const nodeId of await deps.store.listAuditNodes()) {
    let prevHash = AUDIT_GENESIS;
    let expectSeq = 1;
    let count = 0;
    for (;;) {
      const page = await deps.store.readAuditChain(nodeId, expectSeq - 1, PAGE);
      for (const e of page) {
        const problem =
          e.seq !== expectSeq ? `entry ${expectSeq} is missing (next is ${e.seq})`
          : e.prevHash !== prevHash ? 'its previous-hash does not match the entry before it'
          : e.hash !== auditHash(prevHash, e.seq, e) ? 'its contents do not match its hash'
          : null;
        if (problem) {
          chains.push({ nodeId, entries: count, headSeq: expectSeq - 1, headHash: prevHash });
          return { ok: false, chains, broken: { nodeId, seq: e.seq !== expectSeq ? expectSeq : e.seq, problem } };
        }
        prevHash = e.hash;
        expectSeq++;
        count++;
      }
      if (page.length < PAGE) break;
    }
    chains.push({ nodeId, entries: count, headSeq: expectSeq - 1, headHash: prevHash });
  }
  return { ok: true, chains };
}

/** The log's filters: the same for `tandem log` and the console's log page and its live feed. */
export interface LogQuery {
  username?: string;
  integration?: string;
  result?: string;
  factor?: string;
  since?: number;
  until?: number;
  limit?: number;
  /** Also operator actions, enrollments and device events. */
  includeAdmin?: boolean;
}

/** The authentication log (newest first): what `tandem log` shows; admin actions on request. */
export async function queryLog(deps: Pick<Deps, 'store'>, q: LogQuery): Promise<AuditEntry[]> {
  return deps.store.queryAudit({
    ...(q.username !== undefined ? { username: q.username } : {}),
    ...(q.integration !== undefined ? { integration: q.integration } : {}),
    ...(q.result !== undefined ? { result: q.result } : {}),
    ...(q.factor !== undefined ? { factor: q.factor } : {}),
    ...(q.since !== undefined ? { since: q.since } : {}),
    ...(q.until !== undefined ? { until: q.until } : {}),
    // The authentication log: requests and their decisions, including the app's push answers.
    ...(q.includeAdmin ? {} : { events: ['preauth', 'auth', 'push'] }),
    limit: q.limit ?? 100,
  });
}
