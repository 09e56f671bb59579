// An in-process Tandem for HTTP-level tests: a fresh SQLite data directory, short timers, a clock
// the test can move, and a signer that produces exactly what Duo's clients send.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadSettings } from '../../src/config/load.js';
import type { Settings } from '../../src/config/settings.js';
import type { Deps, Logger } from '../../src/core/deps.js';
import { createKeyring } from '../../src/core/keyring.js';
import { Core } from '../../src/core/service.js';
import { authorizationHeader, sign, type SigDigest, type SigVersion } from '../../src/protocol/duo-signing.js';
import { duoEncode } from '../../src/protocol/duo-canon.js';
import { buildApp } from '../../src/server/app.js';
import { createLogger, type ServerLogger } from '../../src/server/logger.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/contract.js';

export const API_HOST = 'api.tandem.test';

export class TestClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export const quietLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface Harness {
  app: FastifyInstance;
  core: Core;
  deps: Deps;
  clock: TestClock;
  logLines: string[];
  close(): Promise<void>;
}

export async function startHarness(opts: { settings?: Partial<Record<keyof Settings, unknown>>; store?: () => Promise<Store> } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-http-'));
  const clock = new TestClock();
  const settings = loadSettings({
    dataDir: dir,
    env: {},
    overrides: { hosts: [API_HOST], listen: '127.0.0.1:8443', nodeId: 'test-node', longPollSeconds: 1, transactionTimeoutSeconds: 2, ...opts.settings },
  });
  const store = opts.store ? await opts.store() : await openStore({ kind: 'sqlite', file: join(dir, 'tandem.db') });
  const random = { bytes: (n: number) => randomBytes(n) };
  const logLines: string[] = [];
  const log: ServerLogger = createLogger('debug', () => clock.now(), (l) => void logLines.push(l));
  const deps: Deps = { store, settings, keyring: createKeyring(randomBytes(32), random), clock, random, log };
  const core = new Core(deps);
  const app = buildApp({ core, log });
  await app.ready();
  return {
    app,
    core,
    deps,
    clock,
    logLines,
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Creds {
  ikey: string;
  skey: string;
}

export interface SignOptions {
  version?: SigVersion;
  digest?: SigDigest;
  date?: string;
  host?: string;
  /** Send the date as X-Duo-Date (duo_unix) instead of Date. */
  xDuoDate?: boolean;
}

export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '-0000');
}

/** A request as Duo's clients send it: form-encoded (v2) or JSON (v5) for POST, query for GET. */
export function signed(creds: Creds, method: 'GET' | 'POST', path: string, params: Record<string, string>, o: SignOptions & { now: number }) {
  const version = o.version ?? 2;
  const digest = o.digest ?? 'sha512';
  const date = o.date ?? rfc2822(o.now);
  const pairs = Object.entries(params);
  const form = pairs.map(([k, v]) => `${duoEncode(k)}=${duoEncode(v)}`).join('&');
  const json = version >= 4 && method === 'POST';
  const body = json ? JSON.stringify(params) : method === 'POST' ? form : '';
  const url = method === 'GET' && form ? `${path}?${form}` : path;
  const sig = sign(version, digest, creds.skey, {
    method,
    host: o.host ?? API_HOST,
    path,
    params: json ? [] : pairs,
    date,
    body,
  });
  const headers: Record<string, string> = { authorization: authorizationHeader(creds.ikey, sig), host: `${API_HOST}:8443` };
  headers[o.xDuoDate ? 'x-duo-date' : 'date'] = date;
  if (method === 'POST') headers['content-type'] = json ? 'application/json' : 'application/x-www-form-urlencoded';
  return { method, url, headers, payload: body };
}

/**
 * Signed requests carry a one-second date, and a byte-identical signed POST is refused as a
 * replay; real clients never repeat a request within the same second, so each call here signs
 * with a second (inside the skew window) that no earlier call of this process used.
 */
const usedSeconds = new Set<number>();

export async function call(h: Harness, creds: Creds, method: 'GET' | 'POST', path: string, params: Record<string, string> = {}, o: SignOptions = {}) {
  let second = Math.floor(h.clock.now() / 1000);
  while (usedSeconds.has(second)) second--;
  usedSeconds.add(second);
  const now = second * 1000;
  const res = await h.app.inject(signed(creds, method, path, params, { ...o, now }));
  return { status: res.statusCode, headers: res.headers, body: JSON.parse(res.body) as Record<string, unknown> & { response?: Record<string, unknown> } };
}
