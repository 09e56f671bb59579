// The secret file's I/O for local mode: opening and checking it (regular file, owner, allowed_perm,
// size, parseable), the advisory sidecar lock `<path>.lock`, and the atomic temp-file + rename
// write that only replaces an unchanged original. See ga-local.ts's header for the locking and
// writing rules; the flow that calls these lives there.
import { randomBytes } from 'node:crypto';
import { promises as fsp, constants as fsc, type Stats } from 'node:fs';
import { GaFileError, parseGaFileBytes, serializeGaFile, type GaFile } from '../../protocol/ga-file.js';
import type { EngineLog } from './engine.js';
import type { LocalOptions } from './local-options.js';

export const LOCK_WAIT_MS = 10_000;
export const LOCK_STALE_MS = 30_000;

/** A reason the secret file cannot be used; `missing` is ENOENT (for nullok). */
export class FileProblem extends Error {
  errno: string | undefined;
  constructor(
    msg: string,
    readonly missing = false,
    errno?: string,
  ) {
    super(msg);
    this.errno = errno;
  }
}

export interface Loaded {
  file: GaFile;
  ino: number;
  size: number;
  mtimeMs: number;
  mode: number;
}

export function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const map: Record<string, string> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EPERM: 'Operation not permitted',
    ENOSPC: 'No space left on device',
    EROFS: 'Read-only file system',
    EIO: 'Input/output error',
    EDQUOT: 'Disk quota exceeded',
    ELOOP: 'Too many levels of symbolic links',
  };
  return (err.code !== undefined ? map[err.code] : undefined) ?? err.message ?? 'unknown error';
}

export async function loadFile(
  path: string,
  user: string,
  expectedUid: number,
  ownerLabel: string,
  o: LocalOptions,
  log: (l: EngineLog) => void,
  fileCheck?: (path: string, st: Stats) => Promise<string | null>,
): Promise<Loaded> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new FileProblem(`Failed to read "${path}" for "${user}": ${errText(e)}`, missing);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FileProblem(`Secret file "${path}" is not a regular file`);
    const refused = fileCheck === undefined ? null : await fileCheck(path, st);
    if (refused !== null) throw new FileProblem(refused);
    const perm = st.mode & 0o3777;
    if (o.debug) log({ level: 'debug', msg: `debug: Secret file permissions are ${'0' + perm.toString(8).padStart(3, '0')}. Allowed permissions are ${'0' + o.allowedPerm.toString(8).padStart(3, '0')}` });
    if ((perm & ~o.allowedPerm) !== 0) {
      throw new FileProblem(`Secret file "${path}" permissions (${'0' + perm.toString(8).padStart(3, '0')}) are more permissive than ${'0' + o.allowedPerm.toString(8).padStart(3, '0')}`);
    }
    if (!o.noStrictOwner && st.uid !== expectedUid) throw new FileProblem(`Secret file "${path}" must be owned by ${ownerLabel}`);
    if (st.size < 1 || st.size > 64 * 1024) throw new FileProblem(`Invalid file size for "${path}"`);
    const buf = Buffer.alloc(st.size + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let file: GaFile;
    try {
      file = parseGaFileBytes(buf.subarray(0, bytesRead));
    } catch (e) {
      if (!(e instanceof GaFileError)) throw e;
      throw new FileProblem(e.problem === 'size' ? `Invalid file size for "${path}"` : `Invalid file contents in "${path}"`);
    }
    buf.fill(0);
    return { file, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777 };
  } finally {
    await fh.close();
  }
}

/** Advisory sidecar lock; returns the release function (a no-op when unlocked). */
export async function acquireLock(path: string, waitMs = LOCK_WAIT_MS, staleMs = LOCK_STALE_MS): Promise<(() => Promise<void>) | 'timeout' | 'unavailable'> {
  const lock = `${path}.lock`;
  const deadline = Date.now() + waitMs;
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      const fh = await fsp.open(lock, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await fsp.unlink(lock).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return 'unavailable';
    }
    try {
      const st = await fsp.lstat(lock);
      if (Date.now() - st.mtimeMs > staleMs) {
        const again = await fsp.lstat(lock);
        if (again.ino === st.ino) await fsp.unlink(lock).catch(() => undefined);
        continue;
      }
    } catch {
      continue;
    }
    if (Date.now() > deadline) return 'timeout';
    await new Promise((r) => setTimeout(r, delay + Math.floor(Math.random() * delay)));
  }
}

export async function writeFile(path: string, loaded: Loaded, file: GaFile): Promise<void> {
  const data = Buffer.from(serializeGaFile(file), 'latin1');
  const tmp = `${path}~${randomBytes(6).toString('hex')}`;
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o400);
  } catch (e) {
    throw new FileProblem(`Failed to create tempfile "${tmp}": ${errText(e)}`, false, (e as NodeJS.ErrnoException).code);
  }
  let renamed = false;
  try {
    await fh.chmod(loaded.mode);
    await fh.writeFile(data);
    await fh.sync();
    const st = await fh.stat();
    if (st.size !== data.length || st.size === 0) throw new FileProblem(`temp file size ${st.size}. Should be non-zero and ${data.length}`);
    await fh.close();
    const now = await fsp.stat(path);
    if (now.ino !== loaded.ino || now.size !== loaded.size || now.mtimeMs !== loaded.mtimeMs) {
      throw new FileProblem(`Secret file "${path}" changed while trying to use scratch code`);
    }
    await fsp.rename(tmp, path);
    renamed = true;
  } catch (e) {
    await fh.close().catch(() => undefined);
    if (e instanceof FileProblem) throw e;
    throw new FileProblem(`Failed to update secret file "${path}": ${errText(e)}`, false, (e as NodeJS.ErrnoException).code);
  } finally {
    if (!renamed) await fsp.unlink(tmp).catch(() => undefined);
  }
}

/** Write errnos that upstream also reports to the user through the conversation. */
export const WRITE_ERRORS = new Set(['EPERM', 'ENOSPC', 'EROFS', 'EIO', 'EDQUOT']);
