// The store contract: everything core/ may ask of a database, as named operations.
// Every operation that guards a security property is atomic in the backend (a unique index or a
// single conditional UPDATE inside a transaction), never a read followed by a write in core/.
// One conformance suite (test/store/) runs this contract against SQLite and PostgreSQL.
//
// Conventions: times are integer milliseconds since the epoch; ids are opaque strings made by
// core/; "sealed" values are AES-GCM envelopes made by core/ (the store never sees plaintext).

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

export interface Store {
  readonly backend: 'sqlite' | 'postgres';

  // ---- integrations
  createIntegration(row: IntegrationRow): Promise<void>;
  getIntegrationByIkey(ikey: string): Promise<IntegrationRow | undefined>;
  listIntegrations(): Promise<IntegrationRow[]>;
  deleteIntegration(ikey: string): Promise<boolean>;
  /** Replace the skey, keeping the old one valid until prevExpiresAt. */
  rotateSkey(ikey: string, newSealed: string, prevSealed: string, prevExpiresAt: number): Promise<boolean>;
  touchIntegration(id: string, at: number): Promise<void>;
  setIntegrationNewUserPolicy(ikey: string, policy: NewUserPolicy): Promise<boolean>;

  // ---- users (username and aliases share one namespace; a name belongs to at most one user)
  /** Throws StoreConflictError if the username or an alias is taken. */
  createUser(row: Omit<UserRow, 'failures' | 'lockedUntil' | 'lastLoginAt'>): Promise<void>;
  findUserByName(name: string): Promise<UserRow | undefined>;
  getUser(id: string): Promise<UserRow | undefined>;
  listUsers(): Promise<UserRow[]>;
  setUserStatus(id: string, status: UserStatus): Promise<boolean>;
  /** Adds an alias (throws StoreConflictError if the name is taken); false if no such user. */
  addUserAlias(userId: string, alias: string): Promise<boolean>;
  /** Removes one of the user's aliases (never the username); false if it is not their alias. */
  removeUserAlias(userId: string, alias: string): Promise<boolean>;
  /** Deletes the user with its aliases, tokens and bypass codes. */
  deleteUser(id: string): Promise<boolean>;
  /**
   * Atomically count one failure; lock until `at + lockMs` when the count reaches `threshold`.
   * Returns the new state.
   */
  recordFailure(id: string, at: number, threshold: number, lockMs: number): Promise<{ failures: number; lockedUntil: number | null }>;
  /** A success: failures to 0, lock cleared, last login set. */
  recordSuccess(id: string, at: number): Promise<void>;
  /** Operator unlock: failures to 0, lock cleared. */
  unlockUser(id: string): Promise<boolean>;

  // ---- OTP tokens
  addToken(row: TokenRow): Promise<void>;
  listTokens(userId: string): Promise<TokenRow[]>;
  getToken(id: string): Promise<TokenRow | undefined>;
  removeToken(id: string): Promise<boolean>;
  /**
   * Accept counter/step `value` once: succeeds only if value >= nextCounter, and then sets
   * nextCounter = value + 1 in the same statement. Concurrent calls: exactly one wins.
   */
  acceptOtp(tokenId: string, value: number): Promise<boolean>;
  /** Operator resync of an HOTP token. */
  setTokenCounter(tokenId: string, nextCounter: number): Promise<boolean>;

  // ---- bypass codes
  /** Adds codes; with replace=true the user's existing codes are removed in the same transaction. */
  addBypassCodes(userId: string, rows: BypassCodeRow[], replace: boolean): Promise<void>;
  listBypassCodes(userId: string): Promise<BypassCodeRow[]>;
  clearBypassCodes(userId: string): Promise<number>;
  /**
   * Use one of the user's codes with this HMAC, if unexpired and with uses left; atomically
   * decrements (and deletes when it reaches 0). Concurrent calls on a single-use code: one wins.
   */
  consumeBypassCode(userId: string, codeHmac: string, at: number): Promise<boolean>;

