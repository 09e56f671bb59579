// `tandem serve` and the CLI on PostgreSQL (TANDEM_DATABASE_URL), through the real binary and
// real TLS, driven by Debian's python3-duo-client.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { freshPostgresDatabase } from '../support/postgres.js';
import { ROOT, requireTool, startServerProcess, type ServerProcess } from '../support/server-process.js';

let srv: ServerProcess;
beforeAll(async () => {
  requireTool('/usr/lib/python3/dist-packages/duo_client/auth.py', 'python3-duo-client (Debian package)');
  srv = await startServerProcess({ env: { TANDEM_DATABASE_URL: await freshPostgresDatabase(inject('pgUrl')) } });
});
afterAll(async () => srv?.stop());

it('serves preauth and auth from PostgreSQL', async () => {
  const keys = await srv.json<{ ikey: string; skey: string }>(['integration', 'create', '--name', 'pg']);
  expect((await srv.cli(['user', 'create', 'pguser'])).code).toBe(0);
  const { codes } = await srv.json<{ codes: string[] }>(['bypass', 'create', 'pguser', '--count', '1']);
  const script = `
import json, sys, duo_client
j = json.load(sys.stdin)
a = duo_client.Auth(ikey=j["ikey"], skey=j["skey"], host="localhost", port=j["port"], ca_certs=j["ca"])
print(json.dumps({"pre": a.preauth(username="pguser"), "auth": a.auth("passcode", username="pguser", passcode=j["code"])}))
`;
  const out = await new Promise<string>((resolve, reject) => {
    const c = execFile('/usr/bin/python3', ['-c', script], { cwd: join(ROOT), timeout: 60_000 }, (e, so, se) => (e ? reject(new Error(se)) : resolve(so)));
    c.stdin?.on('error', () => undefined);
    c.stdin?.end(JSON.stringify({ ikey: keys.ikey, skey: keys.skey, port: srv.port, ca: srv.caFile, code: codes[0] }));
  });
  const r = JSON.parse(out);
  expect(r.pre.result).toBe('auth');
  expect(r.auth.result).toBe('allow');
  expect(srv.serverLog()).toContain('"store":"postgres"');
  expect((await srv.cli(['audit', 'verify'])).code).toBe(0);
});
