// pam_google_authenticator's algorithms over a google-authenticator file, pure: the file, the
// clock (seconds) and the user's input are parameters; the result is the new file, whether it
// changed, and the log lines (upstream's texts, reference §3.14 — minus scratch code values).
// I/O and locking live in secret-file.ts, prompting and the flow in ga-local.ts.
import {
  decodeGaSecret,
  getGaOption,
  GaFileError,
  hasTotpAuth,
  readDisallowReuse,
  readHotpCounter,
  readLastLogins,
  readRateLimit,
  readResettingTimeSkew,
  readStepSize,
  readTimeSkew,
  readWindowSize,
  removeLine,
  scratchCodes,
  setGaOption,
  type GaFile,
} from '../../protocol/ga-file.js';
import { constantTimeEqual } from '../../protocol/compare.js';
import { hotp } from '../../protocol/hotp.js';
import { findOtpMatch } from '../../protocol/totp.js';

export type EngineLogLevel = 'debug' | 'info' | 'warning' | 'error';
export interface EngineLog {
  level: EngineLogLevel;
  msg: string;
}

const SHA1_6 = { digits: 6, algorithm: 'sha1' } as const;
const SKEW_SEARCH = 25 * 60;

/** Code for a counter/step as upstream's integer (negative steps never match). */
function codeAt(secret: Uint8Array, counter: number): string | null {
  if (!Number.isSafeInteger(counter) || counter < 0) return null;
  return hotp(secret, counter, SHA1_6);
}

// ---------------------------------------------------------------------------------------------
// RATE_LIMIT (before prompting)

export interface RateLimitResult {
  file: GaFile;
  changed: boolean;
  /** 'exceeded' or 'invalid': deny without prompting. */
  stop: 'exceeded' | 'invalid' | null;
  logs: EngineLog[];
}

export function applyRateLimit(file: GaFile, nowSec: number, path: string): RateLimitResult {
  let rl;
  try {
    rl = readRateLimit(file);
  } catch (e) {
    if (!(e instanceof GaFileError)) throw e;
    const msg = e.problem === 'bad_rate_limit' ? `Invalid RATE_LIMIT option. Check "${path}".` : `Invalid list of timestamps in RATE_LIMIT. Check "${path}".`;
    return { file, changed: false, stop: 'invalid', logs: [{ level: 'error', msg }] };
  }
  if (rl === null) return { file, changed: false, stop: null, logs: [] };
  const all = [nowSec, ...rl.timestamps].sort((a, b) => a - b);
  let kept = all.filter((t) => t >= nowSec - rl.interval && t <= nowSec);
  let exceeded = false;
  if (kept.length > rl.attempts) {
    exceeded = true;
    kept = kept.slice(kept.length - rl.attempts);
  }
  const next = setGaOption(file, 'RATE_LIMIT', [rl.attempts, rl.interval, ...kept].join(' '));
  const logs: EngineLog[] = exceeded ? [{ level: 'error', msg: `Too many concurrent login attempts ("${path}"). Please try again.` }] : [];
  return { file: next, changed: true, stop: exceeded ? 'exceeded' : null, logs };
}

// ---------------------------------------------------------------------------------------------
// grace_period

export function withinGracePeriod(file: GaFile, rhost: string | null, graceSec: number, nowSec: number): boolean {
  if (graceSec <= 0 || rhost === null) return false;
  const hit = readLastLogins(file).entries.find((e) => e.host === rhost);
  return hit !== undefined && hit.when + graceSec > nowSec;
}

export function recordLogin(file: GaFile, rhost: string, nowSec: number): GaFile {
  const { entries, malformed } = readLastLogins(file);
  const used = new Set([...entries.map((e) => e.slot), ...malformed]);
  let slot = entries.find((e) => e.host === rhost)?.slot;
  if (slot === undefined) {
    for (let i = 0; i < 10 && slot === undefined; i++) if (!used.has(i)) slot = i;
  }
  if (slot === undefined) {
    const oldest = [...entries].sort((a, b) => a.when - b.when)[0];
    slot = malformed[0] ?? oldest?.slot ?? 0;
  }
  return setGaOption(file, `LAST${slot}`, `${rhost} ${nowSec}`);
}

// ---------------------------------------------------------------------------------------------
// verification

export interface VerifyOptions {
  nowSec: number;
  path: string;
  user: string;
  forwardPass: boolean;
  noskewadj: boolean;
  noIncrementHotp: boolean;
  gracePeriod: number;
  rhost: string | null;
}

