// Writing the secret file as google-authenticator does (reference §1.6): the temporary file is
// exactly "<path>~", created O_EXCL|O_NOFOLLOW with mode 0400 in the same directory, then
// renamed over the target. Better than upstream: the data is fsync'ed before the rename, and a
// failure removes our temporary file (upstream unlinks the *target* when write or rename fails).
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';

const STRERROR: Record<string, string> = {
  EEXIST: 'File exists',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ELOOP: 'Too many levels of symbolic links',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  EIO: 'Input/output error',
  ENAMETOOLONG: 'File name too long',
  EXDEV: 'Invalid cross-device link',
  EBUSY: 'Device or resource busy',
};

/** C strerror() text for a Node error code. */
export function strerror(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return STRERROR[code] ?? (code !== '' ? code : String(e));
}

/** Writes `text`; returns an error line for stderr (without newline) or undefined on success. */
export function writeSecretFile(path: string, text: string): string | undefined {
  const tmp = `${path}~`;
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_EXCL | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_TRUNC, 0o400);
  } catch (e) {
    return `Failed to create "${path}" temp file "${tmp}" (${strerror(e)})`;
  }
  try {
    fchmodSync(fd, 0o400);
    const data = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
    return undefined;
  } catch (e) {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    return `Failed to write new secret: ${strerror(e)}`;
  }
}
