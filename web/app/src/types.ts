// What the app API sends (docs/push.md §2). Every string here is untrusted text from a Unix host
// or the server: it is shown only with textContent and signed exactly as received.

export interface LoginRequest {
  txid: string;
  username: string;
  displayUsername?: string | null;
  /** The integration's ikey. */
  integration: string;
  integrationName?: string | null;
  hostname?: string | null;
  ipaddr?: string | null;
  /** The raw form-encoded text as received, or null. */
  pushinfo?: string | null;
  type?: string | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  expiresAt: number;
  nonce: string;
  numberRequired: boolean;
  /** Approving needs a passkey of this device too (docs/push.md §8); denying does not. */
  passkeyRequired: boolean;
}

export interface RequestList {
  requests: LoginRequest[];
  fingerprint: string;
}

/** What the app keeps as plain data about its registration (the keys are CryptoKeys, kept apart). */
export interface DeviceRecord {
  deviceId: string;
  username: string;
  name: string;
  digits: 6 | 8;
  period: number;
}

export interface ActivationAnswer {
  deviceId: string;
  username: string;
  totp: { secret: string; digits: number; period: number; algorithm: string };
  vapidPublicKey?: string | null;
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}
function optString(v: unknown): boolean {
  return v === undefined || v === null || typeof v === 'string';
}

/** Keeps only well-formed entries: a malformed one cannot be signed faithfully, so it is not shown. */
export function parseRequestList(body: unknown): RequestList {
  if (typeof body !== 'object' || body === null) throw new Error('malformed request list');
  const { requests, fingerprint } = body as { requests?: unknown; fingerprint?: unknown };
  if (!Array.isArray(requests) || !isString(fingerprint)) throw new Error('malformed request list');
  const out: LoginRequest[] = [];
  for (const r of requests as unknown[]) {
    if (typeof r !== 'object' || r === null) continue;
    const e = r as Record<string, unknown>;
    if (!isString(e.txid) || !isString(e.username) || !isString(e.integration) || !isString(e.nonce)) continue;
    if (!Number.isSafeInteger(e.expiresAt) || !Number.isSafeInteger(e.createdAt)) continue;
    if (![e.displayUsername, e.integrationName, e.hostname, e.ipaddr, e.pushinfo, e.type].every(optString)) continue;
    out.push({
      txid: e.txid,
      username: e.username,
      displayUsername: e.displayUsername as string | null | undefined,
      integration: e.integration,
      integrationName: e.integrationName as string | null | undefined,
      hostname: e.hostname as string | null | undefined,
      ipaddr: e.ipaddr as string | null | undefined,
      pushinfo: e.pushinfo as string | null | undefined,
      type: e.type as string | null | undefined,
      createdAt: e.createdAt as number,
      expiresAt: e.expiresAt as number,
      nonce: e.nonce,
      numberRequired: e.numberRequired === true,
      passkeyRequired: e.passkeyRequired === true,
    });
  }
  return { requests: out, fingerprint };
}

export function parseActivationAnswer(body: unknown): ActivationAnswer {
  const b = body as Partial<ActivationAnswer> | null;
  if (typeof b !== 'object' || b === null || !isString(b.deviceId) || !isString(b.username) || typeof b.totp !== 'object' || b.totp === null || !isString(b.totp.secret)) {
    throw new Error('malformed activation answer');
  }
  const digits = b.totp.digits;
  const period = b.totp.period;
  if ((digits !== 6 && digits !== 8) || !Number.isSafeInteger(period) || period <= 0) throw new Error('unsupported TOTP parameters');
  if (b.totp.algorithm !== undefined && String(b.totp.algorithm).toUpperCase() !== 'SHA1') throw new Error('unsupported TOTP algorithm');
  return b as ActivationAnswer;
}
