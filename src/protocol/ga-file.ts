// The google-authenticator secret file (`~/.google_authenticator`), as written by the
// `google-authenticator` CLI and read/rewritten by pam_google_authenticator.so
// (reference: ../shared/reference/google_authenticator.md §1). Pure: no I/O, no clock.
//
// API
// ---
// Creating a new file (the enrolment CLI):
//   formatNewGaFile(spec: NewGaFileSpec): string
//     Exactly what `google-authenticator` writes: line 1 the base32 secret, then the option lines
//     in upstream's order (RATE_LIMIT, WINDOW_SIZE, STEP_SIZE, DISALLOW_REUSE, then TOTP_AUTH or
//     `HOTP_COUNTER 1`), then the scratch codes, every line ending in a bare LF. Throws
//     GaFileError('bad_spec') for values outside the ranges the file allows.
//
// Reading and editing an existing file, byte-exact (the PAM module):
//   parseGaFileBytes(bytes: Uint8Array): GaFile   size 1 byte..64 KiB, no NUL (else GaFileError)
//   parseGaFile(text: string): GaFile              same; `text` holds one char per byte (latin1)
//   serializeGaFile(f: GaFile): string             the file again (latin1); parse→serialize is
//                                                  the identity on every accepted input
//   gaFileToBytes(f): Buffer
//   GaFile = { secretLine, lines }: line 1 and the following lines, each with its own
//     terminator kept verbatim (a "line" ends at the first CR or LF; its terminator is the whole
//     run of CR/LF after it, as upstream scans). Treat it as immutable: the editors return a copy.
//
//   getGaOption(f, key): string | null     first `" KEY` line's value, leading blanks stripped
//   setGaOption(f, key, value): GaFile     upstream's set_cfg_value: replace the first line of
//                                          that key with `" KEY VALUE\n`, delete later
//                                          duplicates, or insert right after line 1
//   hasTotpAuth(f): boolean                upstream's substring test for `" TOTP_AUTH`
//   decodeGaSecret(line): Buffer           upstream's lenient base32 (GaFileError('bad_secret'))
//   scratchCodes(f): GaScratchCode[]       usable codes (the walk stops at the first garbage line)
//   removeLine(f, index): GaFile           drop a line (a used scratch code) with its terminator
//   Typed readers, each throwing GaFileError with upstream's semantics (see the table in §1.3):
//     readHotpCounter, readWindowSize, readStepSize, readRateLimit, readDisallowReuse,
//     readTimeSkew, readResettingTimeSkew, readLastLogins
//   describeGaFile(f): GaFileSummary       everything at once, for tools (`tandem-authenticator`
//                                          or diagnostics); invalid values appear as `null` +
//                                          an entry in `problems`.
//
// Unknown keywords and any other bytes are preserved untouched, as upstream does.
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

// ---------------------------------------------------------------------------------------------
// the secret

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * Upstream's lenient base32: skips space, tab, CR, LF and '-', accepts lower case, maps 0→O,
 * 1→L, 8→B, rejects everything else (including '=' padding), drops trailing bits; ≥ 1 byte.
 */
