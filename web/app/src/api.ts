// The app API (docs/push.md §2) over fetch. Every call after activation carries the
// device-signed headers; the body is encoded once, and exactly those bytes are hashed and sent.
import type { Decision } from '../../../src/protocol/approval.js';
import { utf8 } from './encoding.js';
import { signApproval, signedRequestHeaders } from './signing.js';
import { parseActivationAnswer, parseRequestList, type ActivationAnswer, type LoginRequest, type RequestList } from './types.js';

export const API = '/app/api';

/** A non-2xx answer; `error` is the server's {"error": …} code when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string | null,
  ) {
    super(`HTTP ${status}${error ? ` (${error})` : ''}`);
  }
}

export interface DeviceAuth {
  deviceId: string;
  privateKey: CryptoKey;
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!res.ok) {
    const code = typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string' ? (body as { error: string }).error : null;
    throw new ApiError(res.status, code);
  }
  return body;
}

/** Builds (but does not send) a signed request: what fetch gets, for tests and for `signedFetch`. */
export async function signedRequest(auth: DeviceAuth, method: string, path: string, json?: unknown, now: () => number = Date.now): Promise<{ url: string; init: RequestInit & { headers: Record<string, string> } }> {
  const body = json === undefined ? null : utf8(JSON.stringify(json));
  const headers = await signedRequestHeaders({ deviceId: auth.deviceId, privateKey: auth.privateKey, method, path, body, time: now() });
  if (body) headers['Content-Type'] = 'application/json';
  const init: RequestInit & { headers: Record<string, string> } = { method: method.toUpperCase(), headers, cache: 'no-store', credentials: 'omit' };
  if (body) init.body = body;
  return { url: path, init };
}

export async function signedFetch(auth: DeviceAuth, method: string, path: string, json?: unknown, signal?: AbortSignal): Promise<unknown> {
  const { url, init } = await signedRequest(auth, method, path, json);
  if (signal) init.signal = signal;
  return readJson(await fetch(url, init));
}

export async function activate(code: string, publicKey: { kty: string; crv: string; x: string; y: string }, name: string): Promise<ActivationAnswer> {
  const res = await fetch(`${API}/activate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, publicKey, name }),
    cache: 'no-store',
    credentials: 'omit',
  });
  return parseActivationAnswer(await readJson(res));
}

export async function getConfig(): Promise<{ vapidPublicKey: string | null }> {
  const body = (await readJson(await fetch(`${API}/config`, { cache: 'no-store', credentials: 'omit' }))) as { vapidPublicKey?: unknown } | null;
  const key = body?.vapidPublicKey;
  return { vapidPublicKey: typeof key === 'string' && key !== '' ? key : null };
}

/** `wait` seconds to hold (0: answer now); `known` the fingerprint the app holds. */
export async function listRequests(auth: DeviceAuth, wait: number, known: string | null, signal?: AbortSignal): Promise<RequestList> {
  const q = new URLSearchParams({ wait: String(wait) });
  if (known !== null) q.set('known', known);
  return parseRequestList(await signedFetch(auth, 'GET', `${API}/requests?${q.toString()}`, undefined, signal));
}

export type DecideResult = 'allow' | 'deny' | 'fraud' | 'refused';

/** `assertion`: the WebAuthn assertion covering the approval, when the request needs a passkey (§8). */
export async function decide(auth: DeviceAuth, request: LoginRequest, decision: Decision, number: string, assertion?: unknown): Promise<DecideResult> {
  const signature = await signApproval({ privateKey: auth.privateKey, deviceId: auth.deviceId, request, decision, number });
  try {
    const payload = assertion === undefined ? { txid: request.txid, decision, number, signature } : { txid: request.txid, decision, number, signature, assertion };
    const body = (await signedFetch(auth, 'POST', `${API}/decide`, payload)) as { result?: unknown } | null;
    const result = body?.result;
    if (result === 'allow' || result === 'deny' || result === 'fraud') return result;
    throw new Error('malformed decide answer');
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) return 'refused';
    throw e;
  }
}

export async function putSubscription(auth: DeviceAuth, subscription: { endpoint: string; keys: { p256dh: string; auth: string } } | null): Promise<void> {
  await signedFetch(auth, 'POST', `${API}/subscription`, subscription);
}

export async function getDevice(auth: DeviceAuth): Promise<{ deviceId: string; username: string; name: string }> {
  return (await signedFetch(auth, 'GET', `${API}/device`)) as { deviceId: string; username: string; name: string };
}

// ---- passkeys (docs/push.md §8) ----------------------------------------------------------------

/** Options for navigator.credentials.create (PublicKeyCredentialCreationOptionsJSON). */
export async function passkeyRegistrationOptions(auth: DeviceAuth): Promise<unknown> {
  return signedFetch(auth, 'POST', `${API}/passkey/options`);
}

/** Stores the passkey the browser made; answers its credential id. */
export async function registerPasskey(auth: DeviceAuth, response: unknown): Promise<string> {
  const body = (await signedFetch(auth, 'POST', `${API}/passkey/register`, response)) as { credentialId?: unknown } | null;
  if (typeof body?.credentialId !== 'string') throw new Error('malformed passkey answer');
  return body.credentialId;
}

export interface AssertOptions {
  rpId: string;
  allowCredentials: { id: string; type: 'public-key'; transports?: string[] }[];
  userVerification: 'required';
  timeout: number;
}

/** The RP ID and this device's passkeys, for an approval's assertion. */
export async function passkeyAssertOptions(auth: DeviceAuth): Promise<AssertOptions> {
  const b = (await signedFetch(auth, 'GET', `${API}/passkey/assert-options`)) as Partial<AssertOptions> | null;
  if (!b || typeof b.rpId !== 'string' || !Array.isArray(b.allowCredentials) || !Number.isSafeInteger(b.timeout)) throw new Error('malformed passkey options');
  const allowCredentials = b.allowCredentials.filter((c) => typeof c === 'object' && c !== null && typeof c.id === 'string').map((c) => ({
    id: c.id,
    type: 'public-key' as const,
    ...(Array.isArray(c.transports) ? { transports: c.transports.filter((t): t is string => typeof t === 'string') } : {}),
  }));
  return { rpId: b.rpId, allowCredentials, userVerification: 'required', timeout: b.timeout as number };
}
