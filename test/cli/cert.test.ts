import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STACK, tempData, type TempData } from './run-cli.js';

let t: TempData;
beforeEach(() => {
  t = tempData();
});
afterEach(() => t.cleanup());

const read = (f: string): string => readFileSync(join(t.data, f), 'utf8');
const bytes = (f: string): Buffer => readFileSync(join(t.data, f));
/** node:crypto's view of the leaf, e.g. subjectAltName "DNS:a, DNS:b, IP Address:1.2.3.4". */
const leaf = (): X509Certificate => new X509Certificate(read('server.pem'));
const sans = (): string[] => (leaf().subjectAltName ?? '').split(', ');

describe('tandem cert reissue', () => {
  beforeEach(async () => {
    expect((await t.run(['init'])).code).toBe(0);
  });

  it('issues a new certificate from the same CA; the CA and the master key stay byte-identical', async () => {
    const [ca, caKey, masterKey, cert, key] = ['ca.pem', 'ca.key', 'master.key', 'server.pem', 'server.key'].map(bytes);
    const r = await t.run(['cert', 'reissue']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(bytes('ca.pem').equals(ca!)).toBe(true);
    expect(bytes('ca.key').equals(caKey!)).toBe(true);
    expect(bytes('master.key').equals(masterKey!)).toBe(true);
    expect(bytes('server.pem').equals(cert!)).toBe(false);
    expect(bytes('server.key').equals(key!)).toBe(false);
    expect(leaf().verify(new X509Certificate(read('ca.pem')).publicKey)).toBe(true);
    expect(r.stdout).toMatch(/host names:\s+localhost, 127\.0\.0\.1, ::1\n/);
    expect(r.stdout).toMatch(/IP addresses:\s+127\.0\.0\.1, ::1\n/);
    expect(r.stdout).toMatch(/expires:\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n/);
    expect(r.stdout).toMatch(/restart it/);
  });

  it('--host names become DNS SANs exactly as given; IP hosts get an IP SAN and a DNS SAN', async () => {
    const ca = bytes('ca.pem');
    const j = await t.json<{ hosts: string[]; ips: string[]; notAfter: string; serverCert: string }>(['cert', 'reissue', '--host', 'Tandem.Example.COM', '--host', '192.0.2.7']);
    expect(j).toEqual({
      hosts: ['Tandem.Example.COM', '192.0.2.7', 'localhost', '127.0.0.1', '::1'],
      ips: ['192.0.2.7', '127.0.0.1', '::1'],
      notAfter: new Date(leaf().validTo).toISOString(),
      serverCert: join(t.data, 'server.pem'),
    });
    expect(sans()).toEqual(expect.arrayContaining(['DNS:Tandem.Example.COM', 'DNS:192.0.2.7', 'IP Address:192.0.2.7', 'DNS:localhost']));
    expect(sans()).not.toContain('DNS:tandem.example.com');
    expect(bytes('ca.pem').equals(ca)).toBe(true);
    expect(leaf().verify(new X509Certificate(read('ca.pem')).publicKey)).toBe(true);
    expect(leaf().checkIssued(new X509Certificate(read('ca.pem')))).toBe(true);
    // The stored list is replaced, as init --host does, so clients get the new name by default.
    expect(JSON.parse(read('config.json'))).toEqual({ hosts: ['Tandem.Example.COM', '192.0.2.7', 'localhost'] });
    const c = await t.json<{ host: string }>(['integration', 'create', '--name', 'x']);
    expect(c.host).toBe('Tandem.Example.COM:8443');

    // Without --host the list stays; a new --host list replaces it (the old name goes).
    await t.json(['cert', 'reissue']);
    expect(sans()).toContain('DNS:Tandem.Example.COM');
    await t.json(['cert', 'reissue', '--host', 'other.example']);
    expect(sans()).not.toContain('DNS:Tandem.Example.COM');
    expect(sans()).toContain('DNS:other.example');
    expect(bytes('ca.pem').equals(ca)).toBe(true);
  });

  it('refuses a bad host name and an uninitialised directory, without a stack trace', async () => {
    const before = bytes('server.pem');
    const bad = await t.run(['cert', 'reissue', '--host', 'bad host']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tandem: .*bad host/);
    expect(bad.stderr).not.toMatch(STACK);
    expect(bytes('server.pem').equals(before)).toBe(true);

    const empty = await t.run(['cert', 'reissue', '--data', join(t.root, 'nothing')], { noData: true });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/^tandem: no site CA .*run tandem init first\n$/);
  });
});

describe('tandem cert show', () => {
  it('shows the names, IPs, validity and the cafile', async () => {
    await t.run(['init', '--host', 'Tandem.Example.COM']);
    const r = await t.run(['cert', 'show']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/host names:\s+Tandem\.Example\.COM, localhost, 127\.0\.0\.1, ::1\n/);
    expect(r.stdout).toMatch(/IP addresses:\s+127\.0\.0\.1, ::1\n/);
    expect(r.stdout).toMatch(/not before:\s+\d{4}-/);
    expect(r.stdout).toMatch(/not after:\s+\d{4}-/);
    expect(r.stdout).toContain(`cafile:       ${join(t.data, 'ca.pem')}\n`);

    const j = await t.json<Record<string, unknown>>(['cert', 'show']);
    expect(j).toEqual({
      serverCert: join(t.data, 'server.pem'),
      hosts: ['Tandem.Example.COM', 'localhost', '127.0.0.1', '::1'],
      ips: ['127.0.0.1', '::1'],
      notBefore: new Date(leaf().validFrom).toISOString(),
      notAfter: new Date(leaf().validTo).toISOString(),
      cafile: join(t.data, 'ca.pem'),
      issuedBySiteCa: true,
    });
  });

  it('says when there is no certificate yet', async () => {
    const r = await t.run(['cert', 'show']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tandem: no server certificate at .*run tandem init first\n$/);
  });
});