export function decodeGaSecret(line: string): Buffer {
  if (line.length > GA_MAX_SECRET_CHARS) throw new GaFileError('bad_secret', 'secret line too long');
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const raw of line) {
    if (raw === ' ' || raw === '\t' || raw === '\r' || raw === '\n' || raw === '-') continue;
    let ch = raw.toUpperCase();
    if (ch === '0') ch = 'O';
    else if (ch === '1') ch = 'L';
    else if (ch === '8') ch = 'B';
    const v = B32.indexOf(ch);
    if (v === -1 || ch.length !== 1) throw new GaFileError('bad_secret', 'Could not find a valid BASE32 encoded secret');
    buffer = ((buffer << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  if (out.length < 1) throw new GaFileError('bad_secret', 'Could not find a valid BASE32 encoded secret');
  return Buffer.from(out);
}

// ---------------------------------------------------------------------------------------------
// scratch codes

export interface GaScratchCode {
  /** Index into `lines`. */
  readonly index: number;
  /** The code as 8 digits. */
  readonly code: string;
}

// strtol's view of a line: optional leading blanks and '+', leading zeros, then the value,
// which must be 10000000..99999999.
const SCRATCH_LINE = /^[ \t\v\f]*\+?0*([1-9][0-9]{7})$/;

/** Usable scratch codes: walk after line 1, skip `"` lines, stop at the first other non-code line. */
export function scratchCodes(f: GaFile): GaScratchCode[] {
  const out: GaScratchCode[] = [];
  for (let i = 0; i < f.lines.length; i++) {
    const t = f.lines[i]!.text;
    if (t === '' || t.startsWith('"')) continue;
    const m = SCRATCH_LINE.exec(t);
    if (m === null) break;
    out.push({ index: i, code: m[1]! });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// typed option readers (upstream's validation rules)

interface StrtoulResult {
  value: number;
  end: number;
}

/** strtoul without its sign handling: optional blanks, optional '+', digits. null = no digits. */
function strtoul(s: string, from: number): StrtoulResult | null {
  const m = /^[ \t\r\n\v\f]*\+?([0-9]+)/.exec(s.slice(from));
  if (m === null) return null;
  return { value: Number(m[1]!.length > 15 ? Number.MAX_SAFE_INTEGER : m[1]), end: from + m[0].length };
}

/** C's strtol(s, NULL, 10) for lenient fields: the leading number, 0 when there is none. */
function lenientInt(s: string): number {
  const m = /^[ \t\r\n\v\f]*([+-]?)([0-9]+)/.exec(s);
  if (m === null) return 0;
  const n = Number(m[2]!.slice(0, 16));
  return m[1] === '-' ? -n : n;
}

/** HOTP_COUNTER (lenient: garbage is 0, which means "not HOTP"); null when absent. */
export function readHotpCounter(f: GaFile): number | null {
  const v = getGaOption(f, 'HOTP_COUNTER');
  return v === null ? null : lenientInt(v);
}

/** TIME_SKEW in steps (lenient); 0 when absent. */
export function readTimeSkew(f: GaFile): number {
  const v = getGaOption(f, 'TIME_SKEW');
  return v === null ? 0 : lenientInt(v);
}

/** WINDOW_SIZE 1..100, default 3; the number may be followed only by a blank (and anything after it). */
export function readWindowSize(f: GaFile): number {
  const v = getGaOption(f, 'WINDOW_SIZE');
  if (v === null) return GA_DEFAULT_WINDOW;
  const r = strtoul(v, 0);
  const next = r === null ? '' : v.charAt(r.end);
  if (r === null || (next !== '' && next !== ' ' && next !== '\t') || r.value < 1 || r.value > 100) {
    throw new GaFileError('bad_window', 'Invalid WINDOW_SIZE option');
  }
  return r.value;
}

/** STEP_SIZE 1..60, default 30; nothing but blanks after the number. */
export function readStepSize(f: GaFile): number {
  const v = getGaOption(f, 'STEP_SIZE');
  if (v === null) return GA_DEFAULT_STEP;
  const r = strtoul(v, 0);
  if (r === null || !/^[ \t]*$/.test(v.slice(r.end)) || r.value < 1 || r.value > 60) {
    throw new GaFileError('bad_step', 'Invalid STEP_SIZE option');
  }
  return r.value;
}

export interface GaRateLimit {
  attempts: number;
  interval: number;
  timestamps: number[];
}

/** RATE_LIMIT n m [t…] (n 1..100, m 1..3600, epoch seconds); null when absent. */
export function readRateLimit(f: GaFile): GaRateLimit | null {
  const v = getGaOption(f, 'RATE_LIMIT');
  if (v === null) return null;
  const a = strtoul(v, 0);
  if (a === null || !(v.charAt(a.end) === ' ' || v.charAt(a.end) === '\t') || a.value < 1 || a.value > 100) {
    throw new GaFileError('bad_rate_limit', 'Invalid RATE_LIMIT option');
  }
  const m = strtoul(v, a.end);
  const afterM = m === null ? '' : v.charAt(m.end);
  if (m === null || !(afterM === ' ' || afterM === '\t' || afterM === '') || m.value < 1 || m.value > 3600) {
    throw new GaFileError('bad_rate_limit', 'Invalid RATE_LIMIT option');
  }
  const timestamps: number[] = [];
  let pos = m.end;
  while (pos < v.length) {
    const c = v.charAt(pos);
    const t = c === ' ' || c === '\t' ? strtoul(v, pos) : null;
    if (t === null) throw new GaFileError('bad_rate_limit_timestamps', 'Invalid list of timestamps in RATE_LIMIT');
    timestamps.push(t.value);
    pos = t.end;
  }
  return { attempts: a.value, interval: m.value, timestamps };
}

/** DISALLOW_REUSE: null when absent, else the blocked step numbers (GaFileError on garbage). */
export function readDisallowReuse(f: GaFile): number[] | null {
  const v = getGaOption(f, 'DISALLOW_REUSE');
  if (v === null) return null;
  const out: number[] = [];
  for (const tok of v.split(/[ \t]+/)) {
    if (tok === '') continue;
    if (!/^\+?[0-9]+$/.test(tok)) throw new GaFileError('bad_disallow_reuse', 'Invalid DISALLOW_REUSE list');
    out.push(Number(tok));
  }
  return out;
}

export interface GaSkewEntry {
  tm: number;
  skew: number;
}

/** RESETTING_TIME_SKEW: the last three `tm±skew` pairs; parsing stops at the first bad entry. */
export function readResettingTimeSkew(f: GaFile): GaSkewEntry[] {
  const v = getGaOption(f, 'RESETTING_TIME_SKEW');
  if (v === null) return [];
  const out: GaSkewEntry[] = [];
  const re = /[ \t\r\n\v\f]*\+?([0-9]+)([+-])([0-9]+)(?=[ \t]|$)/y;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v)) !== null) {
    const skew = Number(m[3]) * (m[2] === '-' ? -1 : 1);
    out.push({ tm: Number(m[1]), skew });
    if (out.length > 3) out.shift();
  }
  return out;
}

export interface GaLastLogin {
  /** 0..9 */
  slot: number;
  host: string;
  when: number;
}

const LAST_VALUE = /^([0-9a-zA-Z:%.-]{1,255})[ \t]+([0-9]{1,15})[ \t]*$/;

/** LAST0..LAST9 (grace_period). Malformed lines are reported in `malformed` and otherwise ignored. */
export function readLastLogins(f: GaFile): { entries: GaLastLogin[]; malformed: number[] } {
  const entries: GaLastLogin[] = [];
  const malformed: number[] = [];
  for (let slot = 0; slot < 10; slot++) {
    const v = getGaOption(f, `LAST${slot}`);
    if (v === null) continue;
    const m = LAST_VALUE.exec(v);
    if (m === null) malformed.push(slot);
    else entries.push({ slot, host: m[1]!, when: Number(m[2]) });
  }
  return { entries, malformed };
}

// ---------------------------------------------------------------------------------------------
// summary

export interface GaFileSummary {
  secret: Buffer | null;
  mode: 'hotp' | 'totp' | 'scratch-only';
  hotpCounter: number | null;
  windowSize: number | null;
  stepSize: number | null;
  rateLimit: GaRateLimit | null;
  disallowReuse: number[] | null;
  timeSkew: number;
  resettingTimeSkew: GaSkewEntry[];
  lastLogins: GaLastLogin[];
  scratchCodes: string[];
  problems: GaFileProblem[];
}

export function describeGaFile(f: GaFile): GaFileSummary {
  const problems: GaFileProblem[] = [];
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof GaFileError) {
        problems.push(e.problem);
        return fallback;
      }
      throw e;
    }
  };
  const hotpCounter = readHotpCounter(f);
  return {
    secret: attempt<Buffer | null>(() => decodeGaSecret(f.secretLine), null),
    mode: hotpCounter !== null && hotpCounter >= 1 ? 'hotp' : hasTotpAuth(f) ? 'totp' : 'scratch-only',
    hotpCounter,
    windowSize: attempt<number | null>(() => readWindowSize(f), null),
    stepSize: attempt<number | null>(() => readStepSize(f), null),
    rateLimit: attempt<GaRateLimit | null>(() => readRateLimit(f), null),
    disallowReuse: attempt<number[] | null>(() => readDisallowReuse(f), null),
    timeSkew: readTimeSkew(f),
    resettingTimeSkew: readResettingTimeSkew(f),
    lastLogins: readLastLogins(f).entries,
    scratchCodes: scratchCodes(f).map((s) => s.code),
    problems,
  };
}

