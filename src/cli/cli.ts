// `tandem <command> …`: finds the command in the table, parses its arguments, runs it, and turns
// errors into messages and exit codes: 0 success, 1 the operation failed, 2 a usage mistake.
// Expected errors never print a stack trace, and messages never contain secrets.
import { ConfigError } from '../config/load.js';
import { CoreError } from '../core/errors.js';
import { ProtocolError } from '../protocol/errors.js';
import { COMMON_FLAGS, UsageError, parseCommandArgs, shown, type CommandDef } from './args.js';
import { COMMANDS } from './commands/index.js';
import { createContext } from './context.js';
import { commandHelp, globalHelp, groupHelp } from './help.js';
import { CliError, processIO, type CliIO } from './io.js';

const GROUPS = new Set(COMMANDS.filter((d) => d.path.length > 1).map((d) => d.path[0]!));

type Found = { def: CommandDef; rest: string[] } | { group: string; rest: string[] } | { unknown: string; group?: string };

/** The command named by the leading words of `words`. */
function find(words: readonly string[]): Found {
  const [first, second] = words;
  if (first === undefined) return { unknown: '' };
  if (GROUPS.has(first)) {
    if (second === undefined || second.startsWith('-')) return { group: first, rest: words.slice(1) };
    const def = COMMANDS.find((d) => d.path.length === 2 && d.path[0] === first && d.path[1] === second);
    return def ? { def, rest: words.slice(2) } : { unknown: `${first} ${second}`, group: first };
  }
  const def = COMMANDS.find((d) => d.path.length === 1 && d.path[0] === first);
  return def ? { def, rest: words.slice(1) } : { unknown: first };
}

/**
 * Global options may come before the command (`tandem --data DIR user list`); they are moved
 * after it. Returns those options and the remaining words.
 */
function splitLeadingOptions(argv: readonly string[]): { pre: string[]; words: string[] } {
  const pre: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--data') {
      if (i + 1 >= argv.length) throw new UsageError('option --data needs a value (DIR)');
      pre.push(a, argv[i + 1]!);
      i += 2;
    } else if (a.startsWith('--data=') || COMMON_FLAGS.some((f) => f.kind === 'boolean' && (a === `--${f.name}` || (f.short && a === `-${f.short}`)))) {
      pre.push(a);
      i++;
    } else {
      break;
    }
  }
  return { pre, words: argv.slice(i) };
}

function isHelp(a: string): boolean {
  return a === '--help' || a === '-h';
}

async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const { pre, words } = splitLeadingOptions(argv);
  const first = words[0];

  if (first === undefined) {
    if (pre.some(isHelp)) {
      io.stdout.write(globalHelp(COMMANDS));
      return 0;
    }
    io.stderr.write('tandem: missing command\n\n' + globalHelp(COMMANDS));
    return 2;
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option ${first.split('=')[0]} (before the command)`);

  if (first === 'help') {
    // Options are irrelevant here (`tandem help user list --data X` is still help).
    const target = words.slice(1).filter((w, i, all) => !w.startsWith('-') && all[i - 1] !== '--data');
    if (target.length === 0) {
      io.stdout.write(globalHelp(COMMANDS));
      return 0;
    }
    const found = find(target);
    if ('def' in found && found.rest.length === 0) io.stdout.write(commandHelp(found.def));
    else if ('group' in found && 'rest' in found && found.rest.length === 0) io.stdout.write(groupHelp(found.group, COMMANDS));
    else throw new UsageError(`no command ${shown(target.join(' '))}`);
    return 0;
  }

  const found = find(words);
  if ('unknown' in found) {
    io.stderr.write(`tandem: unknown command ${shown(found.unknown)}\n\n` + (found.group ? groupHelp(found.group, COMMANDS) : globalHelp(COMMANDS)));
    return 2;
  }
  if ('group' in found) {
    if ([...pre, ...found.rest].some(isHelp)) {
      io.stdout.write(groupHelp(found.group, COMMANDS));
      return 0;
    }
    io.stderr.write(`tandem: "${found.group}" needs a command\n\n` + groupHelp(found.group, COMMANDS));
    return 2;
  }

  const parsed = parseCommandArgs(found.def, [...pre, ...found.rest]);
  if (parsed.help) {
    io.stdout.write(commandHelp(found.def));
    return 0;
  }
  const code = await found.def.run(createContext(io, found.def, parsed));
  return code ?? 0;
}

/** Runs the CLI and returns the exit code; never calls process.exit. */
export async function main(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const full: CliIO = { ...processIO(), ...io };
  const fail = (line: string): void => void full.stderr.write(`tandem: ${line}\n`);
  try {
    return await dispatch(argv, full);
  } catch (e) {
    if (e instanceof UsageError) {
      fail(e.message);
      full.stderr.write('\n' + (e.command ? commandHelp(e.command) : globalHelp(COMMANDS)));
      return 2;
    }
    if (e instanceof ConfigError) {
      for (const p of e.problems) fail(p);
      return 1;
    }
    if (e instanceof CoreError) {
      fail(e.detail);
      return 1;
    }
    if (e instanceof CliError || e instanceof ProtocolError) {
      fail(e.message);
      return 1;
    }
    // Anything else is unexpected; the message only, unless asked for the stack.
    const err = e instanceof Error ? e : new Error(String(e));
    fail(err.message);
    if (full.env.TANDEM_DEBUG) full.stderr.write(`${err.stack ?? ''}\n`);
    return 1;
  }
}
