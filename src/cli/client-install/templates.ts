// The text `tandem client install` writes or prints: the pam_tandem.conf / login_tandem.conf
// templates (created once, never overwritten) and the next-step lines for /etc/pam.d and
// sshd_config, which the installer never edits itself (the README has the same lines).
import { CLIENT_ACCOUNT, CONFIG_DIR, type ClientPaths } from './layout.js';

// ---------------------------------------------------------------------------------------------
// Config templates

const CONF_HEAD = [
  '; Fill in ikey, skey, host and cafile from `tandem integration create` (run on the Tandem server)',
  '; and copy the server\'s CA (data/ca.pem) to the cafile path. The keys are those of pam_duo.conf /',
  '; login_duo.conf. Until ikey, skey and host are set every login is DENIED (no failmode applies).',
];
const CONF_BODY = [
  '[duo]',
  'failmode = secure',
  'ikey =',
  'skey =',
  '; host name exactly as in the server certificate (tandem cert show), optionally :port',
  'host =',
  `cafile = ${CONFIG_DIR}/ca.pem`,
  '; groups = users,!wheel',
  '; pushinfo = yes',
  '; autopush = no',
  '; prompts = 3',
  '',
  '[tandem]',
  '; yes only to allow noverify / an empty cafile (TLS without certificate checks): never in production',
  'allow_insecure_tls = no',
  '',
];

export function pamConfTemplate(): string {
  return ['; pam_tandem.so configuration. Mode 0600, owned by root.', ...CONF_HEAD, ...CONF_BODY].join('\n');
}

export function loginConfTemplate(): string {
  return [
    `; login_tandem configuration. Mode 0600, owned by ${CLIENT_ACCOUNT}: login_tandem reads it as that account.`,
    ...CONF_HEAD,
    ...CONF_BODY.slice(0, -1),
    '; motd = yes',
    '; accept_env_factor = no',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The lines to add by hand (also in the README)

export function nextStepsText(p: ClientPaths): string {
  const tandem = `auth required  ${p.pamModuleRef} conf=${p.pamConf}`;
  return [
    'Nothing in /etc/pam.d or /etc/ssh/sshd_config was changed. Fill in the config files, then add the',
    'lines for the logins you want to protect. Keep a root shell open while you change PAM or sshd,',
    'and try a new login before closing it.',
    '',
    'SSH, password + 2FA: /etc/ssh/sshd_config',
    '    UsePAM yes',
    '    KbdInteractiveAuthentication yes',
    '  and in /etc/pam.d/sshd, in place of "@include common-auth":',
    '    auth requisite pam_unix.so nullok',
    `    ${tandem}`,
    '',
    'SSH, public key + 2FA: /etc/ssh/sshd_config',
    '    UsePAM yes',
    '    KbdInteractiveAuthentication yes',
    '    AuthenticationMethods publickey,keyboard-interactive',
    '  and in /etc/pam.d/sshd, in place of "@include common-auth":',
    `    ${tandem}`,
    '',
    'SSH, or instead wrap every session with login_tandem: /etc/ssh/sshd_config',
    `    ForceCommand ${p.loginTandem}`,
    '    PermitUserRC no',
    '    PermitTunnel no',
    '    AllowTcpForwarding no',
    '    AllowStreamLocalForwarding no',
    '    AllowAgentForwarding no',
    '    X11Forwarding no',
    `  login_tandem reads ${p.loginConf}.`,
    '',
    'sudo: /etc/pam.d/sudo, after "@include common-auth" (pushinfo = yes sends the command):',
    `    ${tandem}`,
    'su: /etc/pam.d/su, after "@include common-auth" (su to root asks the invoking user, su to',
    'anyone else asks the target user):',
    `    ${tandem}`,
  ].join('\n');
}

