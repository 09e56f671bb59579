// The Auth API v2 answers the client reads (duo_unix.md §3.3, 2.2+ JSON), validated strictly:
// anything missing or of the wrong type is a malformed answer, which denies.

/** A device listed by preauth; only what the client uses. */
export interface PreauthDevice {
  device: string;
  capabilities: string[];
}

export type PreauthAnswer =
  | { result: 'allow'; statusMsg: string }
  | { result: 'deny'; statusMsg: string }
  | { result: 'enroll'; statusMsg: string; promptText: string | null }
  | {
      result: 'auth';
      promptText: string;
      factors: Record<string, string>;
      /** `devices`, when the server lists them (pushN names the Nth push-capable one). */
      devices?: PreauthDevice[];
      /** Verified Push: preauth's `txid`, passed back to auth (docs/push.md §6). */
      txid?: string;
    };

/**
 * Number matching (docs/push.md §6): `verification_code`, kept only when it is 1–8 ASCII
 * digits; anything else present under that name sets `badVerificationCode` and is dropped (the
 * status text is then shown as plain text).
 */
export interface VerificationFields {
  verificationCode?: string;
  badVerificationCode?: true;
}

/** `status` (Duo's machine word: allow, deny, timeout, fraud, pushed…), when it is a short string. */
export type AuthAnswer =
  | { kind: 'final'; result: 'allow' | 'deny'; statusMsg: string; status?: string }
  | ({ kind: 'txid'; txid: string; statusMsg?: string } & VerificationFields);

export interface StatusAnswer extends VerificationFields {
  result: 'allow' | 'deny' | 'waiting';
  statusMsg: string;
  status?: string;
}

export class MalformedAnswer extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedAnswer';
  }
}

const MAX_TEXT = 16 * 1024;
const MAX_FACTORS = 64;
const MAX_DEVICES = 64;
const MAX_STATUS_WORD = 64;
const VERIFICATION_CODE = /^[0-9]{1,8}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new MalformedAnswer(`${where}: '${key}' is missing or not a string`);
  if (v.length > MAX_TEXT) throw new MalformedAnswer(`${where}: '${key}' is too long`);
  return v;
}

/** `{stat: "OK", response: {...}}` → response. Anything else is malformed (non-200 answers never get here). */
export function okResponse(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw new MalformedAnswer('the answer is not a JSON object');
  if (body['stat'] !== 'OK') throw new MalformedAnswer(`stat is ${typeof body['stat'] === 'string' ? 'not OK' : 'missing'}`);
  const r = body['response'];
  if (!isRecord(r)) throw new MalformedAnswer("'response' is missing or not an object");
  return r;
}

/** A Duo envelope: a JSON object with a string `stat`, as every answer of a real server is. */
export function isDuoEnvelope(body: Buffer): boolean {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return isRecord(v) && typeof v['stat'] === 'string';
  } catch {
    return false;
  }
}

/** `code: message` of a FAIL envelope, for the log; null when there is none. */
export function failSummary(body: Buffer): string | null {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (!isRecord(v) || v['stat'] !== 'FAIL') return null;
    const code = typeof v['code'] === 'number' ? String(v['code']) : '?';
    const message = typeof v['message'] === 'string' ? v['message'].slice(0, 200) : '';
    return `${code}: ${message}`;
  } catch {
    return null;
  }
}

