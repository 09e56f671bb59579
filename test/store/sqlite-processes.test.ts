// Two processes on one SQLite file (the server and the CLI): OTP acceptance and audit appends
// stay exact across processes, which only SQLite's own locking (BEGIN IMMEDIATE, busy_timeout)
// can guarantee. The child runs fixtures/sqlite-racer.ts, bundled like the real CLI.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { expectUnbrokenChain } from './conformance.js';
import { auditEntry, chainHash, token, user } from './fixtures.js';

const ROUNDS = 40;
const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;
let racer: string;

beforeAll(async () => {
  // Inside the repository so the bundle's external packages resolve from node_modules.
  mkdirSync(join(root, '.tmp'), { recursive: true });
  dir = mkdtempSync(join(root, '.tmp', 'store-processes-'));
  racer = join(dir, 'racer.mjs');
  await build({
    entryPoints: [join(root, 'test/store/fixtures/sqlite-racer.ts')],
    outfile: racer,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

it('a second process creating, migrating and racing acceptOtp and appendAudit on the same file', async () => {
  const file = join(dir, 'shared.db');
  const u = user();
  const t = token(u.id, { type: 'hotp', period: null, nextCounter: 0 });
  // Both processes open the not-yet-existing file at once: one migrates, the other waits for it.
  const child = spawn(process.execPath, [racer, file, t.id, 'shared', String(ROUNDS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const store = await openStore({ kind: 'sqlite', file });
  try {
    expect((await lines.next()).value).toBe('ready');
    await store.createUser(u);
    await store.addToken(t);
    child.stdin.write('go\n');

    const mine: number[] = [];
    for (let v = 0; v < ROUNDS; v++) {
      if (await store.acceptOtp(t.id, v)) mine.push(v);
      await store.appendAudit(auditEntry('shared', { detail: JSON.stringify({ by: 'parent', v }) }), chainHash);
    }
    const theirs = (JSON.parse(String((await lines.next()).value)) as { accepted: number[] }).accepted;
    expect((await exited)[0]).toBe(0);

    // Each value accepted at most once across both processes, and the counter only moved forward.
    expect(mine.filter((v) => theirs.includes(v))).toEqual([]);
    expect(mine.length + theirs.length).toBeGreaterThan(0);
    expect((await store.getToken(t.id))?.nextCounter).toBe(Math.max(...mine, ...theirs) + 1);
    // Both processes' entries form one chain without gaps or forks.
    const chain = await store.readAuditChain('shared', 0, 1000);
    expectUnbrokenChain(chain, 2 * ROUNDS);
    const by = chain.map((e) => (JSON.parse(e.detail) as { by: string }).by);
    expect(by.filter((b) => b === 'child')).toHaveLength(ROUNDS);
  } finally {
    await store.close();
  }
});
