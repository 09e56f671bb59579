// The rows and values of the store contract (src/store/contract.ts): what each named operation
// takes and returns. Times are integer milliseconds since the epoch; "sealed" values are AES-GCM
// envelopes made by core/ (the store never sees plaintext).

export type NewUserPolicy = 'enroll' | 'allow' | 'deny';
/** Duo's user status: bypass lets the user in with primary auth only (a lock still denies). */
export type UserStatus = 'active' | 'bypass' | 'disabled';
export type TokenType = 'totp' | 'hotp';
export type OtpAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type EnrollmentApproval = 'open' | 'admin';
export type TxState = 'pending' | 'allow' | 'deny' | 'timeout' | 'fraud';

export interface IntegrationRow {
  id: string;
  ikey: string;
  name: string;
  skeySealed: string;
  /** The skey before the last rotation, still accepted until prevSkeyExpiresAt. */
  prevSkeySealed: string | null;
  prevSkeyExpiresAt: number | null;
  newUserPolicy: NewUserPolicy;
  /** Push settings for this integration (empty object: the server defaults). */
  pushPolicy: PushPolicy;
  /** Accept legacy v1 signatures (no date; duo_unix <= 2.0.3 and /rest/v1). Off unless asked. */
  legacyV1: boolean;
  /** Portal enrollments: open to whoever holds the link (absent: 'open'), or held for an admin. */
  enrollmentApproval?: EnrollmentApproval;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface UserRow {
  id: string;
  username: string;
  aliases: string[];
  status: UserStatus;
  /** Consecutive failed authentications since the last success or unlock. */
  failures: number;
  /** Locked out until this time (null: not locked). */
  lockedUntil: number | null;
  createdAt: number;
  lastLoginAt: number | null;
}

export interface TokenRow {
  id: string;
  userId: string;
  type: TokenType;
  secretSealed: string;
  digits: 6 | 8;
  algorithm: OtpAlgorithm;
  /** TOTP period in seconds (null for HOTP). */
  period: number | null;
  /**
   * The lowest counter (HOTP) or time step (TOTP) that may still be accepted.
   * Accepting value v sets it to v + 1, so every code is accepted at most once.
   */
  nextCounter: number;
  createdAt: number;
}

export interface BypassCodeRow {
  id: string;
  userId: string;
  /** HMAC of the code under a key derived from the master key (never the code itself). */
  codeHmac: string;
  /** Remaining uses; null means unlimited. */
  usesRemaining: number | null;
  expiresAt: number | null;
  createdAt: number;
}

export interface TransactionRow {
  txid: string;
  /** Null only for a proof push of an enrollment-portal session that belongs to no integration. */
  integrationId: string | null;
  /** Null when the user is unknown (the transaction still exists so the answer looks the same). */
  userId: string | null;
  username: string;
  factor: string;
  state: TxState;
  /** Duo status word: pushed, calling, allow, deny, timeout, fraud, locked_out, sent, bypass … */
  status: string;
  statusMsg: string;
  /** Bumped on every change; auth_status long-polls until it moves. */
  version: number;
  createdAt: number;
  expiresAt: number;
  settledAt: number | null;
  /** JSON text: ipaddr, hostname, pushinfo, type, display_username … from the request. */
  context: string;
}

/** The login factors an integration may allow (the passcode factor covers TOTP/HOTP tokens and the app's codes). */
export type AllowedFactor = 'push' | 'passcode' | 'bypass';
export const ALLOWED_FACTORS: readonly AllowedFactor[] = ['push', 'passcode', 'bypass'];
/** The failmode an integration's ready-to-paste client configs carry (duo_unix's `failmode =`). */
export type FailmodeHint = 'secure' | 'safe';

/**
 * Per-integration policy, stored as JSON in integrations.push_policy: the push settings
 * (docs/push.md §6), the factors allowed and the failmode hint. Absent fields fall back to the
 * server settings (push* in config) or the defaults, so one integration can be stricter than
 * the site default.
 */
export interface PushPolicy {
  /** Number matching: 'required' withholds push from clients that cannot show the code. */
  verifiedPush?: 'off' | 'required';
  /** At most this many pending pushes per user (further pushes are refused, audited). */
  maxPending?: number;
  /** This many consecutive denials (deny, fraud, timeout) pause push for the user… */
  denialThreshold?: number;
  /** …for this long. */
  cooldownSeconds?: number;
  /** "Deny and report as fraud" locks the user (default true). */
  fraudLocks?: boolean;
  /**
   * What must cover an approval: the device key's signature alone ('device-key', the default), or
   * also a WebAuthn assertion by a passkey of the approving device, user verified ('passkey').
   */
  approvalAuth?: 'device-key' | 'passkey';
  /** The factors logins through this integration may use, in ALLOWED_FACTORS order (absent: all). */
  factors?: AllowedFactor[];
  /** The failmode its client configs carry and hosts are expected to send (absent: 'secure'). */
  failmodeHint?: FailmodeHint;
}

/** A Tandem Authenticator installation: an ECDSA P-256 key that signs approvals. */
export interface DeviceRow {
  /** "DP" + 18 characters, like Duo's phone ids; also the key id in signed approvals. */
  id: string;
  userId: string;
  /** What the user called it (printable, ≤ 64 characters). */
  name: string;
  /** The device's public key as JWK JSON text ({kty:"EC",crv:"P-256",x,y}). */
  publicKeyJwk: string;
  /** The TOTP token row made at activation (the app's offline codes); removed with the device. */
  tokenId: string;
  /** Web Push subscription JSON text, or null (the live channel alone). */
  pushSubscription: string | null;
  createdAt: number;
  lastSeenAt: number | null;
}

/** A passkey (WebAuthn credential) a device registered (docs/push.md §8). */
export interface PasskeyRow {
  /** The credential id, base64url (as WebAuthn's `id`). */
  credentialId: string;
  /** The device that registered it: only that device's approvals may be covered by it. */
  deviceId: string;
  userId: string;
  /** The credential's COSE public key, base64url. */
  publicKey: string;
  /** The signature counter last accepted; stays 0 for authenticators that do not count. */
  counter: number;
  /** Transports the browser reported (hints for allowCredentials). */
  transports: string[];
  createdAt: number;
}

/** A pending activation (tandem device activate, /auth/v2/enroll). */
export interface ActivationRow {
  /** SHA-256 hex of the activation code; the code is only ever in the link. */
  codeHash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** The device made by the activation, once used. */
  deviceId: string | null;
}

/** What a push transaction carries beyond its TransactionRow (one per push txid). */
export interface PushChallengeRow {
  txid: string;
  userId: string;
  /** The device asked, or null for any of the user's devices (device=auto). */
  deviceId: string | null;
  /** 128-bit random, base64url; bound into the signed approval. */
  nonce: string;
  /** The number the user must type (number matching), or null. Never sent to the app. */
  matchCode: string | null;
  createdAt: number;
  expiresAt: number;
}

/** A pending push as the app lists it: the challenge with its transaction. */
export interface PendingPush {
  challenge: PushChallengeRow;
  tx: TransactionRow;
  /** '' when the transaction belongs to no integration. */
  ikey: string;
  integrationName: string;
}

export interface EnrollTokenRow {
  /** SHA-256 hex of the token; the token itself is only ever in the URL. */
  tokenHash: string;
  /** The integration whose preauth made the link; null for a link an admin made. */
  integrationId: string | null;
  username: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/** A console administrator (issue 7). `pending` until the setup link is used. */
export type AdminStatus = 'pending' | 'active' | 'disabled';

export interface AdminRow {
  id: string;
  name: string;
  /** scrypt, self-describing: `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`; null until setup. */
  passwordHash: string | null;
  /** The TOTP seed, sealed by core (AAD bound to the admin id). */
  totpSealed: string;
  /** The lowest TOTP step that may still be accepted (accept-once, like TokenRow.nextCounter). */
  totpNextStep: number;
  status: AdminStatus;
  failures: number;
  lockedUntil: number | null;
  createdAt: number;
  /** SHA-256 hex of the one-time setup token (the token is only ever in the link). */
  setupTokenHash: string | null;
  setupExpiresAt: number | null;
  setupUsedAt: number | null;
}

/** A console session, stored by the SHA-256 of its cookie value. */
export interface AdminSessionRow {
  idHash: string;
  adminId: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute end, whatever the activity. */
  expiresAt: number;
  /** Last re-authentication (password + code) for sensitive actions, or null. */
  reauthAt: number | null;
}

/** A portal session (cookie __Host-tandem_portal): only the SHA-256 of its id is stored. */
export interface PortalSessionRow {
  idHash: string;
  userId: string;
  /** From the enrollment link (null: a link an admin made). */
  integrationId: string | null;
  createdAt: number;
  expiresAt: number;
  /** When the user proved an existing factor in this session (null: not yet). */
  provedAt: number | null;
  /** A TOTP seed shown but not yet confirmed by a code, sealed to this session. */
  pendingTotpSealed: string | null;
}

export type PendingEnrollmentKind = 'totp' | 'device';
export type PendingEnrollmentState = 'pending' | 'approved' | 'denied';

/** A portal enrollment held until an admin approves it (not usable for login before). */
export interface PendingEnrollmentRow {
  id: string;
  userId: string;
  integrationId: string | null;
  kind: PendingEnrollmentKind;
  /** TOTP: the confirmed seed, sealed to this row. */
  secretSealed: string | null;
  /** TOTP: the first step still acceptable (past the confirming code). */
  nextCounter: number;
  state: PendingEnrollmentState;
  createdAt: number;
  decidedAt: number | null;
}

export interface RequestRecordRow {
  /** Hash of ikey + signature: identifies a byte-identical signed request. */
  key: string;
  integrationId: string;
  peer: string;
  createdAt: number;
  expiresAt: number;
  /** JSON text of the response once it is known (null while the first copy is processing). */
  response: string | null;
  /** True once the response was fully handed to the client's connection. */
  delivered: boolean;
}

export interface AuditEntry {
  nodeId: string;
  seq: number;
  time: number;
  /** preauth | auth | status | admin */
  event: string;
  integration: string | null;
  username: string | null;
  factor: string | null;
  result: string;
  reason: string;
  ipaddr: string | null;
  hostname: string | null;
  txid: string | null;
  /** JSON text with anything else worth keeping (never secrets). */
  detail: string;
  prevHash: string;
  hash: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>;

export interface AuditQuery {
  username?: string;
  since?: number;
  event?: string;
  /** Any of these events (e.g. the authentication log: preauth and auth, not admin). */
  events?: string[];
  integration?: string;
  result?: string;
  factor?: string;
  /** Only entries at or before this time (ms). */
  until?: number;
  limit?: number;
}

/** Audit entries counted per time bucket, result and factor (the console's dashboard chart). */
export interface AuditCountQuery {
  since: number;
  until: number;
  /** Bucket width in ms: an entry at time t counts in bucket floor(t / bucketMs) * bucketMs. */
  bucketMs: number;
  events: string[];
}

export interface AuditCount {
  bucket: number;
  result: string;
  factor: string | null;
  count: number;
}