  // ---- transactions
  createTransaction(row: TransactionRow): Promise<void>;
  getTransaction(txid: string): Promise<TransactionRow | undefined>;
  /** pending → final state, exactly once; returns false if it was already settled. Notifies. */
  settleTransaction(txid: string, outcome: { state: Exclude<TxState, 'pending'>; status: string; statusMsg: string; at: number }): Promise<boolean>;
  /** Change status/statusMsg of a pending transaction (bumps version). Notifies. */
  updatePendingStatus(txid: string, status: string, statusMsg: string): Promise<boolean>;
  /** Count one auth_status poll of a transaction; returns the count including this one. */
  countStatusPoll(txid: string): Promise<number>;
  /** Pending transactions whose expiresAt has passed (for the expiry sweeper). */
  listExpiredPending(at: number, limit: number): Promise<string[]>;
  /** Pending transactions not yet expired at `at`, oldest first (the console's dashboard). */
  listPendingTransactions(at: number, limit: number): Promise<TransactionRow[]>;
  /** Delete settled transactions older than `before`. */
  purgeTransactions(before: number): Promise<number>;
  /**
   * Subscribe to changes of a transaction (from any node: in-process for SQLite,
   * LISTEN/NOTIFY for PostgreSQL). Returns an unsubscribe function.
   */
  onTransactionChange(txid: string, listener: () => void): () => void;

  // ---- devices (the Tandem Authenticator) and their activation
  createActivation(row: ActivationRow): Promise<void>;
  getActivation(codeHash: string): Promise<ActivationRow | undefined>;
  /**
   * Use an activation once: if it is unused and unexpired, mark it used and insert the device and
   * its TOTP token in the same transaction. Concurrent uses: exactly one wins; returns undefined
   * for the others and for unknown or expired codes.
   */
  consumeActivation(codeHash: string, at: number, device: DeviceRow, token: TokenRow): Promise<ActivationRow | undefined>;
  getDevice(id: string): Promise<DeviceRow | undefined>;
  listDevices(userId: string): Promise<DeviceRow[]>;
  /** Deletes the device and its TOTP token. */
  removeDevice(id: string): Promise<boolean>;
  setDeviceSubscription(id: string, subscription: string | null): Promise<boolean>;
  touchDevice(id: string, at: number): Promise<void>;
  setIntegrationPushPolicy(ikey: string, policy: PushPolicy): Promise<boolean>;

  // ---- passkeys (WebAuthn credentials of a device; removed with the device or the user)
  /**
   * Throws StoreConflictError if the credential id is already registered (to any device), and an
   * error if the device does not exist or belongs to another user than `row.userId`.
   */
  addPasskey(row: PasskeyRow): Promise<void>;
  /** The device's passkeys, oldest first. */
  listPasskeys(deviceId: string): Promise<PasskeyRow[]>;
  getPasskey(credentialId: string): Promise<PasskeyRow | undefined>;
  /**
   * Accept an assertion's signature counter, atomically: succeeds only when `newCounter` is
   * greater than the stored counter, or when both are 0 (authenticators that do not count keep
   * sending 0), and then stores it in the same statement. A counter that did not move forward
   * (a cloned authenticator, or a replayed assertion) returns false. Concurrent calls with the
   * same counter: at most one wins (except 0 → 0, which cannot tell them apart).
   */
  updatePasskeyCounter(credentialId: string, newCounter: number): Promise<boolean>;

