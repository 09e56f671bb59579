// Child processes of a benchmark run: the `tandem` CLI, `tandem serve`, and the baseline server.
// Everything listens on loopback only and every wait is bounded.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Keep this much of a child's output for error messages. */
const KEEP_OUTPUT_CHARS = 16_384;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

function tail(s: string): string {
  return s.length > KEEP_OUTPUT_CHARS ? s.slice(-KEEP_OUTPUT_CHARS) : s;
}

export function runNode(script: string, args: string[], env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, ...args], { cwd, env, timeout: 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`node ${script} ${args.join(' ')} failed: ${err.message}\n${tail(stderr)}`));
      else resolve(stdout);
    });
  });
}

export interface ServerChild {
  name: string;
  url: URL;
  port: number;
  pid: number;
  /** The last lines the child wrote (stdout and stderr). */
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts `node [nodeArgs] script args` and waits for "listening on https://…" on its stdout.
 * The address must be loopback.
 */
export async function startServer(
  name: string,
  script: string,
  nodeArgs: string[],
  args: string[],
  env: Record<string, string>,
  cwd: string,
  /** Called with the child's stop function as soon as it is spawned (for cleanup on errors). */
  register: (stop: () => Promise<void>) => void,
): Promise<ServerChild> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, script, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out = tail(out + d.toString());
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  register(stop);
  let url: URL;
  try {
    url = await new Promise<URL>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s:\n${out}`)), START_TIMEOUT_MS);
      child.stdout!.on('data', (d: Buffer) => {
        seen = tail(seen + d.toString());
        const m = seen.match(/listening on (https:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(new URL(m[1]!));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${out}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  if (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]') {
    await stop();
    throw new Error(`${name} listens on ${url.host}, not on loopback`);
  }
  return { name, url, port: Number(url.port), pid: child.pid!, output: () => out, stop };
}

let clockTicks: number | undefined;

/**
 * CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere.
 * Unlike requests per second, this does not depend on how busy the rest of the machine is.
 */
export function cpuSeconds(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return (utime + stime) / clockTicks;
}
