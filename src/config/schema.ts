// Every server setting, defined once: name (also its config.json key), environment variable,
// validator, default and documentation. load.ts applies the precedence, docs/configuration.md is
// rendered from this table, and a typo here cannot drift between the three.
import { isIP } from 'node:net';
import type { Settings } from './settings.js';

/** Where a raw value came from: decides how it is written (env: always a string) and named. */
export type Source = 'env' | 'file' | 'override';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export interface SettingSpec<K extends keyof Settings> {
  key: K;
  /** `TANDEM_` + the key in UPPER_SNAKE. */
  env: string;
  /** The accepted values, for the docs. */
  type: string;
  /** Undefined only where the loader computes it (nodeId); then `defaultDoc` says how. */
  default: Settings[K] | undefined;
  defaultDoc?: string;
  description: string;
  /** Never echo the raw value in a problem (it may carry a password). */
  secret?: boolean;
  parse(raw: unknown, source: Source): Parsed<Settings[K]>;
  /** The config.json form of a value (what `parse(…, 'file')` accepts). */
  toFile(value: Settings[K]): unknown;
}

export type SettingsTable = { [K in keyof Settings]: SettingSpec<K> };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/**
 * A short, escaped rendering of a rejected value. Truncated and JSON-quoted so hostile input
 * (control characters, megabytes of text) cannot mangle a terminal or a log line.
 */
export function quote(s: string): string {
  return s.length > 40 ? JSON.stringify(s.slice(0, 40)) + '…' : JSON.stringify(s);
}

export function describeValue(raw: unknown, source: Source): string {
  // In config.json a quoted number is a type error the reader may not spot; say so.
  if (typeof raw === 'string') return source === 'file' ? `the string ${quote(raw)}` : quote(raw);
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  if (typeof raw === 'object') return 'an object';
  if (typeof raw === 'number') return Number.isFinite(raw) ? String(raw) : 'a non-finite number';
  return String(raw);
}

const got = (raw: unknown, source: Source): string => ` (got ${describeValue(raw, source)})`;

interface IntSpecPart {
  type: string;
  parse(raw: unknown, source: Source): Parsed<number>;
  toFile(v: number): unknown;
}

function intSetting(min: number, max: number): IntSpecPart {
  const expected = `must be an integer between ${min} and ${max}`;
  return {
    type: `integer ${min}–${max}`,
    parse(raw, source) {
      let n: number;
      if (typeof raw === 'number' && source !== 'env') {
        n = raw;
      } else if (typeof raw === 'string' && source !== 'file' && /^-?[0-9]{1,16}$/.test(raw)) {
        // Strings only where everything is a string (environment, command line); config.json
        // has real numbers. The digit cap keeps Number() exact before the range check.
        n = Number(raw);
      } else {
        return fail(expected + got(raw, source));
      }
      if (!Number.isSafeInteger(n) || n < min || n > max) return fail(expected + got(raw, source));
      return ok(n);
    },
    toFile: (v) => v,
  };
}

/** RFC 1123 host name: letters, digits, hyphens; labels ≤ 63, total ≤ 253; case preserved. */
export function isDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = s.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  // An all-numeric last label is a mistyped IPv4 address ("10.0.0.256"), not a name.
  return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

/** An IP literal without brackets or zone id (a zone id means nothing to a remote client). */
export function isIpLiteral(s: string): boolean {
  return isIP(s) !== 0 && !s.includes('%');
}

export function checkHost(s: string): string | null {
  if (isIpLiteral(s) || isDnsName(s)) return null;
  if (s.startsWith('[') && s.endsWith(']')) return 'IPv6 addresses are written without brackets';
  return 'must be a DNS name or an IP address';
}

