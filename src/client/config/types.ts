// The client configuration: the login_duo.conf / pam_duo.conf keys (duo_unix.md §1.2) plus the
// `[tandem]` extensions. Produced only by parse.ts; every field already validated.

export type Failmode = 'safe' | 'secure';

/** `[tandem] offline_fallback`: what replaces failmode when the server could not be reached. */
export type OfflineFallback = 'local' | 'none';

/** Which program reads the file: pam_duo.conf and login_duo.conf differ in a few keys (motd, accept_env_factor). */
export type ClientProgram = 'pam' | 'login';

export interface ProxyConfig {
  host: string;
  port: number;
  /** `user:pass` from the URL, sent as `Proxy-Authorization: Basic …`; null when absent. */
  auth: string | null;
}

export interface ClientConfig {
  /** The file this came from (for log lines). */
  file: string;
  /** `host` split as duo_unix does: the name (as written, case kept) and the port (default 443). */
  host: string;
  port: number;
  ikey: string;
  skey: string;
  /** `groups`/`group` words in order (accumulated over lines); null when the key is absent. */
  groups: string[] | null;
  failmode: Failmode;
  pushinfo: boolean;
  httpProxy: ProxyConfig | null;
  autopush: boolean;
  /** 1..3 */
  prompts: number;
  acceptEnvFactor: boolean;
  fallbackLocalIp: boolean;
  httpsTimeoutMs: number;
  sendGecos: boolean;
  /** One punctuation character other than ':' (default ','). */
  gecosDelim: string;
  /** 1-based GECOS field; null when unset. Setting it implies GECOS mode. */
  gecosUsernamePos: number | null;
  /** The CA bundle path; '' only when TLS verification is off (allowed by allow_insecure_tls). */
  cafile: string;
  noverify: boolean;
  motd: boolean;
  /** [tandem] allow_insecure_tls: permits noverify / an empty cafile. */
  allowInsecureTls: boolean;
  /** [tandem] offline_fallback: `local` checks a root-owned google-authenticator file when the server is unreachable. */
  offlineFallback: OfflineFallback;
  /** [tandem] offline_options: google-authenticator module options for that check (space-separated words). */
  offlineOptions: string[];
  /** false only when noverify or an empty cafile was explicitly allowed by allow_insecure_tls. */
  tlsVerify: boolean;
}

export interface LoadedConfig {
  config: ClientConfig;
  warnings: string[];
}

/**
 * Any problem that makes the configuration unusable. The login is DENIED, whatever failmode
 * says (failmode only covers an unreachable server). The message names the file and, when there
 * is one, the line; it never quotes a value (the skey may be on that line).
 */
export class ClientConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly detail: string,
  ) {
    super(line === null ? `${file}: ${detail}` : `${file}, line ${line}: ${detail}`);
    this.name = 'ClientConfigError';
  }
}
