// `tandem integration …`: the ikey/skey pairs hosts sign their requests with.
import { createIntegration, deleteIntegration, failmodeMismatchHosts, listIntegrations, parseFactors, parseNewUserPolicy, rotateSkey, setNewUserPolicy, setPushPolicy, showIntegration, showPushPolicy, type PushPolicyView } from '../../core/integrations.js';
import type { FailmodeHint, PushPolicy } from '../../store/contract.js';
import { UsageError, type CommandDef } from '../args.js';
import { cell, keyValues, safe, table, when } from '../output.js';
import { apiHost, clientConfigBlock, DUO_UNIX_MAX_LINE_BYTES, LEGACY_V1_WARNING } from '../../core/client-config.js';

export { apiHost, clientConfigBlock, DUO_UNIX_MAX_LINE_BYTES, LEGACY_V1_WARNING };

const IKEY = { name: 'IKEY', description: 'the integration key (DI…)' } as const;

function policyLines(v: PushPolicyView, mismatched: string[]): string {
  const from = (k: keyof PushPolicy): string => (v.policy[k] === undefined ? ' (site default)' : '');
  const dflt = (k: keyof PushPolicy): string => (v.policy[k] === undefined ? ' (default)' : '');
  const e = v.effective;
  const hosts = mismatched.length === 0 ? '0' : `${mismatched.length} (${mismatched.slice(0, 10).map((h) => cell(h)).join(', ')}${mismatched.length > 10 ? ', …' : ''})`;
  return keyValues([
    ['factors allowed', `${e.factors.join(',')}${dflt('factors')}`],
    ['failmode hint', `${e.failmodeHint}${dflt('failmodeHint')}`],
    ['hosts with another failmode (7 days)', hosts],
    ['ikey', v.ikey],
    ['verified push', `${e.verifiedPush}${from('verifiedPush')}`],
    ['max pending pushes', `${e.maxPending}${from('maxPending')}`],
    ['denial threshold', `${e.denialThreshold}${from('denialThreshold')}`],
    ['cooldown', `${e.cooldownSeconds} s${from('cooldownSeconds')}`],
    ['fraud reports lock', `${e.fraudLocks ? 'yes' : 'no'}${from('fraudLocks')}`],
    ['approval', `${e.approvalAuth}${from('approvalAuth')}`],
  ]);
}