  // ---- push
  /**
   * Create a pending push transaction and its challenge, atomically refusing when the user
   * already has `maxPending` pending, unexpired pushes at `at`. Announces the user's push change.
   */
  createPushTransaction(tx: TransactionRow, challenge: PushChallengeRow, maxPending: number, at: number): Promise<'created' | 'too_many'>;
  getPushChallenge(txid: string): Promise<PushChallengeRow | undefined>;
  /** The user's pending, unexpired pushes at `at`, oldest first. */
  listPendingPushes(userId: string, at: number): Promise<PendingPush[]>;
  /**
   * Count one push denial (deny, fraud, timeout); when the count reaches `threshold`, pause
   * push until `at + cooldownMs` and reset the count. Returns the state after.
   */
  recordPushDenial(userId: string, at: number, threshold: number, cooldownMs: number): Promise<{ denials: number; pausedUntil: number | null }>;
  /** An approved push clears the denial count. */
  clearPushDenials(userId: string): Promise<void>;
  getPushPause(userId: string): Promise<number | null>;
  /** Lock the user until `until` (fraud report), whatever the failure count. */
  lockUser(id: string, until: number): Promise<boolean>;
  /**
   * Subscribe to changes of a user's pending pushes (created, settled), from any node like
   * onTransactionChange. `announcePushChange` is called by core after settling a push.
   */
  onUserPushChange(userId: string, listener: () => void): () => void;
  announcePushChange(userId: string): Promise<void>;

  // ---- server-wide secrets (e.g. the VAPID key pair), sealed by core
  /** Insert if absent; returns the stored value (the existing one when another node won). */
  putSecretIfAbsent(name: string, sealed: string, at: number): Promise<string>;

  // ---- enrollment links
  createEnrollToken(row: EnrollTokenRow): Promise<void>;
  /** Mark used if unused and unexpired; returns the row on success. */
  consumeEnrollToken(tokenHash: string, at: number): Promise<EnrollTokenRow | undefined>;
  getEnrollToken(tokenHash: string): Promise<EnrollTokenRow | undefined>;

  // ---- portal sessions and held enrollments (ops/portal.ts)
  createPortalSession(row: PortalSessionRow): Promise<void>;
  /** The session if it exists and is unexpired at `at`. */
  getPortalSession(idHash: string, at: number): Promise<PortalSessionRow | undefined>;
  setPortalProved(idHash: string, at: number): Promise<boolean>;
  setPortalPendingTotp(idHash: string, sealed: string | null): Promise<boolean>;
  /** Clears the pending seed only if it is still `sealed`: one confirmation wins. */
  takePortalPendingTotp(idHash: string, sealed: string): Promise<boolean>;
  deletePortalSession(idHash: string): Promise<boolean>;
  createPendingEnrollment(row: PendingEnrollmentRow): Promise<void>;
  getPendingEnrollment(id: string): Promise<PendingEnrollmentRow | undefined>;
  /** Held enrollments, oldest first (state 'pending' unless `all`). */
  listPendingEnrollments(all?: boolean): Promise<PendingEnrollmentRow[]>;
  /** pending → approved | denied, once; returns the row as it was when this call won. */
  decidePendingEnrollment(id: string, state: 'approved' | 'denied', at: number): Promise<PendingEnrollmentRow | undefined>;
  /**
   * Approves a held TOTP enrollment and adds its token in ONE transaction: pending → approved (only
   * a 'totp' row of `token.userId`) and the token inserted, or neither. Returns the row as it was
   * when this call won; undefined when it is not a pending TOTP enrollment of that user (already
   * decided, unknown). A token id already taken throws StoreConflictError and leaves it pending.
   */
  approvePendingTotp(id: string, token: TokenRow, at: number): Promise<PendingEnrollmentRow | undefined>;
  setIntegrationEnrollmentApproval(ikey: string, approval: EnrollmentApproval): Promise<boolean>;

