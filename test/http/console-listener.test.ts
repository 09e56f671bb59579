// The console on its own listener through a real `tandem serve` (in-process CLI): its own port
// and origin, the server's certificate, only /console/* there and no /console on the API port.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/server/console/app.js';
import { tempData, type TempData } from '../cli/run-cli.js';

let t: TempData;
beforeEach(() => {
  t = tempData();
});
afterEach(() => t.cleanup());

function get(url: string, ca: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
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

it('tandem serve --console-listen: a second TLS listener serving only the console, its URL printed', async () => {
  const stop = new AbortController();
  let stdout = '';
  const { main } = await import('../../src/cli/cli.js');
  const running = main(['serve', '--data', t.data, '--listen', '127.0.0.1:0', '--console-listen', '127.0.0.1:0'], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: () => undefined },
    stdin: '',
    env: { ...t.env, TANDEM_LOG_LEVEL: 'warn' },
    cwd: t.root,
    signal: stop.signal,
  });
  try {
    await until(() => /Admin console: https:\/\/localhost:\d+\/console\//.test(stdout));
    const api = /listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1]!;
    const port = /Admin console: https:\/\/localhost:(\d+)\/console\//.exec(stdout)![1]!;
    expect(port).not.toBe(api);
    const ca = readFileSync(join(t.data, 'ca.pem'), 'utf8');
    const signin = await get(`https://127.0.0.1:${port}/console/signin`, ca);
    expect(signin.status).toBe(200);
    expect(signin.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(signin.body).toContain('<form method="post" action="/console/signin">');
    expect((await get(`https://127.0.0.1:${port}/auth/v2/ping`, ca)).status).toBe(404);
    expect((await get(`https://127.0.0.1:${api}/console/signin`, ca)).status).toBe(404);
    expect((await get(`https://127.0.0.1:${port}/console/static/console.js`, ca)).status).toBe(200);
  } finally {
    stop.abort();
    expect(await running).toBe(0);
  }
});
