// Database rows (snake_case, 0/1 or BOOLEAN) to the contract's row types (camelCase, boolean).
// The casts to the contract's string unions are safe: CHECK constraints hold the values to them.
import type { Selectable } from 'kysely';
import { ALLOWED_FACTORS } from './contract.js';
import type {
  ActivationRow,
  AuditEntry,
  BypassCodeRow,
  DeviceRow,
  EnrollTokenRow,
  IntegrationRow,
  NewUserPolicy,
  OtpAlgorithm,
  PasskeyRow,
  PushChallengeRow,
  PushPolicy,
  RequestRecordRow,
  TokenRow,
  TokenType,
  TransactionRow,
  TxState,
  UserRow,
  UserStatus,
} from './contract.js';
import type {
  ActivationsTable,
  AuditLogTable,
  BypassCodesTable,
  DevicesTable,
  EnrollTokensTable,
  IntegrationsTable,
  PasskeysTable,
  PushChallengesTable,
  RequestRecordsTable,
  TokensTable,
  TransactionsTable,
  UsersTable,
} from './schema.js';

export function toIntegration(r: Selectable<IntegrationsTable>): IntegrationRow {
  return {
    id: r.id,
    ikey: r.ikey,
    name: r.name,
    skeySealed: r.skey_sealed,
    prevSkeySealed: r.prev_skey_sealed,
    prevSkeyExpiresAt: r.prev_skey_expires_at,
    newUserPolicy: r.new_user_policy as NewUserPolicy,
    pushPolicy: parsePushPolicy(r.push_policy),
    legacyV1: Boolean(r.legacy_v1),
    enrollmentApproval: r.enrollment_approval === 'admin' ? 'admin' : 'open',
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

/**
 * push_policy has no CHECK constraint (it is JSON text), so it is read defensively: a value that
 * does not parse, or is not an object, reads as {} (the server defaults), and a field of the wrong
 * type is dropped, so a bad row can never stop the integration from loading.
 */
export function parsePushPolicy(text: string): PushPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const r = raw as Record<string, unknown>;
  const policy: PushPolicy = {};
  if (r.verifiedPush === 'off' || r.verifiedPush === 'required') policy.verifiedPush = r.verifiedPush;
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (count(r.maxPending)) policy.maxPending = r.maxPending;
  if (count(r.denialThreshold)) policy.denialThreshold = r.denialThreshold;
  if (typeof r.cooldownSeconds === 'number' && Number.isFinite(r.cooldownSeconds) && r.cooldownSeconds >= 0) {
    policy.cooldownSeconds = r.cooldownSeconds;
  }
  if (typeof r.fraudLocks === 'boolean') policy.fraudLocks = r.fraudLocks;
  if (r.approvalAuth === 'device-key' || r.approvalAuth === 'passkey') policy.approvalAuth = r.approvalAuth;
  // Factors: unknown entries are dropped, the rest kept in canonical order; not an array: dropped.
  if (Array.isArray(r.factors)) policy.factors = ALLOWED_FACTORS.filter((f) => (r.factors as unknown[]).includes(f));
  if (r.failmodeHint === 'secure' || r.failmodeHint === 'safe') policy.failmodeHint = r.failmodeHint;
  return policy;
}

export function toUser(r: Selectable<UsersTable>, aliases: string[]): UserRow {
  return {
    id: r.id,
    username: r.username,
    aliases,
    status: r.status as UserStatus,
    failures: r.failures,
    lockedUntil: r.locked_until,
    createdAt: r.created_at,
    lastLoginAt: r.last_login_at,
  };
}

export function toToken(r: Selectable<TokensTable>): TokenRow {
  return {
    id: r.id,
    userId: r.user_id,
    type: r.type as TokenType,
    secretSealed: r.secret_sealed,
    digits: r.digits as 6 | 8,
    algorithm: r.algorithm as OtpAlgorithm,
    period: r.period,
    nextCounter: r.next_counter,
    createdAt: r.created_at,
  };
}

export function toBypassCode(r: Selectable<BypassCodesTable>): BypassCodeRow {
  return {
    id: r.id,
    userId: r.user_id,
    codeHmac: r.code_hmac,
    usesRemaining: r.uses_remaining,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
  };
}

export function toTransaction(r: Selectable<TransactionsTable>): TransactionRow {
  return {
    txid: r.txid,
    integrationId: r.integration_id,
    userId: r.user_id,
    username: r.username,
    factor: r.factor,
    state: r.state as TxState,
    status: r.status,
    statusMsg: r.status_msg,
    version: r.version,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    settledAt: r.settled_at,
    context: r.context,
  };
}

export function toDevice(r: Selectable<DevicesTable>): DeviceRow {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    publicKeyJwk: r.public_key_jwk,
    tokenId: r.token_id,
    pushSubscription: r.push_subscription,
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  };
}

/** transports is JSON text written by the store; anything but an array of strings reads as []. */
export function toPasskey(r: Selectable<PasskeysTable>): PasskeyRow {
  let transports: string[] = [];
  try {
    const parsed = JSON.parse(r.transports) as unknown;
    if (Array.isArray(parsed) && parsed.every((t) => typeof t === 'string')) transports = parsed as string[];
  } catch {
    // Malformed: no transport hints.
  }
  return {
    credentialId: r.credential_id,
    deviceId: r.device_id,
    userId: r.user_id,
    publicKey: r.public_key,
    counter: r.counter,
    transports,
    createdAt: r.created_at,
  };
}

export function toActivation(r: Selectable<ActivationsTable>): ActivationRow {
  return {
    codeHash: r.code_hash,
    userId: r.user_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    deviceId: r.device_id,
  };
}

export function toPushChallenge(r: Selectable<PushChallengesTable>): PushChallengeRow {
  return {
    txid: r.txid,
    userId: r.user_id,
    deviceId: r.device_id,
    nonce: r.nonce,
    matchCode: r.match_code,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

export function toEnrollToken(r: Selectable<EnrollTokensTable>): EnrollTokenRow {
  return {
    tokenHash: r.token_hash,
    integrationId: r.integration_id,
    username: r.username,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
  };
}

export function toRequestRecord(r: Selectable<RequestRecordsTable>): RequestRecordRow {
  return {
    key: r.key,
    integrationId: r.integration_id,
    peer: r.peer,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    response: r.response,
    delivered: Boolean(r.delivered),
  };
}

export function toAuditEntry(r: Selectable<AuditLogTable>): AuditEntry {
  return {
    nodeId: r.node_id,
    seq: r.seq,
    time: r.time,
    event: r.event,
    integration: r.integration,
    username: r.username,
    factor: r.factor,
    result: r.result,
    reason: r.reason,
    ipaddr: r.ipaddr,
    hostname: r.hostname,
    txid: r.txid,
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
