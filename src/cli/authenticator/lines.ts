// Line-at-a-time reading of stdin for the y/n questions (like fgets on a 128-byte buffer, a
// longer line is read in pieces). Only what is needed is consumed, so answers can be piped.
import type { InputSource } from '../io.js';

const FGETS_MAX = 127;

export class LineReader {
  private buffer = '';
  private iterator: AsyncIterator<string | Buffer> | undefined;
  private ended = false;

  constructor(private readonly source: InputSource) {
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      this.buffer = source.toString();
      this.ended = true;
    }
  }

  /** The next line including its '\n' (at most 127 characters), or undefined at end of input. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl >= 0 && nl < FGETS_MAX) return this.take(nl + 1);
      if (this.buffer.length >= FGETS_MAX) return this.take(FGETS_MAX);
      if (this.ended) return this.buffer === '' ? undefined : this.take(this.buffer.length);
      if (this.iterator === undefined) this.iterator = (this.source as AsyncIterable<string | Buffer>)[Symbol.asyncIterator]();
      const r = await this.iterator.next();
      if (r.done === true) this.ended = true;
      else this.buffer += typeof r.value === 'string' ? r.value : r.value.toString('utf8');
    }
  }

  /** Releases the input (a process stdin would otherwise keep the event loop alive). */
  async close(): Promise<void> {
    if (this.iterator?.return !== undefined) await this.iterator.return();
  }

  private take(n: number): string {
    const s = this.buffer.slice(0, n);
    this.buffer = this.buffer.slice(n);
    return s;
  }
}
