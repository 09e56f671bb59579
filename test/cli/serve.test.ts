import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { tempData, type TempData } from './run-cli.js';

let t: TempData;
beforeEach(() => {
  t = tempData();
});
afterEach(() => t.cleanup());

function get(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // The certificate names localhost; connect to 127.0.0.1 but check the name clients use.
    const req = request(url, { ca, servername: 'localhost', checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tandem serve', () => {
  it('bootstraps, listens on --listen over TLS with the site CA, and stops cleanly with exit 0', async () => {
    const stop = new AbortController();
    let stdout = '';
    let stderr = '';
    const { main } = await import('../../src/cli/cli.js');
    const running = main(['serve', '--data', t.data, '--listen', '127.0.0.1:0'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      stdin: '',
      env: { ...t.env, TANDEM_LOG_LEVEL: 'warn' },
      cwd: t.root,
      signal: stop.signal,
    });
    await until(() => /listening on https:\/\/127\.0\.0\.1:\d+/.test(stdout));
    const url = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
    expect(stdout).toContain(`cafile = ${join(t.data, 'ca.pem')}`);
    expect(stdout).toContain(`created ${join(t.data, 'master.key')}`);

    const ping = await get(`${url}/auth/v2/ping`, readFileSync(join(t.data, 'ca.pem'), 'utf8'));
    expect(ping.status).toBe(200);
    expect(JSON.parse(ping.body)).toMatchObject({ stat: 'OK' });

    stop.abort();
    expect(await running).toBe(0);
    expect(stderr).toBe(''); // info lines stay out at TANDEM_LOG_LEVEL=warn
  });

  it('a bad --listen is a configuration error (exit 1), before anything is created', async () => {
    const r = await t.run(['serve', '--listen', 'not-an-address']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tandem: command line: listen: must be ADDRESS:PORT/);
  });
});
