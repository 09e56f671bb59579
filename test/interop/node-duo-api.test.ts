// npm's @duosecurity/duo_api, unchanged, against a real `tandem serve` over TLS.
//
// That client always connects to port 443 and trusts only the CA list in its own
// lib/constants.js (DUO_PINNED_CERT, read on every call). The test setup that keeps its code
// unchanged: the server listens on port 443 of a loopback address of its own (127.x.y.z, free
// for this run) whose IP is a host name in the server certificate (an IP SAN), and the test
// points the pinned CA list at our site CA by assigning the exported constant — the same thing a
// site does when it pins its own CA. Port 443 needs root, which the test suite runs as.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, startServerProcess, type ServerProcess } from '../support/server-process.js';

const require = createRequire(import.meta.url);
const duo = require('@duosecurity/duo_api') as {
  Client: new (ikey: string, skey: string, host: string, sigVersion?: number) => { jsonApiCall(method: string, path: string, params: Record<string, string>, cb: (r: Record<string, unknown>) => void): void };
  SIGNATURE_VERSION_2: number;
  SIGNATURE_VERSION_5: number;
};
const constants = require('@duosecurity/duo_api/lib/constants') as { DUO_PINNED_CERT: string | string[] };

function oathtool(secret: string): Promise<string> {
  return new Promise((resolve, reject) => execFile('/usr/bin/oathtool', ['--totp', '-b', secret], (e, out) => (e ? reject(e) : resolve(out.trim()))));
}

let srv: ServerProcess;
let ip: string;
const originalPins = constants.DUO_PINNED_CERT;

beforeAll(async () => {
  requireTool('/usr/bin/oathtool', 'oathtool (Debian package)');
  if (process.getuid?.() !== 0) throw new Error('the @duosecurity/duo_api interop test binds port 443 and must run as root');
  // A loopback address of our own, so port 443 is free whatever else runs.
  ip = `127.${randomInt(1, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
  srv = await startServerProcess({ listen: `${ip}:443`, hosts: [ip] });
  constants.DUO_PINNED_CERT = srv.caPem;
});
afterAll(async () => {
  constants.DUO_PINNED_CERT = originalPins;
  await srv?.stop();
});

describe.each([
  ['v2 HMAC-SHA512 (its default)', 2],
  ['v5 (opt-in)', 5],
] as const)('@duosecurity/duo_api with %s', (_name, sigVersion) => {
  it('pings, checks, preauths, and authenticates with TOTP, bypass and async codes', async () => {
    const keys = await srv.json<{ ikey: string; skey: string }>(['integration', 'create', '--name', `node-v${sigVersion}`]);
    const client = new duo.Client(keys.ikey, keys.skey, ip, sigVersion);
    const api = (method: string, path: string, params: Record<string, string> = {}) =>
      new Promise<Record<string, unknown> & { response?: Record<string, unknown> }>((resolve) => client.jsonApiCall(method, path, params, resolve));

    const user = `node-${sigVersion}`;
    expect((await srv.cli(['user', 'create', user])).code).toBe(0);
    const token = await srv.json<{ secret: string }>(['token', 'add', user, '--type', 'totp']);
    const { codes } = await srv.json<{ codes: string[] }>(['bypass', 'create', user, '--count', '2']);
    const totp = await oathtool(token.secret);

    expect((await api('GET', '/auth/v2/ping')).stat).toBe('OK');
    expect((await api('GET', '/auth/v2/check')).stat).toBe('OK');
    expect((await api('POST', '/auth/v2/preauth', { username: user })).response).toMatchObject({ result: 'auth' });
    expect((await api('POST', '/auth/v2/preauth', { username: `nobody-${sigVersion}` })).response).toMatchObject({ result: 'enroll' });
    expect((await api('POST', '/auth/v2/auth', { username: user, factor: 'passcode', passcode: totp })).response).toMatchObject({ result: 'allow' });
    expect((await api('POST', '/auth/v2/auth', { username: user, factor: 'passcode', passcode: totp, ipaddr: '192.0.2.1' })).response).toMatchObject({ result: 'deny' });
    expect((await api('POST', '/auth/v2/auth', { username: user, factor: 'passcode', passcode: codes[0]! })).response).toMatchObject({ result: 'allow' });
    const async = await api('POST', '/auth/v2/auth', { username: user, factor: 'passcode', passcode: codes[1]!, async: '1' });
    const txid = async.response!['txid'] as string;
    expect((await api('GET', '/auth/v2/auth_status', { txid })).response).toMatchObject({ result: 'allow' });
  });
});
