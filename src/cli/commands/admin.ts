// `tandem admin …`: console administrators. A password is never taken here: `create` and
// `reset` print a one-time setup link through which the admin sets it and adds an authenticator.
import { createAdmin, disableAdmin, listAdmins, resetAdmin, type SetupLinkView } from '../../core/admins.js';
import type { CommandDef } from '../args.js';
import type { CommandContext } from '../context.js';
import { cell, safe, table, when } from '../output.js';

const NAME = { name: 'NAME', description: 'the admin\'s name' } as const;

function printLink(ctx: CommandContext, v: SetupLinkView, what: string): void {
  if (ctx.json) return void ctx.printJson(v);
  ctx.out(`Admin ${safe(v.name)} ${what}. Give them this one-time setup link (valid until ${when(v.expiresAt)}):`);
  ctx.out();
  ctx.out(`  ${v.link}`);
  ctx.out();
  ctx.out('They set a password and add an authenticator app there; the console needs both to sign in.');
}

export const adminCommands: CommandDef[] = [
  {
    path: ['admin', 'create'],
    summary: 'Create a console admin and print their one-time setup link (24 hours)',
    args: [NAME],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => printLink(ctx, await createAdmin(deps, ctx.args.NAME!), 'created'));
    },
  },
  {
    path: ['admin', 'list'],
    summary: 'List console admins',
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const list = await listAdmins(deps);
        if (ctx.json) return void ctx.printJson(list);
        if (list.length === 0) return void ctx.out('No admins. Create one with: tandem admin create NAME');
        ctx.out(table(['NAME', 'STATUS', 'CREATED', 'SETUP LINK EXPIRES'], list.map((a) => [cell(a.name), a.status, when(a.createdAt), when(a.setupExpiresAt)])));
      });
    },
  },
  {
    path: ['admin', 'disable'],
    summary: 'Disable a console admin: their sessions end at once',
    args: [NAME],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        await disableAdmin(deps, ctx.args.NAME!);
        if (ctx.json) return void ctx.printJson({ admin: ctx.args.NAME!, done: 'disable' });
        ctx.out(`Admin ${safe(ctx.args.NAME!)} disabled.`);
      });
    },
  },
  {
    path: ['admin', 'reset'],
    summary: 'Clear an admin\'s password and authenticator, end their sessions, print a new setup link',
    args: [NAME],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => printLink(ctx, await resetAdmin(deps, ctx.args.NAME!), 'reset'));
    },
  },
];
