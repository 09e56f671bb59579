// The store contract: everything core/ may ask of a database, as named operations.
// Every operation that guards a security property is atomic in the backend (a unique index or a
// single conditional UPDATE inside a transaction), never a read followed by a write in core/.
// One conformance suite (test/store/) runs this contract against SQLite and PostgreSQL.
//
// Conventions: times are integer milliseconds since the epoch; ids are opaque strings made by
// core/; "sealed" values are AES-GCM envelopes made by core/ (the store never sees plaintext).
import type {
  NewUserPolicy,
  UserStatus,
  EnrollmentApproval,
  TxState,
  IntegrationRow,
  UserRow,
  TokenRow,
  BypassCodeRow,
  TransactionRow,
  PushPolicy,
  DeviceRow,
  PasskeyRow,
  ActivationRow,
  PushChallengeRow,
  PendingPush,
  EnrollTokenRow,
  AdminRow,
  AdminSessionRow,
  PortalSessionRow,
  PendingEnrollmentRow,
  RequestRecordRow,
  AuditEntry,
  NewAuditEntry,
  AuditQuery,
  AuditCountQuery,
  AuditCount,
} from './records.js';

// The rows are defined in records.ts; everything that imports the contract finds them here too.
export * from './records.js';

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
