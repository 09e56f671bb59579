// Typed readers over a parsed google-authenticator file, each with upstream's validation rules
// (reference §1.3): the lenient base32 secret, usable scratch codes, HOTP_COUNTER, TIME_SKEW,
// WINDOW_SIZE, STEP_SIZE, RATE_LIMIT, DISALLOW_REUSE, RESETTING_TIME_SKEW, LASTn, and
// describeGaFile (all at once, problems collected). Separate from the line model
// (ga-file-lines.ts) it reads through. Pure: no I/O, no clock. API overview: ga-file.ts.
import {
  GA_DEFAULT_STEP,
  GA_DEFAULT_WINDOW,
  GA_MAX_SECRET_CHARS,
  GaFileError,
  getGaOption,
  hasTotpAuth,
  type GaFile,
  type GaFileProblem,
} from './ga-file-lines.js';

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

