// A throwaway PostgreSQL 15 cluster for the test run: initdb into a temporary directory, start it
// on a free loopback port, stop it and remove the directory afterwards. PostgreSQL refuses to run
// as root, so the cluster belongs to the `postgres` OS user (test-environment.md, PostgreSQL).
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const BIN = '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';
const DB_USER = 'tandem';
const READY_TIMEOUT_MS = 30_000;
const MISSING =
  'PostgreSQL 15 (Debian package postgresql) is not installed: run scripts/install-deps.sh';

const run = promisify(execFile);

export interface RunningPostgres {
  /** postgres://tandem@127.0.0.1:<port>/postgres (trust authentication, loopback only). */
  url: string;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<RunningPostgres> {
  const owner = osUser(OS_USER);
  if (!existsSync(join(BIN, 'initdb')) || !existsSync(join(BIN, 'pg_ctl')) || !owner) {
    throw new Error(MISSING);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tandem-pg-'));
  chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) =>
    run('runuser', ['-u', OS_USER, '--', join(BIN, cmd), ...args], { cwd: dir });

  let started = false;
  const stopNow = () => {
    // Last resort if the test process exits without calling stop(): never leave a server behind.
    if (started) spawnSync('runuser', ['-u', OS_USER, '--', join(BIN, 'pg_ctl'), '-D', data, 'stop', '-m', 'immediate'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);

  try {
    // --no-sync and fsync=off: a test cluster does not need to survive a power cut.
    await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', DB_USER, '-E', 'UTF8', '--locale=C', '--no-sync']);
    const log = join(dir, 'log');
    let url = '';
    // The free port can be taken by someone else before the server binds it: try another.
    for (let attempt = 1; !started; attempt++) {
      const port = await freeLoopbackPort();
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      try {
        // -w -t: pg_ctl waits (bounded) and fails at once if the server exits during startup.
        await asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', '-t', String(READY_TIMEOUT_MS / 1000), 'start']);
        started = true;
        url = `postgres://${DB_USER}@127.0.0.1:${port}/postgres`;
      } catch (err) {
        if (attempt >= 3) throw new Error(`PostgreSQL did not start: ${String(err)}\n${logTail(log)}`);
      }
    }
    // Ready means accepting our connections over TCP, not just "started" by pg_ctl's account.
    await waitUntilReady(url, log);
    return {
      url,
      async stop() {
        process.removeListener('exit', stopNow);
        try {
          await asPostgres('pg_ctl', ['-D', data, 'stop', '-m', 'fast', '-w']);
        } finally {
          started = false;
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    process.removeListener('exit', stopNow);
    stopNow();
    throw err;
  }
}

/** Creates an empty database on the cluster at `baseUrl` and returns its URL (one per test or file). */
export async function freshPostgresDatabase(baseUrl: string): Promise<string> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function osUser(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntilReady(url: string, log: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`PostgreSQL did not become ready within ${READY_TIMEOUT_MS / 1000}s: ${String(last)}\n${logTail(log)}`);
}

function logTail(log: string): string {
  return existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no server log)';
}
