// The legacy /rest/v1 family: duo_unix 1.11.x (Debian 12, Ubuntu: /rest/v1/*.bson, BSON bodies,
// v1 signatures) and 1.12–2.1 (*.json, JSON bodies). Same core and transaction engine as
// /auth/v2; only the names and shapes differ (duo_unix.md §3.2–3.3, §10):
//   preauth: user=…            → result + status (+ prompt and factors at the top level for auth)
//   auth:    user=…, factor=auto&auto=<choice>, async  → result + status | txid
//   status:  txid              → status, and result only once decided (absent while pending)
import type { FastifyInstance } from 'fastify';
import type { AuthResponse } from '../../core/auth.js';
import { CoreError } from '../../core/errors.js';
import type { PreauthResponse } from '../../core/preauth.js';
import type { Core } from '../../core/service.js';
import type { TxStatus } from '../../core/transactions.js';
import type { ServerLogger } from '../logger.js';
import { MAX_PUSHINFO, loginContext, userName, verifiedPushParams } from '../login-params.js';
import { sendOk } from '../reply.js';
import type { Params } from '../request-params.js';
import { signedRequests } from '../signed-requests.js';
import { abortOnClose } from './auth-v2.js';

function user(p: Params): { username: string } {
  const name = userName(p, 'user');
  if (name === null) throw new CoreError('bad_request', 'missing parameter user');
  return { username: name };
}

function preauthV1(r: PreauthResponse): Record<string, unknown> {
  if (r.result === 'auth') {
    // 1.11.3 prints `prompt` verbatim and maps the typed answer through `factors`.
    return { result: 'auth', status: r.status_msg, prompt: r.prompt?.text ?? '', factors: r.prompt?.factors ?? {}, ...(r.txid !== undefined ? { txid: r.txid } : {}) };
  }
  // allow | deny | enroll: `status` is required; for enroll it carries the enrollment URL.
  return { result: r.result, status: r.status_msg };
}

function authV1(r: AuthResponse): Record<string, unknown> {
  if ('txid' in r) return r.verification_code !== undefined ? { txid: r.txid, verification_code: r.verification_code } : { txid: r.txid };
  return { result: r.result, status: r.status_msg };
}

/** While pending, `result` is left out: 1.11.3 keeps polling only when there is none. */
function statusV1(r: TxStatus): Record<string, unknown> {
  return r.result === 'waiting' ? { status: r.status_msg } : { result: r.result, status: r.status_msg };
}

/**
 * 1.11.3 denies at once on HTTP 429 without saying why; a rate limit is answered as a deny
 * result carrying the reason instead (the same outcome, with a message the user sees).
 */
function rateLimitedAsDeny(e: CoreError): { body: unknown; txid: null } | null {
  if (e.code !== 'rate_limited') return null;
  return { body: { result: 'deny', status: `Too many login attempts. Try again in ${e.retryAfterSeconds ?? 60} seconds.` }, txid: null };
}

export function registerRestV1(app: FastifyInstance, core: Core, log: ServerLogger): void {
  const { authed, guarded } = signedRequests(core, log);

  for (const format of ['bson', 'json']) {
    app.post(`/rest/v1/preauth.${format}`, (request, reply) =>
      guarded(request, reply, { event: 'preauth', onError: rateLimitedAsDeny }, async (a, p) => {
        // v1 always wants the prompt: the client has no other way to show a menu.
        const r = await core.preauth(a.ctx, { user: user(p), ...loginContext(p), textPrompt: true, clientSupportsVerifiedPush: verifiedPushParams(p).clientSupportsVerifiedPush });
        return { body: preauthV1(r), txid: null };
      }),
    );

    app.post(`/rest/v1/auth.${format}`, (request, reply) =>
      guarded(request, reply, { event: 'auth', onError: rateLimitedAsDeny }, async (a, p) => {
        const factor = p.required('factor', 16);
        if (factor !== 'auto' && factor !== 'passcode') throw new CoreError('bad_request', 'factor must be auto or passcode');
        // factor=auto&auto=<choice>: a menu value (push1), a typed passcode, or a bare factor word
        // from DUO_PASSCODE — the same interpretation as v2's factor=prompt&prompt=<choice>.
        const r = await core.auth(a.ctx, {
          user: user(p),
          factor: factor === 'auto' ? 'prompt' : 'passcode',
          prompt: factor === 'auto' ? p.required('auto', 255) : null,
          passcode: factor === 'passcode' ? p.required('passcode', 255) : null,
          device: null,
          async: p.flag('async'),
          ...loginContext(p),
          pushinfo: p.optional('pushinfo', MAX_PUSHINFO),
          type: null,
          displayUsername: null,
          ...verifiedPushParams(p),
        });
        return { body: authV1(r), txid: 'txid' in r ? r.txid : null };
      }),
    );

    app.get(`/rest/v1/status.${format}`, async (request, reply) => {
      try {
        const { a, p } = await authed(request);
        return sendOk(reply, statusV1(await core.authStatus(a.ctx, p.required('txid', 255), abortOnClose(reply))));
      } catch (e) {
        const mapped = e instanceof CoreError ? rateLimitedAsDeny(e) : null;
        if (mapped) return sendOk(reply, mapped.body);
        throw e;
      }
    });
  }
}
