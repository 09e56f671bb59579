import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { openRuntime } from '../src/server/runtime.js';
import { buildApp } from '../src/server/app.js';
import { createLogger } from '../src/server/logger.js';
import { Core } from '../src/core/service.js';
import { BenchDirectory, CodeSource } from './users.js';
import { signedPost } from './duo-request.js';

const dir = mkdtempSync(join(tmpdir(), 'scratch-'));
const env = { PATH: process.env.PATH!, TANDEM_DATA: dir, TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE: '1000000', TANDEM_RATE_LIMIT_USER_PER_MINUTE: '100000' };
execFileSync(process.execPath, ['bin/tandem.mjs', 'init'], { env });
const bd = await BenchDirectory.open(dir, env);
const creds = await bd.createIntegration('x');
await bd.grow(3000, Date.now() + 60000);
await bd.close();
const codes = new CodeSource(bd.users);
const rt = await openRuntime({ dataDir: dir, env, log: { debug() {}, info() {}, warn() {}, error() {} } });
const counts = new Map<string, number>();
const times = new Map<string, number>();
const store = rt.deps.store as unknown as Record<string, unknown>;
for (const k of Object.keys(store)) {
  const f = store[k];
  if (typeof f !== 'function') continue;
  store[k] = async (...a: unknown[]) => { counts.set(k, (counts.get(k) ?? 0) + 1); const t = performance.now(); try { return await (f as (...x: unknown[]) => unknown)(...a); } finally { times.set(k, (times.get(k) ?? 0) + performance.now() - t); } };
}
const core = new Core(rt.deps);
const app = buildApp({ core, log: createLogger('warn', () => Date.now()) });
await app.ready();
const run = async (n: number, conc: number) => {
  let i = 0; let bad = 0;
  const worker = async () => { while (i++ < n) { const now = Date.now(); const c = codes.next(now); const r = signedPost(creds, 8443, '/auth/v2/auth', [['username', c.username], ['factor', 'passcode'], ['passcode', c.passcode]], now); const res = await app.inject({ method: 'POST', url: '/auth/v2/auth', headers: r.headers, payload: r.body }); if (!res.body.includes('allow')) { bad++; if (bad < 3) console.log(res.body); } } };
  await Promise.all(Array.from({ length: conc }, worker));
  return bad;
};
await run(500, 8);
counts.clear(); times.clear();
const N = 2000;
const c0 = process.cpuUsage(); const t0 = performance.now();
const bad = await run(N, 16);
const cpu = process.cpuUsage(c0); const wall = performance.now() - t0;
console.log(`bad ${bad}; wall ${(wall / N).toFixed(3)} ms/req, cpu ${((cpu.user + cpu.system) / 1000 / N).toFixed(3)} ms/req`);
for (const [k, v] of [...counts].sort()) console.log(k.padEnd(22), (v / N).toFixed(2), 'calls/req', ((times.get(k) ?? 0) / v).toFixed(3), 'ms/call(wall, incl. queue wait)');
await app.close(); await rt.close(); rmSync(dir, { recursive: true });