function parseListen(raw: unknown, source: Source): Parsed<Settings['listen']> {
  const expected = 'must be ADDRESS:PORT, e.g. 127.0.0.1:8443 or [::1]:8443';
  if (typeof raw !== 'string' || raw.length > 300) return fail(expected + got(raw, source));
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(raw);
  if (!m) {
    const hint = !raw.includes('[') && raw.split(':').length > 2 ? '; put IPv6 addresses in brackets' : '';
    return fail(expected + hint + got(raw, source));
  }
  const port = Number(m[3]);
  // 0 asks the OS for a free port: tests start servers in parallel on loopback.
  if (port > 65535) return fail('port must be between 0 and 65535' + got(raw, source));
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6 || m[1].includes('%')) return fail('the bracketed address must be an IPv6 address' + got(raw, source));
    return ok({ host: m[1], port });
  }
  const host = m[2]!;
  if (!(isIP(host) === 4 || isDnsName(host))) return fail('the address must be an IPv4 address, [IPv6] or a host name' + got(raw, source));
  return ok({ host, port });
}

function parseHosts(raw: unknown, source: Source): Parsed<string[]> {
  let items: unknown[];
  if (Array.isArray(raw) && source !== 'env') items = raw;
  else if (typeof raw === 'string' && source !== 'file') items = raw.split(',').map((s) => s.trim());
  else return fail((source === 'file' ? 'must be an array of host names' : 'must be a comma-separated list of host names') + got(raw, source));
  if (items.length === 0) return fail('must list at least one host name');
  // A cap keeps a hostile list from becoming a certificate with 100 000 SANs.
  if (items.length > 100) return fail(`must list at most 100 host names (got ${items.length})`);
  const out: string[] = [];
  const errors: string[] = [];
  items.forEach((item, i) => {
    if (typeof item !== 'string') errors.push(`entry ${i + 1}: must be a string${got(item, source)}`);
    else if (item === '') errors.push(`entry ${i + 1} is empty`);
    else {
      const why = checkHost(item);
      if (why) errors.push(`${quote(item)}: ${why}`);
      // Exact duplicates only: case is kept, stock duo_unix 1.11.3 compares SANs case-sensitively.
      else if (!out.includes(item)) out.push(item);
    }
  });
  return errors.length ? fail(errors.join('; ')) : ok(out);
}

function nullableUrl(
  check: (u: URL, raw: string) => string | null,
  expected: string,
  secret: boolean,
): (raw: unknown, source: Source) => Parsed<string | null> {
  return (raw, source) => {
    if (raw === null && source !== 'env') return ok(null);
    // A URL may carry a password: say what is wrong without repeating it.
    const shown = secret ? (typeof raw === 'string' ? '' : ` (got ${describeValue(raw, source)})`) : got(raw, source);
    if (typeof raw !== 'string' || raw.length > 2048) return fail(expected + shown);
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return fail(expected + shown);
    }
    const why = check(u, raw);
    return why ? fail(why + shown) : ok(raw);
  };
}

const parseDatabaseUrl = nullableUrl(
  (_u, raw) => (/^postgres(?:ql)?:\/\//.test(raw) ? null : 'must start with postgres:// or postgresql://'),
  'must be a postgres:// or postgresql:// URL',
  true,
);

function parsePublicUrl(raw: unknown, source: Source): Parsed<string | null> {
  const r = nullableUrl(
    (u) => {
      if (u.protocol !== 'https:') return 'must be an https:// URL (clients and browsers need TLS)';
      if (u.username || u.password) return 'must not contain a user name or password';
      if (u.search || u.hash) return 'must not contain a query or fragment';
      return null;
    },
    'must be an https:// URL',
    false,
  )(raw, source);
  // Without the trailing slash, "${publicUrl}/portal" never doubles it.
  return r.ok && r.value !== null ? ok(r.value.replace(/\/+$/, '')) : r;
}

export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function parseNodeId(raw: unknown, source: Source): Parsed<string> {
  if (typeof raw === 'string' && NODE_ID_PATTERN.test(raw)) return ok(raw);
  return fail('must be 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit' + got(raw, source));
}

/** The default node id: the OS host name made to fit NODE_ID_PATTERN. */
export function sanitiseNodeId(hostname: string): string {
  const s = hostname.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return s === '' ? 'tandem' : s;
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Host names or `*.suffix` patterns, lower-cased (env: comma-separated; file: array). */
function parsePushHosts(raw: unknown, source: Source): Parsed<string[]> {
  let items: unknown[];
  if (Array.isArray(raw) && source !== 'env') items = raw;
  else if (typeof raw === 'string' && source !== 'file') items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  else return fail((source === 'file' ? 'must be an array of host names' : 'must be a comma-separated list of host names') + got(raw, source));
  if (items.length > 100) return fail(`must list at most 100 host names (got ${items.length})`);
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string' || !/^(\*\.)?[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(item) || item.includes('..')) {
      return fail(`each entry must be a host name or *.domain${got(item, source)}`);
    }
    out.push(item.toLowerCase());
  }
  return ok(out);
}

