// `tandem log`: the authentication log, newest first.
import { queryLog } from '../../core/audit.js';
import type { AuditEntry } from '../../store/contract.js';
import { UsageError, shown, type CommandDef } from '../args.js';
import { cell, table, when } from '../output.js';
import { parseSince } from '../parse-since.js';

function detailObject(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const logCommand: CommandDef = {
  path: ['log'],
  summary: 'Show the authentication log, newest first',
  flags: [
    { name: 'user', kind: 'string', value: 'USER', description: 'only this username' },
    { name: 'since', kind: 'string', value: 'TIME', description: 'only entries at or after TIME: ISO 8601 (2024-05-01, 2024-05-01T12:00:00Z) or relative (15m, 2h, 7d)' },
    { name: 'limit', kind: 'int', value: 'N', min: 1, max: 100000, description: 'at most N entries (default 100)' },
    { name: 'admin', kind: 'boolean', description: 'include operator actions and enrollments (user created, token added, portal enrollment, approval, …)' },
  ],
  async run(ctx) {
    const sinceText = ctx.str('since');
    let since: number | undefined;
    if (sinceText !== undefined) {
      const t = parseSince(sinceText, Date.now());
      if (t === null) throw new UsageError(`--since must be ISO 8601 (2024-05-01T12:00:00Z) or relative like 15m, 2h, 7d (got ${shown(sinceText)})`, ctx.def);
      since = t;
    }
    const user = ctx.str('user');
    const limit = ctx.int('limit');
    return ctx.withRuntime(async ({ deps }) => {
      const entries: AuditEntry[] = await queryLog(deps, {
        ...(user !== undefined ? { username: user } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(limit !== undefined ? { limit } : {}),
        includeAdmin: ctx.bool('admin'),
      });
      if (ctx.json) {
        return void ctx.printJson(entries.map(({ prevHash: _p, hash: _h, ...e }) => ({ ...e, detail: detailObject(e.detail) })));
      }
      if (entries.length === 0) return void ctx.out('No log entries.');
      ctx.out(table(
        ['TIME', 'EVENT', 'USER', 'FACTOR', 'RESULT', 'REASON', 'IPADDR', 'HOSTNAME', 'INTEGRATION', 'TXID'],
        entries.map((e) => [when(e.time), cell(e.event), cell(e.username), cell(e.factor), cell(e.result), cell(e.reason), cell(e.ipaddr), cell(e.hostname), cell(e.integration), cell(e.txid)]),
      ));
    });
  },
};
