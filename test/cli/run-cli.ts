// Runs the CLI in-process against a temporary data directory and captures what it prints.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/cli.js';
import type { InputSource } from '../../src/cli/io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TempData {
  /** Scratch directory; the data directory is `<root>/data`. */
  root: string;
  data: string;
  env: Record<string, string>;
  /** Runs `tandem <argv> --data <data>`. */
  run(argv: string[], o?: { stdin?: InputSource; env?: Record<string, string>; noData?: boolean; signal?: AbortSignal }): Promise<CliResult>;
  /** Like run, then parses stdout as JSON (and fails loudly when the exit code is not 0). */
  json<T = unknown>(argv: string[], o?: { stdin?: InputSource }): Promise<T>;
  cleanup(): void;
}

export const NODE_ID = 'cli-test-node';

export async function runCli(argv: string[], o: { stdin?: InputSource; env?: Record<string, string>; cwd?: string; signal?: AbortSignal } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: o.stdin ?? '',
    env: o.env ?? {},
    cwd: o.cwd ?? tmpdir(),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { code, stdout, stderr };
}

export function tempData(): TempData {
  const root = mkdtempSync(join(tmpdir(), 'tandem-cli-'));
  const data = join(root, 'data');
  const env = { TANDEM_NODE_ID: NODE_ID };
  const t: TempData = {
    root,
    data,
    env,
    run: (argv, o = {}) =>
      runCli(o.noData ? argv : [...argv, '--data', data], {
        env: { ...env, ...o.env },
        cwd: root,
        ...(o.stdin !== undefined ? { stdin: o.stdin } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      }),
    async json<T>(argv: string[], o: { stdin?: InputSource } = {}) {
      const r = await t.run([...argv, '--json'], o);
      if (r.code !== 0) throw new Error(`tandem ${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
  return t;
}

/** A stack trace looks like "\n    at fn (file:line)". Expected errors never print one. */
export const STACK = /\n\s+at /;
