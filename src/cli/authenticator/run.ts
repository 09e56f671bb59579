// tandem-authenticator: google-authenticator's enrolment CLI (reference google_authenticator.md
// §2), producing the same secret file (§1) with the same questions in the same order.
// Differences, all deliberate: 160-bit secrets always (v1.11); the otpauth URL is always printed
// (not only drawn as a QR code), RFC 3986-escaped and with `period` when -S changes the step; a
// stray argument fails instead of exiting 0; the file is fsync'ed before the rename.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { hostname as osHostname, userInfo } from 'node:os';
import { base32Encode } from '../../protocol/base32.js';
import { formatNewGaFile, type NewGaFileSpec } from '../../protocol/ga-file.js';
import { hotp } from '../../protocol/hotp.js';
import type { InputSource, TextSink } from '../io.js';
import { LineReader } from './lines.js';
import { parseArgs, PROG, usageText, VERSION, type AuthenticatorOptions } from './options.js';
import { buildAuthenticatorUrl, urlFieldTooLarge } from './otpauth-url.js';
import { renderQr } from './qr.js';
import { writeSecretFile } from './write-file.js';

export const SECRET_BYTES = 20;
const BYTES_PER_SCRATCH_CODE = 4;
const MAX_SCRATCH_CODES = 10;

export interface AuthenticatorIO {
  stdout: TextSink;
  stderr: TextSink;
  stdin: InputSource;
  env: Record<string, string | undefined>;
  /** Upstream (≤ 1.11) draws the QR code only on a terminal. */
  stdoutIsTTY: boolean;
  /** Login name of the caller (uid number when it has no passwd entry). */
  username: string;
  /** undefined when gethostname fails: upstream then uses "unix". */
  hostname: string | undefined;
}

export interface AuthenticatorDeps {
  /** Milliseconds since the epoch (for the "Enter code from app" check). */
  now(): number;
  randomBytes(n: number): Buffer;
}

export function processAuthenticatorIO(): AuthenticatorIO {
  let username: string;
  try {
    username = userInfo().username;
  } catch {
    username = String(process.getuid?.() ?? '');
  }
  let host: string | undefined;
  try {
    host = osHostname();
  } catch {
    host = undefined;
  }
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    username,
    hostname: host,
  };
}

export const systemDeps: AuthenticatorDeps = { now: () => Date.now(), randomBytes: (n) => cryptoRandomBytes(n) };

/** Ends the run with an exit status (what upstream does with exit()/_exit()). */
class Exit {
  constructor(readonly code: number) {}
}

export async function main(argv: readonly string[], io: AuthenticatorIO = processAuthenticatorIO(), deps: AuthenticatorDeps = systemDeps): Promise<number> {
  const parsed = parseArgs(argv);
  switch (parsed.kind) {
    case 'help':
      io.stdout.write(usageText());
      return 0;
    case 'version':
      io.stdout.write(`${PROG} ${VERSION}\n`);
      return 0;
    case 'error':
      if (parsed.usage) {
        io.stderr.write(`${parsed.stderr[0]!}\n`);
        io.stdout.write(usageText());
        for (const line of parsed.stderr.slice(1)) io.stderr.write(`${line}\n`);
      } else {
        for (const line of parsed.stderr) io.stderr.write(`${line}\n`);
      }
      return 1;
    case 'run':
      break;
  }
  const reader = new LineReader(io.stdin);
  try {
    return await enrol(parsed.options, io, deps, reader);
  } catch (e) {
    if (e instanceof Exit) return e.code;
    throw e;
  } finally {
    await reader.close();
  }
}

/** Reads one line; at end of input prints a newline and exits 1 (as upstream). */
async function readLine(io: AuthenticatorIO, reader: LineReader): Promise<string> {
  const line = await reader.next();
  if (line === undefined) {
    io.stdout.write('\n');
    throw new Exit(1);
  }
  return line;
}

/** A y/n question: an empty line, `<msg> (y/n) `, re-asked until the answer starts with y or n. */
async function maybe(msg: string, io: AuthenticatorIO, reader: LineReader): Promise<boolean> {
  io.stdout.write('\n');
  for (;;) {
    io.stdout.write(`${msg} (y/n) `);
    const c = (await readLine(io, reader))[0];
    if (c === 'y' || c === 'Y') return true;
    if (c === 'n' || c === 'N') return false;
  }
}

/** C strtol(line, NULL, 10): leading number or 0. */
function strtol(line: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(line);
  return m === null ? 0 : Number(m[1]);
}

export const QUESTIONS = {
  timeBased: 'Do you want authentication tokens to be time-based',
  update: (path: string) => `Do you want me to update your "${path}" file?`,
  disallowReuse:
    'Do you want to disallow multiple uses of the same authentication\n' +
    'token? This restricts you to one login about every 30s, but it increases\n' +
    'your chances to notice or even prevent man-in-the-middle attacks',
  totpWindow:
    'By default, a new token is generated every 30 seconds by the mobile app.\n' +
    'In order to compensate for possible time-skew between the client and the server,\n' +
    'we allow an extra token before and after the current time. This allows for a\n' +
    'time skew of up to 30 seconds between authentication server and client. If you\n' +
    'experience problems with poor time synchronization, you can increase the window\n' +
    'from its default size of 3 permitted codes (one previous code, the current\n' +
    'code, the next code) to 17 permitted codes (the 8 previous codes, the current\n' +
    'code, and the 8 next codes). This will permit for a time skew of up to 4 minutes\n' +
    'between client and server.\n' +
    'Do you want to do so?',
  hotpWindow:
    'By default, three tokens are valid at any one time.  This accounts for\n' +
    'generated-but-not-used tokens and failed login attempts. In order to\n' +
    'decrease the likelihood of synchronization problems, this window can be\n' +
    'increased from its default size of 3 to 17. Do you want to do so?',
  rateLimit:
    "If the computer that you are logging into isn't hardened against brute-force\n" +
    'login attempts, you can enable rate-limiting for the authentication module.\n' +
    'By default, this limits attackers to no more than 3 login attempts every 30s.\n' +
    'Do you want to enable rate-limiting?',
} as const;

