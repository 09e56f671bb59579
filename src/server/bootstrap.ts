// Creates whatever the data directory is missing — config.json, master key, site CA, server
// certificate — and reuses the rest, so `tandem init` can be re-run safely (e.g. to add a host).
// The master key and the CA key are never overwritten: losing either breaks every sealed secret
// or every client's cafile. Only the server certificate is reissued, and only from the same CA.
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dataPaths, type DataPaths } from '../config/data-dir.js';
import { CONFIG_FILE, loadSettings, writeConfigFile } from '../config/load.js';
import { createMasterKey, loadMasterKey } from '../config/master-key.js';
import type { Settings } from '../config/settings.js';
import { certificateInfo, createSiteCa, isIssuedBy, issueServerCert, keyMatchesCertificate, type CertificateInfo, type PemPair } from '../core/pki.js';

/** Reissue our own server certificate when it has less than this left. */
const RENEW_BEFORE_MS = 30 * 24 * 3_600_000;

export interface EnsureDataDirOptions {
  dataDir: string;
  env: Record<string, string | undefined>;
  /** init's `--host NAME` list; replaces the stored list (`localhost` is always added). */
  hosts?: string[];
  random: { bytes(n: number): Buffer };
  now: Date;
}

export interface EnsureDataDirResult {
  /** Paths created by this call (the directory itself included); everything else was reused. */
  created: string[];
  /** Existing files rewritten: config.json with new hosts, a reissued server certificate/key. */
  updated: string[];
  /** Human-readable reasons and warnings for the CLI to print. */
  notes: string[];
  paths: DataPaths;
  settings: Settings;
}

function exists(path: string): boolean {
  try {
    // lstat: a dangling symlink counts as present, so it is reported instead of written through.
    lstatSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

function writeAll(fd: number, text: string): void {
  writeSync(fd, text);
  fsyncSync(fd);
}

/** Creates `path`; fails if it exists (keys are never replaced by accident). */
function writeNewFile(path: string, text: string, mode: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    writeAll(fd, text);
  } catch (e) {
    closeSync(fd);
    unlinkSync(path);
    throw e;
  }
  closeSync(fd);
}

/** Replaces `path` atomically: readers see the old file or the new one, never half of one. */
function replaceFile(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    unlinkSync(tmp); // left over from a crash
  } catch {
    // usually absent
  }
  writeNewFile(tmp, text, mode);
  renameSync(tmp, path);
}

/** A `--host` list as stored: each name once, in order, case kept, `localhost` appended. */
function hostList(hosts: readonly string[]): string[] {
  const list = [...new Set(hosts)];
  // Local health checks and `tandem doctor` connect as localhost.
  if (!list.includes('localhost')) list.push('localhost');
  return list;
}

/** A positive certificate serial; `kind` sets a distinct top bit so the CA and a leaf never share one. */
function serial(random: { bytes(n: number): Buffer }, kind: 'ca' | 'leaf'): string {
  const b = Buffer.from(random.bytes(16));
  b[0] = (b[0]! & 0x3f) | (kind === 'leaf' ? 0x40 : 0x00);
  if (b.every((x) => x === 0)) b[15] = 1;
  return b.toString('hex');
}

export async function ensureDataDir({ dataDir, env, hosts, random, now }: EnsureDataDirOptions): Promise<EnsureDataDirResult> {
  const paths = dataPaths(dataDir, env);
  const created: string[] = [];
  const updated: string[] = [];
  const notes: string[] = [];

  if (!exists(paths.dir)) {
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    created.push(paths.dir);
  } else {
    const st = statSync(paths.dir);
    if (!st.isDirectory()) throw new Error(`data directory ${paths.dir} is not a directory`);
    // Not changed behind the operator's back, but said: the CA key lives here.
    if ((st.mode & 0o077) !== 0) notes.push(`data directory ${paths.dir} is accessible by group or others (mode ${(st.mode & 0o777).toString(8)}); consider chmod 700`);
  }

  const configExisted = exists(paths.config);
  if (hosts !== undefined) {
    if (writeConfigFile(paths.dir, { hosts: hostList(hosts) })) (configExisted ? updated : created).push(paths.config);
  } else if (!configExisted) {
    writeConfigFile(paths.dir, {});
    created.push(paths.config);
  }
  // Validated before any key is made: a bad configuration leaves no half-initialised directory.
  const settings = loadSettings({ dataDir: paths.dir, env });
  if (hosts !== undefined && env.TANDEM_HOSTS) notes.push(`TANDEM_HOSTS is set and overrides the hosts stored in ${CONFIG_FILE}`);

  if (exists(paths.masterKey)) {
    // Checked now (mode, length) rather than at the first `serve`.
    loadMasterKey(paths.masterKey).fill(0);
  } else {
    createMasterKey(paths.masterKey, (n) => random.bytes(n)).fill(0);
    created.push(paths.masterKey);
  }

  const ca = await ensureCa(paths, random, now, created);
  await ensureServerCert(paths, ca, settings.hosts, random, now, { created, updated, notes });

  return { created, updated, notes, paths, settings };
}

