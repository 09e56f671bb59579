// `tandem user enroll-link`, `tandem enrollment list|approve|deny` and
// `tandem integration enrollment`: the enrollment portal's operator side (core/portal/links.ts,
// core/enrollments.ts — the same functions the console calls).
import QRCode from 'qrcode';
import { approveEnrollment, denyEnrollment, listEnrollments, setEnrollmentApproval } from '../../core/enrollments.js';
import { ADMIN_LINK_DEFAULT_SECONDS, ADMIN_LINK_MAX_SECONDS, createAdminEnrollLink } from '../../core/portal/links.js';
import type { CommandDef } from '../args.js';
import { cell, safe, table, when } from '../output.js';

const ID = { name: 'ID', description: 'the held enrollment (DE…), from tandem enrollment list' };

export const enrollmentCommands: CommandDef[] = [
  {
    path: ['user', 'enroll-link'],
    summary: 'Print a one-time enrollment portal link for a user (default: valid 7 days)',
    details: [
      'The link opens the self-service portal at /portal for this user: they add the Tandem',
      'Authenticator or an authenticator app. It works once. A user who already has a factor must',
      'prove it there before adding or removing one. With --json, {username, url, expiresAt}.',
    ],
    args: [{ name: 'USER', description: 'username or alias' }],
    flags: [{ name: 'valid-secs', kind: 'int', value: 'N', min: 60, max: ADMIN_LINK_MAX_SECONDS, description: `how long the link works, in seconds (default ${ADMIN_LINK_DEFAULT_SECONDS})` }],
    async run(ctx) {
      const secs = ctx.int('valid-secs');
      return ctx.withRuntime(async ({ deps }) => {
        const link = await createAdminEnrollLink(deps, ctx.args.USER!, secs);
        if (ctx.json) return void ctx.printJson(link);
        ctx.out(`Enrollment link for ${safe(link.username)} (works once, until ${when(link.expiresAt)}):`);
        ctx.out();
        ctx.out(link.url);
        ctx.out();
        ctx.out(await QRCode.toString(link.url, { type: 'terminal', small: true }));
      });
    },
  },
  {
    path: ['enrollment', 'list'],
    summary: 'List portal enrollments held for an administrator\'s approval',
    flags: [{ name: 'all', kind: 'boolean', description: 'also approved and denied ones' }],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const rows = await listEnrollments(deps, { all: ctx.bool('all') });
        if (ctx.json) return void ctx.printJson(rows);
        if (rows.length === 0) return void ctx.out('No held enrollments.');
        ctx.out(table(['ID', 'USER', 'KIND', 'INTEGRATION', 'STATE', 'CREATED'], rows.map((r) => [r.id, cell(r.username), r.kind, r.integration ?? '-', r.state, when(r.createdAt)])));
      });
    },
  },
  {
    path: ['enrollment', 'approve'],
    summary: 'Approve a held enrollment (an authenticator app starts working; a device gets an activation link to send)',
    args: [ID],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const r = await approveEnrollment(deps, ctx.args.ID!);
        if (ctx.json) return void ctx.printJson({ id: r.id, username: r.username, kind: r.kind, tokenId: r.tokenId ?? null, link: r.activation?.link ?? null, expiresAt: r.activation?.expiresAt ?? null });
        if (r.kind === 'totp') return void ctx.out(`Approved: ${safe(r.username)}'s authenticator app (token ${r.tokenId ?? ''}) now works.`);
        ctx.out(`Approved. Send ${safe(r.username)} this activation link for the Tandem Authenticator (works once, until ${when(r.activation!.expiresAt)}):`);
        ctx.out();
        ctx.out(r.activation!.link);
      });
    },
  },
  {
    path: ['enrollment', 'deny'],
    summary: 'Deny a held enrollment (nothing is added)',
    args: [ID],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const r = await denyEnrollment(deps, ctx.args.ID!);
        if (ctx.json) return void ctx.printJson({ id: r.id, username: r.username, denied: true });
        ctx.out(`Denied ${r.id} (${safe(r.username)}).`);
      });
    },
  },
  {
    path: ['integration', 'enrollment'],
    summary: 'Set who may enroll through the portal for an integration: open (whoever holds the link) or admin (held for approval)',
    args: [{ name: 'IKEY', description: 'the integration key' }, { name: 'POLICY', description: 'open or admin' }],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        await setEnrollmentApproval(deps, ctx.args.IKEY!, ctx.args.POLICY!);
        if (ctx.json) return void ctx.printJson({ ikey: ctx.args.IKEY, enrollmentApproval: ctx.args.POLICY });
        ctx.out(`Enrollment approval for ${safe(ctx.args.IKEY!)}: ${safe(ctx.args.POLICY!)}.`);
      });
    },
  },
];
