// The entry point, bundled as scripts/build.mjs does, run as a process with an empty environment
// against a local signing HTTPS server: what pam_tandem/login_tandem will actually exec.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseForm } from '../protocol/form.js';
import { responseSignature } from '../protocol/response-signature.js';
import { makeCa, makeLeaf } from './http/test-pki.js';

const IKEY = 'DIXYZV6YM8IFYVWBINCA';
const SKEY = 'yWHSMhWucAcp7qvuH3HWTaSaKABs8Gaddiv1NIRo';

let dir: string;
let bundle: string;
let caFile: string;
let server: Server;
let port: number;
const seen: Array<{ path: string; params: Array<[string, string]> }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-helper-'));
  bundle = join(dir, 'tandem-pam-helper.mjs');
  const [ca] = await Promise.all([
    makeCa(dir, 'ca'),
    build({ entryPoints: [join(import.meta.dirname, 'pam-helper.ts')], outfile: bundle, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' }),
  ]);
  caFile = ca.caFile;
  const leaf = await makeLeaf(dir, 'ca', 'server', 'DNS:localhost,IP:127.0.0.1');
  server = createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [path, query = ''] = (req.url ?? '').split('?') as [string, string?];
      const params = parseForm(req.method === 'GET' ? query : Buffer.concat(chunks).toString());
      seen.push({ path, params });
      const p = Object.fromEntries(params);
      let response: unknown;
      if (path === '/auth/v2/ping') response = { time: Math.floor(Date.now() / 1000) };
      else if (path === '/auth/v2/preauth') response = { result: 'auth', status_msg: 'Account is active', prompt: { text: `Tandem two-factor login for ${p['username']}\n\nPasscode or option (1-1): `, factors: { '1': 'push1', default: 'push1' } } };
      else if (path === '/auth/v2/auth') response = { result: p['prompt'] === '123456' ? 'allow' : 'deny', status: 'x', status_msg: p['prompt'] === '123456' ? 'Success. Logging you in...' : 'Incorrect passcode. Please try again.' };
      const body = JSON.stringify({ stat: 'OK', response });
      const nonce = req.headers['x-tandem-nonce'] as string;
      res.setHeader('X-Tandem-Signature', responseSignature({ skey: SKEY, nonce, method: req.method!, path, body }));
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function config(name: string, extra = '', hostPort = `127.0.0.1:${port}`): string {
  const p = join(dir, name);
  writeFileSync(p, `[duo]\nhost = ${hostPort}\nikey = ${IKEY}\nskey = ${SKEY}\ncafile = ${caFile}\nhttps_timeout = 2\n${extra}`);
  chmodSync(p, 0o600);
  return p;
}

/** Runs the bundle like the launcher: empty environment, request on stdin, answers to prompts. */
function runHelper(request: string[], answers: string[] = []): Promise<{ code: number | null; out: string[]; err: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [bundle], { env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: string[] = [];
    let buf = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        out.push(line);
        if (line.startsWith('PROMPT_')) child.stdin.write(answers.length > 0 ? `ANSWER ${answers.shift()}\n` : 'NOANSWER\n');
        if (line.startsWith('RESULT ')) child.stdin.end();
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => resolve({ code, out, err, ms: Date.now() - t0 }));
    child.stdin.write(request.join('\n') + '\n');
  });
}

const REQ = (conf: string, ...extra: string[]) => ['TANDEM-PAM 1', 'ITEM user root', 'ITEM service sshd', 'ITEM rhost 203.0.113.7', 'ITEM uid 0', `ARG conf=${conf}`, ...extra, 'END'];

describe('tandem-pam-helper (bundled entry)', () => {
  it('a full passcode login: prompt, signed answers, RESULT success, exit 0', async () => {
    seen.length = 0;
    const r = await runHelper(REQ(config('ok.conf')), ['123456']);
    expect(r.out).toEqual(['PROMPT_ON Tandem two-factor login for root%0A%0APasscode or option (1-1): ', 'INFO Success. Logging you in...', 'RESULT success authenticated']);
    expect(r.code).toBe(0);
    expect(seen.map((s) => s.path)).toEqual(['/auth/v2/ping', '/auth/v2/preauth', '/auth/v2/auth']);
    expect(Object.fromEntries(seen[2]!.params)).toMatchObject({ username: 'root', prompt: '123456', async: '0', factor: 'prompt', ipaddr: '203.0.113.7' });
    expect(r.err).toContain("Successful Tandem login for 'root' from 203.0.113.7");
    expect(r.err).not.toContain('123456');
    expect(r.err).not.toContain(SKEY);
  });

  it('a missing config denies with exit 0 (never failmode)', async () => {
    const r = await runHelper(REQ(join(dir, 'missing.conf')));
    expect(r.out).toEqual(['RESULT deny config']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('missing.conf');
  });

  it('server down: failmode safe → success (Failsafe); secure → deny', async () => {
    const down = '127.0.0.1:1';
    const safe = await runHelper(REQ(config('safe.conf', 'failmode = safe\n', down)));
    expect(safe.out).toEqual(['RESULT success failsafe']);
    expect(safe.err).toContain('Failsafe Tandem login');
    const secure = await runHelper(REQ(config('secure.conf', '', down)));
    expect(secure.out).toEqual(['RESULT deny failsecure']);
  });

  it('a bad protocol version: RESULT deny protocol-version, exit 1', async () => {
    const r = await runHelper(['TANDEM-PAM 2', 'END']);
    expect(r.out).toEqual(['RESULT deny protocol-version']);
    expect(r.code).toBe(1);
  });
});
