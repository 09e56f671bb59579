// Command definitions and argument parsing. Every command is one CommandDef: its words, summary,
// positional arguments and flags. The parser and the help text are both built from these
// definitions, so help never drifts from what is accepted. Parsing uses node:util parseArgs.
import { parseArgs } from 'node:util';
import type { CommandContext } from './context.js';

export type FlagKind = 'string' | 'boolean' | 'int';

export interface FlagDef {
  /** Long name without the dashes. */
  name: string;
  kind: FlagKind;
  /** Placeholder in help, e.g. NAME. */
  value?: string;
  description: string;
  short?: string;
  multiple?: boolean;
  required?: boolean;
  /** Accepted values (string or int flags). */
  choices?: readonly string[];
  /** Inclusive bounds for int flags. */
  min?: number;
  max?: number;
}

export interface ArgDef {
  name: string;
  description: string;
}

export interface CommandDef {
  /** The command words, e.g. ['integration', 'create']. */
  path: readonly string[];
  summary: string;
  /** Extra help lines (one paragraph), shown by `--help` only. */
  details?: readonly string[];
  args?: readonly ArgDef[];
  flags?: readonly FlagDef[];
  run(ctx: CommandContext): Promise<number | void>;
}

/** Flags every command takes. */
export const COMMON_FLAGS: readonly FlagDef[] = [
  { name: 'data', kind: 'string', value: 'DIR', description: 'data directory (default: $TANDEM_DATA, else ./data)' },
  { name: 'json', kind: 'boolean', description: 'machine-readable JSON on standard output' },
  { name: 'help', short: 'h', kind: 'boolean', description: 'show this help' },
];

/** A mistake in how the command was called: message + usage on stderr, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: CommandDef,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagValue = string | number | boolean | string[] | number[];

export interface ParsedArgs {
  help: boolean;
  values: Record<string, FlagValue | undefined>;
  args: Record<string, string>;
}

export function allFlags(def: CommandDef): FlagDef[] {
  return [...(def.flags ?? []), ...COMMON_FLAGS];
}

/** A user-supplied value in a message: bounded and without control characters. */
export function shown(value: string): string {
  const short = value.length > 40 ? value.slice(0, 40) + '…' : value;
  return JSON.stringify(short);
}

function convert(def: CommandDef, f: FlagDef, raw: string): string | number {
  if (f.choices && !f.choices.includes(raw)) {
    throw new UsageError(`--${f.name} must be ${f.choices.join(' or ')} (got ${shown(raw)})`, def);
  }
  if (f.kind !== 'int') return raw;
  if (!/^[0-9]{1,15}$/.test(raw)) throw new UsageError(`--${f.name} must be a whole number (got ${shown(raw)})`, def);
  const n = Number(raw);
  if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
    const range = f.max === undefined ? `at least ${f.min}` : f.min === undefined ? `at most ${f.max}` : `${f.min} to ${f.max}`;
    throw new UsageError(`--${f.name} must be ${range} (got ${raw})`, def);
  }
  return n;
}

/** Parses the arguments after the command words. Throws UsageError. */
export function parseCommandArgs(def: CommandDef, argv: readonly string[]): ParsedArgs {
  const flags = allFlags(def);
  const byName = new Map(flags.map((f) => [f.name, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [f.short!, f]));
  const options = Object.fromEntries(
    flags.map((f) => [f.name, { type: f.kind === 'boolean' ? ('boolean' as const) : ('string' as const), multiple: f.multiple === true, ...(f.short ? { short: f.short } : {}) }]),
  );
  // strict: false so that we word the errors ourselves (and unknown flags are reported by name).
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });

  // `--help` wins over every other problem: `tandem user create --help` needs no NAME.
  if (tokens.some((t) => t.kind === 'option' && (t.name === 'help' || byShort.get(t.name)?.name === 'help'))) {
    return { help: true, values: {}, args: {} };
  }

  const values: Record<string, FlagValue | undefined> = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const f = t.rawName.startsWith('--') ? byName.get(t.name) : byShort.get(t.name);
    if (!f) throw new UsageError(`unknown option ${t.rawName}`, def);
    if (f.kind === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`option --${f.name} takes no value`, def);
      if (values[f.name] !== undefined) throw new UsageError(`option --${f.name} given more than once`, def);
      values[f.name] = true;
      continue;
    }
    // `--name --json` is a forgotten value, not a name starting with a dash (use --name=-x).
    if (t.value === undefined || (!t.inlineValue && t.value.length > 1 && t.value.startsWith('-'))) {
      throw new UsageError(`option --${f.name} needs a value (${f.value ?? 'VALUE'})`, def);
    }
    const v = convert(def, f, t.value);
    if (f.multiple) {
      const list = (values[f.name] ?? []) as (string | number)[];
      list.push(v);
      values[f.name] = list as string[] | number[];
    } else {
      if (values[f.name] !== undefined) throw new UsageError(`option --${f.name} given more than once`, def);
      values[f.name] = v;
    }
  }

  for (const f of flags) {
    if (f.required && values[f.name] === undefined) throw new UsageError(`missing required option --${f.name} ${f.value ?? ''}`.trimEnd(), def);
  }
  const argDefs = def.args ?? [];
  if (positionals.length < argDefs.length) throw new UsageError(`missing argument ${argDefs[positionals.length]!.name}`, def);
  if (positionals.length > argDefs.length) throw new UsageError(`unexpected argument ${shown(positionals[argDefs.length]!)}`, def);
  const args: Record<string, string> = {};
  argDefs.forEach((a, i) => (args[a.name] = positionals[i]!));
  return { help: false, values, args };
}
