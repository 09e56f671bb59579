// Test support (not used by the helper): a throwaway CA and leaf certificates made with the
// openssl CLI (node:crypto cannot issue certificates).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export async function makeCa(dir: string, name: string): Promise<{ caFile: string; caPem: string }> {
  const caFile = join(dir, `${name}-ca.pem`);
  await run('openssl', ['req', '-x509', ...EC, '-keyout', join(dir, `${name}-ca.key`), '-out', caFile, '-subj', `/CN=${name} test CA`, '-days', '2']);
  return { caFile, caPem: readFileSync(caFile, 'utf8') };
}

/**
 * A random serial per leaf: `-CAcreateserial` shares one `<ca>.srl` file between leaves, and two
 * leaves signed at once by the same CA race on it ("Unable to load number from …srl").
 */
function serial(): string {
  return `0x${randomBytes(16).toString('hex').replace(/^[89a-f]/, '1')}`;
}

export async function makeLeaf(dir: string, ca: string, name: string, san: string): Promise<{ key: string; cert: string }> {
  await run('openssl', ['req', ...EC, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.csr`), '-subj', '/CN=tandem-test']);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
  await run('openssl', ['x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, `${ca}-ca.pem`), '-CAkey', join(dir, `${ca}-ca.key`), '-set_serial', serial(), '-out', join(dir, `${name}.pem`), '-days', '2', '-extfile', join(dir, `${name}.ext`)]);
  return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.pem`), 'utf8') };
}
