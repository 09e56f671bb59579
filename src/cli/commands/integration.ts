// `tandem integration …`: the ikey/skey pairs hosts sign their requests with.
import { createIntegration, deleteIntegration, listIntegrations, parseNewUserPolicy, rotateSkey, showIntegration } from '../../core/integrations.js';
import type { Settings } from '../../config/settings.js';
import type { CommandDef } from '../args.js';
import { cell, keyValues, safe, table, when } from '../output.js';

const IKEY = { name: 'IKEY', description: 'the integration key (DI…)' } as const;

/** What clients put in `host =`: the first configured name, with the port unless it is 443. */
export function apiHost(settings: Pick<Settings, 'hosts' | 'listen'>): string {
  const name = settings.hosts[0] ?? 'localhost';
  const host = name.includes(':') ? `[${name}]` : name;
  return settings.listen.port === 443 ? host : `${host}:${settings.listen.port}`;
}

export function clientConfigBlock(o: { name: string; ikey: string; skey: string; host: string; cafile: string }): string {
  return [
    '[duo]',
    `; Tandem integration "${safe(o.name)}" — paste into /etc/duo/pam_duo.conf or login_duo.conf (mode 0600)`,
    `ikey = ${o.ikey}`,
    `skey = ${o.skey}`,
    `host = ${o.host}`,
    `cafile = ${o.cafile}`,
  ].join('\n');
}

export const integrationCommands: CommandDef[] = [
  {
    path: ['integration', 'create'],
    summary: 'Create an integration and print its ikey, skey and a ready-to-paste client config',
    details: ['The skey is shown only now; store it in the hosts\' config files (mode 0600).'],
    flags: [
      { name: 'name', kind: 'string', value: 'NAME', required: true, description: 'a name for the hosts that will use it' },
      { name: 'new-user-policy', kind: 'string', value: 'POLICY', choices: ['enroll', 'allow', 'deny'], description: 'what happens to users Tandem does not know (default: enroll)' },
    ],
    async run(ctx) {
      const policy = ctx.str('new-user-policy');
      return ctx.withRuntime(async ({ deps, paths }) => {
        const { integration, skey } = await createIntegration(deps, { name: ctx.str('name')!, ...(policy !== undefined ? { newUserPolicy: parseNewUserPolicy(policy) } : {}) });
        const host = apiHost(deps.settings);
        const cafile = paths.caCert;
        if (ctx.json) {
          ctx.printJson({ ikey: integration.ikey, skey, host, cafile, name: integration.name, newUserPolicy: integration.newUserPolicy });
          return 0;
        }
        ctx.out(`Integration "${safe(integration.name)}" created.`);
        ctx.out(keyValues([
          ['ikey', integration.ikey],
          ['skey', skey],
          ['api host', host],
          ['new-user policy', integration.newUserPolicy],
        ]));
        ctx.out();
        ctx.out('The skey is shown only this once. Client configuration:');
        ctx.out();
        ctx.out(clientConfigBlock({ name: integration.name, ikey: integration.ikey, skey, host, cafile }));
        ctx.out();
        ctx.out(`Copy ${cafile} to each host and point cafile at the copy if the path differs there.`);
        return 0;
      });
    },
  },
  {
    path: ['integration', 'list'],
    summary: 'List integrations',
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const list = await listIntegrations(deps);
        if (ctx.json) return void ctx.printJson(list);
        if (list.length === 0) return void ctx.out('No integrations. Create one with: tandem integration create --name NAME');
        ctx.out(table(
          ['IKEY', 'NAME', 'NEW-USER POLICY', 'CREATED', 'LAST USED'],
          list.map((i) => [i.ikey, cell(i.name), i.newUserPolicy, when(i.createdAt), when(i.lastUsedAt)]),
        ));
      });
    },
  },
  {
    path: ['integration', 'show'],
    summary: 'Show one integration (never its skey)',
    args: [IKEY],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const i = await showIntegration(deps, ctx.args.IKEY!);
        if (ctx.json) return void ctx.printJson(i);
        ctx.out(keyValues([
          ['ikey', i.ikey],
          ['name', cell(i.name)],
          ['new-user policy', i.newUserPolicy],
          ['legacy v1', i.legacyV1 ? 'yes' : 'no'],
          ['created', when(i.createdAt)],
          ['last used', when(i.lastUsedAt)],
          ['previous skey valid until', when(i.previousSkeyValidUntil)],
          ['api host', apiHost(deps.settings)],
        ]));
      });
    },
  },
  {
    path: ['integration', 'delete'],
    summary: 'Delete an integration (refused if used in the last 24 hours, unless --force)',
    args: [IKEY],
    flags: [{ name: 'force', kind: 'boolean', description: 'delete even if hosts used it recently (they will be locked out or fail open)' }],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const ikey = ctx.args.IKEY!;
        await deleteIntegration(deps, ikey, ctx.bool('force'));
        if (ctx.json) return void ctx.printJson({ deleted: ikey });
        ctx.out(`Integration ${safe(ikey)} deleted.`);
      });
    },
  },
  {
    path: ['integration', 'rotate-skey'],
    summary: 'Give an integration a new skey; the old one keeps working for a while',
    args: [IKEY],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const ikey = ctx.args.IKEY!;
        const r = await rotateSkey(deps, ikey);
        if (ctx.json) return void ctx.printJson({ ikey, skey: r.skey, previousValidUntil: r.previousValidUntil });
        ctx.out(keyValues([
          ['ikey', ikey],
          ['new skey', r.skey],
        ]));
        ctx.out();
        ctx.out(`The previous skey keeps working until ${when(r.previousValidUntil)}; update "skey =" on every host before then.`);
      });
    },
  },
];
