// google-authenticator's command line (reference google_authenticator.md §2.1): the same flags,
// ranges, conflict rules and error texts, checked in the same order (each option as it is met,
// then the cross-option rules).
import { getoptLong, type LongOption } from './getopt.js';

export const PROG = 'tandem-authenticator';
export const VERSION = '0.1.0';

export type QrMode = 'NONE' | 'ANSI' | 'ANSI_INVERSE' | 'ANSI_GREY' | 'UTF8' | 'UTF8_INVERSE' | 'UTF8_GREY';
const QR_MODES: readonly QrMode[] = ['NONE', 'ANSI', 'ANSI_INVERSE', 'ANSI_GREY', 'UTF8', 'UTF8_INVERSE', 'UTF8_GREY'];

export const MAX_SCRATCH_CODES = 10;
export const DEFAULT_SCRATCH_CODES = 5;

export interface AuthenticatorOptions {
  /** undefined: ask. */
  mode?: 'totp' | 'hotp';
  /** undefined: ask (TOTP only). */
  reuse?: 'disallow' | 'allow';
  confirm: boolean;
  force: boolean;
  quiet: boolean;
  label?: string;
  issuer?: string;
  qrMode: QrMode;
  /** undefined: ask; 'off': -u. */
  rateLimit?: { attempts: number; seconds: number } | 'off';
  secretPath?: string;
  stepSize?: number;
  /** undefined: ask; 'minimal': -W. */
  window?: number | 'minimal';
  emergencyCodes: number;
}

export type ParseOutcome =
  | { kind: 'run'; options: AuthenticatorOptions }
  | { kind: 'help' }
  | { kind: 'version' }
  /** `stderr` is printed first; with `usage`, the usage text follows on stdout (getopt errors). */
  | { kind: 'error'; stderr: string[]; usage: boolean };

const SHORT = 'hcCtdDfl:i:qQ:r:R:us:S:w:We:';
const LONGS: readonly LongOption[] = [
  { name: 'help', hasArg: false, val: 'h' },
  { name: 'version', hasArg: false, val: 'version' },
  { name: 'counter-based', hasArg: false, val: 'c' },
  { name: 'no-confirm', hasArg: false, val: 'C' },
  { name: 'time-based', hasArg: false, val: 't' },
  { name: 'disallow-reuse', hasArg: false, val: 'd' },
  { name: 'allow-reuse', hasArg: false, val: 'D' },
  { name: 'force', hasArg: false, val: 'f' },
  { name: 'label', hasArg: true, val: 'l' },
  { name: 'issuer', hasArg: true, val: 'i' },
  { name: 'quiet', hasArg: false, val: 'q' },
  { name: 'qr-mode', hasArg: true, val: 'Q' },
  { name: 'rate-limit', hasArg: true, val: 'r' },
  { name: 'rate-time', hasArg: true, val: 'R' },
  { name: 'no-rate-limit', hasArg: false, val: 'u' },
  { name: 'secret', hasArg: true, val: 's' },
  { name: 'step-size', hasArg: true, val: 'S' },
  { name: 'window-size', hasArg: true, val: 'w' },
  { name: 'minimal-window', hasArg: false, val: 'W' },
  { name: 'emergency-codes', hasArg: true, val: 'e' },
];

export function usageText(): string {
  return [
    `${PROG} ${VERSION}`,
    `${PROG} [<options>]`,
    ' -h, --help                     Print this message',
    '     --version                  Print version',
    ' -c, --counter-based            Set up counter-based (HOTP) verification',
    " -C, --no-confirm               Don't confirm code. For non-interactive setups",
    ' -t, --time-based               Set up time-based (TOTP) verification',
    ' -d, --disallow-reuse           Disallow reuse of previously used TOTP tokens',
    ' -D, --allow-reuse              Allow reuse of previously used TOTP tokens',
    ' -f, --force                    Write file without first confirming with user',
    ' -l, --label=<label>            Override the default label in "otpauth://" URL',
    ' -i, --issuer=<issuer>          Override the default issuer in "otpauth://" URL',
    ' -q, --quiet                    Quiet mode',
    ' -Q, --qr-mode={NONE,ANSI,ANSI_INVERSE,ANSI_GREY,UTF8,UTF8_INVERSE,UTF8_GREY}',
    '                                QRCode output mode',
    ' -r, --rate-limit=N             Limit logins to N per every M seconds',
    ' -R, --rate-time=M              Limit logins to N per every M seconds',
    ' -u, --no-rate-limit            Disable rate-limiting',
    ' -s, --secret=<file>            Specify a non-standard file location',
    ' -S, --step-size=S              Set interval between token refreshes',
    ' -w, --window-size=W            Set window of concurrently valid codes',
    ' -W, --minimal-window           Disable window of concurrently valid codes',
    ' -e, --emergency-codes=N        Number of emergency codes to generate',
    '',
  ].join('\n');
}

/** C `strtol(s, &end, 10)` with the checks google-authenticator makes: whole string, in range. */
export function parseRangedInt(text: string, min: number, max: number): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n) || n < min || n > max) return undefined;
  return n;
}

export function parseQrMode(text: string): QrMode | undefined {
  const norm = text.toUpperCase().replace(/-/g, '_');
  return QR_MODES.find((m) => m === norm);
}

function fail(message: string): ParseOutcome {
  return { kind: 'error', stderr: [message], usage: false };
}

