// Local mode's module arguments: pam_google_authenticator's options (plus pam_tandem's own, which
// are accepted and ignored here) and the `secret=` path expansion (§3.4). Pure string handling,
// kept apart from the file I/O and the PAM-facing flow in ga-local.ts so the client config parser
// can validate arguments without pulling in the runtime.

export interface LocalOptions {
  secret: string;
  authtokPrompt: string | null;
  user: string | null;
  noStrictOwner: boolean;
  allowedPerm: number;
  debug: boolean;
  passMode: 'prompt' | 'try' | 'use';
  forwardPass: boolean;
  noskewadj: boolean;
  noIncrementHotp: boolean;
  nullok: boolean;
  echo: boolean;
  gracePeriod: number;
  allowReadonly: boolean;
}

export class LocalOptionError extends Error {}

/** pam_google_authenticator's options, plus pam_tandem's own (mode=, timeout=, helper=, node=). */
export function parseLocalArgs(args: readonly string[]): LocalOptions {
  const o: LocalOptions = {
    secret: '~/.google_authenticator',
    authtokPrompt: null,
    user: null,
    noStrictOwner: false,
    allowedPerm: 0o600,
    debug: false,
    passMode: 'prompt',
    forwardPass: false,
    noskewadj: false,
    noIncrementHotp: false,
    nullok: false,
    echo: false,
    gracePeriod: 0,
    allowReadonly: false,
  };
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = eq === -1 ? a : a.slice(0, eq);
    const value = eq === -1 ? null : a.slice(eq + 1);
    if (value !== null) {
      // pam_tandem's own arguments (conf= is accepted and ignored: local mode never reads it).
      if (name === 'mode' || name === 'timeout' || name === 'helper' || name === 'node' || name === 'conf') continue;
      if (name === 'secret') o.secret = value;
      else if (name === 'authtok_prompt') o.authtokPrompt = value;
      else if (name === 'user') o.user = value;
      else if (name === 'allowed_perm') {
        if (!/^[0-7]+$/.test(value) || parseInt(value, 8) === 0 || parseInt(value, 8) > 0o7777) {
          throw new LocalOptionError(`Invalid permissions in setting "${a}". allowed_perm setting must be a positive octal integer.`);
        }
        o.allowedPerm = parseInt(value, 8);
      } else if (name === 'grace_period') {
        if (!/^[0-9]{1,10}$/.test(value)) throw new LocalOptionError(`Invalid value in setting "${a}".grace_period must be a positive number of seconds.`);
        o.gracePeriod = Number(value);
      } else throw new LocalOptionError(`Unrecognized option "${a}"`);
      continue;
    }
    if (a === 'debug') o.debug = true;
    else if (a === 'try_first_pass') o.passMode = 'try';
    else if (a === 'use_first_pass') o.passMode = 'use';
    else if (a === 'forward_pass') o.forwardPass = true;
    else if (a === 'noskewadj') o.noskewadj = true;
    else if (a === 'no_increment_hotp') o.noIncrementHotp = true;
    else if (a === 'nullok') o.nullok = true;
    else if (a === 'echo_verification_code' || a === 'echo-verification-code') o.echo = true;
    else if (a === 'no_strict_owner') o.noStrictOwner = true;
    else if (a === 'allow_readonly') o.allowReadonly = true;
    else throw new LocalOptionError(`Unrecognized option "${a}"`);
  }
  return o;
}

/** §3.4: `~` at the start or after `/`, ${HOME}, ${USER}; home is null with user=. */
export function expandSecretPath(spec: string, user: string, home: string | null): string {
  let out = '';
  let i = 0;
  let justSubstituted = false;
  while (i < spec.length) {
    if (spec[i] === '~' && (i === 0 || spec[i - 1] === '/') && !justSubstituted) {
      if (home === null) throw new LocalOptionError("Home dir in 'secret' not implemented when 'user' set");
      out += home;
      i += 1;
      justSubstituted = true;
    } else if (spec.startsWith('${HOME}', i)) {
      if (home === null) throw new LocalOptionError("Home dir in 'secret' not implemented when 'user' set");
      out += home;
      i += 7;
      justSubstituted = true;
    } else if (spec.startsWith('${USER}', i)) {
      out += user;
      i += 7;
      justSubstituted = true;
    } else {
      out += spec[i];
      i += 1;
      justSubstituted = false;
    }
  }
  return out;
}
