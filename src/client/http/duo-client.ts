// The Duo Auth API v2 as duo_unix 2.2+ calls it (duo_unix.md §3, §4): ping (clock offset),
// preauth (text_prompt=1), auth (factor=prompt; factor=push&device= for a push, docs/push.md §5),
// auth_status; v2 HMAC-SHA512 signatures with X-Duo-Date. Both preauth and auth declare
// client_supports_verified_push=1. Unlike duo_unix, every answer is authenticated: each request
// carries a fresh nonce in X-Tandem-Nonce, and a 200 without a valid X-Tandem-Signature over
// (nonce, method, path, body) is refused. Failures are DuoCallError, sorted into `unreachable` / `failed` (errors.ts).
import { randomBytes } from 'node:crypto';
import { duoEncode, canonicalizeParams } from '../../protocol/duo-canon.js';
import { authorizationHeader, sign } from '../../protocol/duo-signing.js';
import { NONCE_HEADER, SIGNATURE_HEADER, verifyResponseSignature } from '../../protocol/response-signature.js';
import { DuoCallError, isUnreachableCode } from './errors.js';
import {
  MalformedAnswer,
  failSummary,
  isDuoEnvelope,
  okResponse,
  parseAuth,
  parsePreauth,
  parseStatus,
  type AuthAnswer,
  type PreauthAnswer,
  type StatusAnswer,
} from './responses.js';
import { Transport, TransportError, type TransportOptions } from './transport.js';

export type { AuthAnswer, PreauthAnswer, PreauthDevice, StatusAnswer } from './responses.js';

/** How long the server may hold a sync auth or a status poll (its long-poll), on top of https_timeout. */
export const SERVER_HOLD_ALLOWANCE_MS = 75_000;

export interface LoginParams {
  username: string;
  ipaddr: string | null;
  hostname: string;
}

export interface PreauthParams extends LoginParams {
  failmode: 'safe' | 'secure';
}

export interface AuthParams extends LoginParams {
  /** The menu choice mapped through `factors`, a passcode, or DUO_PASSCODE verbatim. */
  prompt: string;
  /**
   * `prompt`: sent as `factor=prompt&prompt=<prompt>` (duo_unix's way). `push`: the choice was a
   * push (`push1`, …), sent as `factor=push&device=<device>` (docs/push.md §5).
   */
  factor: 'prompt' | 'push';
  /** With factor push: a device id from preauth, or `auto`. */
  device: string | null;
  async: boolean;
  /** The form text `Server+IP=…&Command=…`, sent on every auth (duo_unix.md §3.2). */
  pushinfo: string;
  /** preauth's `txid` (Verified Push), when it sent one. */
  txid: string | null;
}

/** What login-flow.ts needs from the server; the real one is DuoClient, tests use fakes. */
export interface DuoApi {
  /** Clock offset for X-Duo-Date. Throws DuoCallError only when the server is unreachable. */
  ping(): Promise<void>;
  preauth(p: PreauthParams): Promise<PreauthAnswer>;
  auth(p: AuthParams): Promise<AuthAnswer>;
  authStatus(txid: string): Promise<StatusAnswer>;
  /** True once an auth request has been (even partly) sent: nothing after that is `unreachable`. */
  readonly authSent: boolean;
  close(): void;
}

export interface DuoClientOptions extends TransportOptions {
  ikey: string;
  skey: string;
  httpsTimeoutMs: number;
  /** Injected for tests. */
  now?: () => number;
  nonce?: () => string;
  log?: (msg: string) => void;
}

