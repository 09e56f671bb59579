// The README's first command, for real: `npm start` on an empty data directory creates
// everything, prints what a new user needs, and a second start reuses it all. And a broken
// configuration is refused with every problem named at once.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../support/server-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tandem-first-run-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Runs `npm start` until it prints that it listens, then stops it (the whole process group). */
function npmStart(env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`npm start did not start within 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/Next: /.test(stdout)) process.kill(-child.pid!, 'SIGTERM');
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

it('creates the data directory on first start and reuses it on the second', async () => {
  const env = { TANDEM_DATA: dataDir, TANDEM_LISTEN: '127.0.0.1:0' };
  const first = await npmStart(env);
  expect(first.stdout).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/);
  expect(first.stdout).toContain(`cafile = ${join(dataDir, 'ca.pem')}`);
  expect(first.stdout).toMatch(/Next: npx tandem integration create/);
  expect(first.stdout).toMatch(/created .*master\.key/);
  expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
  expect(statSync(join(dataDir, 'tandem.db')).isFile()).toBe(true);
  const ca = readFileSync(join(dataDir, 'ca.pem'), 'utf8');
  const key = readFileSync(join(dataDir, 'master.key'));

  const second = await npmStart(env);
  expect(second.stdout).toMatch(/listening on/);
  expect(second.stdout).not.toMatch(/created /);
  expect(readFileSync(join(dataDir, 'ca.pem'), 'utf8')).toBe(ca);
  expect(readFileSync(join(dataDir, 'master.key')).equals(key)).toBe(true);
}, 180_000);

it('refuses to start with a broken configuration and names every problem', async () => {
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/tandem.mjs'), 'serve'], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', TANDEM_DATA: dataDir, TANDEM_LOCKOUT_THRESHOLD: 'lots', TANDEM_LISTEN: 'nowhere', TANDEM_KEEP_ALIVE_SECONDS: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('TANDEM_LOCKOUT_THRESHOLD');
  expect(r.stderr).toContain('TANDEM_LISTEN');
  expect(r.stderr).toContain('TANDEM_KEEP_ALIVE_SECONDS');
  expect(r.stderr).not.toMatch(/\n\s+at /);
}, 60_000);
