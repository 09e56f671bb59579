// The real executable: bundled by scripts/build.mjs, started through bin/tandem.mjs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-bin-'));
  await run(process.execPath, ['scripts/build.mjs'], { cwd: root });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bin/tandem.mjs', () => {
  it('init, then integration create --json prints parseable JSON and nothing on stderr', async () => {
    const data = join(dir, 'data');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TANDEM_NODE_ID: 'bin-test' };
    const init = await run(process.execPath, ['bin/tandem.mjs', 'init', '--data', data], { cwd: root, env });
    expect(init.stdout).toContain(`cafile = ${join(data, 'ca.pem')}`);

    const created = await run(process.execPath, ['bin/tandem.mjs', 'integration', 'create', '--name', 'bin test', '--json', '--data', data], { cwd: root, env });
    expect(created.stderr).toBe('');
    const j = JSON.parse(created.stdout) as Record<string, string>;
    expect(j).toMatchObject({ name: 'bin test', newUserPolicy: 'enroll', host: 'localhost:8443', cafile: join(data, 'ca.pem') });
    expect(j.ikey).toMatch(/^DI[A-Z0-9]{18}$/);
    expect(j.skey).toMatch(/^[A-Za-z0-9]{40}$/);

    // Exit codes reach the shell.
    const bad = await run(process.execPath, ['bin/tandem.mjs', 'frobnicate'], { cwd: root, env }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tandem: unknown command/);

    // serve stops cleanly on SIGTERM with exit 0.
    const server = spawn(process.execPath, ['bin/tandem.mjs', 'serve', '--data', data, '--listen', '127.0.0.1:0'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    server.stderr.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 20_000;
    while (!out.includes('listening on https://127.0.0.1:') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out).toContain('listening on https://127.0.0.1:');
    server.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
