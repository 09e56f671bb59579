// Row builders for the store tests. Times are realistic millisecond epochs (above 2^31, so a
// BIGINT column that came back as a string or an INTEGER that overflowed would show).
import { createHash } from 'node:crypto';
import type {
  ActivationRow,
  BypassCodeRow,
  DeviceRow,
  IntegrationRow,
  NewAuditEntry,
  PasskeyRow,
  PushChallengeRow,
  TokenRow,
  TransactionRow,
  UserRow,
} from '../../src/store/contract.js';

export const T0 = 1_750_000_000_000;

let counter = 0;
const next = () => ++counter;

export function integration(over: Partial<IntegrationRow> = {}): IntegrationRow {
  const n = next();
  return {
    id: `int-${n}`,
    ikey: `DI${String(n).padStart(18, '0')}`,
    name: `Integration ${n}`,
    skeySealed: `sealed-skey-${n}`,
    prevSkeySealed: null,
    prevSkeyExpiresAt: null,
    newUserPolicy: 'enroll',
    pushPolicy: {},
    legacyV1: false,
    enrollmentApproval: 'open',
    createdAt: T0 + n,
    lastUsedAt: null,
    ...over,
  };
}

export function user(
  over: Partial<Omit<UserRow, 'failures' | 'lockedUntil' | 'lastLoginAt'>> = {},
): Omit<UserRow, 'failures' | 'lockedUntil' | 'lastLoginAt'> {
  const n = next();
  return { id: `user-${n}`, username: `user${n}`, aliases: [], status: 'active', createdAt: T0 + n, ...over };
}

export function token(userId: string, over: Partial<TokenRow> = {}): TokenRow {
  const n = next();
  return {
    id: `tok-${n}`,
    userId,
    type: 'totp',
    secretSealed: `sealed-secret-${n}`,
    digits: 6,
    algorithm: 'sha1',
    period: 30,
    nextCounter: 58_333_333,
    createdAt: T0 + n,
    ...over,
  };
}

export function bypassCode(userId: string, over: Partial<BypassCodeRow> = {}): BypassCodeRow {
  const n = next();
  return { id: `bc-${n}`, userId, codeHmac: `hmac-${n}`, usesRemaining: 1, expiresAt: null, createdAt: T0 + n, ...over };
}

export function transaction(integrationId: string, over: Partial<TransactionRow> = {}): TransactionRow {
  const n = next();
  return {
    txid: `tx-${n}`,
    integrationId,
    userId: null,
    username: `someone${n}`,
    factor: 'push',
    state: 'pending',
    status: 'pushed',
    statusMsg: 'Pushed a login request to your device...',
    version: 0,
    createdAt: T0,
    expiresAt: T0 + 60_000,
    settledAt: null,
    context: JSON.stringify({ ipaddr: '192.0.2.1', hostname: 'host' }),
    ...over,
  };
}

export function activation(userId: string, over: Partial<ActivationRow> = {}): ActivationRow {
  const n = next();
  return { codeHash: `code-hash-${n}`, userId, createdAt: T0, expiresAt: T0 + 86_400_000, usedAt: null, deviceId: null, ...over };
}

/** A device with the TOTP token it is activated with (its tokenId points at the token). */
export function deviceWithToken(userId: string, over: Partial<DeviceRow> = {}): { device: DeviceRow; token: TokenRow } {
  const n = next();
  const t = token(userId);
  const device: DeviceRow = {
    id: `DP${String(n).padStart(18, '0')}`,
    userId,
    name: `Phone ${n}`,
    publicKeyJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: `x${n}`, y: `y${n}` }),
    tokenId: t.id,
    pushSubscription: null,
    createdAt: T0 + n,
    lastSeenAt: null,
    ...over,
  };
  return { device, token: t };
}

/** A passkey of a device (the device must exist for addPasskey). */
export function passkey(deviceId: string, userId: string, over: Partial<PasskeyRow> = {}): PasskeyRow {
  const n = next();
  return { credentialId: `cred-${n}`, deviceId, userId, publicKey: `cose-key-${n}`, counter: 0, transports: ['internal', 'hybrid'], createdAt: T0 + n, ...over };
}

/** A pending push transaction for a user and its challenge. */
export function push(
  integrationId: string,
  userId: string,
  over: { tx?: Partial<TransactionRow>; challenge?: Partial<PushChallengeRow> } = {},
): { tx: TransactionRow; challenge: PushChallengeRow } {
  const tx = transaction(integrationId, { userId, username: `u-${userId}`, ...over.tx });
  const challenge: PushChallengeRow = {
    txid: tx.txid,
    userId,
    deviceId: null,
    nonce: `nonce-${tx.txid}`,
    matchCode: null,
    createdAt: tx.createdAt,
    expiresAt: tx.expiresAt,
    ...over.challenge,
  };
  return { tx, challenge };
}

export function auditEntry(nodeId: string, over: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return {
    nodeId,
    time: T0,
    event: 'auth',
    integration: 'DI000',
    username: 'alice',
    factor: 'push',
    result: 'allow',
    reason: 'user_approved',
    ipaddr: '192.0.2.1',
    hostname: 'host',
    txid: null,
    detail: '{}',
    ...over,
  };
}

/** A stand-in for core's chain hash: any deterministic function of (prevHash, seq) will do. */
export function chainHash(prevHash: string, seq: number): string {
  return createHash('sha256').update(`${prevHash}|${seq}`).digest('hex');
}
