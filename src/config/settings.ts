// The validated, frozen server configuration. src/config/schema.ts defines each key once (default,
// validator, environment variable, documentation); this is the type it produces.

export interface Settings {
  /** Address and port `tandem serve` listens on. */
  listen: { host: string; port: number };
  /** Host names clients use for this server: certificate SANs and accepted signed hosts. */
  hosts: string[];
  /** PostgreSQL URL; absent means the embedded SQLite database in the data directory. */
  databaseUrl: string | null;
  /** This node's name in the audit log (one hash chain per node). */
  nodeId: string;

  /** Accepted clock difference on signed requests (seconds). */
  signatureSkewSeconds: number;
  /** How long auth_status and sync auth hold a pending transaction before answering (seconds). */
  longPollSeconds: number;
  /** A pending transaction becomes `timeout` after this many seconds. */
  transactionTimeoutSeconds: number;
  /** Consecutive failures that lock a user out. */
  lockoutThreshold: number;
  /** Automatic unlock after this many seconds (0: only `tandem user unlock`). */
  lockoutSeconds: number;
  /** Lifetime of an enrollment link handed out by preauth (seconds). */
  enrollLinkSeconds: number;
  /** Lifetime of a device activation link from `tandem device activate` (seconds). */
  deviceActivationSeconds: number;
  /** Accepted clock difference on Tandem Authenticator requests (seconds). */
  deviceRequestSkewSeconds: number;
  /** How long the app's live channel (GET /app/api/requests?wait=) is held (seconds). */
  appLongPollSeconds: number;
  /** A push not answered within this many seconds ends as `timeout`. */
  pushTimeoutSeconds: number;
  /** Site defaults of the per-integration push policy (docs/push.md §6). */
  pushVerifiedDefault: 'off' | 'required';
  pushMaxPending: number;
  pushDenialThreshold: number;
  pushCooldownSeconds: number;
  /**
   * Push services the server will POST Web Push messages to: host names, `*.` for any subdomain.
   * A device chooses its subscription endpoint, so without this list an enrolled phone could make
   * the server send requests to any HTTPS address it can reach (SSRF).
   */
  pushServiceHosts: string[];
  /** How long the previous skey keeps working after `integration rotate-skey` (seconds). */
  skeyOverlapSeconds: number;
  /** TOTP steps accepted on either side of now. */
  totpWindowSteps: number;
  /** HOTP counters accepted ahead of the expected one. */
  hotpLookAhead: number;
  /** Requests per minute per integration and per user before 42901. */
  rateLimitIntegrationPerMinute: number;
  rateLimitUserPerMinute: number;
  /** Unauthenticated requests (device activation, activation QR codes) per minute per source address. */
  rateLimitAddressPerMinute: number;
  /** HTTP keep-alive idle timeout (seconds); above 75 s for duo_unix's connection reuse. */
  keepAliveSeconds: number;
  /** Largest accepted request body (bytes). */
  bodyLimitBytes: number;
  /** Interval for writing the audit chain heads to the server log (seconds). */
  auditHeadLogSeconds: number;
  /** Base URL of the enrollment portal in enroll_portal_url (default https://<first host>:<port>). */
  publicUrl: string | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The admin console's own listener; null: the main listen host, the port after the main one. */
  consoleListen: { host: string; port: number } | null;
  /** A console session ends after this long without a request (seconds). */
  consoleIdleSeconds: number;
  /** A console session ends this long after sign-in whatever the activity (seconds). */
  consoleSessionSeconds: number;
  /** Sensitive console actions need a password + code re-entered within this many seconds. */
  consoleReauthSeconds: number;
}
