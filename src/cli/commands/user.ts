// `tandem user …`: users and their aliases (one namespace shared by both).
import { listBypassCodes } from '../../core/bypass.js';
import { listTokens } from '../../core/tokens.js';
import { addAlias, createUser, deleteUser, removeAlias, listUsers, setUserBypass, setUserEnabled, showUser, unlockUser } from '../../core/users.js';
import type { ArgDef, CommandDef } from '../args.js';
import type { CommandContext } from '../context.js';
import { cell, keyValues, safe, table, when } from '../output.js';

const NAME: ArgDef = { name: 'NAME', description: 'username or alias' };

/** A one-line action on a named user: `tandem user disable NAME` and friends. */
function simple(verb: string, summary: string, action: (ctx: CommandContext, name: string) => Promise<void>, done: string): CommandDef {
  return {
    path: ['user', verb],
    summary,
    args: [NAME],
    async run(ctx) {
      const name = ctx.args.NAME!;
      await action(ctx, name);
      if (ctx.json) ctx.printJson({ user: name, done: verb });
      else ctx.out(`User ${safe(name)} ${done}.`);
    },
  };
}

export const userCommands: CommandDef[] = [
  {
    path: ['user', 'create'],
    summary: 'Create a user (aliases are other names the same person logs in with)',
    args: [{ name: 'NAME', description: 'the username' }],
    flags: [{ name: 'alias', kind: 'string', value: 'NAME', multiple: true, description: 'another name for this user' }],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const u = await createUser(deps, ctx.args.NAME!, ctx.list('alias'));
        if (ctx.json) return void ctx.printJson(u);
        ctx.out(`User ${safe(u.username)} created${u.aliases.length ? ` (aliases: ${u.aliases.map(safe).join(', ')})` : ''}.`);
        ctx.out(`Next: tandem token add ${safe(u.username)} --type totp   (or let the user enroll through the portal)`);
      });
    },
  },
  {
    path: ['user', 'list'],
    summary: 'List users',
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const users = await listUsers(deps);
        if (ctx.json) return void ctx.printJson(users);
        if (users.length === 0) return void ctx.out('No users.');
        ctx.out(table(
          ['USERNAME', 'STATUS', 'ALIASES', 'FAILURES', 'LAST LOGIN'],
          users.map((u) => [cell(u.username), u.status, cell(u.aliases.map(safe).join(',')), String(u.failures), when(u.lastLoginAt)]),
        ));
      });
    },
  },
  {
    path: ['user', 'show'],
    summary: 'Show a user, their tokens and how many bypass codes they have',
    args: [NAME],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const name = ctx.args.NAME!;
        const u = await showUser(deps, name);
        const tokens = await listTokens(deps, name);
        const bypass = await listBypassCodes(deps, name);
        if (ctx.json) return void ctx.printJson({ ...u, tokens, bypassCodes: bypass.length });
        ctx.out(keyValues([
          ['username', cell(u.username)],
          ['user id', u.userId],
          ['aliases', cell(u.aliases.map(safe).join(', '))],
          ['status', u.status],
          ['failures', String(u.failures)],
          ['locked until', when(u.lockedUntil)],
          ['created', when(u.createdAt)],
          ['last login', when(u.lastLoginAt)],
          ['tokens', tokens.length === 0 ? 'none' : tokens.map((t) => `${t.tokenId} (${t.type})`).join(', ')],
          ['bypass codes', String(bypass.length)],
        ]));
      });
    },
  },
  simple('disable', 'Disable a user: every authentication is denied', (ctx, name) => ctx.withRuntime(({ deps }) => setUserEnabled(deps, name, false)), 'disabled'),
  simple('enable', 'Enable a user: back to active (from disabled or bypass), the second factor required', (ctx, name) => ctx.withRuntime(({ deps }) => setUserEnabled(deps, name, true)), 'enabled'),
  simple(
    'bypass',
    'Let a user in without a second factor, with the password alone (Duo\'s bypass status; audited; a lock still denies; `enable` ends it)',
    (ctx, name) => ctx.withRuntime(({ deps }) => setUserBypass(deps, name)),
    'is in bypass status: logins need no second factor until `tandem user enable`',
  ),
  simple('unlock', 'Clear a lockout and the failure count', (ctx, name) => ctx.withRuntime(({ deps }) => unlockUser(deps, name)), 'unlocked'),
  simple('delete', 'Delete a user with their aliases, tokens and bypass codes', (ctx, name) => ctx.withRuntime(({ deps }) => deleteUser(deps, name)), 'deleted'),
  ...(['add', 'remove'] as const).map((verb): CommandDef => ({
    path: ['user', `${verb}-alias`],
    summary: verb === 'add' ? 'Give a user another name (aliases share one namespace with usernames)' : 'Remove one of a user\'s aliases',
    args: [NAME, { name: 'ALIAS', description: 'the alias' }],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const u = await (verb === 'add' ? addAlias : removeAlias)(deps, ctx.args.NAME!, ctx.args.ALIAS!);
        if (ctx.json) return void ctx.printJson({ username: u.username, aliases: u.aliases });
        ctx.out(`User ${safe(u.username)}: aliases ${u.aliases.length ? u.aliases.map(safe).join(', ') : 'none'}.`);
      });
    },
  })),
];
