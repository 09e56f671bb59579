// The helper's side of the PAM line protocol, version 1 (pam/PROTOCOL.md): the percent codec,
// a bounded line reader, the request parser (anything malformed is refused, never guessed at),
// and the writer of conversation lines.
import type { Readable, Writable } from 'node:stream';

export const PROTOCOL_HEADER = 'TANDEM-PAM 1';
/** Bytes per line, newline included. */
export const MAX_LINE_BYTES = 8192;
/** Caps on the request block: far above what a launcher sends, far below what could hurt. */
export const MAX_REQUEST_LINES = 256;
export const MAX_ITEMS = 16;
export const MAX_ARGS = 64;
export const MAX_ENVS = 16;

export const ITEM_NAMES = ['user', 'ruser', 'rhost', 'service', 'tty', 'uid', 'euid', 'mode'] as const;
export const ENV_NAMES = ['SSH_CONNECTION', 'SSH_ORIGINAL_COMMAND', 'SUDO_COMMAND', 'SUDO_USER', 'DUO_PASSCODE'] as const;
export type ItemName = (typeof ITEM_NAMES)[number];
export type EnvName = (typeof ENV_NAMES)[number];

export class ProtocolViolation extends Error {
  constructor(
    message: string,
    /** `version` when only the first line was wrong: the helper answers `RESULT deny protocol-version`. */
    readonly kind: 'version' | 'malformed' | 'eof' = 'malformed',
  ) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

// ---------------------------------------------------------------------------------------------
// Percent codec: `%`, bytes below 0x20 and 0x7f become %XX (uppercase); everything else as is.

export function encodePayload(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 || b < 0x20 || b === 0x7f) {
      out += bytes.subarray(start, i).toString('utf8') + '%' + b.toString(16).toUpperCase().padStart(2, '0');
      start = i + 1;
    }
  }
  return out + bytes.subarray(start).toString('utf8');
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return -1;
}

