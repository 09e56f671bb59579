// From INI entries to a validated ClientConfig. duo_unix's value syntax (duo_unix.md §1.2), but
// closed where duo_unix fails open (§0, §7): a bad value, a missing host/ikey/skey, a missing
// cafile, `noverify` or an empty `cafile` (without `[tandem] allow_insecure_tls = yes`) are errors;
// an unknown key is a warning that changes nothing else; no `failmode` means `secure`;
// no `[tandem] offline_fallback` means `none`.
//
// Sections: duo_unix ignores section names, so keys outside `[tandem]` (none, `[duo]`, or any
// other name, which is warned about) are duo_unix keys. `[tandem]` holds only our extensions.
// Messages name the key, never its value: the skey may be on the line.
import { LocalOptionError, parseLocalArgs } from '../local/local-options.js';
import { IniSyntaxError, parseIni, type IniEntry } from './ini.js';
import { ClientConfigError, type ClientConfig, type ClientProgram, type LoadedConfig, type ProxyConfig } from './types.js';

/** duo_unix MAX_GROUPS. */
export const MAX_GROUP_WORDS = 256;
export const DEFAULT_HTTPS_TIMEOUT_S = 15;
/** The launcher allows 180 s per step (pam/PROTOCOL.md); a sync auth also waits for the server's hold. */
export const MAX_HTTPS_TIMEOUT_S = 60;
const MAX_PROMPTS = 3;

const TRUE_WORDS = new Set(['yes', 'true', 'on', '1']);
const FALSE_WORDS = new Set(['no', 'false', 'off', '0']);

