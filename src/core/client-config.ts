// The client configuration an integration's hosts need: the `[duo]` block that pam_duo.conf /
// login_duo.conf (stock duo_unix) and pam_tandem.conf / login_tandem.conf (ours) share. Used by
// `tandem integration create` and the admin console, so both print the same text.
import type { Settings } from '../config/settings.js';
import type { FailmodeHint } from '../store/contract.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Control characters shown as \xHH / \uHHHH (as the CLI's `safe`): a config line stays one line. */
function safe(s: string): string {
  return s.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** What clients put in `host =`: the first configured name, with the port unless it is 443. */
export function apiHost(settings: Pick<Settings, 'hosts' | 'listen'>): string {
  const name = settings.hosts[0] ?? 'localhost';
  const host = name.includes(':') ? `[${name}]` : name;
  return settings.listen.port === 443 ? host : `${host}:${settings.listen.port}`;
}

/** duo_unix 1.11.3 reads its config with fgets into 200 bytes: a longer line is split in two. */
export const DUO_UNIX_MAX_LINE_BYTES = 198;

/** `s` cut (at a character boundary) to at most `max` UTF-8 bytes, with … when cut. */
function fitBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch + '…') > max) break;
    out += ch;
  }
  return out + '…';
}

/**
 * The `[duo]` section for the hosts' pam_duo.conf / login_duo.conf. duo_unix 1.11.3 stops
 * reading at the first bad line and then applies the failmode parsed so far (default: safe, which
 * lets everyone in), so the failmode line comes first, every line parses and fits its 200-byte
 * line buffer, and the block must replace the packaged file rather than be added to it (the
 * packaged `failmode = safe` and empty `ikey =` would win, being later). The failmode is the
 * integration's hint (`secure` unless an admin chose `safe`).
 */
export function clientConfigBlock(o: { name: string; ikey: string; skey: string; host: string; cafile: string; failmode?: FailmodeHint }): string {
  const failmode = o.failmode ?? 'secure';
  return [
    '[duo]',
    `; Tandem integration "${fitBytes(safe(o.name), 120)}": replace the whole file with this block.`,
    '; Debian/Ubuntu packages: /etc/security/pam_duo.conf and /etc/security/login_duo.conf; upstream builds: /etc/duo/',
    '; Mode 0600; pam_duo.conf owned by root, login_duo.conf by the user login_duo reads it as (Debian: sshd).',
    ...(failmode === 'safe' ? ['; failmode = safe: when Tandem cannot be reached, logins succeed WITHOUT a second factor.'] : []),
    `failmode = ${failmode}`,
    `ikey = ${o.ikey}`,
    `skey = ${o.skey}`,
    `host = ${o.host}`,
    `cafile = ${o.cafile}`,
  ].join('\n');
}

/** One line, printed whenever an integration accepts legacy v1 signatures. */
export const LEGACY_V1_WARNING =
  'Legacy v1 signatures sign no date, so a captured request can be replayed forever; only Debian/Ubuntu\'s login-duo/libpam-duo 1.11.3 (duo_unix 2.0.3 and older) need them.';

/** Where our own clients read the same block (tandem client install's templates, src/cli/client-install/layout.ts). */
export const TANDEM_CLIENT_CONFIGS = { pam: '/etc/tandem/pam_tandem.conf', login: '/etc/tandem/login_tandem.conf' } as const;

/** The block for pam_tandem / login_tandem: the same [duo] keys, then our [tandem] section. */
export function tandemClientConfigBlock(o: Parameters<typeof clientConfigBlock>[0]): string {
  return [
    clientConfigBlock(o).replace(
      /^; Debian.*\n; Mode.*$/m,
      `; pam_tandem: ${TANDEM_CLIENT_CONFIGS.pam} (mode 0600, root); login_tandem: ${TANDEM_CLIENT_CONFIGS.login} (mode 0600, _tandem).`,
    ),
    '',
    '[tandem]',
    'allow_insecure_tls = no',
  ].join('\n');
}