function parseVerifiedPush(raw: unknown, source: Source): Parsed<Settings['pushVerifiedDefault']> {
  return raw === 'off' || raw === 'required' ? ok(raw) : fail('must be off or required' + got(raw, source));
}

function parseLogLevel(raw: unknown, source: Source): Parsed<Settings['logLevel']> {
  const level = LOG_LEVELS.find((l) => l === raw);
  return level ? ok(level) : fail(`must be one of ${LOG_LEVELS.join(', ')}` + got(raw, source));
}

const DAY = 86_400;
const ident = <T>(v: T): unknown => v;

export const SETTINGS: SettingsTable = {
  listen: {
    key: 'listen', env: 'TANDEM_LISTEN', type: 'ADDRESS:PORT ([IPv6]:PORT)',
    default: { host: '127.0.0.1', port: 8443 },
    description: 'Address and port `tandem serve` listens on (port 0: any free port).',
    parse: parseListen,
    toFile: (v) => (v.host.includes(':') ? `[${v.host}]:${v.port}` : `${v.host}:${v.port}`),
  },
  hosts: {
    key: 'hosts', env: 'TANDEM_HOSTS', type: 'host names / IPs (env: comma-separated; file: array)',
    default: ['localhost'],
    description: 'Names clients use for this server: certificate SANs (case kept) and accepted signed hosts.',
    parse: parseHosts, toFile: (v) => [...v],
  },
  databaseUrl: {
    key: 'databaseUrl', env: 'TANDEM_DATABASE_URL', type: 'postgres:// or postgresql:// URL, or null',
    default: null, defaultDoc: 'none (SQLite in the data directory)', secret: true,
    description: 'PostgreSQL connection URL; unset means the embedded SQLite database.',
    parse: parseDatabaseUrl, toFile: ident,
  },
  nodeId: {
    key: 'nodeId', env: 'TANDEM_NODE_ID', type: '1–63 of A-Z a-z 0-9 . _ -',
    default: undefined, defaultDoc: 'the OS host name, sanitised',
    description: "This node's name in the audit log (one hash chain per node).",
    parse: parseNodeId, toFile: ident,
  },
  signatureSkewSeconds: {
    key: 'signatureSkewSeconds', env: 'TANDEM_SIGNATURE_SKEW_SECONDS', ...intSetting(1, 3600), default: 300,
    description: 'Accepted clock difference on signed requests (seconds).',
  },
  longPollSeconds: {
    key: 'longPollSeconds', env: 'TANDEM_LONG_POLL_SECONDS', ...intSetting(1, 300), default: 50,
    description: 'How long auth_status and synchronous auth hold a pending transaction (seconds).',
  },
  transactionTimeoutSeconds: {
    key: 'transactionTimeoutSeconds', env: 'TANDEM_TRANSACTION_TIMEOUT_SECONDS', ...intSetting(1, 3600), default: 60,
    description: 'A pending transaction becomes `timeout` after this many seconds.',
  },
  lockoutThreshold: {
    key: 'lockoutThreshold', env: 'TANDEM_LOCKOUT_THRESHOLD', ...intSetting(1, 1000), default: 10,
    description: 'Consecutive failures that lock a user out.',
  },
  lockoutSeconds: {
    key: 'lockoutSeconds', env: 'TANDEM_LOCKOUT_SECONDS', ...intSetting(0, 365 * DAY), default: 900,
    description: 'Automatic unlock after this many seconds (0: only `tandem user unlock`).',
  },
  enrollLinkSeconds: {
    key: 'enrollLinkSeconds', env: 'TANDEM_ENROLL_LINK_SECONDS', ...intSetting(1, 30 * DAY), default: 900,
    description: 'Lifetime of an enrollment link handed out by preauth (seconds).',
  },
  deviceActivationSeconds: {
    key: 'deviceActivationSeconds', env: 'TANDEM_DEVICE_ACTIVATION_SECONDS', ...intSetting(60, 30 * DAY), default: DAY,
    description: 'Lifetime of a device activation link from `tandem device activate` (seconds).',
  },
  deviceRequestSkewSeconds: {
    key: 'deviceRequestSkewSeconds', env: 'TANDEM_DEVICE_REQUEST_SKEW_SECONDS', ...intSetting(1, 3600), default: 120,
    description: 'Accepted clock difference on Tandem Authenticator requests (seconds).',
  },
  appLongPollSeconds: {
    key: 'appLongPollSeconds', env: 'TANDEM_APP_LONG_POLL_SECONDS', ...intSetting(1, 300), default: 25,
    description: "How long the app's live channel (GET /app/api/requests?wait=) is held (seconds).",
  },
  pushTimeoutSeconds: {
    key: 'pushTimeoutSeconds', env: 'TANDEM_PUSH_TIMEOUT_SECONDS', ...intSetting(1, 600), default: 60,
    description: 'A push not answered within this many seconds ends as `timeout`.',
  },
  pushVerifiedDefault: {
    key: 'pushVerifiedDefault', env: 'TANDEM_PUSH_VERIFIED_DEFAULT', type: 'off | required', default: 'off',
    description: 'Number matching for integrations that do not set it: `required` withholds push from clients that cannot show the code.',
    parse: parseVerifiedPush, toFile: ident,
  },
  pushMaxPending: {
    key: 'pushMaxPending', env: 'TANDEM_PUSH_MAX_PENDING', ...intSetting(1, 100), default: 1,
    description: 'Pending pushes allowed per user at once (integrations may set their own).',
  },
  pushDenialThreshold: {
    key: 'pushDenialThreshold', env: 'TANDEM_PUSH_DENIAL_THRESHOLD', ...intSetting(1, 1000), default: 3,
    description: 'Consecutive denied or unanswered pushes that pause push for a user.',
  },
  pushCooldownSeconds: {
    key: 'pushCooldownSeconds', env: 'TANDEM_PUSH_COOLDOWN_SECONDS', ...intSetting(1, 30 * DAY), default: 900,
    description: 'How long push stays paused after the denial threshold (seconds).',
  },
  pushServiceHosts: {
    key: 'pushServiceHosts', env: 'TANDEM_PUSH_SERVICE_HOSTS', type: 'host names or *.domain (env: comma-separated; file: array)',
    default: ['fcm.googleapis.com', 'updates.push.services.mozilla.com', '*.push.apple.com', '*.notify.windows.com'],
    description: 'Push services Web Push messages may be sent to (the browser vendors\' services by default); any other subscription endpoint is refused.',
    parse: parsePushHosts, toFile: (v) => [...v],
  },
  skeyOverlapSeconds: {
    key: 'skeyOverlapSeconds', env: 'TANDEM_SKEY_OVERLAP_SECONDS', ...intSetting(0, 30 * DAY), default: DAY,
    description: 'How long the previous skey keeps working after `integration rotate-skey` (seconds).',
  },
  totpWindowSteps: {
    key: 'totpWindowSteps', env: 'TANDEM_TOTP_WINDOW_STEPS', ...intSetting(0, 10), default: 1,
    description: 'TOTP steps accepted on either side of now.',
  },
  hotpLookAhead: {
    key: 'hotpLookAhead', env: 'TANDEM_HOTP_LOOK_AHEAD', ...intSetting(0, 100), default: 10,
    description: 'HOTP counters accepted ahead of the expected one.',
  },
  rateLimitIntegrationPerMinute: {
    key: 'rateLimitIntegrationPerMinute', env: 'TANDEM_RATE_LIMIT_INTEGRATION_PER_MINUTE', ...intSetting(1, 1_000_000), default: 600,
    description: 'Requests per minute per integration before 42901.',
  },
  rateLimitUserPerMinute: {
    key: 'rateLimitUserPerMinute', env: 'TANDEM_RATE_LIMIT_USER_PER_MINUTE', ...intSetting(1, 100_000), default: 30,
    description: 'Requests per minute per user before 42901.',
  },
  rateLimitAddressPerMinute: {
    key: 'rateLimitAddressPerMinute', env: 'TANDEM_RATE_LIMIT_ADDRESS_PER_MINUTE', ...intSetting(1, 100_000), default: 60,
    description: 'Unauthenticated requests (device activation, activation QR codes) per minute per source address before 429.',
  },
  keepAliveSeconds: {
    // Above 75 s: duo_unix reuses connections and must not race the server's idle close.
    key: 'keepAliveSeconds', env: 'TANDEM_KEEP_ALIVE_SECONDS', ...intSetting(76, 3600), default: 90,
    description: "HTTP keep-alive idle timeout (seconds); above 75 for duo_unix's connection reuse.",
  },
  bodyLimitBytes: {
    key: 'bodyLimitBytes', env: 'TANDEM_BODY_LIMIT_BYTES', ...intSetting(1024, 16 * 1024 * 1024), default: 65_536,
    description: 'Largest accepted request body (bytes).',
  },
  auditHeadLogSeconds: {
    key: 'auditHeadLogSeconds', env: 'TANDEM_AUDIT_HEAD_LOG_SECONDS', ...intSetting(1, 7 * DAY), default: 3600,
    description: 'Interval for writing the audit chain heads to the server log (seconds).',
  },
  publicUrl: {
    key: 'publicUrl', env: 'TANDEM_PUBLIC_URL', type: 'https:// URL, or null',
    default: null, defaultDoc: '`https://<first host>:<port>`',
    description: 'Base URL of the enrollment portal in enroll_portal_url.',
    parse: parsePublicUrl, toFile: ident,
  },
  logLevel: {
    key: 'logLevel', env: 'TANDEM_LOG_LEVEL', type: LOG_LEVELS.join(' | '), default: 'info',
    description: 'Least severe level written to the server log.',
    parse: parseLogLevel, toFile: ident,
  },
  consoleListen: {
    key: 'consoleListen', env: 'TANDEM_CONSOLE_LISTEN', type: 'ADDRESS:PORT ([IPv6]:PORT), or null',
    default: null, defaultDoc: 'the `listen` address, the port after its port',
    description: 'Address and port of the admin console, a listener of its own (port 0: any free port).',
    parse: (raw, source) => (raw === null && source !== 'env' ? ok(null) : parseListen(raw, source)),
    toFile: (v) => (v === null ? null : SETTINGS.listen.toFile(v)),
  },
  consoleIdleSeconds: {
    key: 'consoleIdleSeconds', env: 'TANDEM_CONSOLE_IDLE_SECONDS', ...intSetting(1, DAY), default: 900,
    description: 'A console session ends after this long without a request (seconds).',
  },
  consoleSessionSeconds: {
    key: 'consoleSessionSeconds', env: 'TANDEM_CONSOLE_SESSION_SECONDS', ...intSetting(1, 7 * DAY), default: 8 * 3600,
    description: 'A console session ends this long after sign-in, whatever the activity (seconds).',
  },
  consoleReauthSeconds: {
    key: 'consoleReauthSeconds', env: 'TANDEM_CONSOLE_REAUTH_SECONDS', ...intSetting(1, 3600), default: 300,
    description: 'Sensitive console actions (rotating an skey, deleting a user) need the password and a code entered within this many seconds.',
  },
};

/** The table as a list, in declaration order (docs and error order follow it). */
export const SETTING_SPECS: readonly SettingSpec<keyof Settings>[] = Object.values(SETTINGS) as SettingSpec<keyof Settings>[];

export function isSettingKey(k: string): k is keyof Settings {
  return Object.hasOwn(SETTINGS, k);
}

/** Environment variables that are not settings but are read elsewhere (data-dir.ts). */
export const OTHER_ENV = ['TANDEM_DATA', 'TANDEM_MASTER_KEY_FILE'] as const;
