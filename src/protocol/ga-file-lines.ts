// The google-authenticator file's byte-exact line model: limits and the error type, parsing
// (size, NUL, one char per byte) into line 1 + later lines with their terminators kept verbatim,
// serializing back (the identity on every accepted input), and the raw `" KEY value` option
// lines (get / set with upstream's set_cfg_value rules / remove / TOTP_AUTH test). The typed
// readers build on this in ga-file-readers.ts. Pure: no I/O, no clock. API overview: ga-file.ts.
import { ProtocolError } from './errors.js';

export const GA_MAX_FILE_BYTES = 64 * 1024;
export const GA_MAX_SECRET_CHARS = 100_000;
export const GA_DEFAULT_WINDOW = 3;
export const GA_DEFAULT_STEP = 30;

export type GaFileProblem =
  | 'size' // empty or over 64 KiB
  | 'nul' // a NUL byte
  | 'bad_secret' // line 1 is not base32 (upstream's lenient flavour)
  | 'bad_window' // WINDOW_SIZE not 1..100
  | 'bad_step' // STEP_SIZE not 1..60
  | 'bad_rate_limit' // RATE_LIMIT n m malformed / out of range
  | 'bad_rate_limit_timestamps' // RATE_LIMIT's timestamp list malformed (e.g. trailing space)
  | 'bad_disallow_reuse' // a non-numeric DISALLOW_REUSE entry
  | 'bad_spec'; // formatNewGaFile was given out-of-range values

/** A malformed google-authenticator file. `problem` says what; the message never quotes content. */
export class GaFileError extends ProtocolError {
  constructor(
    readonly problem: GaFileProblem,
    message: string,
  ) {
    super(problem === 'bad_secret' ? 'bad_base32' : 'bad_encoding', message);
    this.name = 'GaFileError';
  }
}

export interface GaLine {
  /** The line's content, without CR/LF. */
  readonly text: string;
  /** The CR/LF run that followed it ('' at the end of a file without a final newline). */
  readonly eol: string;
}

export interface GaFile {
  /** Line 1 (the secret), without its terminator. */
  readonly secretLine: string;
  readonly secretEol: string;
  /** Every later line. */
  readonly lines: readonly GaLine[];
}

// ---------------------------------------------------------------------------------------------
// parse / serialize

export function parseGaFileBytes(bytes: Uint8Array): GaFile {
  if (bytes.length < 1 || bytes.length > GA_MAX_FILE_BYTES) throw new GaFileError('size', 'Invalid file size');
  if (bytes.includes(0)) throw new GaFileError('nul', 'Invalid file contents');
  return splitLines(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'));
}

export function parseGaFile(text: string): GaFile {
  if (text.length < 1 || text.length > GA_MAX_FILE_BYTES) throw new GaFileError('size', 'Invalid file size');
  if (text.includes('\0')) throw new GaFileError('nul', 'Invalid file contents');
  if ([...text].some((c) => c.charCodeAt(0) > 0xff)) throw new GaFileError('nul', 'Invalid file contents (not one char per byte)');
  return splitLines(text);
}

function splitLines(text: string): GaFile {
  const re = /([^\r\n]*)([\r\n]*)/gy;
  const all: GaLine[] = [];
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    all.push({ text: m[1]!, eol: m[2]! });
  }
  const first = all.shift() ?? { text: '', eol: '' };
  return { secretLine: first.text, secretEol: first.eol, lines: all };
}

export function serializeGaFile(f: GaFile): string {
  let out = f.secretLine + f.secretEol;
  for (const l of f.lines) out += l.text + l.eol;
  return out;
}

export function gaFileToBytes(f: GaFile): Buffer {
  return Buffer.from(serializeGaFile(f), 'latin1');
}

// ---------------------------------------------------------------------------------------------
// options

function keyOf(text: string, key: string): boolean {
  if (!text.startsWith('" ') || !text.startsWith(key, 2)) return false;
  const next = text.charAt(2 + key.length);
  return next === '' || next === ' ' || next === '\t';
}

function lineIndex(f: GaFile, key: string): number {
  return f.lines.findIndex((l) => keyOf(l.text, key));
}

/** Value of the first `" KEY` line (leading blanks stripped), or null when there is none. */
export function getGaOption(f: GaFile, key: string): string | null {
  const i = lineIndex(f, key);
  if (i === -1) return null;
  return f.lines[i]!.text.slice(2 + key.length).replace(/^[ \t]+/, '');
}

/** Upstream's set_cfg_value (see the header). */
export function setGaOption(f: GaFile, key: string, value: string): GaFile {
  if (!/^[A-Z0-9_]+$/.test(key) || /[\r\n\0]/.test(value)) throw new GaFileError('bad_spec', 'bad option key or value');
  const fresh: GaLine = { text: `" ${key} ${value}`, eol: '\n' };
  const out: GaLine[] = [];
  let found = false;
  for (const l of f.lines) {
    if (keyOf(l.text, key)) {
      if (!found) out.push(fresh);
      found = true;
    } else out.push(l);
  }
  if (found) return { ...f, lines: out };
  // Insert right after line 1. Upstream would glue the new line onto a secret line that has no
  // terminator; we add one.
  return { ...f, secretEol: f.secretEol === '' ? '\n' : f.secretEol, lines: [fresh, ...out] };
}

export function removeLine(f: GaFile, index: number): GaFile {
  return { ...f, lines: f.lines.filter((_, i) => i !== index) };
}

/** Upstream's is_totp: `" TOTP_AUTH` anywhere in the file. */
export function hasTotpAuth(f: GaFile): boolean {
  return serializeGaFile(f).includes('" TOTP_AUTH');
}

