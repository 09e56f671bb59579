// The real executable: bundled by scripts/build.mjs, started through bin/tandem.mjs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
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
  }, 60_000);
});
