import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDataDir, reissueServerCert } from './bootstrap.js';
import { ConfigError } from '../config/load.js';
import { MasterKeyError } from '../config/master-key.js';
import { certificateInfo, createSiteCa, isIssuedBy, issueServerCert } from '../core/pki.js';

const NOW = new Date('2030-01-15T12:00:00Z');
const DAY = 86_400_000;

function counterRandom(seed = 'r'): { bytes(n: number): Buffer } {
  let i = 0;
  return {
    bytes(n) {
      const out = Buffer.alloc(n);
      for (let off = 0; off < n; off += 32) createHash('sha256').update(`${seed}:${i++}`).digest().copy(out, off);
      return out;
    },
  };
}

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'tandem-boot-'));
  dir = join(root, 'data');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const mode = (p: string): number => statSync(p).mode & 0o777;
const read = (p: string): string => readFileSync(p, 'utf8');
const ensure = (opts: { hosts?: string[]; env?: Record<string, string>; now?: Date } = {}) =>
  ensureDataDir({ dataDir: dir, env: opts.env ?? {}, random: counterRandom(), now: opts.now ?? NOW, ...(opts.hosts ? { hosts: opts.hosts } : {}) });

describe('ensureDataDir', () => {
  it('creates everything on first run with private modes', async () => {
    const r = await ensure({ hosts: ['Tandem.Example.com'] });
    const p = r.paths;
    expect(r.created).toEqual([p.dir, p.config, p.masterKey, p.caKey, p.caCert, p.serverKey, p.serverCert]);
    expect(r.updated).toEqual([]);
    expect(mode(p.dir)).toBe(0o700);
    for (const key of [p.masterKey, p.caKey, p.serverKey, p.config]) expect(mode(key), key).toBe(0o600);
    expect(JSON.parse(read(p.config))).toEqual({ hosts: ['Tandem.Example.com', 'localhost'] });
    expect(r.settings.hosts).toEqual(['Tandem.Example.com', 'localhost']);
    expect(certificateInfo(read(p.serverCert)).hosts).toEqual(['Tandem.Example.com', 'localhost', '127.0.0.1', '::1']);
    expect(await isIssuedBy(read(p.serverCert), read(p.caCert))).toBe(true);
    expect(existsSync(p.sqlite)).toBe(false); // the database is someone else's job
  });

  it('is idempotent: a second run creates and changes nothing', async () => {
    const first = await ensure({ hosts: ['a.example'] });
    const before = Object.fromEntries([first.paths.config, first.paths.masterKey, first.paths.caCert, first.paths.caKey, first.paths.serverCert, first.paths.serverKey].map((f) => [f, read(f)]));
    const again = await ensure({ hosts: ['a.example'] });
    expect(again.created).toEqual([]);
    expect(again.updated).toEqual([]);
    const none = await ensure();
    expect(none.created).toEqual([]);
    expect(none.updated).toEqual([]);
    for (const [f, text] of Object.entries(before)) expect(read(f), f).toBe(text);
  });

  it('writes an empty config.json when no hosts are given', async () => {
    const r = await ensure();
    expect(JSON.parse(read(r.paths.config))).toEqual({});
    expect(r.settings.hosts).toEqual(['localhost']);
  });

  it('reissues the server certificate from the same CA when a host is added', async () => {
    const first = await ensure({ hosts: ['a.example'] });
    const p = first.paths;
    const [ca, mk, oldCert] = [read(p.caCert), read(p.masterKey), read(p.serverCert)];
    const r = await ensure({ hosts: ['a.example', 'B.example'] });
    expect(r.created).toEqual([]);
    expect(r.updated).toEqual([p.config, p.serverKey, p.serverCert]);
    expect(r.notes).toEqual(['server certificate reissued from the site CA: host(s) B.example not in the certificate']);
    expect(read(p.caCert)).toBe(ca);
    expect(read(p.masterKey)).toBe(mk);
    expect(read(p.serverCert)).not.toBe(oldCert);
    expect(certificateInfo(read(p.serverCert)).hosts).toContain('B.example');
    expect(await isIssuedBy(read(p.serverCert), ca)).toBe(true);
    expect(mode(p.serverKey)).toBe(0o600);
  });

  it('follows TANDEM_HOSTS, which overrides config.json', async () => {
    await ensure({ hosts: ['a.example'] });
    const r = await ensure({ env: { TANDEM_HOSTS: 'c.example' } });
    expect(r.settings.hosts).toEqual(['c.example']);
    expect(r.updated).toContain(r.paths.serverCert);
    expect(certificateInfo(read(r.paths.serverCert)).hosts).toContain('c.example');
    const noted = await ensure({ hosts: ['a.example'], env: { TANDEM_HOSTS: 'c.example' } });
    expect(noted.notes).toContain('TANDEM_HOSTS is set and overrides the hosts stored in config.json');
  });

  it('renews its own certificate within 30 days of expiry, or when the key is missing or wrong', async () => {
    const { paths } = await ensure();
    expect((await ensure({ now: new Date(NOW.getTime() + 360 * DAY) })).updated).toEqual([]);
    const late = await ensure({ now: new Date(NOW.getTime() + 370 * DAY) });
    expect(late.notes[0]).toMatch(/expires/);
    unlinkSync(paths.serverKey);
    const noKey = await ensure();
    expect(noKey.created).toEqual([paths.serverKey]);
    expect(noKey.updated).toEqual([paths.serverCert]);
    writeFileSync(paths.serverKey, read(paths.caKey), { mode: 0o600 });
    expect((await ensure()).notes[0]).toMatch(/does not match/);
    unlinkSync(paths.serverCert);
    const noCert = await ensure();
    expect(noCert.created).toEqual([paths.serverCert]);
    expect(noCert.updated).toEqual([paths.serverKey]);
  });

  it('never replaces a certificate the operator brought, but says when it lacks a host', async () => {
    const { paths } = await ensure();
    const own = await createSiteCa({ now: NOW, serialHex: '77', commonName: 'Corporate CA' });
    const byo = await issueServerCert({ ca: own, hosts: ['localhost'], now: NOW, serialHex: '78' });
    writeFileSync(paths.serverCert, byo.certPem);
    writeFileSync(paths.serverKey, byo.keyPem, { mode: 0o600 });
    const r = await ensure({ hosts: ['new.example'] });
    expect(r.updated).toEqual([paths.config]);
    expect(r.notes).toEqual([`${paths.serverCert} (not issued by the site CA) lacks host(s) new.example; left unchanged`]);
    expect(read(paths.serverCert)).toBe(byo.certPem);
    unlinkSync(paths.serverKey);
    await expect(ensure()).rejects.toThrow('not from the site CA');
    expect(read(paths.serverCert)).toBe(byo.certPem);
  });

  it('refuses half a CA instead of replacing it', async () => {
    const { paths } = await ensure();
    unlinkSync(paths.caKey);
    await expect(ensure()).rejects.toThrow(`without ${paths.caKey}`);
    expect(existsSync(paths.caKey)).toBe(false);
  });

  it('refuses a CA key that is not the CA certificate’s', async () => {
    const { paths } = await ensure();
    writeFileSync(paths.caKey, read(paths.serverKey));
    await expect(ensure()).rejects.toThrow('is not the key of');
  });

  it('validates the configuration before creating any key', async () => {
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'config.json'), '{"lockoutThreshold": "x", "hots": []}');
    const e = await ensure().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).problems).toHaveLength(2);
    expect(existsSync(join(dir, 'master.key'))).toBe(false);
    expect(existsSync(join(dir, 'ca.key'))).toBe(false);
  });

  it('refuses invalid --host names without writing config.json', async () => {
    await expect(ensure({ hosts: ['bad host'] })).rejects.toThrow(ConfigError);
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
  });

  it('refuses an existing master key that others can read', async () => {
    const { paths } = await ensure();
    chmodSync(paths.masterKey, 0o644);
    await expect(ensure()).rejects.toThrow(MasterKeyError);
  });

  it('puts the master key where TANDEM_MASTER_KEY_FILE says', async () => {
    const keyPath = join(root, 'secrets', 'tandem.key');
    const r = await ensure({ env: { TANDEM_MASTER_KEY_FILE: keyPath } });
    expect(r.paths.masterKey).toBe(keyPath);
    expect(r.created).toContain(keyPath);
    expect(existsSync(join(dir, 'master.key'))).toBe(false);
    expect(mode(join(root, 'secrets'))).toBe(0o700);
  });

  it('warns about a data directory others can enter, and refuses a file in its place', async () => {
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    expect((await ensure()).notes[0]).toMatch(/accessible by group or others/);
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'x');
    await expect(ensure()).rejects.toThrow('is not a directory');
  });
});