/** `Sun, 22 Nov 2026 07:52:06 +0000`: RFC 2822, GMT, C locale (duo_unix HEAD). */
export function duoDate(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

/** duo_unix's pushinfo: a form string, its values encoded once more when sent as a parameter. */
export function pushinfoText(serverIp: string | null, command: string | null): string {
  return `Server+IP=${duoEncode(serverIp ?? '')}&Command=${duoEncode(command ?? '')}`;
}

const MAX_CLOCK_OFFSET_MS = 365 * 24 * 3600 * 1000;

/** Sent on every POST, with the value of X-Tandem-Nonce. */
export const NONCE_PARAM = 'tandem_nonce';

/**
 * Sent on every preauth and auth: our clients show a push's verification code (number matching,
 * docs/push.md §6). Duo's own parameter name.
 */
export const VERIFIED_PUSH_PARAM = 'client_supports_verified_push';

export class DuoClient implements DuoApi {
  private readonly transport: Transport;
  private offsetMs = 0;
  private sentAuth = false;
  private readonly now: () => number;
  private readonly nonce: () => string;

  constructor(private readonly o: DuoClientOptions) {
    this.transport = new Transport(o);
    this.now = o.now ?? Date.now;
    this.nonce = o.nonce ?? (() => randomBytes(32).toString('hex'));
  }

  get authSent(): boolean {
    return this.sentAuth;
  }

  get clockOffsetMs(): number {
    return this.offsetMs;
  }

  close(): void {
    this.transport.close();
  }

  /**
   * GET /auth/v2/ping, signed like duo_unix does. Its time is used only if the answer is signed
   * over our nonce: an unsigned time could only be an attacker's, and would only skew our
   * X-Duo-Date. An unreachable server throws (failmode applies); any other problem just leaves
   * the offset at 0 and lets preauth, which is always verified, decide.
   */
  async ping(): Promise<void> {
    let body: unknown;
    try {
      body = await this.call('GET', '/auth/v2/ping', [], { hold: false, isAuth: false, signed: 'optional' });
    } catch (e) {
      if (e instanceof DuoCallError && e.kind === 'unreachable') throw e;
      this.o.log?.(`ping failed, clock offset not adjusted: ${(e as Error).message}`);
      return;
    }
    if (body === null) {
      this.o.log?.('ping answer is not signed; clock offset not adjusted');
      return;
    }
    try {
      const time = okResponse(body)['time'];
      if (typeof time !== 'number' || !Number.isFinite(time) || time <= 0) throw new MalformedAnswer('ping: no time');
      const offset = time * 1000 - this.now();
      if (Math.abs(offset) > MAX_CLOCK_OFFSET_MS) throw new MalformedAnswer('ping: implausible time');
      this.offsetMs = offset;
    } catch (e) {
      this.o.log?.(`ping answer unusable, clock offset not adjusted: ${(e as Error).message}`);
    }
  }

  async preauth(p: PreauthParams): Promise<PreauthAnswer> {
    const params: Array<[string, string]> = [
      ['username', p.username],
      ['hostname', p.hostname],
      ['failmode', p.failmode === 'safe' ? 'open' : 'closed'],
      ['text_prompt', '1'],
      [VERIFIED_PUSH_PARAM, '1'],
    ];
    if (p.ipaddr) params.push(['ipaddr', p.ipaddr]);
    const body = await this.call('POST', '/auth/v2/preauth', params, { hold: false, isAuth: false, signed: 'required' });
    return this.parse(() => parsePreauth(okResponse(body)));
  }

  async auth(p: AuthParams): Promise<AuthAnswer> {
    const params: Array<[string, string]> = [
      ['username', p.username],
      ...((p.factor === 'push'
        ? [
            ['factor', 'push'],
            ['device', p.device ?? 'auto'],
          ]
        : [
            ['factor', 'prompt'],
            ['prompt', p.prompt],
          ]) satisfies Array<[string, string]>),
      ['async', p.async ? '1' : '0'],
      ['hostname', p.hostname],
      ['pushinfo', p.pushinfo],
      [VERIFIED_PUSH_PARAM, '1'],
    ];
    if (p.ipaddr) params.push(['ipaddr', p.ipaddr]);
    if (p.txid !== null) params.push(['txid', p.txid]);
    const body = await this.call('POST', '/auth/v2/auth', params, { hold: !p.async, isAuth: true, signed: 'required' });
    return this.parse(() => parseAuth(okResponse(body), p.async));
  }

  async authStatus(txid: string): Promise<StatusAnswer> {
    const body = await this.call('GET', '/auth/v2/auth_status', [['txid', txid]], { hold: true, isAuth: false, signed: 'required' });
    return this.parse(() => parseStatus(okResponse(body)));
  }

  private parse<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof MalformedAnswer) throw new DuoCallError('failed', `malformed answer: ${e.message}`);
      throw e;
    }
  }

  /** The failure class, given what has been sent so far. */
  private fail(unreachable: boolean, message: string, status: number | null = null): DuoCallError {
    return new DuoCallError(unreachable && !this.sentAuth ? 'unreachable' : 'failed', message, status);
  }

  /**
   * One signed request; the parsed JSON of a 200 whose signature verifies. With signed:
   * 'optional' (ping), an unsigned or wrongly signed 200 gives null instead of an error.
   */
  private async call(method: 'GET' | 'POST', path: string, baseParams: Array<[string, string]>, opts: { hold: boolean; isAuth: boolean; signed: 'required' | 'optional' }): Promise<unknown> {
    const date = duoDate(this.now() + this.offsetMs);
    const nonce = this.nonce();
    // The server refuses a dated POST whose signature it has seen before (a replay). Two logins
    // of one user from one address in the same second — or two rounds of one login — would send
    // byte-identical preauths; the nonce as a signed parameter (the server ignores unknown
    // names) makes every POST unique, and binds the nonce to the signed request.
    const params: Array<[string, string]> = method === 'POST' ? [...baseParams, [NONCE_PARAM, nonce]] : baseParams;
    const signature = sign(2, 'sha512', this.o.skey, { method, host: this.o.host, path, params, date });
    const headers: Record<string, string> = {
      'User-Agent': this.o.userAgent,
      'X-Duo-Date': date,
      Authorization: authorizationHeader(this.o.ikey, signature),
      [NONCE_HEADER]: nonce,
    };
    const query = canonicalizeParams(params);
    const target = method === 'GET' && query !== '' ? `${path}?${query}` : path;
    const timeoutMs = this.o.httpsTimeoutMs + (opts.hold ? SERVER_HOLD_ALLOWANCE_MS : 0);
    // Set before sending: once any byte of an auth may have left, a push may be on its way.
    if (opts.isAuth) this.sentAuth = true;

    let res;
    try {
      res = await this.transport.request(method, target, headers, method === 'POST' ? query : null, timeoutMs);
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      if (e.stage === 'connect') {
        const proxyGatewayDown = e.proxyStatus === 502 || e.proxyStatus === 503 || e.proxyStatus === 504;
        throw this.fail(isUnreachableCode(e.code) || proxyGatewayDown, `Couldn't connect to ${this.o.host}:${this.o.port}: ${e.message}`);
      }
      if (e.stage === 'timeout') throw this.fail(true, `Couldn't connect to ${this.o.host}:${this.o.port}: ${e.message}`);
      throw this.fail(false, e.stage === 'tls' ? `TLS error: ${e.message}` : e.message);
    }

    if (res.status !== 200) {
      const gateway = res.status === 502 || res.status === 503 || res.status === 504;
      const envelope = isDuoEnvelope(res.body);
      const summary = failSummary(res.body);
      const what = res.status === 401 ? 'Invalid ikey or skey' : `HTTP ${res.status}`;
      throw this.fail(gateway && !envelope, summary ? `${what} (${summary})` : what, res.status);
    }

    const sig = res.headers[SIGNATURE_HEADER];
    const valid = verifyResponseSignature({ skey: this.o.skey, nonce, method, path, body: res.body, signature: typeof sig === 'string' ? sig : undefined });
    if (!valid) {
      if (opts.signed === 'optional') return null;
      throw this.fail(false, sig === undefined ? 'the answer carries no X-Tandem-Signature' : 'the answer has a wrong X-Tandem-Signature');
    }
    try {
      return JSON.parse(res.body.toString('utf8')) as unknown;
    } catch {
      throw this.fail(false, 'the answer is not JSON');
    }
  }
}
