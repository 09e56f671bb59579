// The master key file: 32 random bytes, hex or base64 on one line, mode 0600. Every secret at rest
// is sealed under keys derived from it, so loading is strict: a key others can read is treated as
// already leaked, and errors name the file but never echo any of its content.
import { closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const MASTER_KEY_BYTES = 32;
/** Room for 64 hex digits plus stray whitespace; anything bigger is not a key file. */
const MAX_FILE_BYTES = 256;

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

function decode(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  // Buffer.from(…, 'base64') silently skips bad characters, so check the shape first.
  if (/^[A-Za-z0-9+/]{43}=$/.test(t)) {
    const b = Buffer.from(t, 'base64');
    if (b.length === MASTER_KEY_BYTES && b.toString('base64') === t) return b;
  }
  return null;
}

export function loadMasterKey(path: string): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO put in the key's place must fail the checks, not hang.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MasterKeyError(`master key ${path} does not exist (run \`tandem init\`)`);
    throw new MasterKeyError(`master key ${path} cannot be opened (${code ?? 'error'})`);
  }
  try {
    // fstat on the open descriptor: the checks apply to the very file that is read.
    const st = fstatSync(fd);
    if (!st.isFile()) throw new MasterKeyError(`master key ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new MasterKeyError(`master key ${path} is accessible by group or others (mode ${mode}); run: chmod 600 ${path}`);
    }
    if (st.size > MAX_FILE_BYTES) throw new MasterKeyError(`master key ${path} has the wrong length: expected ${MASTER_KEY_BYTES} bytes as 64 hex digits or base64`);
    const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
      if (n > MAX_FILE_BYTES) break;
    }
    const key = n > MAX_FILE_BYTES ? null : decode(buf.subarray(0, n).toString('latin1'));
    buf.fill(0);
    if (!key) throw new MasterKeyError(`master key ${path} has the wrong length or format: expected ${MASTER_KEY_BYTES} bytes as 64 hex digits or base64`);
    return key;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a new key and returns it. Never overwrites: 'wx' fails if the file exists, so a second
 * `init` cannot destroy the key every sealed secret depends on.
 */
export function createMasterKey(path: string, random: (n: number) => Buffer): Buffer {
  const key = random(MASTER_KEY_BYTES);
  if (key.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`master key: the random source returned ${key.length} bytes, not ${MASTER_KEY_BYTES}`);
  // recursive mkdir is a no-op for existing directories; new ones get 0700.
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new MasterKeyError(`master key ${path} already exists; refusing to overwrite it`);
    throw new MasterKeyError(`master key ${path} cannot be created (${code ?? 'error'})`);
  }
  try {
    writeSync(fd, key.toString('hex') + '\n');
    fsyncSync(fd);
  } catch (e) {
    // A truncated key file would fail every later start; remove it so init can be re-run.
    closeSync(fd);
    unlinkSync(path);
    throw e;
  }
  closeSync(fd);
  return key;
}
