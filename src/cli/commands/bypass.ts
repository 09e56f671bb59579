// `tandem bypass …`: nine-digit bypass codes, shown once at creation and never again.
import { clearBypassCodes, createBypassCodes, listBypassCodes } from '../../core/bypass.js';
import type { CommandDef } from '../args.js';
import { safe, table, when } from '../output.js';

const USER = { name: 'USER', description: 'username or alias' } as const;

export const bypassCommands: CommandDef[] = [
  {
    path: ['bypass', 'create'],
    summary: 'Create bypass codes for a user and print them (shown only this once)',
    args: [USER],
    flags: [
      { name: 'count', kind: 'int', value: 'N', min: 1, max: 10, description: 'how many codes (default 1)' },
      { name: 'uses', kind: 'int', value: 'N', min: 0, max: 1000, description: 'uses per code, 0 for unlimited (default 1)' },
      { name: 'valid-secs', kind: 'int', value: 'SECONDS', min: 0, description: 'lifetime in seconds, 0 for no expiry (default 0)' },
    ],
    async run(ctx) {
      const count = ctx.int('count');
      const uses = ctx.int('uses');
      const validSecs = ctx.int('valid-secs');
      return ctx.withRuntime(async ({ deps }) => {
        const r = await createBypassCodes(deps, ctx.args.USER!, {
          ...(count !== undefined ? { count } : {}),
          ...(uses !== undefined ? { uses } : {}),
          ...(validSecs !== undefined ? { validSecs } : {}),
        });
        if (ctx.json) return void ctx.printJson({ codes: r.codes });
        for (const c of r.codes) ctx.out(c);
        const u = uses ?? 1;
        ctx.out();
        ctx.out(`${r.codes.length} bypass code${r.codes.length === 1 ? '' : 's'} for ${safe(ctx.args.USER!)}; ${u === 0 ? 'unlimited uses' : `${u} use${u === 1 ? '' : 's'} each`}; ${r.expiresAt === null ? 'no expiry' : `valid until ${when(r.expiresAt)}`}. They are not shown again.`);
      });
    },
  },
  {
    path: ['bypass', 'list'],
    summary: 'List a user\'s bypass codes (uses left and expiry; never the codes)',
    args: [USER],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const list = await listBypassCodes(deps, ctx.args.USER!);
        if (ctx.json) return void ctx.printJson(list);
        if (list.length === 0) return void ctx.out(`${safe(ctx.args.USER!)} has no bypass codes.`);
        ctx.out(table(
          ['BYPASS ID', 'USES LEFT', 'EXPIRES', 'CREATED'],
          list.map((b) => [b.bypassId, b.usesRemaining === null ? 'unlimited' : String(b.usesRemaining), b.expiresAt === null ? 'never' : when(b.expiresAt), when(b.createdAt)]),
        ));
      });
    },
  },
  {
    path: ['bypass', 'clear'],
    summary: 'Remove all of a user\'s bypass codes',
    args: [USER],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const n = await clearBypassCodes(deps, ctx.args.USER!);
        if (ctx.json) return void ctx.printJson({ removed: n });
        ctx.out(`Removed ${n} bypass code${n === 1 ? '' : 's'} of ${safe(ctx.args.USER!)}.`);
      });
    },
  },
];