export const integrationCommands: CommandDef[] = [
  {
    path: ['integration', 'create'],
    summary: 'Create an integration and print its ikey, skey and a ready-to-paste client config',
    details: ['The skey is shown only now; store it in the hosts\' config files (mode 0600).'],
    flags: [
      { name: 'name', kind: 'string', value: 'NAME', required: true, description: 'a name for the hosts that will use it' },
      { name: 'new-user-policy', kind: 'string', value: 'POLICY', choices: ['enroll', 'allow', 'deny'], description: 'what happens to users Tandem does not know (default: enroll)' },
      {
        name: 'legacy-v1', kind: 'boolean',
        description: 'also accept legacy v1 signatures (no date, replayable): needed by Debian/Ubuntu\'s login-duo/libpam-duo 1.11.3',
      },
    ],
    async run(ctx) {
      const policy = ctx.str('new-user-policy');
      const legacyV1 = ctx.bool('legacy-v1');
      return ctx.withRuntime(async ({ deps, paths }) => {
        const { integration, skey } = await createIntegration(deps, {
          name: ctx.str('name')!,
          ...(policy !== undefined ? { newUserPolicy: parseNewUserPolicy(policy) } : {}),
          legacyV1,
        });
        const host = apiHost(deps.settings);
        const cafile = paths.caCert;
        if (ctx.json) {
          ctx.printJson({ ikey: integration.ikey, skey, host, cafile, name: integration.name, newUserPolicy: integration.newUserPolicy, legacyV1: integration.legacyV1 });
          return 0;
        }
        ctx.out(`Integration "${safe(integration.name)}" created.`);
        ctx.out(keyValues([
          ['ikey', integration.ikey],
          ['skey', skey],
          ['api host', host],
          ['new-user policy', integration.newUserPolicy],
          ['legacy v1', integration.legacyV1 ? 'yes' : 'no'],
        ]));
        if (integration.legacyV1) ctx.out(LEGACY_V1_WARNING);
        ctx.out();
        ctx.out('The skey is shown only this once. Client configuration:');
        ctx.out();
        const block = clientConfigBlock({ name: integration.name, ikey: integration.ikey, skey, host, cafile });
        ctx.out(block);
        ctx.out();
        for (const line of block.split('\n')) {
          if (Buffer.byteLength(line) > DUO_UNIX_MAX_LINE_BYTES) {
            ctx.out(`Warning: "${safe(line.split(' = ')[0]!)}" is longer than duo_unix 1.11.3 reads (${DUO_UNIX_MAX_LINE_BYTES} bytes); shorten it on the hosts.`);
          }
        }
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
          ['IKEY', 'NAME', 'NEW-USER POLICY', 'LEGACY V1', 'CREATED', 'LAST USED'],
          list.map((i) => [i.ikey, cell(i.name), i.newUserPolicy, i.legacyV1 ? 'yes' : 'no', when(i.createdAt), when(i.lastUsedAt)]),
        ));
        if (list.some((i) => i.legacyV1)) ctx.out(LEGACY_V1_WARNING);
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
        if (i.legacyV1) ctx.out(LEGACY_V1_WARNING);
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
    path: ['integration', 'set'],
    summary: 'Change an integration\'s settings (the new-user policy)',
    args: [IKEY],
    flags: [{ name: 'new-user-policy', kind: 'string', value: 'POLICY', choices: ['enroll', 'allow', 'deny'], description: 'what happens to users Tandem does not know' }],
    async run(ctx) {
      const policy = ctx.str('new-user-policy');
      if (policy === undefined) throw new UsageError('nothing to change: give --new-user-policy', ctx.def);
      return ctx.withRuntime(async ({ deps }) => {
        const ikey = ctx.args.IKEY!;
        await setNewUserPolicy(deps, ikey, policy);
        if (ctx.json) return void ctx.printJson({ ikey, newUserPolicy: policy });
        ctx.out(`New-user policy of ${safe(ikey)}: ${policy}.`);
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
  {
    path: ['integration', 'policy'],
    summary: 'Show or change an integration\'s policy (factors allowed, failmode hint, number matching, anti-fatigue, passkey approvals)',
    details: [
      'Without options, shows the policy; each option changes one setting and keeps the others.',
      'Settings the integration does not set follow the site defaults (push* in the configuration).',
      'Factors: push (Tandem Authenticator), passcode (authenticator apps, app codes, hardware/software tokens), bypass (bypass codes); default all.',
      'The failmode hint is what the integration\'s client configs carry; preauths from hosts that send another failmode are counted.',
    ],
    args: [IKEY],
    flags: [
      { name: 'factors', kind: 'string', value: 'LIST', description: 'the factors allowed, comma-separated: push,passcode,bypass' },
      { name: 'failmode-hint', kind: 'string', choices: ['secure', 'safe'], description: 'the failmode the client configs carry (secure: deny when Tandem is unreachable)' },
      { name: 'verified-push', kind: 'string', choices: ['off', 'required'], description: 'number matching: required withholds push from clients that cannot show the code' },
      { name: 'max-pending', kind: 'int', value: 'N', min: 1, max: 100, description: 'pending pushes allowed per user at once' },
      { name: 'denial-threshold', kind: 'int', value: 'N', min: 1, max: 1000, description: 'consecutive denied or unanswered pushes that pause push for a user' },
      { name: 'cooldown-secs', kind: 'int', value: 'N', min: 1, max: 30 * 86400, description: 'how long push stays paused after the threshold' },
      { name: 'fraud-locks', kind: 'string', choices: ['yes', 'no'], description: '"report as fraud" locks the user' },
      {
        name: 'approval', kind: 'string', choices: ['device-key', 'passkey'],
        description: 'what covers an approval: the device key alone, or also a passkey of the device with user verification (devices without one cannot approve)',
      },
    ],
    async run(ctx) {
      const changes: PushPolicy = {};
      const factors = ctx.str('factors');
      if (factors !== undefined) {
        try {
          changes.factors = parseFactors(factors);
        } catch (e) {
          throw new UsageError(e instanceof Error ? e.message : String(e), ctx.def);
        }
        if (changes.factors.length === 0) throw new UsageError('--factors needs at least one of push, passcode, bypass', ctx.def);
      }
      const hint = ctx.str('failmode-hint');
      if (hint !== undefined) changes.failmodeHint = hint as FailmodeHint;
      const vp = ctx.str('verified-push');
      if (vp !== undefined) changes.verifiedPush = vp as 'off' | 'required';
      const maxPending = ctx.int('max-pending');
      if (maxPending !== undefined) changes.maxPending = maxPending;
      const threshold = ctx.int('denial-threshold');
      if (threshold !== undefined) changes.denialThreshold = threshold;
      const cooldown = ctx.int('cooldown-secs');
      if (cooldown !== undefined) changes.cooldownSeconds = cooldown;
      const fraud = ctx.str('fraud-locks');
      if (fraud !== undefined) changes.fraudLocks = fraud === 'yes';
      const approval = ctx.str('approval');
      if (approval !== undefined) changes.approvalAuth = approval as 'device-key' | 'passkey';
      return ctx.withRuntime(async ({ deps }) => {
        const ikey = ctx.args.IKEY!;
        const v = Object.keys(changes).length === 0 ? await showPushPolicy(deps, ikey) : await setPushPolicy(deps, ikey, changes);
        const mismatched = await failmodeMismatchHosts(deps, ikey);
        if (ctx.json) return void ctx.printJson({ ...v, failmodeMismatchHosts: mismatched });
        const pushOnly = changes.factors === undefined && changes.failmodeHint === undefined;
        if (Object.keys(changes).length > 0) ctx.out(`${pushOnly ? 'Push policy' : 'Policy'} of ${safe(ikey)} updated.`);
        ctx.out(policyLines(v, mismatched));
      });
    },
  },
];
