// A real `tandem serve` process over TLS, set up through the real CLI, for interop, hostile-input
// and benchmark runs. Everything listens on loopback only; every wait is bounded.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository: the nearest directory above this module holding Tandem's package.json. Found by
 * walking up rather than by a fixed `../..`, so the same code works bundled (bench/*.ts → dist/).
 */
export const ROOT = findRepository(dirname(fileURLToPath(import.meta.url)));

function findRepository(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'tandem') return dir;
    } catch {
      // no package.json here: keep walking up
    }
    if (dirname(dir) === dir) throw new Error(`no Tandem repository above ${from}`);
  }
}
const BIN = join(ROOT, 'bin/tandem.mjs');

let built: Promise<void> | undefined;
/** The server runs from the esbuild bundle, as `npm start` does; build it once per worker. */
export function ensureBuilt(): Promise<void> {
  built ??= new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT }, (err, _o, stderr) => (err ? reject(new Error(`build failed: ${stderr}`)) : resolve()));
  });
  return built;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string>, stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    // The CLI may exit without reading its input; the exit status tells, not an EPIPE here.
    child.stdin?.on('error', () => undefined);
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

export interface ServerProcess {
  url: string;
  host: string;
  port: number;
  caFile: string;
  caPem: string;
  dataDir: string;
  env: Record<string, string>;
  /** Runs `tandem <args> --data <dir>` against this server's data directory. */
  cli(args: string[], stdin?: string): Promise<CliResult>;
  /** Runs a CLI command that must succeed with --json and returns the parsed output. */
  json<T = Record<string, unknown>>(args: string[], stdin?: string): Promise<T>;
  serverLog(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Listen address (loopback only). Default 127.0.0.1 with a free port. */
  listen?: string;
  /** Host names for the certificate / signed host. Default localhost. */
  hosts?: string[];
  env?: Record<string, string>;
}

export async function startServerProcess(o: ServerOptions = {}): Promise<ServerProcess> {
  await ensureBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-srv-'));
  const env: Record<string, string> = {
    TANDEM_DATA: dataDir,
    TANDEM_NODE_ID: 'test-node',
    TANDEM_LONG_POLL_SECONDS: '2',
    TANDEM_TRANSACTION_TIMEOUT_SECONDS: '3',
    ...o.env,
  };
  const hosts = o.hosts ?? ['localhost'];
  const init = await runCli(['init', ...hosts.flatMap((h) => ['--host', h])], env);
  if (init.code !== 0) throw new Error(`tandem init failed (${init.code}): ${init.stderr}`);

  const listen = o.listen ?? '127.0.0.1:0';
  if (!/^(127\.\d+\.\d+\.\d+|\[::1\]):\d+$/.test(listen)) throw new Error(`tests listen on loopback only, not ${listen}`);
  const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--listen', listen], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tandem serve did not start within 30 s:\n${stdout}\n${stderr}`)), 30_000);
    const check = (): void => {
      const m = stdout.match(/listening on (https:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tandem serve exited (${code}) before listening:\n${stdout}\n${stderr}`));
    });
  });
  const u = new URL(url);
  const caFile = join(dataDir, 'ca.pem');
  if (!existsSync(caFile)) throw new Error(`no CA at ${caFile}`);
  const proc: ServerProcess = {
    url,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 443),
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    dataDir,
    env,
    cli: (args, stdin) => runCli(args, env, stdin),
    async json<T>(args: string[], stdin?: string): Promise<T> {
      const r = await runCli([...args, '--json'], env, stdin);
      if (r.code !== 0) throw new Error(`tandem ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    serverLog: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return proc;
}

/** Fails with the component's name when a tool the test needs is missing. */
export function requireTool(path: string, component: string): void {
  if (!existsSync(path)) throw new Error(`${component} is not installed (${path} missing): run scripts/install-deps.sh`);
}

/** Runs every cleanup step even when earlier ones fail, then throws what failed (afterAll). */
export async function cleanupAll(what: string, steps: Array<() => unknown>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${what}: cleanup failed`);
}
