// Debian's python3-duo-client, unchanged, against a real `tandem serve` over TLS with the site CA,
// once per signature scheme it offers: v2 HMAC-SHA1, v2 HMAC-SHA512 and v4 (JSON, SHA-512).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireTool, startServerProcess, type ServerProcess } from '../support/server-process.js';

const PYTHON = '/usr/bin/python3'; // Debian's Python: python3-duo-client imports only there.
const SCRIPT = join(ROOT, 'test/interop/duo_client_flow.py');

function run(cmd: string, args: string[], stdin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve(stdout)));
    // A program that exits without reading its input (oathtool) must not fail the test with EPIPE.
    c.stdin?.on('error', () => undefined);
    c.stdin?.end(stdin);
  });
}

let srv: ServerProcess;
const keys: Record<string, [string, string]> = {};

beforeAll(async () => {
  requireTool(PYTHON, 'Debian python3');
  requireTool('/usr/lib/python3/dist-packages/duo_client/auth.py', 'python3-duo-client (Debian package)');
  requireTool('/usr/bin/oathtool', 'oathtool (Debian package)');
  srv = await startServerProcess();
  for (const policy of ['enroll', 'allow', 'deny']) {
    const r = await srv.json<{ ikey: string; skey: string }>(['integration', 'create', '--name', `py-${policy}`, '--new-user-policy', policy]);
    keys[policy] = [r.ikey, r.skey];
  }
});
afterAll(async () => srv?.stop());

describe.each([
  ['v2 HMAC-SHA1', 2, 'sha1'],
  ['v2 HMAC-SHA512', 2, 'sha512'],
  ['v4 JSON HMAC-SHA512', 4, 'sha512'],
] as const)('duo_client.Auth with %s', (_name, sigVersion, digest) => {
  it('pings, checks, preauths, and authenticates with TOTP, bypass and async codes', async () => {
    const user = `py-${sigVersion}-${digest}`;
    expect((await srv.cli(['user', 'create', user])).code).toBe(0);
    const token = await srv.json<{ otpauth: string; secret: string }>(['token', 'add', user, '--type', 'totp']);
    const bypass = await srv.json<{ codes: string[] }>(['bypass', 'create', user, '--count', '2']);
    const totp = (await run('/usr/bin/oathtool', ['--totp', '-b', token.secret], '')).trim();

    const job = {
      host: 'localhost',
      port: srv.port,
      cafile: srv.caFile,
      sig_version: sigVersion,
      digest,
      ikey: keys['enroll']![0],
      skey: keys['enroll']![1],
      allow_keys: keys['allow'],
      deny_keys: keys['deny'],
      user,
      totp,
      bypass: bypass.codes[0],
      bypass2: bypass.codes[1],
    };
    const out = JSON.parse(await run(PYTHON, [SCRIPT], JSON.stringify(job)));

    expect(out.ping.ok.time).toBeGreaterThan(0);
    expect(out.check.ok.time).toBeGreaterThan(0);
    expect(out.preauth_enrolled.ok).toMatchObject({ result: 'auth', status_msg: 'Account is active' });
    expect(out.preauth_enroll.ok.result).toBe('enroll');
    expect(out.preauth_enroll.ok.enroll_portal_url).toMatch(/^https:\/\//);
    expect(out.preauth_allow.ok.result).toBe('allow');
    expect(out.preauth_deny.ok.result).toBe('deny');
    expect(out.auth_totp.ok).toMatchObject({ result: 'allow', status: 'allow' });
    expect(out.auth_totp_again.ok).toMatchObject({ result: 'deny' });
    expect(out.auth_bypass.ok).toMatchObject({ result: 'allow' });
    expect(out.auth_async.ok.txid).toMatch(/^[0-9a-f-]{36}$/);
    // duo_client's auth_status() reshapes the answer into waiting/success flags.
    expect(out.auth_status.ok).toMatchObject({ waiting: false, success: true, status: 'allow' });
    // The client surfaces our 403 with Duo's code for a bad signature.
    expect(out.bad_skey.error).toMatch(/403/);
    expect(out.bad_skey.error).toMatch(/40103|Invalid signature/);
  });
});

it('records the logins in the authentication log', async () => {
  const log = JSON.parse((await srv.cli(['log', '--json'])).stdout) as Array<{ event: string; result: string }>;
  expect(log.some((e) => e.event === 'auth' && e.result === 'allow')).toBe(true);
  expect(readFileSync(srv.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
});