async function ensureCa(paths: DataPaths, random: { bytes(n: number): Buffer }, now: Date, created: string[]): Promise<PemPair> {
  const haveCert = exists(paths.caCert);
  const haveKey = exists(paths.caKey);
  if (haveCert && haveKey) {
    const ca = { certPem: readFileSync(paths.caCert, 'utf8'), keyPem: readFileSync(paths.caKey, 'utf8') };
    if (!keyMatchesCertificate(ca.certPem, ca.keyPem)) throw new Error(`${paths.caKey} is not the key of ${paths.caCert}`);
    return ca;
  }
  // Half a CA is not silently replaced: clients may already trust the certificate.
  if (haveCert || haveKey) throw new Error(`found ${haveCert ? paths.caCert : paths.caKey} without ${haveCert ? paths.caKey : paths.caCert}; restore it or remove both to create a new site CA`);
  const caSerial = serial(random, 'ca');
  const ca = await createSiteCa({ now, serialHex: caSerial, commonName: `Tandem site CA ${now.toISOString().slice(0, 10)} ${caSerial.slice(0, 8)}` });
  writeNewFile(paths.caKey, ca.keyPem, 0o600);
  writeNewFile(paths.caCert, ca.certPem, 0o644);
  created.push(paths.caKey, paths.caCert);
  return ca;
}

function tryCertificateInfo(pem: string): ReturnType<typeof certificateInfo> | null {
  try {
    return certificateInfo(pem);
  } catch {
    return null;
  }
}

async function ensureServerCert(
  paths: DataPaths,
  ca: PemPair,
  hosts: readonly string[],
  random: { bytes(n: number): Buffer },
  now: Date,
  out: { created: string[]; updated: string[]; notes: string[] },
): Promise<void> {
  const haveCert = exists(paths.serverCert);
  const haveKey = exists(paths.serverKey);
  let reason: string | null = null;

  if (haveCert) {
    const pem = readFileSync(paths.serverCert, 'utf8');
    const ours = await isIssuedBy(pem, ca.certPem);
    const info = tryCertificateInfo(pem);
    const missing = info ? hosts.filter((h) => !info.hosts.includes(h)) : [...hosts];
    const keyOk = haveKey && keyMatchesCertificate(pem, readFileSync(paths.serverKey, 'utf8'));
    if (!ours) {
      // The operator brought their own certificate: never overwrite it; say what is wrong.
      if (!keyOk) throw new Error(`${paths.serverCert} is not from the site CA and ${paths.serverKey} is missing or does not match it`);
      if (missing.length > 0) out.notes.push(`${paths.serverCert} (not issued by the site CA) lacks host(s) ${missing.join(', ')}; left unchanged`);
      return;
    }
    if (!keyOk) reason = `${paths.serverKey} is missing or does not match the certificate`;
    else if (missing.length > 0) reason = `host(s) ${missing.join(', ')} not in the certificate`;
    else if (info && info.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) reason = `it expires ${info.notAfter.toISOString()}`;
    else return;
  } else if (haveKey) {
    reason = `${paths.serverCert} is missing`;
  }

  await writeServerCert(paths, ca, hosts, random, now);
  if (reason === null) {
    out.created.push(paths.serverKey, paths.serverCert);
  } else {
    (haveKey ? out.updated : out.created).push(paths.serverKey);
    (haveCert ? out.updated : out.created).push(paths.serverCert);
    out.notes.push(`server certificate reissued from the site CA: ${reason}`);
  }
}

/** Issues a new server key and certificate from `ca` and puts them in place. */
async function writeServerCert(paths: DataPaths, ca: PemPair, hosts: readonly string[], random: { bytes(n: number): Buffer }, now: Date): Promise<string> {
  const leaf = await issueServerCert({ ca, hosts, now, serialHex: serial(random, 'leaf') });
  // Key first: a crash between the two renames leaves a mismatch the next run detects and fixes.
  replaceFile(paths.serverKey, leaf.keyPem, 0o600);
  replaceFile(paths.serverCert, leaf.certPem, 0o644);
  return leaf.certPem;
}

export interface ReissueServerCertResult {
  /** config.json (when the host list changed), then the server key and certificate. */
  updated: string[];
  notes: string[];
  paths: DataPaths;
  settings: Settings;
  /** The new certificate. */
  info: CertificateInfo;
}

/**
 * `tandem cert reissue`: a new server key and certificate from the existing site CA, whether or
 * not the current one still looks fine. With `hosts`, the stored host list is replaced first (as
 * init's `--host` does). Never creates or touches the master key or the CA; refuses a data
 * directory without a site CA, and a server certificate the operator brought from another CA.
 */
export async function reissueServerCert({ dataDir, env, hosts, random, now }: EnsureDataDirOptions): Promise<ReissueServerCertResult> {
  const paths = dataPaths(dataDir, env);
  const updated: string[] = [];
  const notes: string[] = [];

  // Everything that could refuse is checked before anything is written.
  if (!exists(paths.caCert) || !exists(paths.caKey)) {
    throw new Error(`no site CA in ${paths.dir} (${paths.caCert} and ${paths.caKey}); run tandem init first`);
  }
  const ca = { certPem: readFileSync(paths.caCert, 'utf8'), keyPem: readFileSync(paths.caKey, 'utf8') };
  if (!keyMatchesCertificate(ca.certPem, ca.keyPem)) throw new Error(`${paths.caKey} is not the key of ${paths.caCert}`);
  if (exists(paths.serverCert) && !(await isIssuedBy(readFileSync(paths.serverCert, 'utf8'), ca.certPem))) {
    throw new Error(`${paths.serverCert} is not from the site CA and is left alone; move it and ${paths.serverKey} away to replace them with a certificate from the site CA`);
  }

  if (hosts !== undefined) {
    if (writeConfigFile(paths.dir, { hosts: hostList(hosts) })) updated.push(paths.config);
  }
  const settings = loadSettings({ dataDir: paths.dir, env });
  if (env.TANDEM_HOSTS) notes.push(`TANDEM_HOSTS is set: the certificate carries its names, not those stored in ${CONFIG_FILE}`);

  const pem = await writeServerCert(paths, ca, settings.hosts, random, now);
  updated.push(paths.serverKey, paths.serverCert);
  return { updated, notes, paths, settings, info: certificateInfo(pem) };
}
