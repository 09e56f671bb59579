// Reading the config file and the CA bundle it names. Both are opened once and checked on the
// open descriptor (fstat), so what is checked is what is read.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { parseClientConfig } from './parse.js';
import { ClientConfigError, type ClientProgram, type LoadedConfig } from './types.js';

export const DEFAULT_PAM_CONFIG = '/etc/security/pam_duo.conf';
export const DEFAULT_LOGIN_CONFIG = '/etc/security/login_duo.conf';
const MAX_CONFIG_BYTES = 64 * 1024;
const MAX_CA_BYTES = 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? 'error';
}

/** Whole file through one descriptor; `check` sees its fstat first. */
function readChecked(path: string, maxBytes: number, what: string, check?: (mode: number) => void): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch (e) {
    throw new ClientConfigError(path, null, `Couldn't open ${what}: ${errCode(e)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ClientConfigError(path, null, `${what} is not a regular file`);
    if (st.size > maxBytes) throw new ClientConfigError(path, null, `${what} is larger than ${maxBytes} bytes`);
    check?.(st.mode);
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, n, buf.length - n, null);
      } catch (e) {
        throw new ClientConfigError(path, null, `Couldn't read ${what}: ${errCode(e)}`);
      }
      if (got === 0) break;
      n += got;
      if (n > maxBytes) throw new ClientConfigError(path, null, `${what} is larger than ${maxBytes} bytes`);
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Load and validate a pam_duo.conf / login_duo.conf. Refused: a file that cannot be opened or
 * read, is not a regular file, or that anyone but its owner may read or write (duo_unix checks
 * only the read bits; a file others may write is no better), invalid UTF-8, and every rule of
 * parse.ts. Throws ClientConfigError; never falls back to anything.
 */
export function loadClientConfig(path: string, program: ClientProgram): LoadedConfig {
  const bytes = readChecked(path, MAX_CONFIG_BYTES, 'the config file', (mode) => {
    if ((mode & 0o066) !== 0) {
      throw new ClientConfigError(path, null, `must be readable only by its owner (mode is ${(mode & 0o777).toString(8).padStart(4, '0')}; use chmod 600)`);
    }
  });
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ClientConfigError(path, null, 'the config file is not valid UTF-8');
  }
  return parseClientConfig(text, path, program);
}

/** The PEM text of `cafile`, read while the helper may still be root. */
export function readCaFile(path: string): string {
  const bytes = readChecked(path, MAX_CA_BYTES, 'cafile');
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new ClientConfigError(path, null, 'cafile holds no PEM certificate');
  return text;
}
