import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasterKeyError, createMasterKey, loadMasterKey } from './master-key.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const fixed = (n: number): Buffer => KEY.subarray(0, n);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-mk-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function keyFile(content: string | Buffer, mode = 0o600): string {
  const p = join(dir, 'master.key');
  writeFileSync(p, content, { mode });
  chmodSync(p, mode); // umask-proof
  return p;
}

function errorOf(fn: () => unknown): MasterKeyError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MasterKeyError);
    return e as MasterKeyError;
  }
  throw new Error('expected a MasterKeyError');
}

describe('createMasterKey', () => {
  it('writes 32 random bytes as hex + newline, mode 0600, and returns them', () => {
    const p = join(dir, 'master.key');
    expect(createMasterKey(p, fixed)).toEqual(KEY);
    expect(readFileSync(p, 'utf8')).toBe(KEY.toString('hex') + '\n');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(loadMasterKey(p)).toEqual(KEY);
  });

  it('creates a missing parent directory with mode 0700', () => {
    const p = join(dir, 'keys', 'deeper', 'master.key');
    createMasterKey(p, fixed);
    expect(statSync(join(dir, 'keys', 'deeper')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
  });

  it('never overwrites an existing key', () => {
    const p = keyFile('keep me\n');
    const e = errorOf(() => createMasterKey(p, fixed));
    expect(e.message).toContain('already exists');
    expect(readFileSync(p, 'utf8')).toBe('keep me\n');
  });

  it('never writes through a dangling symlink', () => {
    const target = join(dir, 'elsewhere');
    symlinkSync(target, join(dir, 'master.key'));
    errorOf(() => createMasterKey(join(dir, 'master.key'), fixed));
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a random source that returns the wrong length, writing nothing', () => {
    const p = join(dir, 'master.key');
    errorOf(() => createMasterKey(p, (n) => Buffer.alloc(n - 1)));
    expect(existsSync(p)).toBe(false);
  });
});

describe('loadMasterKey', () => {
  it('reads hex (either case) and base64, with or without surrounding whitespace', () => {
    expect(loadMasterKey(keyFile(KEY.toString('hex').toUpperCase()))).toEqual(KEY);
    expect(loadMasterKey(keyFile(KEY.toString('base64') + '\n'))).toEqual(KEY);
    expect(loadMasterKey(keyFile('  ' + KEY.toString('hex') + '\r\n'))).toEqual(KEY);
  });

  it('follows a symlink to a private regular file', () => {
    const real = join(dir, 'real.key');
    writeFileSync(real, KEY.toString('hex') + '\n', { mode: 0o600 });
    chmodSync(real, 0o600);
    symlinkSync(real, join(dir, 'link.key'));
    expect(loadMasterKey(join(dir, 'link.key'))).toEqual(KEY);
  });

  it.each([0o640, 0o604, 0o660, 0o644, 0o606, 0o610, 0o601])('refuses mode %o, naming the path but not the key', (mode) => {
    const p = keyFile(KEY.toString('hex') + '\n', mode);
    const e = errorOf(() => loadMasterKey(p));
    expect(e.message).toContain(p);
    expect(e.message).toContain('group or others');
    expect(e.message).toContain(`mode 0${mode.toString(8)}`);
    expect(e.message).not.toContain(KEY.toString('hex'));
  });

  it('accepts 0400', () => {
    expect(loadMasterKey(keyFile(KEY.toString('hex'), 0o400))).toEqual(KEY);
  });

  it.each([
    ['62 hex digits', KEY.toString('hex').slice(0, 62)],
    ['66 hex digits', KEY.toString('hex') + 'ab'],
    ['empty', ''],
    ['only a newline', '\n'],
    ['base64 of 31 bytes', KEY.subarray(0, 31).toString('base64')],
    ['base64 of 33 bytes', Buffer.concat([KEY, Buffer.from([1])]).toString('base64')],
    ['base64url', Buffer.alloc(32, 0xfb).toString('base64url') + '='],
    ['non-canonical base64', KEY.toString('base64').slice(0, 42) + 'B='],
    ['two keys', KEY.toString('hex') + '\n' + KEY.toString('hex')],
    ['hex with a space', KEY.toString('hex').slice(0, 10) + ' ' + KEY.toString('hex').slice(10)],
    ['raw bytes', KEY],
    ['a large file', 'a'.repeat(100_000)],
  ])('refuses %s without quoting the content', (_name, content) => {
    const p = keyFile(content);
    const e = errorOf(() => loadMasterKey(p));
    expect(e.message).toContain(p);
    expect(e.message).toContain('wrong length');
    expect(e.message).not.toContain(KEY.toString('hex').slice(0, 16));
  });

  it('refuses a directory and a FIFO (without blocking on it)', () => {
    const d = join(dir, 'dir.key');
    mkdirSync(d, { mode: 0o700 });
    expect(errorOf(() => loadMasterKey(d)).message).toContain('not a regular file');
    const fifo = join(dir, 'fifo.key');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect(errorOf(() => loadMasterKey(fifo)).message).toBe(`master key ${fifo} is not a regular file`);
  });

  it('says when the file is missing', () => {
    const p = join(dir, 'none.key');
    expect(errorOf(() => loadMasterKey(p)).message).toBe(`master key ${p} does not exist (run \`tandem init\`)`);
  });
});
