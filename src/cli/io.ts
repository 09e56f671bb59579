// The CLI's outside world, injected so tests run commands in-process with strings for streams.
import { open } from 'node:fs/promises';

export interface TextSink {
  write(chunk: string): unknown;
}

export type InputSource = string | Buffer | (AsyncIterable<string | Buffer> & { isTTY?: boolean });

export interface CliIO {
  stdout: TextSink;
  stderr: TextSink;
  stdin: InputSource;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Stops `tandem serve` (besides SIGINT/SIGTERM); tests use it. */
  signal?: AbortSignal;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** An operational failure with a message safe to print (exit 1). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Reads all of `src`, refusing more than `limit` bytes. */
export async function readInput(src: InputSource, limit: number, what: string): Promise<Buffer> {
  if (typeof src === 'string') src = Buffer.from(src, 'utf8');
  if (Buffer.isBuffer(src)) {
    if (src.length > limit) throw new CliError(`${what} is larger than ${limit} bytes`);
    return Buffer.from(src);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of src) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    total += b.length;
    if (total > limit) throw new CliError(`${what} is larger than ${limit} bytes`);
    chunks.push(b);
  }
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  return all;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a path component is not a directory',
  ELOOP: 'too many symbolic links',
};

/** Reads a file of at most `limit` bytes; errors name the file and the reason, never the contents. */
export async function readFileLimited(path: string, limit: number, what: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(`cannot read ${what} ${path}: ${ERRNO_TEXT[code] ?? code}`);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new CliError(`cannot read ${what} ${path}: is a directory`);
    const buf = Buffer.alloc(limit + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) {
        buf.fill(0);
        throw new CliError(`${what} ${path} is larger than ${limit} bytes`);
      }
    }
    const out = Buffer.from(buf.subarray(0, total));
    buf.fill(0);
    return out;
  } catch (e) {
    if (e instanceof CliError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(`cannot read ${what} ${path}: ${ERRNO_TEXT[code] ?? code}`);
  } finally {
    await fh.close();
  }
}
