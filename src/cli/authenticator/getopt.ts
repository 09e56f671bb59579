// A faithful getopt_long(3) (glibc) for the option string google-authenticator uses: '+' (stop at
// the first non-option), short-option clusters (`-tdf`), attached or separate arguments
// (`-w3`, `-w 3`), long options with `=value` or a separate argument, unique-prefix
// abbreviations (`--win=3`), and glibc's diagnostic texts.

export interface LongOption {
  name: string;
  hasArg: boolean;
  /** The short option it stands for, or a name of its own (e.g. 'version'). */
  val: string;
}

export type GetoptItem = { ok: true; opt: string; arg?: string } | { ok: false; message: string };

export interface GetoptResult {
  items: GetoptItem[];
  /** Arguments left after the options ('--' consumed). */
  rest: string[];
}

/** Parses `argv` (without the program name). `shortSpec` is e.g. 'hcl:' (no leading '+'). */
export function getoptLong(prog: string, argv: readonly string[], shortSpec: string, longs: readonly LongOption[]): GetoptResult {
  const items: GetoptItem[] = [];
  const takesArg = (c: string): boolean | undefined => {
    const i = shortSpec.indexOf(c);
    if (i < 0 || c === ':') return undefined;
    return shortSpec[i + 1] === ':';
  };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    i++;
    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const exact = longs.find((l) => l.name === name);
      const candidates = exact !== undefined ? [exact] : longs.filter((l) => l.name.startsWith(name));
      if (candidates.length === 0) {
        items.push({ ok: false, message: `${prog}: unrecognized option '--${name}'` });
        continue;
      }
      if (candidates.length > 1) {
        items.push({ ok: false, message: `${prog}: option '--${name}' is ambiguous; possibilities:${candidates.map((c) => ` '--${c.name}'`).join('')}` });
        continue;
      }
      const opt = candidates[0]!;
      if (!opt.hasArg) {
        if (eq >= 0) items.push({ ok: false, message: `${prog}: option '--${opt.name}' doesn't allow an argument` });
        else items.push({ ok: true, opt: opt.val });
        continue;
      }
      if (eq >= 0) items.push({ ok: true, opt: opt.val, arg: body.slice(eq + 1) });
      else if (i < argv.length) items.push({ ok: true, opt: opt.val, arg: argv[i++]! });
      else items.push({ ok: false, message: `${prog}: option '--${opt.name}' requires an argument` });
      continue;
    }
    // A cluster of short options.
    for (let k = 1; k < arg.length; k++) {
      const c = arg[k]!;
      const needs = takesArg(c);
      if (needs === undefined) {
        items.push({ ok: false, message: `${prog}: invalid option -- '${c}'` });
        continue;
      }
      if (!needs) {
        items.push({ ok: true, opt: c });
        continue;
      }
      if (k + 1 < arg.length) items.push({ ok: true, opt: c, arg: arg.slice(k + 1) });
      else if (i < argv.length) items.push({ ok: true, opt: c, arg: argv[i++]! });
      else items.push({ ok: false, message: `${prog}: option requires an argument -- '${c}'` });
      break;
    }
  }
  return { items, rest: argv.slice(i) };
}
