import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { connect, createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import * as x509 from '@peculiar/x509';
import { certificateInfo, createSiteCa, isIssuedBy, issueServerCert, keyMatchesCertificate, sanEntries, type PemPair } from './pki.js';

const NOW = new Date('2030-01-15T12:00:00Z');
const DAY = 86_400_000;

function pemCerts(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

let ca: PemPair;
let leaf: PemPair;
const HOSTS = ['Tandem.Example.COM', 'tandem2.example', '192.0.2.10', '2001:db8::7', '::ffff:198.51.100.1'];

beforeAll(async () => {
  ca = await createSiteCa({ now: NOW, serialHex: '0123456789abcdef', commonName: 'Tandem site CA, "test" +1' });
  leaf = await issueServerCert({ ca, hosts: HOSTS, now: NOW, serialHex: 'fedcba9876543210' });
});

describe('createSiteCa', () => {
  it('makes a P-256 CA valid for 10 years with CA:true (critical) and keyCertSign+cRLSign', () => {
    const c = new X509Certificate(ca.certPem);
    expect(c.ca).toBe(true);
    // Verbatim: DN syntax in the name is data, not parsed.
    expect(new x509.X509Certificate(ca.certPem).subjectName.getField('CN')).toEqual(['Tandem site CA, "test" +1']);
    expect(c.issuer).toBe(c.subject);
    expect(c.serialNumber.toLowerCase()).toBe('0123456789abcdef');
    expect(new Date(c.validTo).toISOString()).toBe('2040-01-15T12:00:00.000Z');
    expect(new Date(c.validFrom).getTime()).toBeLessThanOrEqual(NOW.getTime());
    expect(c.verify(c.publicKey)).toBe(true);
    expect(c.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const p = new x509.X509Certificate(ca.certPem);
    const bc = p.getExtension(x509.BasicConstraintsExtension)!;
    expect([bc.ca, bc.critical, bc.pathLength]).toEqual([true, true, 0]);
    const ku = p.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(ku.critical).toBe(true);
  });

  it('writes the private key as PKCS#8 PEM', () => {
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    const k = createPrivateKey(ca.keyPem);
    expect(k.asymmetricKeyType).toBe('ec');
    expect(keyMatchesCertificate(ca.certPem, ca.keyPem)).toBe(true);
  });

  it('refuses bad serials', async () => {
    for (const s of ['', '00', '0000', 'xyz', 'a'.repeat(39)]) {
      await expect(createSiteCa({ now: NOW, serialHex: s, commonName: 'x' })).rejects.toThrow('serialHex');
    }
  });
});

describe('issueServerCert', () => {
  it('sends the leaf followed by the CA certificate', () => {
    const certs = pemCerts(leaf.certPem);
    expect(certs).toHaveLength(2);
    expect(new X509Certificate(certs[1]!).fingerprint256).toBe(new X509Certificate(ca.certPem).fingerprint256);
  });

  it('is signed by the CA, is not a CA, and is for serverAuth', () => {
    const c = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(c.verify(caCert.publicKey)).toBe(true);
    expect(c.checkIssued(caCert)).toBe(true);
    expect(c.ca).toBe(false);
    expect(c.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(c.subject).toBe('CN=Tandem.Example.COM');
    const p = new x509.X509Certificate(pemCerts(leaf.certPem)[0]!);
    expect(p.getExtension(x509.BasicConstraintsExtension)!.critical).toBe(true);
    expect(p.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(p.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId).toBe(
      new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)!.keyId,
    );
  });

  it('has a DNS SAN for every host exactly as given, IP SANs for IPs, and the loopback names', () => {
    const info = certificateInfo(leaf.certPem);
    expect(info.hosts).toEqual([...HOSTS, 'localhost', '127.0.0.1', '::1']);
    expect(info.ips).toEqual(['192.0.2.10', '2001:db8::7', '::ffff:c633:6401', '127.0.0.1', '::1']);
    const c = new X509Certificate(leaf.certPem);
    // Case preserved: duo_unix 1.11.3 compares dNSName entries case-sensitively.
    expect(c.subjectAltName).toContain('DNS:Tandem.Example.COM');
    expect(c.subjectAltName).not.toContain('DNS:tandem.example.com');
    expect(c.subjectAltName).toContain('DNS:192.0.2.10');
    expect(c.checkHost('tandem2.example', { subject: 'never' })).toBe('tandem2.example');
    expect(c.checkHost('localhost', { subject: 'never' })).toBe('localhost');
    expect(c.checkHost('other.example', { subject: 'never' })).toBeUndefined();
    expect(c.checkIP('192.0.2.10')).toBe('192.0.2.10');
    expect(c.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(c.checkIP('::1')).toBe('::1');
    expect(c.checkIP('198.51.100.1')).toBeUndefined();
  });

  it('does not duplicate names given twice or already implied', () => {
    const names = sanEntries(['localhost', '127.0.0.1', 'a.example', 'a.example']);
    expect(names).toEqual([
      { type: 'dns', value: 'localhost' },
      { type: 'dns', value: '127.0.0.1' },
      { type: 'dns', value: 'a.example' },
      { type: 'dns', value: '::1' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ]);
  });

  it('is valid for 397 days by default, never beyond the CA', async () => {
    const info = certificateInfo(leaf.certPem);
    expect(info.notAfter.getTime()).toBe(NOW.getTime() + 397 * DAY);
    expect(info.notBefore.getTime()).toBeLessThanOrEqual(NOW.getTime());
    expect(info.serialHex.toLowerCase()).toBe('fedcba9876543210');
    const short = await issueServerCert({ ca, hosts: ['a.example'], now: NOW, serialHex: '01', days: 30 });
    expect(certificateInfo(short.certPem).notAfter.getTime()).toBe(NOW.getTime() + 30 * DAY);
    const late = new Date(NOW.getTime() + 3600 * DAY);
    const clamped = await issueServerCert({ ca, hosts: ['a.example'], now: late, serialHex: '02' });
    expect(certificateInfo(clamped.certPem).notAfter.getTime()).toBe(new Date('2040-01-15T12:00:00Z').getTime());
  });

  it('refuses invalid hosts and parameters', async () => {
    for (const hosts of [['bad host'], ['a.example', '*.example'], ['[::1]'], ['x'.repeat(300)], ['']]) {
      await expect(issueServerCert({ ca, hosts, now: NOW, serialHex: '01' })).rejects.toThrow('host');
    }
    await expect(issueServerCert({ ca, hosts: ['a.example'], now: NOW, serialHex: '01', days: 0 })).rejects.toThrow('days');
    await expect(issueServerCert({ ca: { certPem: ca.certPem, keyPem: 'garbage' }, hosts: ['a.example'], now: NOW, serialHex: '01' })).rejects.toThrow();
  });

  it('uses a host of at most 64 characters as the common name', async () => {
    const long = 'a'.repeat(63) + '.example';
    const c = await issueServerCert({ ca, hosts: [long, 'b.example'], now: NOW, serialHex: '03' });
    expect(new X509Certificate(c.certPem).subject).toBe('CN=b.example');
    expect(certificateInfo(c.certPem).hosts).toContain(long);
  });

  it('tells our certificates, keys and CAs apart', async () => {
    const other = await createSiteCa({ now: NOW, serialHex: '05', commonName: 'other' });
    expect(await isIssuedBy(leaf.certPem, ca.certPem)).toBe(true);
    expect(await isIssuedBy(leaf.certPem, other.certPem)).toBe(false);
    expect(await isIssuedBy('garbage', ca.certPem)).toBe(false);
    expect(keyMatchesCertificate(leaf.certPem, leaf.keyPem)).toBe(true);
    expect(keyMatchesCertificate(leaf.certPem, ca.keyPem)).toBe(false);
    expect(keyMatchesCertificate(leaf.certPem, 'garbage')).toBe(false);
    expect(() => certificateInfo('no pem here')).toThrow();
  });
});

describe('TLS handshake with a real certificate', () => {
  let server: Server;
  let port: number;
  let realCa: PemPair;

  beforeAll(async () => {
    // Real time: TLS checks validity against the clock.
    const now = new Date();
    realCa = await createSiteCa({ now, serialHex: '0a', commonName: 'Tandem test CA' });
    const cert = await issueServerCert({ ca: realCa, hosts: ['Tandem.Test'], now, serialHex: '0b' });
    server = createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => s.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function handshake(opts: { ca: string; servername: string }): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, ...opts }, () => {
        let body = '';
        s.setEncoding('utf8');
        s.on('data', (d: string) => (body += d));
        s.on('end', () => resolve(body));
      });
      s.on('error', reject);
    });
  }

  it('verifies against the site CA for localhost and the configured host', async () => {
    expect(await handshake({ ca: realCa.certPem, servername: 'localhost' })).toBe('ok');
    expect(await handshake({ ca: realCa.certPem, servername: 'Tandem.Test' })).toBe('ok');
  });

  it('fails for another name or another CA', async () => {
    await expect(handshake({ ca: realCa.certPem, servername: 'evil.test' })).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    const other = await createSiteCa({ now: new Date(), serialHex: '0c', commonName: 'Other CA' });
    await expect(handshake({ ca: other.certPem, servername: 'localhost' })).rejects.toThrow();
  });
});