  // ---- console administrators and their sessions
  /** Throws StoreConflictError if the name is taken. */
  createAdmin(row: AdminRow): Promise<void>;
  getAdmin(id: string): Promise<AdminRow | undefined>;
  findAdminByName(name: string): Promise<AdminRow | undefined>;
  findAdminBySetupToken(tokenHash: string): Promise<AdminRow | undefined>;
  /** By name. */
  listAdmins(): Promise<AdminRow[]>;
  /**
   * A new setup link: password cleared, new sealed TOTP seed (step 0), status pending, failures
   * and lock cleared, and every session of the admin deleted, in one transaction.
   */
  resetAdmin(id: string, setup: { tokenHash: string; expiresAt: number; totpSealed: string }): Promise<boolean>;
  /**
   * Use a setup token once: if it is unused, unexpired and its admin pending, set the password,
   * the next TOTP step and status active, and mark the token used, in one conditional UPDATE.
   * Concurrent uses: exactly one wins; the others (and unknown tokens) get undefined.
   */
  completeAdminSetup(tokenHash: string, at: number, passwordHash: string, totpNextStep: number): Promise<AdminRow | undefined>;
  /** Disabling also deletes the admin's sessions (same transaction); a pending admin cannot be enabled. */
  setAdminStatus(id: string, status: 'active' | 'disabled'): Promise<boolean>;
  /** Accept TOTP step `step` once (as acceptOtp): false if it, or a later one, was accepted. */
  acceptAdminTotp(id: string, step: number): Promise<boolean>;
  /** As recordFailure for users. */
  recordAdminFailure(id: string, at: number, threshold: number, lockMs: number): Promise<{ failures: number; lockedUntil: number | null }>;
  /** Failures to 0, lock cleared. */
  clearAdminFailures(id: string): Promise<boolean>;
  createAdminSession(row: AdminSessionRow): Promise<void>;
  /**
   * The session if it is still live at `at` (last seen after `at - idleMs`, not past its absolute
   * expiry), its last-seen time moved to `at` in the same statement; undefined otherwise.
   */
  touchAdminSession(idHash: string, at: number, idleMs: number): Promise<AdminSessionRow | undefined>;
  setAdminSessionReauth(idHash: string, at: number): Promise<boolean>;
  deleteAdminSession(idHash: string): Promise<boolean>;
  /** Deletes sessions past their absolute expiry or idle since before `idleBefore`. */
  purgeAdminSessions(at: number, idleBefore: number): Promise<number>;

  // ---- signed-request records (replay / retransmission)
  /**
   * Insert if absent. Returns 'inserted', or the existing record for a request seen before.
   */
  rememberRequest(row: Omit<RequestRecordRow, 'response' | 'delivered'>): Promise<'inserted' | RequestRecordRow>;
  /**
   * Start the record over for a new request with the same key (legacy v1 requests carry no
   * date, so a byte-identical one may be a new login): response cleared, not delivered.
   */
  restartRequest(row: Omit<RequestRecordRow, 'response' | 'delivered'>): Promise<void>;
  setRequestResponse(key: string, response: string): Promise<void>;
  markRequestDelivered(key: string): Promise<void>;
  getRequest(key: string): Promise<RequestRecordRow | undefined>;
  purgeRequests(before: number): Promise<number>;

  // ---- audit log: one hash chain per node
  /**
   * Append atomically to `entry.nodeId`'s chain: reads the chain head and inserts the next entry
   * in one transaction. `hash(prevHash, seq)` computes the entry's hash (core/ owns the format).
   */
  appendAudit(entry: NewAuditEntry, hash: (prevHash: string, seq: number) => string): Promise<AuditEntry>;
  /** Entries of one chain in seq order, starting after `afterSeq`. */
  readAuditChain(nodeId: string, afterSeq: number, limit: number): Promise<AuditEntry[]>;
  listAuditNodes(): Promise<string[]>;
  /** Newest first across all chains. */
  queryAudit(q: AuditQuery): Promise<AuditEntry[]>;
  /** Counts of matching entries grouped by bucket, result and factor (GROUP BY in the database). */
  countAudit(q: AuditCountQuery): Promise<AuditCount[]>;

  close(): Promise<void>;
}

export class StoreConflictError extends Error {
  constructor(what: string) {
    super(`${what} already exists`);
    this.name = 'StoreConflictError';
  }
}

/** The hash of the chain before its first entry. */
export const AUDIT_GENESIS = '0'.repeat(64);