export function parseArgs(argv: readonly string[]): ParseOutcome {
  const { items, rest } = getoptLong(PROG, argv, SHORT, LONGS);
  let mode: 'totp' | 'hotp' | undefined;
  let reuse: 'disallow' | 'allow' | undefined;
  let force = false;
  let quiet = false;
  let confirm = true;
  let label: string | undefined;
  let issuer: string | undefined;
  let qrMode: QrMode | undefined;
  // As upstream: > 0 set, < 0 disabled by -u, 0 not given.
  let rLimit = 0;
  let rTime = 0;
  let secretPath: string | undefined;
  let stepSize = 0;
  let window = 0;
  let emergency = -1;
  const REUSE_HOTP = 'Reuse of tokens is not a meaningful parameter in counter-based mode';

  for (const item of items) {
    if (!item.ok) return { kind: 'error', stderr: [item.message, 'Failed to parse command line'], usage: true };
    const arg = item.arg ?? '';
    switch (item.opt) {
      case 'h':
        return { kind: 'help' };
      case 'version':
        return { kind: 'version' };
      case 'c':
        if (mode !== undefined) return fail('Duplicate -c and/or -t option detected');
        if (reuse !== undefined) return fail(REUSE_HOTP);
        mode = 'hotp';
        break;
      case 'C':
        confirm = false;
        break;
      case 't':
        if (mode !== undefined) return fail('Duplicate -c and/or -t option detected');
        mode = 'totp';
        break;
      case 'd':
      case 'D':
        if (reuse !== undefined) return fail('Duplicate -d and/or -D option detected');
        if (mode === 'hotp') return fail(REUSE_HOTP);
        reuse = item.opt === 'd' ? 'disallow' : 'allow';
        break;
      case 'f':
        if (force) return fail('Duplicate -f option detected');
        force = true;
        break;
      case 'l':
        if (label !== undefined) return fail('Duplicate -l option detected');
        label = arg;
        break;
      case 'i':
        if (issuer !== undefined) return fail('Duplicate -i option detected');
        issuer = arg;
        break;
      case 'q':
        if (quiet) return fail('Duplicate -q option detected');
        quiet = true;
        break;
      case 'Q': {
        if (qrMode !== undefined) return fail('Duplicate -Q option detected');
        const m = parseQrMode(arg);
        if (m === undefined) return fail(`Invalid qr-mode "${arg}"`);
        qrMode = m;
        break;
      }
      case 'r': {
        if (rLimit > 0) return fail('Duplicate -r option detected');
        if (rLimit < 0) return fail('-u is mutually exclusive with -r');
        const n = parseRangedInt(arg, 1, 10);
        if (n === undefined) return fail('-r requires an argument in the range 1..10');
        rLimit = n;
        break;
      }
      case 'R': {
        if (rTime > 0) return fail('Duplicate -R option detected');
        if (rTime < 0) return fail('-u is mutually exclusive with -R');
        const n = parseRangedInt(arg, 15, 600);
        if (n === undefined) return fail('-R requires an argument in the range 15..600');
        rTime = n;
        break;
      }
      case 'u':
        if (rLimit > 0 || rTime > 0) return fail('-u is mutually exclusive with -r/-R');
        if (rLimit < 0) return fail('Duplicate -u option detected');
        rLimit = rTime = -1;
        break;
      case 's':
        if (secretPath !== undefined) return fail('Duplicate -s option detected');
        if (arg === '') return fail('-s must be followed by a filename');
        secretPath = arg;
        break;
      case 'S': {
        if (stepSize !== 0) return fail('Duplicate -S option detected');
        const n = parseRangedInt(arg, 1, 60);
        if (n === undefined) return fail('-S requires an argument in the range 1..60');
        stepSize = n;
        break;
      }
      case 'w': {
        if (window !== 0) return fail('Duplicate -w/-W option detected');
        const n = parseRangedInt(arg, 1, 21);
        if (n === undefined) return fail('-w requires an argument in the range 1..21');
        window = n;
        break;
      }
      case 'W':
        if (window !== 0) return fail('Duplicate -w/-W option detected');
        window = -1;
        break;
      case 'e': {
        if (emergency >= 0) return fail('Duplicate -e option detected');
        const n = parseRangedInt(arg, 0, MAX_SCRATCH_CODES);
        if (n === undefined) return fail(`-e requires an argument in the range 0..${MAX_SCRATCH_CODES}`);
        emergency = n;
        break;
      }
      default:
        return fail('Error');
    }
  }
  // Upstream prints the usage and exits 0 on a stray argument, so a script's typo "succeeds"
  // without writing anything. We print the usage too, but fail.
  if (rest.length > 0) return { kind: 'error', stderr: [`${PROG}: unexpected argument '${rest[0]!}'`, 'Failed to parse command line'], usage: true };
  if (reuse !== undefined && mode !== 'totp') return fail('Must select time-based mode, when using -d or -D');
  if ((rTime !== 0 && rLimit === 0) || (rTime === 0 && rLimit !== 0)) return fail('Must set -r when setting -R, and vice versa');

  const options: AuthenticatorOptions = {
    confirm,
    force,
    quiet,
    qrMode: qrMode ?? 'ANSI',
    emergencyCodes: emergency < 0 ? DEFAULT_SCRATCH_CODES : emergency,
  };
  if (mode !== undefined) options.mode = mode;
  if (reuse !== undefined) options.reuse = reuse;
  if (label !== undefined) options.label = label;
  if (issuer !== undefined) options.issuer = issuer;
  if (rLimit < 0) options.rateLimit = 'off';
  else if (rLimit > 0) options.rateLimit = { attempts: rLimit, seconds: rTime };
  if (secretPath !== undefined) options.secretPath = secretPath;
  if (stepSize !== 0) options.stepSize = stepSize;
  if (window < 0) options.window = 'minimal';
  else if (window > 0) options.window = window;
  return { kind: 'run', options };
}