describe('ensureDataDir host list', () => {
  it('stores each --host once, in order, with localhost appended', async () => {
    const r = await ensure({ hosts: ['b.example', 'a.example', 'b.example', 'localhost'] });
    expect(JSON.parse(read(r.paths.config))).toEqual({ hosts: ['b.example', 'a.example', 'localhost'] });
    expect((await ensure({ hosts: ['b.example', 'a.example'] })).updated).toEqual([]);
  });
});

describe('reissueServerCert', () => {
  const reissue = (opts: { hosts?: string[]; env?: Record<string, string>; now?: Date } = {}) =>
    reissueServerCert({ dataDir: dir, env: opts.env ?? {}, random: counterRandom('again'), now: opts.now ?? NOW, ...(opts.hosts ? { hosts: opts.hosts } : {}) });

  it('always issues a new certificate and key from the same CA, leaving the CA and master key alone', async () => {
    const { paths: p } = await ensure({ hosts: ['a.example'] });
    const keep = [p.caCert, p.caKey, p.masterKey, p.config].map((f) => [f, read(f)] as const);
    const [oldCert, oldKey] = [read(p.serverCert), read(p.serverKey)];
    const r = await reissue();
    expect(r.updated).toEqual([p.serverKey, p.serverCert]);
    expect(r.notes).toEqual([]);
    for (const [f, text] of keep) expect(read(f), f).toBe(text);
    expect(read(p.serverCert)).not.toBe(oldCert);
    expect(read(p.serverKey)).not.toBe(oldKey);
    expect(mode(p.serverKey)).toBe(0o600);
    expect(await isIssuedBy(read(p.serverCert), read(p.caCert))).toBe(true);
    expect(r.info).toEqual(certificateInfo(read(p.serverCert)));
    expect(r.info.hosts).toEqual(['a.example', 'localhost', '127.0.0.1', '::1']);
    expect(r.info.notAfter.getTime()).toBe(NOW.getTime() + 397 * DAY);
    // The next init finds nothing to do.
    expect((await ensure()).updated).toEqual([]);
  });

  it('with hosts, replaces the stored list like init --host (case kept, localhost added)', async () => {
    const { paths: p } = await ensure({ hosts: ['a.example'] });
    const r = await reissue({ hosts: ['Tandem.Example.COM', '192.0.2.7'] });
    expect(r.updated).toEqual([p.config, p.serverKey, p.serverCert]);
    expect(JSON.parse(read(p.config))).toEqual({ hosts: ['Tandem.Example.COM', '192.0.2.7', 'localhost'] });
    expect(r.settings.hosts).toEqual(['Tandem.Example.COM', '192.0.2.7', 'localhost']);
    expect(r.info.hosts).toEqual(['Tandem.Example.COM', '192.0.2.7', 'localhost', '127.0.0.1', '::1']);
    expect(r.info.ips).toEqual(['192.0.2.7', '127.0.0.1', '::1']);
  });

  it('says when TANDEM_HOSTS decides the names', async () => {
    await ensure();
    const r = await reissue({ env: { TANDEM_HOSTS: 'c.example' } });
    expect(r.info.hosts).toContain('c.example');
    expect(r.notes).toEqual(['TANDEM_HOSTS is set: the certificate carries its names, not those stored in config.json']);
  });

  it('refuses a directory without a site CA, creating nothing', async () => {
    await expect(reissue()).rejects.toThrow('run tandem init first');
    expect(existsSync(dir)).toBe(false);
    const { paths } = await ensure();
    unlinkSync(paths.caKey);
    await expect(reissue({ hosts: ['x.example'] })).rejects.toThrow('no site CA');
    expect(JSON.parse(read(paths.config))).toEqual({});
  });

  it('refuses invalid hosts and a certificate from another CA without writing anything', async () => {
    const { paths } = await ensure();
    const before = read(paths.serverCert);
    await expect(reissue({ hosts: ['bad host'] })).rejects.toThrow(ConfigError);
    expect(read(paths.serverCert)).toBe(before);
    const own = await createSiteCa({ now: NOW, serialHex: '77', commonName: 'Corporate CA' });
    const byo = await issueServerCert({ ca: own, hosts: ['localhost'], now: NOW, serialHex: '78' });
    writeFileSync(paths.serverCert, byo.certPem);
    writeFileSync(paths.serverKey, byo.keyPem, { mode: 0o600 });
    await expect(reissue({ hosts: ['new.example'] })).rejects.toThrow('is not from the site CA');
    expect(read(paths.serverCert)).toBe(byo.certPem);
    expect(JSON.parse(read(paths.config))).toEqual({});
  });
});
