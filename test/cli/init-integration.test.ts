import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openRuntime } from '../../src/server/runtime.js';
import { STACK, tempData, type TempData } from './run-cli.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let t: TempData;
beforeEach(() => {
  t = tempData();
});
afterEach(() => t.cleanup());

describe('tandem init', () => {
  it('creates the data directory, then reuses everything on a second run', async () => {
    const first = await t.run(['init']);
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    for (const f of ['config.json', 'master.key', 'ca.pem', 'ca.key', 'server.pem', 'server.key', 'tandem.db']) {
      expect(existsSync(join(t.data, f))).toBe(true);
      expect(first.stdout).toMatch(new RegExp(`created\\s+${join(t.data, f).replace(/[.]/g, '\\.')}`));
    }
    expect(statSync(join(t.data, 'master.key')).mode & 0o077).toBe(0);
    expect(first.stdout).toContain(`cafile = ${join(t.data, 'ca.pem')}`);
    expect(first.stdout).toContain(`Next: tandem serve --data ${t.data}`);

    const second = await t.run(['init']);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/created/);
    expect(second.stdout).toMatch(new RegExp(`reused\\s+${join(t.data, 'master.key').replace(/[.]/g, '\\.')}`));

    const json = await t.json<{ created: string[]; updated: string[]; reused: string[]; cafile: string; hosts: string[] }>(['init']);
    expect(json.created).toEqual([]);
    expect(json.updated).toEqual([]);
    expect(json.reused).toContain(join(t.data, 'ca.key'));
    expect(json.cafile).toBe(join(t.data, 'ca.pem'));
  });

  it('adds a host: the certificate is reissued from the same CA, the keys stay', async () => {
    await t.run(['init']);
    const caBefore = statSync(join(t.data, 'ca.pem')).mtimeMs;
    const r = await t.json<{ created: string[]; updated: string[]; hosts: string[] }>(['init', '--host', 'tandem.example.com']);
    expect(r.hosts).toEqual(['tandem.example.com', 'localhost']);
    expect(r.created).toEqual([]);
    expect(r.updated).toEqual(expect.arrayContaining([join(t.data, 'server.pem'), join(t.data, 'config.json')]));
    expect(statSync(join(t.data, 'ca.pem')).mtimeMs).toBe(caBefore);
  });

  it('takes the data directory from $TANDEM_DATA', async () => {
    const r = await t.run(['init', '--json'], { noData: true, env: { TANDEM_DATA: t.data } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).cafile).toBe(join(t.data, 'ca.pem'));
  });

  it('other commands refuse a directory that was never initialised', async () => {
    const r = await t.run(['user', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tandem: .*tandem init/);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stdout).toBe('');
  });
});

describe('tandem integration', () => {
  beforeEach(async () => {
    expect((await t.run(['init'])).code).toBe(0);
  });

  it('create prints ikey, skey, api host and a ready-to-paste [duo] block', async () => {
    const r = await t.run(['integration', 'create', '--name', 'web hosts']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const ikey = /ikey = (DI[A-Z0-9]{18})\n/.exec(r.stdout)?.[1];
    const skey = /skey = ([A-Za-z0-9]{40})\n/.exec(r.stdout)?.[1];
    expect(ikey).toBeDefined();
    expect(skey).toBeDefined();
    expect(r.stdout).toContain(
      [
        '[duo]',
        '; Tandem integration "web hosts" — paste into /etc/duo/pam_duo.conf or login_duo.conf (mode 0600)',
        `ikey = ${ikey}`,
        `skey = ${skey}`,
        'host = localhost:8443',
        `cafile = ${join(t.data, 'ca.pem')}`,
      ].join('\n'),
    );
  });

  it('create --json, list, show, rotate-skey', async () => {
    const c = await t.json<Record<string, string>>(['integration', 'create', '--name', 'db', '--new-user-policy', 'deny']);
    expect(Object.keys(c).sort()).toEqual(['cafile', 'host', 'ikey', 'name', 'newUserPolicy', 'skey']);
    expect(c).toMatchObject({ name: 'db', newUserPolicy: 'deny', host: 'localhost:8443', cafile: join(t.data, 'ca.pem') });
    expect(c.ikey).toMatch(/^DI[A-Z0-9]{18}$/);
    expect(c.skey).toMatch(/^[A-Za-z0-9]{40}$/);

    const list = await t.json<{ ikey: string; name: string; createdAt: string }[]>(['integration', 'list']);
    expect(list).toEqual([expect.objectContaining({ ikey: c.ikey, name: 'db', createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })]);
    const text = await t.run(['integration', 'list']);
    expect(text.stdout).toMatch(new RegExp(`${c.ikey}\\s+db\\s+deny`));

    const show = await t.run(['integration', 'show', c.ikey!]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('new-user policy: ');
    expect(show.stdout).not.toContain(c.skey);

    const rot = await t.json<{ skey: string; previousValidUntil: string }>(['integration', 'rotate-skey', c.ikey!]);
    expect(rot.skey).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(rot.skey).not.toBe(c.skey);
    expect(Date.parse(rot.previousValidUntil)).toBeGreaterThan(Date.now());
    const rotText = await t.run(['integration', 'rotate-skey', c.ikey!]);
    expect(rotText.stdout).toMatch(/new skey:\s+[A-Za-z0-9]{40}/);
    expect(rotText.stdout).toMatch(/previous skey keeps working until \d{4}-/);
    expect(rotText.stdout).not.toContain(rot.skey); // the old one is never printed again
  });

  it('delete refuses an integration used in the last 24 h unless --force', async () => {
    const c = await t.json<{ ikey: string; skey: string }>(['integration', 'create', '--name', 'busy']);
    // Mark it used now, as the HTTP layer would on a signed request.
    const rt = await openRuntime({ dataDir: t.data, env: t.env, log: quiet });
    const row = await rt.deps.store.getIntegrationByIkey(c.ikey);
    await rt.deps.store.touchIntegration(row!.id, Date.now());
    await rt.close();

    const refused = await t.run(['integration', 'delete', c.ikey]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^tandem: .*last 24 hours.*--force/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).not.toContain(c.skey);
    expect((await t.run(['integration', 'show', c.ikey])).code).toBe(0);

    const forced = await t.run(['integration', 'delete', c.ikey, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`Integration ${c.ikey} deleted.`);
    const gone = await t.run(['integration', 'show', c.ikey]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`tandem: no integration with ikey ${c.ikey}\n`);
  });

  it('delete of a never-used integration needs no --force', async () => {
    const c = await t.json<{ ikey: string }>(['integration', 'create', '--name', 'idle']);
    const r = await t.json<{ deleted: string }>(['integration', 'delete', c.ikey]);
    expect(r).toEqual({ deleted: c.ikey });
    expect(await t.json(['integration', 'list'])).toEqual([]);
  });
});