// C ispunct() in the C locale: printable ASCII that is neither alphanumeric nor space.
const PUNCT = /^[!-/:-@[-`{-~]$/;

const HOSTNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$/;

/** The config while lines are read: the required keys may still be missing; TLS is decided at the end. */
type Draft = Omit<ClientConfig, 'file' | 'host' | 'port' | 'ikey' | 'skey' | 'cafile' | 'tlsVerify'> &
  Partial<Pick<ClientConfig, 'host' | 'port' | 'ikey' | 'skey' | 'cafile'>>;

class Ctx {
  readonly warnings: string[] = [];
  constructor(
    readonly file: string,
    readonly program: ClientProgram,
  ) {}
  fail(line: number | null, detail: string): never {
    throw new ClientConfigError(this.file, line, detail);
  }
  warn(line: number, detail: string): void {
    this.warnings.push(`${this.file}, line ${line}: ${detail}`);
  }
}

function bool(ctx: Ctx, e: PairEntry): boolean {
  if (TRUE_WORDS.has(e.value)) return true;
  // duo_unix reads anything else, `Yes` included, as false; say so instead of staying silent.
  if (!FALSE_WORDS.has(e.value)) ctx.warn(e.line, `'${e.key}' is not one of yes/true/on/1 (case-sensitive), so it is read as no`);
  return false;
}

function int(ctx: Ctx, e: PairEntry): number {
  if (!/^[+-]?[0-9]{1,9}$/.test(e.value)) ctx.fail(e.line, `'${e.key}' must be a whole number`);
  return Number(e.value);
}

/** `name[:port]` or `[v6]:port`; duo_unix splits at the first ':' and takes no scheme. */
function hostPort(ctx: Ctx, e: PairEntry, defaultPort: number, what: string): { host: string; port: number } {
  let host: string;
  let portText: string | undefined;
  const v = e.value;
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    if (end === -1) ctx.fail(e.line, `'${what}' has an unterminated [IPv6] address`);
    host = v.slice(1, end);
    const rest = v.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) ctx.fail(e.line, `'${what}' must be host[:port]`);
    portText = rest === '' ? undefined : rest.slice(1);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) ctx.fail(e.line, `'${what}' has an invalid [IPv6] address`);
  } else {
    const colon = v.indexOf(':');
    host = colon === -1 ? v : v.slice(0, colon);
    portText = colon === -1 ? undefined : v.slice(colon + 1);
    if (v.includes('/')) ctx.fail(e.line, `'${what}' must be host[:port], without a scheme or path`);
    if (!HOSTNAME.test(host)) ctx.fail(e.line, `'${what}' is not a valid host name`);
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) ctx.fail(e.line, `'${what}' has an invalid port`);
    port = Number(portText);
  }
  return { host, port };
}

/** `[http://][user:pass@]host[:port][/…]` (duo_unix https.c); any other scheme is refused as duo_unix does. */
function proxy(ctx: Ctx, e: PairEntry): ProxyConfig | null {
  let v = e.value;
  if (v === '') return null;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(v);
  if (scheme !== null) {
    if (scheme[1]!.toLowerCase() !== 'http') ctx.fail(e.line, 'http_proxy must be HTTP (http://host:port)');
    v = v.slice(scheme[0].length);
  }
  const slash = v.indexOf('/');
  if (slash !== -1) v = v.slice(0, slash);
  let auth: string | null = null;
  const at = v.lastIndexOf('@');
  if (at !== -1) {
    auth = v.slice(0, at);
    v = v.slice(at + 1);
    if (!auth.includes(':')) auth = `${auth}:`;
  }
  const hp = hostPort(ctx, { ...e, value: v }, 80, 'http_proxy');
  return { host: hp.host, port: hp.port, auth };
}

/**
 * duo_unix util.c: words split on spaces only (runs of spaces count once); a word ending in `\`
 * is joined to the next one with a space (`users\ with\ spaces`). At most 256 words in all.
 */
export function splitGroupWords(value: string): string[] | null {
  const tokens = value.split(' ').filter((t) => t !== '');
  const words: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    let word = tokens[i]!;
    while (word.endsWith('\\')) {
      const next = tokens[++i];
      if (next === undefined) return null;
      word = word.slice(0, -1) + ' ' + next;
    }
    words.push(word);
  }
  return words;
}

type PairEntry = Extract<IniEntry, { kind: 'pair' }>;

function duoKey(ctx: Ctx, d: Draft, e: PairEntry): void {
  switch (e.key) {
    case 'host': {
      if (e.value === '') {
        delete d.host;
        return;
      }
      const hp = hostPort(ctx, e, 443, 'host');
      d.host = hp.host;
      d.port = hp.port;
      return;
    }
    case 'ikey':
      d.ikey = e.value;
      return;
    case 'skey':
      d.skey = e.value;
      return;
    case 'cafile':
      d.cafile = e.value;
      return;
    case 'http_proxy':
      d.httpProxy = proxy(ctx, e);
      return;
    case 'groups':
    case 'group': {
      const words = splitGroupWords(e.value);
      if (words === null) ctx.fail(e.line, `'${e.key}' ends with a '\\' escaping nothing`);
      d.groups = [...(d.groups ?? []), ...words];
      if (d.groups.length > MAX_GROUP_WORDS) ctx.fail(e.line, `Exceeded max ${MAX_GROUP_WORDS} groups`);
      return;
    }
    case 'failmode':
      if (e.value !== 'safe' && e.value !== 'secure') ctx.fail(e.line, "Invalid failmode (must be exactly 'safe' or 'secure')");
      d.failmode = e.value;
      return;
    case 'pushinfo':
      d.pushinfo = bool(ctx, e);
      return;
    case 'noverify':
      d.noverify = bool(ctx, e);
      return;
    case 'prompts': {
      const n = int(ctx, e);
      d.prompts = n <= 0 ? 1 : Math.min(n, MAX_PROMPTS);
      return;
    }
    case 'autopush':
      d.autopush = bool(ctx, e);
      return;
    case 'accept_env_factor':
      d.acceptEnvFactor = bool(ctx, e);
      if (ctx.program === 'pam') ctx.warn(e.line, "'accept_env_factor' has no effect for PAM (pam_duo ignores it too)");
      return;
    case 'fallback_local_ip':
      d.fallbackLocalIp = bool(ctx, e);
      return;
    case 'https_timeout': {
      const n = int(ctx, e);
      if (n <= 0 || n > MAX_HTTPS_TIMEOUT_S) {
        ctx.warn(e.line, `'https_timeout' must be 1..${MAX_HTTPS_TIMEOUT_S} seconds (duo_unix's "no timeout" is not supported); using ${MAX_HTTPS_TIMEOUT_S}`);
        d.httpsTimeoutMs = MAX_HTTPS_TIMEOUT_S * 1000;
      } else {
        d.httpsTimeoutMs = n * 1000;
      }
      return;
    }
    case 'send_gecos':
      d.sendGecos = bool(ctx, e);
      return;
    case 'gecos_parsed':
      ctx.warn(e.line, "'gecos_parsed' is deprecated and has no effect; use gecos_delim and gecos_username_pos");
      return;
    case 'gecos_delim':
      if ([...e.value].length !== 1) ctx.fail(e.line, "Invalid character option length: 'gecos_delim' must be 1 character long");
      if (!PUNCT.test(e.value) || e.value === ':') ctx.fail(e.line, "Invalid gecos_delim (delimiter must be punctuation other than ':')");
      d.gecosDelim = e.value;
      return;
    case 'gecos_username_pos': {
      const n = int(ctx, e);
      if (n < 1) ctx.fail(e.line, 'Gecos position starts at 1');
      d.gecosUsernamePos = n;
      return;
    }
    case 'motd':
      d.motd = bool(ctx, e);
      if (ctx.program === 'pam') ctx.warn(e.line, "'motd' has no effect for PAM (it is a login_duo option)");
      return;
    case 'dev_fips_mode':
      ctx.warn(e.line, "'dev_fips_mode' has no effect");
      return;
    case 'verified_push':
      // Accepting it silently would give the admin plain push where they asked for more.
      if (TRUE_WORDS.has(e.value)) ctx.fail(e.line, "'verified_push' is not supported; remove it");
      return;
    default:
      ctx.warn(e.line, `unknown key '${e.key}' ignored`);
  }
}

function tandemKey(ctx: Ctx, d: Draft, e: PairEntry): void {
  switch (e.key) {
    case 'allow_insecure_tls':
      d.allowInsecureTls = bool(ctx, e);
      return;
    case 'offline_fallback':
      if (e.value !== 'local' && e.value !== 'none') ctx.fail(e.line, "Invalid offline_fallback (must be exactly 'local' or 'none')");
      d.offlineFallback = e.value;
      return;
    case 'offline_options': {
      // google-authenticator module options (secret=, user=, ...), checked as local mode checks them.
      const words = e.value.split(' ').filter((w) => w !== '');
      try {
        parseLocalArgs(words);
      } catch (err) {
        if (!(err instanceof LocalOptionError)) throw err;
        ctx.fail(e.line, `Invalid offline_options: ${err.message}`);
      }
      d.offlineOptions = words;
      return;
    }
    default:
      ctx.warn(e.line, `unknown [tandem] key '${e.key}' ignored`);
  }
}

export function parseClientConfig(text: string, file: string, program: ClientProgram): LoadedConfig {
  const ctx: Ctx = new Ctx(file, program);
  let entries: IniEntry[];
  try {
    entries = parseIni(text);
  } catch (e) {
    if (e instanceof IniSyntaxError) ctx.fail(e.line, `Parse error: ${e.message}`);
    throw e;
  }
  const d: Draft = {
    groups: null,
    failmode: 'secure',
    pushinfo: false,
    httpProxy: null,
    autopush: false,
    prompts: MAX_PROMPTS,
    acceptEnvFactor: false,
    fallbackLocalIp: false,
    httpsTimeoutMs: DEFAULT_HTTPS_TIMEOUT_S * 1000,
    sendGecos: false,
    gecosDelim: ',',
    gecosUsernamePos: null,
    noverify: false,
    motd: false,
    allowInsecureTls: false,
    offlineFallback: 'none',
    offlineOptions: [],
  };
  for (const e of entries) {
    if (e.kind === 'section') {
      if (e.name !== 'duo' && e.name !== 'tandem') ctx.warn(e.line, `unknown section [${e.name}]: its keys are read as duo_unix keys`);
      continue;
    }
    if (e.section === 'tandem') tandemKey(ctx, d, e);
    else duoKey(ctx, d, e);
  }
  if (!d.host || !d.ikey || !d.skey) ctx.fail(null, 'Missing host, ikey, or skey');
  if (d.cafile === undefined) ctx.fail(null, "'cafile' is required: the PEM file of the CA that signed the server's certificate");
  const insecure = d.noverify || d.cafile === '';
  if (insecure && !d.allowInsecureTls) {
    ctx.fail(null, `${d.noverify ? "'noverify'" : "an empty 'cafile'"} turns TLS verification off; refused unless [tandem] allow_insecure_tls = yes`);
  }
  const config: ClientConfig = {
    file,
    host: d.host,
    port: d.port ?? 443,
    ikey: d.ikey,
    skey: d.skey,
    groups: d.groups,
    failmode: d.failmode,
    pushinfo: d.pushinfo,
    httpProxy: d.httpProxy,
    autopush: d.autopush,
    prompts: d.prompts,
    acceptEnvFactor: d.acceptEnvFactor,
    fallbackLocalIp: d.fallbackLocalIp,
    httpsTimeoutMs: d.httpsTimeoutMs,
    sendGecos: d.sendGecos,
    gecosDelim: d.gecosDelim,
    gecosUsernamePos: d.gecosUsernamePos,
    cafile: d.cafile,
    noverify: d.noverify,
    motd: d.motd,
    allowInsecureTls: d.allowInsecureTls,
    offlineFallback: d.offlineFallback,
    offlineOptions: d.offlineOptions,
    tlsVerify: !insecure,
  };
  if (!config.tlsVerify) ctx.warnings.push(`${file}: TLS verification is OFF (allow_insecure_tls = yes)`);
  return { config, warnings: ctx.warnings };
}
