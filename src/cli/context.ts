// What a command's `run` gets: its parsed arguments, output helpers, and access to the data
// directory through the server runtime (the CLI never opens the store itself).
import { resolveDataDir } from '../config/data-dir.js';
import { createLogger, type ServerLogger } from '../server/logger.js';
import { openRuntime, type Runtime } from '../server/runtime.js';
import type { CommandDef, FlagValue, ParsedArgs } from './args.js';
import type { CliIO } from './io.js';
import { toJson } from './output.js';

export interface CommandContext {
  io: CliIO;
  def: CommandDef;
  /** Positional arguments by their ArgDef name. */
  args: Record<string, string>;
  json: boolean;
  str(name: string): string | undefined;
  int(name: string): number | undefined;
  list(name: string): string[];
  bool(name: string): boolean;
  /** `--data DIR` > `$TANDEM_DATA` > `./data`, absolute. */
  dataDir(): string;
  /** One or more lines to standard output. */
  out(text?: string): void;
  /** Pretty JSON to standard output. */
  printJson(value: unknown): void;
  /** The CLI's own server log: warnings and errors only, on stderr (stdout stays clean). */
  log: ServerLogger;
  /** Opens the data directory, runs `fn`, and closes it again. */
  withRuntime<T>(fn: (rt: Runtime) => Promise<T>): Promise<T>;
}

export function createContext(io: CliIO, def: CommandDef, parsed: ParsedArgs): CommandContext {
  const v = (name: string): FlagValue | undefined => parsed.values[name];
  const log = createLogger('warn', () => Date.now(), (line) => io.stderr.write(line));
  const ctx: CommandContext = {
    io,
    def,
    args: parsed.args,
    json: v('json') === true,
    str: (name) => {
      const x = v(name);
      return typeof x === 'string' ? x : undefined;
    },
    int: (name) => {
      const x = v(name);
      return typeof x === 'number' ? x : undefined;
    },
    list: (name) => {
      const x = v(name);
      return Array.isArray(x) ? x.map(String) : x === undefined ? [] : [String(x)];
    },
    bool: (name) => v(name) === true,
    dataDir: () => resolveDataDir({ flag: ctx.str('data'), env: io.env, cwd: io.cwd }),
    out: (text = '') => void io.stdout.write(text + '\n'),
    printJson: (value) => void io.stdout.write(toJson(value) + '\n'),
    log,
    async withRuntime(fn) {
      const rt = await openRuntime({ dataDir: ctx.dataDir(), env: io.env, log });
      try {
        return await fn(rt);
      } finally {
        await rt.close();
      }
    },
  };
  return ctx;
}
