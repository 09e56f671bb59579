// The site CA and the TLS server certificate `tandem init` creates. Stock Duo clients require
// HTTPS and check the server name against the certificate, so the SANs follow what the oldest
// supported client (duo_unix 1.11.3, in Debian and Ubuntu) actually compares; see issueServerCert.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeX509Certificate, createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { checkHost } from '../config/schema.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// Node's WebCrypto; its type differs nominally from the DOM `Crypto` the library declares.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const subtle = webcrypto.subtle;
const EC: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Names every server certificate carries so loopback clients and health checks always match. */
const ALWAYS_HOSTS = ['localhost', '127.0.0.1', '::1'];

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateInfo {
  notBefore: Date;
  notAfter: Date;
  /** dNSName SANs, exactly as written (IP hosts appear here too, as text). */
  hosts: string[];
  /** iPAddress SANs. */
  ips: string[];
  serialHex: string;
}

function checkSerial(serialHex: string): void {
  // Up to 19 octets (+1 sign octet) keeps within RFC 5280's 20; all-zero would make the library
  // pick its own random serial, hiding an RNG bug.
  if (!/^[0-9a-fA-F]{1,38}$/.test(serialHex) || /^0+$/.test(serialHex)) {
    throw new Error('serialHex must be 1–38 hex digits, not all zero');
  }
}

/**
 * Certificates are backdated an hour: a host whose clock is a few minutes behind would otherwise
 * reject a certificate minted "in its future" right after `tandem init`.
 */
function notBeforeFor(now: Date): Date {
  return new Date(now.getTime() - HOUR_MS);
}

/**
 * A subject of one CN, taken verbatim: the library's plain-string forms parse DN syntax, quotes
 * and escapes ("a, \"b\"" would become CN=b), so the value goes in as an explicit UTF8String.
 */
function cnName(commonName: string): x509.Name {
  return new x509.Name([{ CN: [{ utf8String: commonName }] }]);
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

function certPem(cert: x509.X509Certificate): string {
  return cert.toString('pem') + '\n';
}

/** The PEM blocks of `pem` with the given tag, in order. */
function pemBlocks(pem: string, tag: string): ArrayBuffer[] {
  return x509.PemConverter.decodeWithHeaders(pem)
    .filter((b) => b.type === tag)
    .map((b) => b.rawData);
}

function firstCertificate(pem: string): x509.X509Certificate {
  const [der] = pemBlocks(pem, 'CERTIFICATE');
  if (!der) throw new Error('no CERTIFICATE block in PEM');
  return new x509.X509Certificate(der);
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const [der] = pemBlocks(pem, 'PRIVATE KEY');
  if (!der) throw new Error('no PKCS#8 PRIVATE KEY block in PEM');
  return subtle.importKey('pkcs8', der, EC, false, ['sign']);
}

export async function createSiteCa({ now, serialHex, commonName }: { now: Date; serialHex: string; commonName: string }): Promise<PemPair> {
  checkSerial(serialHex);
  const keys = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 10);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialHex,
    name: cnName(commonName),
    notBefore: notBeforeFor(now),
    notAfter,
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      // pathLength 0: this CA signs server certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: certPem(cert), keyPem: await exportKeyPem(keys.privateKey) };
}

/** The iPAddress form the library encodes: it does not parse IPv4-embedded IPv6 ("::ffff:1.2.3.4"). */
function ipSanValue(ip: string): string {
  if (isIP(ip) !== 6 || !ip.includes('.')) return ip;
  const cut = ip.lastIndexOf(':');
  const v4 = ip.slice(cut + 1).split('.').map(Number) as [number, number, number, number];
  const hex = (a: number, b: number): string => ((a << 8) | b).toString(16);
  return `${ip.slice(0, cut + 1)}${hex(v4[0], v4[1])}:${hex(v4[2], v4[3])}`;
}

/** The SAN entries for `hosts` plus the always-present loopback names. */
export function sanEntries(hosts: readonly string[]): x509.JsonGeneralName[] {
  const all: string[] = [];
  for (const h of [...hosts, ...ALWAYS_HOSTS]) if (!all.includes(h)) all.push(h);
  // Every host is a dNSName exactly as configured: duo_unix 1.11.3 matches only dNSName entries,
  // and case-sensitively, even for IP hosts. Modern clients match IP hosts against iPAddress.
  const dns = all.map((h) => ({ type: 'dns' as const, value: h }));
  const ips = all.filter((h) => isIP(h) !== 0).map((h) => ({ type: 'ip' as const, value: ipSanValue(h) }));
  return [...dns, ...ips];
}

export async function issueServerCert({
  ca,
  hosts,
  now,
  serialHex,
  days = 397,
}: {
  ca: PemPair;
  hosts: readonly string[];
  now: Date;
  serialHex: string;
  days?: number;
}): Promise<PemPair> {
  checkSerial(serialHex);
  for (const h of hosts) {
    const why = checkHost(h);
    if (why) throw new Error(`host ${JSON.stringify(h)}: ${why}`);
  }
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error('days must be an integer between 1 and 3650');
  const caCert = firstCertificate(ca.certPem);
  const caKey = await importPrivateKey(ca.keyPem);
  const keys = (await subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  // A leaf outliving its CA would only fail later, and more confusingly.
  const notAfter = new Date(Math.min(now.getTime() + days * DAY_MS, caCert.notAfter.getTime()));
  // X.520 caps a common name at 64 characters; a longer host is still covered by the SANs.
  const cn = hosts.find((h) => h.length <= 64) ?? 'localhost';
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject: cnName(cn),
    issuer: caCert.subjectName,
    notBefore: notBeforeFor(now),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sanEntries(hosts)),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  // Leaf then CA: clients given only the CA file still build the chain, and tools that show
  // "the chain the server sent" show where it came from.
  return { certPem: certPem(cert) + ca.certPem.trimEnd() + '\n', keyPem: await exportKeyPem(keys.privateKey) };
}

/** Facts about the first (leaf) certificate in a PEM file. */
export function certificateInfo(pem: string): CertificateInfo {
  const cert = firstCertificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const items = san?.names.items ?? [];
  return {
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    hosts: items.filter((n) => n.type === 'dns').map((n) => n.value),
    ips: items.filter((n) => n.type === 'ip').map((n) => n.value),
    serialHex: cert.serialNumber,
  };
}

/** Whether the leaf in `pem` carries a valid signature by the CA in `caPem`. */
export async function isIssuedBy(pem: string, caPem: string): Promise<boolean> {
  try {
    const cert = firstCertificate(pem);
    const caCert = firstCertificate(caPem);
    return await cert.verify({ publicKey: caCert.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}

/** Whether `keyPem` is the private key for the leaf in `certPem` (a crash mid-reissue could split them). */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  try {
    const certKey = new NodeX509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    const ownKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    // Public keys, not secrets: an ordinary comparison is fine.
    return certKey.equals(ownKey);
  } catch {
    return false;
  }
}