export function parsePreauth(r: Record<string, unknown>): PreauthAnswer {
  const result = r['result'];
  switch (result) {
    case 'allow':
    case 'deny':
      return { result, statusMsg: text(r, 'status_msg', 'preauth') };
    case 'enroll': {
      const prompt = r['prompt'];
      const promptText = isRecord(prompt) && typeof prompt['text'] === 'string' ? text(prompt, 'text', 'preauth prompt') : null;
      return { result, statusMsg: text(r, 'status_msg', 'preauth'), promptText };
    }
    case 'auth': {
      const prompt = r['prompt'];
      if (!isRecord(prompt)) throw new MalformedAnswer("preauth: 'prompt' is missing (text_prompt=1 was sent)");
      const promptText = text(prompt, 'text', 'preauth prompt');
      const f = prompt['factors'];
      if (!isRecord(f)) throw new MalformedAnswer("preauth: 'prompt.factors' is missing or not an object");
      const entries = Object.entries(f);
      if (entries.length > MAX_FACTORS) throw new MalformedAnswer('preauth: too many factors');
      const factors: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [k, v] of entries) {
        if (typeof v !== 'string' || v.length > 255 || k.length > 255) throw new MalformedAnswer('preauth: a factor is not a short string');
        factors[k] = v;
      }
      const devices = parseDevices(r['devices']);
      const txid = r['txid'];
      if (txid === undefined || txid === null) return devices === null ? { result, promptText, factors } : { result, promptText, factors, devices };
      if (typeof txid !== 'string' || txid.length === 0 || txid.length >= 256) throw new MalformedAnswer('preauth: bad txid');
      return devices === null ? { result, promptText, factors, txid } : { result, promptText, factors, devices, txid };
    }
    default:
      throw new MalformedAnswer('preauth: unknown result');
  }
}

/** preauth `devices`: absent (or null) → null; present, it must be a list of `{device, capabilities?}`. */
function parseDevices(v: unknown): PreauthDevice[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length > MAX_DEVICES) throw new MalformedAnswer("preauth: 'devices' is not a short list");
  return v.map((d: unknown): PreauthDevice => {
    if (!isRecord(d)) throw new MalformedAnswer('preauth: a device is not an object');
    const id = d['device'];
    if (typeof id !== 'string' || id.length === 0 || id.length > 255) throw new MalformedAnswer('preauth: a device has no id');
    const caps = d['capabilities'] ?? [];
    if (!Array.isArray(caps) || caps.length > 32 || !caps.every((c): c is string => typeof c === 'string' && c.length <= 64)) {
      throw new MalformedAnswer("preauth: a device's capabilities are not a short list of words");
    }
    return { device: id, capabilities: caps };
  });
}

/** Optional `status`: kept when it is a short string, otherwise ignored. */
function statusWord(r: Record<string, unknown>): { status?: string } {
  const s = r['status'];
  return typeof s === 'string' && s.length <= MAX_STATUS_WORD ? { status: s } : {};
}

function verification(r: Record<string, unknown>): VerificationFields {
  const v = r['verification_code'];
  if (v === undefined || v === null) return {};
  return typeof v === 'string' && VERIFICATION_CODE.test(v) ? { verificationCode: v } : { badVerificationCode: true };
}

export function parseAuth(r: Record<string, unknown>, async: boolean): AuthAnswer {
  if (async) {
    const txid = text(r, 'txid', 'auth');
    if (txid.length === 0 || txid.length >= 256) throw new MalformedAnswer('auth: bad txid');
    // Duo's async answer is just the txid; Tandem may add status_msg and verification_code.
    const msg = r['status_msg'];
    const statusMsg = typeof msg === 'string' ? { statusMsg: text(r, 'status_msg', 'auth') } : {};
    return { kind: 'txid', txid, ...statusMsg, ...verification(r) };
  }
  const result = r['result'];
  if (result !== 'allow' && result !== 'deny') throw new MalformedAnswer('auth: result is neither allow nor deny');
  return { kind: 'final', result, statusMsg: text(r, 'status_msg', 'auth'), ...statusWord(r) };
}

export function parseStatus(r: Record<string, unknown>): StatusAnswer {
  const result = r['result'];
  if (result !== 'allow' && result !== 'deny' && result !== 'waiting') throw new MalformedAnswer('auth_status: unknown result');
  return { result, statusMsg: text(r, 'status_msg', 'auth_status'), ...statusWord(r), ...(result === 'waiting' ? verification(r) : {}) };
}
