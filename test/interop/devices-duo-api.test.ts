// Device enrollment end to end against a real `tandem serve` over TLS: npm's
// @duosecurity/duo_api, unchanged, calls /auth/v2/enroll and /enroll_status; the scripted Tandem
// Authenticator activates over HTTPS trusting only the site CA, makes device-signed requests, and
// its TOTP code logs in through /auth/v2/auth. Port 443 on a loopback address of our own, as in
// node-duo-api.test.ts (that client always connects to 443 and trusts only its pinned CA list).
import { createRequire } from 'node:module';
import { randomInt } from 'node:crypto';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedDevice } from '../support/device.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const require = createRequire(import.meta.url);
const duo = require('@duosecurity/duo_api') as {
  Client: new (ikey: string, skey: string, host: string, sigVersion?: number) => { jsonApiCall(method: string, path: string, params: Record<string, string>, cb: (r: Record<string, unknown>) => void): void };
};
const constants = require('@duosecurity/duo_api/lib/constants') as { DUO_PINNED_CERT: string | string[] };

let srv: ServerProcess;
let ip: string;
const originalPins = constants.DUO_PINNED_CERT;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('this interop test binds port 443 and must run as root');
  ip = `127.${randomInt(1, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
  srv = await startServerProcess({ listen: `${ip}:443`, hosts: [ip] });
  constants.DUO_PINNED_CERT = srv.caPem;
});
afterAll(async () => {
  constants.DUO_PINNED_CERT = originalPins;
  await srv?.stop();
});

function get(path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port: 443, path, ca: srv.caPem, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each([
  ['v2 HMAC-SHA512', 2],
  ['v5', 5],
] as const)('enrollment with @duosecurity/duo_api (%s) and the scripted app over HTTPS', (_name, sigVersion) => {
  it('enroll → waiting → activate → success; signed requests; the app code logs in', async () => {
    const keys = await srv.json<{ ikey: string; skey: string }>(['integration', 'create', '--name', `devices-v${sigVersion}`]);
    const client = new duo.Client(keys.ikey, keys.skey, ip, sigVersion);
    const api = (method: string, path: string, params: Record<string, string> = {}) =>
      new Promise<Record<string, unknown> & { response?: unknown }>((resolve) => client.jsonApiCall(method, path, params, resolve));

    const user = `enrolled-v${sigVersion}`;
    const enrolled = await api('POST', '/auth/v2/enroll', { username: user, valid_secs: '3600' });
    expect(enrolled.stat).toBe('OK');
    const e = enrolled.response as Record<string, string | number>;
    const code = e['activation_code'] as string;
    expect(e).toMatchObject({ username: user, activation_url: `https://${ip}/app/#activate=${code}`, activation_barcode: `https://${ip}/app/qr?code=${code}` });
    const userId = e['user_id'] as string;

    const taken = await api('POST', '/auth/v2/enroll', { username: user });
    expect([taken.stat, taken.code, taken.message_detail]).toEqual(['FAIL', 40002, 'username already exists']);

    expect((await api('POST', '/auth/v2/enroll_status', { user_id: userId, activation_code: code })).response).toBe('waiting');

    const qr = await get(`/app/qr?code=${code}`);
    expect(qr.status).toBe(200);
    expect(qr.type).toMatch(/^image\/svg\+xml/);

    const device = await ScriptedDevice.activate(`https://${ip}`, code, { ca: srv.caPem, name: 'interop phone' });
    try {
      expect(device.username).toBe(user);
      // Signed with a one-second date: the same call again within that second would be a replay.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await api('POST', '/auth/v2/enroll_status', { user_id: userId, activation_code: code })).response).toBe('success');
      await expect(ScriptedDevice.activate(`https://${ip}`, code, { ca: srv.caPem })).rejects.toThrow(/400.*invalid_activation/);

      const me = await device.signedFetch('GET', '/app/api/device');
      expect([me.status, me.json]).toEqual([200, { deviceId: device.deviceId, username: user, name: 'interop phone' }]);
      const stale = await device.signedFetch('GET', '/app/api/device', undefined, { time: Date.now() - 600_000 });
      expect([stale.status, stale.json]).toEqual([401, { error: 'unauthorized' }]);

      const login = await api('POST', '/auth/v2/auth', { username: user, factor: 'passcode', passcode: device.totp() });
      expect(login.response).toMatchObject({ result: 'allow' });

      const list = await srv.json<{ deviceId: string }[]>(['device', 'list', user]);
      expect(list.map((d) => d.deviceId)).toEqual([device.deviceId]);
    } finally {
      device.close();
    }
  });
});