export interface VerifyInputs {
  /** PAM_AUTHTOK (try_first_pass / use_first_pass), null when not used. Passes 0 and 1. */
  authtok: string | null;
  /** The prompted answer, null when not (yet) prompted. Passes 2 and 3. */
  answer: string | null;
}

export interface VerifyResult {
  /** 'success'; 'error' = a definitive failure (stop, don't prompt); 'nomatch' = nothing matched. */
  verdict: 'success' | 'error' | 'nomatch';
  file: GaFile;
  changed: boolean;
  logs: EngineLog[];
  /** forward_pass: the password part of the input that verified. */
  password: string | null;
}

type Step = 0 | 1 | -1; // upstream: 0 ok, 1 no match / not applicable, -1 error

interface State {
  file: GaFile;
  changed: boolean;
  logs: EngineLog[];
  mustAdvance: boolean;
}

function scratchCheck(st: State, code: number): Step {
  if (code < 10_000_000 || code > 99_999_999) return 1;
  const probe = String(code);
  let hit: number | null = null;
  for (const s of scratchCodes(st.file)) {
    if (constantTimeEqual(s.code, probe) && hit === null) hit = s.index;
  }
  if (hit === null) return 1;
  st.file = removeLine(st.file, hit);
  st.changed = true;
  return 0;
}

function hotpCheck(st: State, secret: Uint8Array, code: number, counter: number, path: string): Step {
  if (code >= 1_000_000) return 1;
  let w: number;
  try {
    w = readWindowSize(st.file);
  } catch {
    st.logs.push({ level: 'error', msg: `Invalid WINDOW_SIZE option in "${path}"` });
    return -1;
  }
  const candidates = Array.from({ length: w }, (_, i) => counter + i);
  const match = findOtpMatch({ secret, code: String(code).padStart(6, '0'), ...SHA1_6, candidates });
  if (match !== null) {
    st.file = setGaOption(st.file, 'HOTP_COUNTER', String(match + 1));
    st.changed = true;
    st.mustAdvance = false;
    return 0;
  }
  st.mustAdvance = true;
  return 1;
}

function invalidateTimeBased(st: State, s: number, window: number, step: number, path: string): Step {
  let list: number[] | null;
  try {
    list = readDisallowReuse(st.file);
  } catch {
    return -1;
  }
  if (list === null) return 0;
  // Upstream edits the value text in place; reproduce it (a removed last entry leaves its blank).
  let value = getGaOption(st.file, 'DISALLOW_REUSE') ?? '';
  let pos = 0;
  for (;;) {
    const lead = /^[ \t\r\n]*/.exec(value.slice(pos))![0].length;
    pos += lead;
    if (pos >= value.length) break;
    const m = /^\+?([0-9]+)/.exec(value.slice(pos))!;
    const blocked = Number(m[1]);
    const end = pos + m[0].length;
    if (blocked === s) {
      st.logs.push({
        level: 'error',
        msg: `Trying to reuse a previously used time-based code. ("${path}")Retry again in ${step} seconds. Warning! This might mean, you are currently subject to a man-in-the-middle attack.`,
      });
      return -1;
    }
    if (blocked - s >= window || s - blocked >= window) {
      const after = end + /^[ \t]*/.exec(value.slice(end))![0].length;
      value = value.slice(0, pos) + value.slice(after);
    } else pos = end;
  }
  value += value === '' ? String(s) : ` ${s}`;
  st.file = setGaOption(st.file, 'DISALLOW_REUSE', value);
  st.changed = true;
  return 0;
}

function checkTimeSkew(st: State, skew: number, tm: number): Step {
  const entries = readResettingTimeSkew(st.file);
  const last = entries[entries.length - 1];
  if (last !== undefined && tm + skew === last.tm + last.skew) return -1;
  entries.push({ tm, skew });
  if (entries.length > 3) entries.shift();
  let rc: Step = -1;
  if (entries.length === 3) {
    let ok = true;
    let lastTm = entries[0]!.tm;
    let lastSkew = entries[0]!.skew;
    let sum = lastSkew;
    for (let i = 1; i < 3; i++) {
      const e = entries[i]!;
      if (e.tm <= lastTm || e.tm > lastTm + 2 || lastSkew - skew < -1 || lastSkew - skew > 1) {
        ok = false;
        break;
      }
      lastTm = e.tm;
      lastSkew = e.skew;
      sum += lastSkew;
    }
    if (ok) {
      st.file = setGaOption(st.file, 'TIME_SKEW', String(Math.trunc(sum / 3)));
      rc = 0;
    }
  }
  const reset = rc === 0 ? '' : entries.map((e) => `${e.tm}${e.skew < 0 ? '-' : '+'}${Math.abs(e.skew)}`).join(' ');
  st.file = setGaOption(st.file, 'RESETTING_TIME_SKEW', reset);
  st.changed = true;
  return rc;
}