/** 8-digit scratch codes from 4 random bytes each, re-drawn while below 10^7 (reference §2.5). */
export function scratchCodes(pool: Buffer, count: number, randomBytes: (n: number) => Buffer): number[] {
  const codes: number[] = [];
  for (let i = 0; i < count; i++) {
    let bytes = pool.subarray(BYTES_PER_SCRATCH_CODE * i, BYTES_PER_SCRATCH_CODE * (i + 1));
    for (;;) {
      const code = (bytes.readUInt32BE(0) & 0x7fffffff) % 100_000_000;
      if (code >= 10_000_000) {
        codes.push(code);
        break;
      }
      bytes = randomBytes(BYTES_PER_SCRATCH_CODE);
    }
  }
  return codes;
}

async function enrol(o: AuthenticatorOptions, io: AuthenticatorIO, deps: AuthenticatorDeps, reader: LineReader): Promise<number> {
  const host = io.hostname ?? 'unix';
  const label = o.label ?? `${io.username}@${host}`;
  const issuer = o.issuer ?? host;

  // One read for the secret and every possible scratch code, as upstream.
  const pool = deps.randomBytes(SECRET_BYTES + MAX_SCRATCH_CODES * BYTES_PER_SCRATCH_CODE);
  const secretBytes = Buffer.from(pool.subarray(0, SECRET_BYTES));
  const secret = base32Encode(secretBytes);

  const totp = o.mode !== undefined ? o.mode === 'totp' : await maybe(QUESTIONS.timeBased, io, reader);
  const out = (s: string): void => void io.stdout.write(s);

  if (!o.quiet) {
    if (urlFieldTooLarge(label) || urlFieldTooLarge(issuer)) {
      io.stderr.write('Error: Generated URL would be unreasonably large.\n');
      return 1;
    }
    const url = buildAuthenticatorUrl({ type: totp ? 'totp' : 'hotp', label, issuer, secretBase32: secret, period: totp ? (o.stepSize ?? 30) : undefined });
    if (io.stdoutIsTTY) out(renderQr(url, o.qrMode));
    out(`Your otpauth URL is: ${url}\n`);
    out(`Your new secret key is: ${secret}\n`);
    if (o.confirm && totp) {
      for (;;) {
        out('Enter code from app (-1 to skip): ');
        const code = strtol(await readLine(io, reader));
        if (code < 0) {
          out('Code confirmation skipped\n');
          break;
        }
        const step = Math.floor(deps.now() / 1000 / (o.stepSize ?? 30));
        const correct = hotp(secretBytes, step, { digits: 6, algorithm: 'sha1' });
        if (code === Number(correct)) {
          out('Code confirmed\n');
          break;
        }
        out(`Code incorrect (correct code ${correct}). Try again.\n`);
      }
    } else {
      out(`Your verification code for code 1 is ${hotp(secretBytes, 1, { digits: 6, algorithm: 'sha1' })}\n`);
    }
    out('Your emergency scratch codes are:\n');
  }
  const codes = scratchCodes(pool.subarray(SECRET_BYTES), o.emergencyCodes, deps.randomBytes);
  if (!o.quiet) for (const c of codes) out(`  ${String(c).padStart(8, '0')}\n`);

  let path = o.secretPath;
  if (path === undefined) {
    const home = io.env.HOME;
    if (home === undefined || !home.startsWith('/')) {
      io.stderr.write('Cannot determine home directory\n');
      return 1;
    }
    path = `${home}/.google_authenticator`;
  }
  if (!o.force && !(await maybe(QUESTIONS.update(path), io, reader))) return 0;

  const settings: NewGaFileSpec = { secret, mode: totp ? 'totp' : 'hotp', scratchCodes: codes.map((c) => String(c)) };
  if (totp) {
    if (o.reuse === undefined) settings.disallowReuse = await maybe(QUESTIONS.disallowReuse, io, reader);
    else settings.disallowReuse = o.reuse === 'disallow';
    if (o.stepSize !== undefined) settings.stepSize = o.stepSize;
    if (o.window === undefined) {
      if (await maybe(QUESTIONS.totpWindow, io, reader)) settings.windowSize = 17;
    } else {
      settings.windowSize = o.window === 'minimal' ? 3 : o.window;
    }
  } else if (o.window === undefined) {
    if (await maybe(QUESTIONS.hotpWindow, io, reader)) settings.windowSize = 17;
  } else {
    settings.windowSize = o.window === 'minimal' ? 1 : o.window;
  }
  if (o.rateLimit === undefined) {
    if (await maybe(QUESTIONS.rateLimit, io, reader)) settings.rateLimit = { attempts: 3, interval: 30 };
  } else if (o.rateLimit !== 'off') {
    settings.rateLimit = { attempts: o.rateLimit.attempts, interval: o.rateLimit.seconds };
  }

  const err = writeSecretFile(path, formatNewGaFile(settings));
  if (err !== undefined) {
    io.stderr.write(`${err}\n`);
    return 1;
  }
  return 0;
}
