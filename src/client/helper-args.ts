// The helper's arguments: pam_tandem's module arguments and login_tandem's options, as the
// launcher passes them (pam/PROTOCOL.md, ARG lines).
import type { ClientProgram } from './config/types.js';

export interface HelperArgs {
  conf: string | null;
  debug: boolean;
  /** login_tandem -f */
  user: string | null;
  /** login_tandem -h */
  host: string | null;
  /** login_tandem's command after `--` */
  command: string | null;
}

export class BadArgument extends Error {
  constructor(readonly name_: string) {
    super(`Invalid pam_tandem option: '${name_}'`);
    this.name = 'BadArgument';
  }
}

/**
 * Module arguments / launcher options. Known: `conf=`, `debug`, pam_tandem's own `timeout=`,
 * `helper=` and `node=` (ignored), and for login_tandem `user=`, `host=`, `command=`. Anything else is refused, as pam_duo does
 * (its name only is logged: a value could be anything).
 */
export function parseHelperArgs(args: readonly string[], mode: ClientProgram): HelperArgs {
  const out: HelperArgs = { conf: null, debug: false, user: null, host: null, command: null };
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = eq === -1 ? a : a.slice(0, eq);
    const value = eq === -1 ? null : a.slice(eq + 1);
    if (name === 'debug' && value === null) out.debug = true;
    else if (name === 'conf' && value) out.conf = value;
    // pam_tandem's own options, which it passes on with the rest: not ours to judge.
    else if ((name === 'timeout' || name === 'helper' || name === 'node') && value !== null) continue;
    else if (mode === 'login' && name === 'user' && value) out.user = value;
    else if (mode === 'login' && name === 'host' && value) out.host = value;
    else if (mode === 'login' && name === 'command' && value !== null) out.command = value;
    else throw new BadArgument(name.slice(0, 64));
  }
  return out;
}
