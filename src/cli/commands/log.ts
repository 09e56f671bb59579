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
    { name: 'until', kind: 'string', value: 'TIME', description: 'only entries at or before TIME (same forms as --since)' },
    { name: 'integration', kind: 'string', value: 'IKEY', description: 'only this integration' },
    { name: 'result', kind: 'string', value: 'RESULT', description: 'only this result (allow, deny, enroll, waiting, fraud, timeout, …)' },
    { name: 'factor', kind: 'string', value: 'FACTOR', description: 'only this factor (push, passcode, …)' },
    { name: 'limit', kind: 'int', value: 'N', min: 1, max: 100000, description: 'at most N entries (default 100)' },
    { name: 'admin', kind: 'boolean', description: 'include operator actions and enrollments (user created, token added, portal enrollment, approval, …)' },
  ],
  async run(ctx) {
    const time = (flag: 'since' | 'until'): number | undefined => {
      const text = ctx.str(flag);
      if (text === undefined) return undefined;
      const t = parseSince(text, Date.now());
      if (t === null) throw new UsageError(`--${flag} must be ISO 8601 (2024-05-01T12:00:00Z) or relative like 15m, 2h, 7d (got ${shown(text)})`, ctx.def);
      return t;
    };
    const since = time('since');
    const until = time('until');
    const limit = ctx.int('limit');
    const filters = { username: ctx.str('user'), integration: ctx.str('integration'), result: ctx.str('result'), factor: ctx.str('factor') };
    return ctx.withRuntime(async ({ deps }) => {
      const entries: AuditEntry[] = await queryLog(deps, {
        ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
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
