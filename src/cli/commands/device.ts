// `tandem device …`: Tandem Authenticator devices (docs/push.md §1). `activate` prints the
// one-time activation link and a terminal QR code of it; the phone opens it and enrolls itself.
import QRCode from 'qrcode';
import { MAX_ACTIVATION_SECONDS, createActivation, listDevices, removeDevice } from '../../core/devices.js';
import type { CommandDef } from '../args.js';
import { cell, safe, table, when } from '../output.js';

const USER = { name: 'USER', description: 'username or alias' } as const;

export const deviceCommands: CommandDef[] = [
  {
    path: ['device', 'activate'],
    summary: 'Make a one-time activation link (and QR code) for a user\'s Tandem Authenticator',
    details: [
      'Open the link (or scan the QR code) on the phone: the Tandem Authenticator web app makes',
      'its signing key there and enrolls itself. The link works once and expires (default:',
      'deviceActivationSeconds, 24 hours). With --json, {username, userId, link, expiresAt} is printed.',
    ],
    args: [USER],
    flags: [{ name: 'valid-secs', kind: 'int', value: 'N', min: 1, max: MAX_ACTIVATION_SECONDS, description: 'how long the link works, in seconds (default from the configuration)' }],
    async run(ctx) {
      const secs = ctx.int('valid-secs');
      return ctx.withRuntime(async ({ deps }) => {
        const a = await createActivation(deps, ctx.args.USER!, secs);
        if (ctx.json) return void ctx.printJson({ username: a.username, userId: a.userId, link: a.link, expiresAt: a.expiresAt });
        ctx.out(`Activation link for ${safe(a.username)} (works once, until ${when(a.expiresAt)}):`);
        ctx.out();
        ctx.out(a.link);
        ctx.out();
        ctx.out(await QRCode.toString(a.link, { type: 'terminal', small: true }));
        ctx.out('Open the link or scan the QR code on the phone to install the Tandem Authenticator.');
      });
    },
  },
  {
    path: ['device', 'list'],
    summary: 'List a user\'s Tandem Authenticator devices',
    args: [USER],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        const devices = await listDevices(deps, ctx.args.USER!);
        if (ctx.json) return void ctx.printJson(devices);
        if (devices.length === 0) return void ctx.out(`${safe(ctx.args.USER!)} has no devices.`);
        ctx.out(table(
          ['DEVICE ID', 'NAME', 'WEB PUSH', 'CREATED', 'LAST SEEN'],
          devices.map((d) => [d.deviceId, cell(d.name), d.webPush ? 'yes' : 'no', when(d.createdAt), when(d.lastSeenAt)]),
        ));
      });
    },
  },
  {
    path: ['device', 'remove'],
    summary: 'Remove one of a user\'s devices (and the TOTP token it was given)',
    args: [USER, { name: 'DEVICE_ID', description: 'the device id (DP…) from device list' }],
    async run(ctx) {
      return ctx.withRuntime(async ({ deps }) => {
        await removeDevice(deps, ctx.args.USER!, ctx.args.DEVICE_ID!);
        if (ctx.json) return void ctx.printJson({ removed: ctx.args.DEVICE_ID });
        ctx.out(`Device ${safe(ctx.args.DEVICE_ID!)} removed from ${safe(ctx.args.USER!)}.`);
      });
    },
  },
];