/** Raw payload bytes → decoded bytes. A raw control byte or a bad escape is a violation. */
export function decodePayloadBytes(raw: Buffer): Buffer {
  const out = Buffer.alloc(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b < 0x20 || b === 0x7f) throw new ProtocolViolation('raw control byte in a payload');
    if (b !== 0x25) {
      out[n++] = b;
      continue;
    }
    const hi = i + 1 < raw.length ? hexValue(raw[i + 1]!) : -1;
    const lo = i + 2 < raw.length ? hexValue(raw[i + 2]!) : -1;
    if (hi < 0 || lo < 0) throw new ProtocolViolation("'%' not followed by two hex digits");
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return out.subarray(0, n);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decoded payload as strict UTF-8 text. */
export function decodePayload(raw: Buffer | string): string {
  const bytes = decodePayloadBytes(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtocolViolation('payload is not UTF-8');
  }
}

// ---------------------------------------------------------------------------------------------
// Bounded line reader.

/** Reads `\n`-terminated lines of at most MAX_LINE_BYTES from a stream; null at a clean EOF. */
export class LineReader {
  private buf = Buffer.alloc(0);
  private ended = false;
  private failure: Error | null = null;
  private waiter: (() => void) | null = null;

  constructor(private readonly input: Readable) {
    input.on('data', (chunk: Buffer | string) => {
      this.buf = Buffer.concat([this.buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      // Stop buffering what can never be a valid line.
      if (this.buf.length > MAX_LINE_BYTES && this.buf.subarray(0, MAX_LINE_BYTES).indexOf(0x0a) === -1) input.pause();
      this.wake();
    });
    input.on('end', () => {
      this.ended = true;
      this.wake();
    });
    input.on('error', (e: Error) => {
      this.failure = e;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next line without its `\n`, as raw bytes. */
  async readLine(): Promise<Buffer | null> {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl !== -1 && nl + 1 <= MAX_LINE_BYTES) {
        const line = Buffer.from(this.buf.subarray(0, nl));
        // Best effort for answers and the authtok: the consumed bytes do not linger in the buffer.
        this.buf.fill(0, 0, nl + 1);
        this.buf = this.buf.subarray(nl + 1);
        return line;
      }
      if (nl !== -1 || this.buf.length >= MAX_LINE_BYTES) throw new ProtocolViolation(`line longer than ${MAX_LINE_BYTES} bytes`);
      if (this.failure) throw new ProtocolViolation(`input failed: ${this.failure.message}`, 'eof');
      if (this.ended) {
        if (this.buf.length > 0) throw new ProtocolViolation('end of input inside a line', 'eof');
        return null;
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  close(): void {
    this.input.removeAllListeners('data');
    this.input.pause();
    this.buf = Buffer.alloc(0);
  }
}

/** `VERB` or `VERB SP payload`; the verb is upper-case letters, digits, '_' and '-'. */
export function splitLine(line: Buffer): { verb: string; payload: Buffer | null } {
  if (line.indexOf(0x00) !== -1) throw new ProtocolViolation('NUL byte in line');
  const sp = line.indexOf(0x20);
  const verb = (sp === -1 ? line : line.subarray(0, sp)).toString('latin1');
  if (!/^[A-Z][A-Z0-9_-]{0,31}$/.test(verb)) throw new ProtocolViolation('malformed verb');
  return { verb, payload: sp === -1 ? null : line.subarray(sp + 1) };
}

// ---------------------------------------------------------------------------------------------
// The request block.

export interface HelperRequest {
  items: Partial<Record<ItemName, string>>;
  args: string[];
  env: Partial<Record<EnvName, string>>;
  /** PAM_AUTHTOK bytes when the launcher sent one; the caller wipes it when done. */
  authtok: Buffer | null;
}

function nameAndValue(payload: Buffer | null, what: string): { name: string; value: string } {
  if (payload === null) throw new ProtocolViolation(`${what} without a name`);
  const sp = payload.indexOf(0x20);
  const name = (sp === -1 ? payload : payload.subarray(0, sp)).toString('latin1');
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new ProtocolViolation(`malformed ${what} name`);
  const value = sp === -1 ? '' : decodePayload(payload.subarray(sp + 1));
  return { name, value };
}

/**
 * Reads `TANDEM-PAM 1`, then ITEM/ARG/ENV/AUTHTOK lines, up to `END`. Refused: a wrong first
 * line (kind `version`), an unknown verb, an unknown or repeated ITEM or ENV name, a second
 * AUTHTOK, more than the caps allow, a bad escape, non-UTF-8 text, EOF before END.
 */
export async function readRequest(reader: LineReader): Promise<HelperRequest> {
  const first = await reader.readLine();
  if (first === null) throw new ProtocolViolation('no request', 'eof');
  if (first.toString('latin1') !== PROTOCOL_HEADER) throw new ProtocolViolation('unsupported protocol version', 'version');
  const req: HelperRequest = { items: {}, args: [], env: {}, authtok: null };
  let itemCount = 0;
  let envCount = 0;
  for (let n = 1; ; n++) {
    if (n > MAX_REQUEST_LINES) throw new ProtocolViolation('request too long');
    const line = await reader.readLine();
    if (line === null) throw new ProtocolViolation('end of input before END', 'eof');
    const { verb, payload } = splitLine(line);
    switch (verb) {
      case 'ITEM': {
        const { name, value } = nameAndValue(payload, 'ITEM');
        if (!(ITEM_NAMES as readonly string[]).includes(name)) throw new ProtocolViolation('unknown ITEM name');
        if (req.items[name as ItemName] !== undefined) throw new ProtocolViolation('repeated ITEM');
        if (++itemCount > MAX_ITEMS) throw new ProtocolViolation('too many ITEM lines');
        req.items[name as ItemName] = value;
        break;
      }
      case 'ARG':
        if (req.args.length >= MAX_ARGS) throw new ProtocolViolation('too many ARG lines');
        req.args.push(payload === null ? '' : decodePayload(payload));
        break;
      case 'ENV': {
        const { name, value } = nameAndValue(payload, 'ENV');
        if (!(ENV_NAMES as readonly string[]).includes(name)) throw new ProtocolViolation('ENV name not on the list');
        if (req.env[name as EnvName] !== undefined) throw new ProtocolViolation('repeated ENV');
        if (++envCount > MAX_ENVS) throw new ProtocolViolation('too many ENV lines');
        req.env[name as EnvName] = value;
        break;
      }
      case 'AUTHTOK':
        if (req.authtok !== null) throw new ProtocolViolation('second AUTHTOK');
        req.authtok = decodePayloadBytes(payload ?? Buffer.alloc(0));
        line.fill(0);
        break;
      case 'END':
        if (payload !== null) throw new ProtocolViolation('END with a payload');
        return req;
      default:
        throw new ProtocolViolation('unknown verb in request');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Writing.

export type OutVerb = 'PROMPT_OFF' | 'PROMPT_ON' | 'INFO' | 'ERROR' | 'SETAUTHTOK' | 'RESULT';

/**
 * One line, `VERB SP encoded-payload\n`, at most MAX_LINE_BYTES. Text that would not fit is cut
 * at a character boundary (shown text only: callers never pass secrets long enough to be cut).
 */
export function formatLine(verb: OutVerb, payload: string | null): Buffer {
  if (payload === null) return Buffer.from(`${verb}\n`, 'latin1');
  const room = MAX_LINE_BYTES - verb.length - 2;
  let encoded = encodePayload(payload);
  if (Buffer.byteLength(encoded, 'utf8') > room) {
    let cut = '';
    let size = 0;
    // Whole code points and whole %XX escapes only.
    for (const token of encoded.match(/%[0-9A-F]{2}|[\s\S]/gu) ?? []) {
      const len = Buffer.byteLength(token, 'utf8');
      if (size + len > room) break;
      cut += token;
      size += len;
    }
    encoded = cut;
  }
  return Buffer.from(`${verb} ${encoded}\n`, 'utf8');
}

export type ResultWord = 'success' | 'deny' | 'ignore';

export interface Answer {
  /** null: NOANSWER (failed or cancelled). */
  text: string | null;
}

/** The helper's end of the conversation, over its stdin (answers) and stdout (lines). */
export class ProtocolWriter {
  constructor(
    private readonly out: Writable,
    private readonly reader: LineReader,
  ) {}

  private write(line: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.write(line, (err) => (err ? reject(err) : resolve()));
    });
  }

  async prompt(echo: boolean, text: string): Promise<string | null> {
    await this.write(formatLine(echo ? 'PROMPT_ON' : 'PROMPT_OFF', text));
    const line = await this.reader.readLine();
    if (line === null) throw new ProtocolViolation('end of input while waiting for an answer', 'eof');
    try {
      const { verb, payload } = splitLine(line);
      if (verb === 'NOANSWER' && payload === null) return null;
      if (verb === 'ANSWER') return payload === null ? '' : decodePayload(payload);
      throw new ProtocolViolation('expected ANSWER or NOANSWER');
    } finally {
      line.fill(0);
    }
  }

  info(text: string): Promise<void> {
    return this.write(formatLine('INFO', text));
  }

  error(text: string): Promise<void> {
    return this.write(formatLine('ERROR', text));
  }

  setAuthtok(text: string): Promise<void> {
    return this.write(formatLine('SETAUTHTOK', text));
  }

  result(word: ResultWord, reason: string | null): Promise<void> {
    const safe = reason === null ? null : reason.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
    return this.write(formatLine('RESULT', safe === null ? word : `${word} ${safe}`));
  }
}