function totpCheck(st: State, secret: Uint8Array, code: number, o: VerifyOptions): Step {
  if (!hasTotpAuth(st.file)) return 1;
  if (code >= 1_000_000) return 1;
  let step: number;
  try {
    step = readStepSize(st.file);
  } catch {
    st.logs.push({ level: 'error', msg: `Invalid STEP_SIZE option in "${o.path}"` });
    return -1;
  }
  const tm = Math.floor(o.nowSec / step);
  if (tm === 0) return -1;
  const skew = readTimeSkew(st.file);
  let window: number;
  try {
    window = readWindowSize(st.file);
  } catch {
    st.logs.push({ level: 'error', msg: `Invalid WINDOW_SIZE option in "${o.path}"` });
    return -1;
  }
  const probe = String(code).padStart(6, '0');
  const candidates: number[] = [];
  for (let i = -Math.floor((window - 1) / 2); i <= Math.floor(window / 2); i++) {
    if (tm + skew + i >= 0) candidates.push(tm + skew + i);
  }
  const match = findOtpMatch({ secret, code: probe, ...SHA1_6, candidates });
  if (match !== null) return invalidateTimeBased(st, match, window, step, o.path);
  if (!o.noskewadj) {
    let found: number | null = null;
    for (let i = 0; i < SKEW_SEARCH; i++) {
      const below = codeAt(secret, tm - i);
      if (below !== null && constantTimeEqual(below, probe) && found === null) found = -i;
      const above = codeAt(secret, tm + i);
      if (above !== null && constantTimeEqual(above, probe) && found === null) found = i;
    }
    if (found !== null) {
      st.logs.push({ level: 'debug', msg: 'debug: time skew adjusted' });
      return checkTimeSkew(st, found, tm);
    }
  }
  return 1;
}

/** Upstream's four passes over (authtok: last 6, last 8) and (answer: last 6, last 8). */
export function verifyCode(file: GaFile, inputs: VerifyInputs, o: VerifyOptions): VerifyResult {
  const st: State = { file, changed: false, logs: [], mustAdvance: false };
  let secret: Buffer | null = null;
  try {
    secret = decodeGaSecret(file.secretLine);
  } catch {
    st.logs.push({ level: 'error', msg: `Could not find a valid BASE32 encoded secret in "${o.path}"` });
  }
  const counter = readHotpCounter(file) ?? 0;
  let verdict: VerifyResult['verdict'] = 'nomatch';
  let password: string | null = null;
  outer: for (let pass = 0; pass < 4; pass++) {
    const pw = pass < 2 ? inputs.authtok : inputs.answer;
    if (pw === null) continue;
    const expected = pass & 1 ? 8 : 6;
    if (pw.length < expected) continue;
    const tail = pw.slice(pw.length - expected);
    if (!/^[0-9]+$/.test(tail) || (expected === 8 && tail[0] === '0')) continue;
    const prefix = pw.slice(0, pw.length - expected);
    if (pass >= 2 && !o.forwardPass && prefix !== '') continue;
    if (secret === null) continue;
    const code = Number(tail);
    let r = scratchCheck(st, code);
    if (r === 0) st.logs.push({ level: 'debug', msg: `debug: scratch code used and removed from "${o.path}"` });
    else r = counter > 0 ? hotpCheck(st, secret, code, counter, o.path) : totpCheck(st, secret, code, o);
    if (r === 1) continue;
    verdict = r === 0 ? 'success' : 'error';
    if (r === 0) password = prefix;
    break outer;
  }
  if (st.mustAdvance && !o.noIncrementHotp) {
    st.file = setGaOption(st.file, 'HOTP_COUNTER', String(counter + 1));
    st.changed = true;
  }
  if (verdict === 'success' && o.gracePeriod !== 0) {
    st.changed = true;
    if (o.rhost === null) st.logs.push({ level: 'error', msg: 'Failed to store grace_period timestamp in config' });
    else st.file = recordLogin(st.file, o.rhost, o.nowSec);
  }
  return { verdict, file: st.file, changed: st.changed, logs: st.logs, password };
}
