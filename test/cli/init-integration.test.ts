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
    const block = [
      '[duo]',
      '; Tandem integration "web hosts": replace the whole file with this block.',
      '; Debian/Ubuntu packages: /etc/security/pam_duo.conf and /etc/security/login_duo.conf; upstream builds: /etc/duo/',
      '; Mode 0600; pam_duo.conf owned by root, login_duo.conf by the user login_duo reads it as (Debian: sshd).',
      'failmode = secure',
      `ikey = ${ikey}`,
      `skey = ${skey}`,
      'host = localhost:8443',
      `cafile = ${join(t.data, 'ca.pem')}`,
    ];
    expect(r.stdout).toContain(block.join('\n') + '\n\n');
    expect(r.stdout).toMatch(/legacy v1:\s+no\n/);
    expect(r.stdout).not.toMatch(/replayed/);
  });

  it('the block parses the way duo_unix 1.11.3 reads it: short lines, failmode first, only known keys', async () => {
    // A long name (100 characters of 3 UTF-8 bytes each) must not push the comment past the 200-byte line buffer.
    const name = '\u20ac'.repeat(100);
    const r = await t.run(['integration', 'create', '--name', name]);
    expect(r.code).toBe(0);
    const lines = r.stdout.slice(r.stdout.indexOf('[duo]\n')).split('\n\n')[0]!.split('\n');
    for (const l of lines) {
      expect(Buffer.byteLength(l), l).toBeLessThanOrEqual(198);
      expect(l).toMatch(/^(\[duo\]|; .*|[a-z]+ = \S+)$/); // no indented line: 1.11.3 reads it as a continuation
    }
    const keys = lines.filter((l) => /^[a-z]/.test(l)).map((l) => l.split(' = ')[0]);
    // failmode first: a bad line below it then denies instead of falling back to the default (safe).
    expect(keys).toEqual(['failmode', 'ikey', 'skey', 'host', 'cafile']);
    expect(lines[1]).toContain('\u20ac'.repeat(10));
  });

  it('create --legacy-v1 says what it costs; --json, list and show report it', async () => {
    const r = await t.run(['integration', 'create', '--name', 'debian', '--legacy-v1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/legacy v1:\s+yes\n/);
    const warning = r.stdout.split('\n').filter((l) => /replayed/.test(l));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(/no date.*replayed forever.*Debian\/Ubuntu's login-duo\/libpam-duo 1\.11\.3/);
    expect(r.stdout).toContain('failmode = secure\n');
    const ikey = /ikey = (DI[A-Z0-9]{18})\n/.exec(r.stdout)![1]!;

    const j = await t.json<{ ikey: string; legacyV1: boolean }>(['integration', 'create', '--name', 'modern']);
    expect(j.legacyV1).toBe(false);
    const jl = await t.json<{ legacyV1: boolean }>(['integration', 'create', '--name', 'old', '--legacy-v1']);
    expect(jl.legacyV1).toBe(true);

    const list = await t.json<{ ikey: string; legacyV1: boolean }[]>(['integration', 'list']);
    expect(Object.fromEntries(list.map((i) => [i.ikey, i.legacyV1]))).toMatchObject({ [ikey]: true, [j.ikey]: false });
    const text = await t.run(['integration', 'list']);
    expect(text.stdout).toMatch(new RegExp(`${ikey}\\s+debian\\s+enroll\\s+yes`));
    expect(text.stdout).toMatch(new RegExp(`${j.ikey}\\s+modern\\s+enroll\\s+no`));

    const show = await t.run(['integration', 'show', ikey]);
    expect(show.stdout).toMatch(/legacy v1:\s+yes\n/);
    expect(show.stdout).toMatch(/replayed forever/);
    expect((await t.json<{ legacyV1: boolean }>(['integration', 'show', ikey])).legacyV1).toBe(true);
    expect((await t.run(['integration', 'show', j.ikey])).stdout).not.toMatch(/replayed/);
  });

  it('set --new-user-policy changes the policy, audited; a bad value or none is a usage error', async () => {
    const c = await t.json<{ ikey: string }>(['integration', 'create', '--name', 'pol']);
    expect((await t.run(['integration', 'set', c.ikey, '--new-user-policy', 'deny'])).stdout).toBe(`New-user policy of ${c.ikey}: deny.\n`);
    expect((await t.json<{ newUserPolicy: string }>(['integration', 'show', c.ikey])).newUserPolicy).toBe('deny');
    expect((await t.run(['integration', 'set', c.ikey, '--new-user-policy', 'maybe'])).code).toBe(2);
    expect((await t.run(['integration', 'set', c.ikey])).code).toBe(2);
    expect((await t.run(['integration', 'set', 'DINOPE', '--new-user-policy', 'allow'])).code).not.toBe(0);
    const log = await t.json<{ reason: string; integration: string }[]>(['log', '--admin', '--integration', c.ikey]);
    expect(log[0]).toMatchObject({ reason: 'new_user_policy_set', integration: c.ikey });
  });

  it('create --json, list, show, rotate-skey', async () => {
    const c = await t.json<Record<string, string>>(['integration', 'create', '--name', 'db', '--new-user-policy', 'deny']);
    expect(Object.keys(c).sort()).toEqual(['cafile', 'host', 'ikey', 'legacyV1', 'name', 'newUserPolicy', 'skey']);
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
