// Writing a brand-new google-authenticator file exactly as the `google-authenticator` CLI does
// (option lines in upstream's order, scratch codes, bare LF endings), for the enrolment CLI.
// Separate from parsing/editing existing files. Pure: no I/O, no clock. API overview: ga-file.ts.
import { GaFileError } from './ga-file-lines.js';

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