// ---------------------------------------------------------------------------------------------
// new files (the CLI)

export interface NewGaFileSpec {
  /** Base32 text, written as is (the CLI writes it unpadded, upper case). */
  secret: string;
  mode: 'totp' | 'hotp';
  /** `-r`/`-R`: attempts 1..100, interval 1..3600 (the CLI itself offers 1..10 and 15..600). */
  rateLimit?: { attempts: number; interval: number } | null;
  /** `-w`/`-W`: 1..100 (the CLI offers 1..21). */
  windowSize?: number | null;
  /** `-S`: 1..60; written for TOTP only (upstream silently ignores it for HOTP). */
  stepSize?: number | null;
  /** `-d`: TOTP only. */
  disallowReuse?: boolean;
  /** 8 digits, first digit 1..9. */
  scratchCodes: readonly string[];
}

function intIn(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

export function formatNewGaFile(spec: NewGaFileSpec): string {
  if (!/^[A-Z2-7]+$/.test(spec.secret)) throw new GaFileError('bad_spec', 'secret must be upper-case unpadded base32');
  let out = `${spec.secret}\n`;
  if (spec.rateLimit) {
    if (!intIn(spec.rateLimit.attempts, 1, 100) || !intIn(spec.rateLimit.interval, 1, 3600)) throw new GaFileError('bad_spec', 'rate limit out of range');
    out += `" RATE_LIMIT ${spec.rateLimit.attempts} ${spec.rateLimit.interval}\n`;
  }
  if (spec.windowSize !== undefined && spec.windowSize !== null) {
    if (!intIn(spec.windowSize, 1, 100)) throw new GaFileError('bad_spec', 'window size out of range');
    out += `" WINDOW_SIZE ${spec.windowSize}\n`;
  }
  if (spec.mode === 'totp' && spec.stepSize !== undefined && spec.stepSize !== null) {
    if (!intIn(spec.stepSize, 1, 60)) throw new GaFileError('bad_spec', 'step size out of range');
    out += `" STEP_SIZE ${spec.stepSize}\n`;
  }
  if (spec.disallowReuse === true) {
    if (spec.mode !== 'totp') throw new GaFileError('bad_spec', 'DISALLOW_REUSE is for time-based files only');
    out += `" DISALLOW_REUSE\n`;
  }
  out += spec.mode === 'totp' ? `" TOTP_AUTH\n` : `" HOTP_COUNTER 1\n`;
  for (const c of spec.scratchCodes) {
    if (!/^[1-9][0-9]{7}$/.test(c)) throw new GaFileError('bad_spec', 'scratch codes are 8 digits without a leading zero');
    out += `${c}\n`;
  }
  return out;
}
