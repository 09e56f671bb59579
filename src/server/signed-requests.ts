// What every signed endpoint shares: authentication, admission (integration rate limit), and for
// POSTs the replay/retransmission guard with delivery tracking (core/request-guard.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CoreError } from '../core/errors.js';
import { guardSignedPost, recordDelivery, type StoredResponse } from '../core/request-guard.js';
import type { Core } from '../core/service.js';
import { authenticate, type AuthenticatedRequest } from './authenticate.js';
import { toWireError } from './error-map.js';
import type { ServerLogger } from './logger.js';
import { sendAnswer } from './reply.js';
import { Params, parseRequest, type ParsedRequest } from './request-params.js';

/** The skey of each authenticated request, for signing its response (server/response-signing.ts). */
export const responseKeys = new WeakMap<FastifyRequest, string>();

export interface GuardedOptions {
  event: 'preauth' | 'auth';
  /** Turns a refusal into the answer a client family needs (e.g. no 429 for duo_unix 1.11.3). */
  onError?: (e: CoreError) => { body: unknown; txid: null } | null;
}

export function signedRequests(core: Core, log: ServerLogger) {
  /** Authenticates (signature, date); unauthenticated refusals go to the rate-limited server log. */
  const authenticated = async (request: FastifyRequest): Promise<{ a: AuthenticatedRequest; parsed: ParsedRequest }> => {
    const parsed = parseRequest(request.raw.url ?? '/', request.headers['content-type'], request.body as Buffer | undefined);
    try {
      const a = await authenticate(core, { method: request.method, headers: request.headers, peer: request.ip, parsed });
      responseKeys.set(request, a.skey);
      return { a, parsed };
    } catch (e) {
      if (e instanceof CoreError) log.garbage('request refused', { path: parsed.path, peer: request.ip, reason: e.code });
      throw e;
    }
  };

  /** A signed GET: authenticated and admitted. */
  const authed = async (request: FastifyRequest): Promise<{ a: AuthenticatedRequest; p: Params }> => {
    const { a, parsed } = await authenticated(request);
    await core.admit(a.ctx);
    return { a, p: new Params(parsed.params) };
  };

  /**
   * A signed POST: processed once; a retransmission of an undelivered answer gets that answer;
   * anything else seen before is a replay (see core/request-guard.ts).
   */
  const guarded = async (
    request: FastifyRequest,
    reply: FastifyReply,
    o: GuardedOptions,
    handle: (a: AuthenticatedRequest, p: Params) => Promise<{ body: unknown; txid: string | null }>,
  ): Promise<FastifyReply> => {
    const { a, parsed } = await authenticated(request);
    const decision = await guardSignedPost(core.deps, { ikey: a.ikey, signature: a.signature, integrationId: a.ctx.integration.id, peer: a.ctx.peer, dated: a.signatureVersion !== 1 });
    if (decision.kind === 'retransmit') {
      log.info('retransmitted request answered with the original response', { ikey: a.ikey, peer: a.ctx.peer });
      return sendAnswer(reply, decision.response);
    }
    let stored: StoredResponse | null = null;
    let closedEarly = false;
    // 'finish': the whole response was handed to the connection. 'close' without it: the
    // connection went away first, so the client never got this answer.
    let finished = false;
    const record = (delivered: boolean): void => {
      void recordDelivery(core.deps, decision.key, stored!, delivered).catch((e: unknown) => log.error('recording delivery failed', { error: String(e) }));
    };
    reply.raw.once('finish', () => {
      finished = true;
      if (stored) record(true);
    });
    reply.raw.once('close', () => {
      if (finished) return;
      if (stored) record(false);
      else closedEarly = true;
    });
    try {
      await core.admit(a.ctx);
      const r = await handle(a, new Params(parsed.params));
      stored = { http: 200, body: { stat: 'OK', response: r.body }, txid: r.txid };
    } catch (e) {
      const mapped = e instanceof CoreError ? o.onError?.(e) : null;
      if (mapped) {
        stored = { http: 200, body: { stat: 'OK', response: mapped.body }, txid: null };
      } else {
        const w = toWireError(e);
        if (w.body.code === 50000) log.error('internal error', { path: request.url, error: String(e) });
        stored = { http: w.http, body: w.body, txid: null, ...(w.retryAfter !== undefined ? { retryAfter: w.retryAfter } : {}) };
      }
      // An authenticated request that names a user leaves its audit entry, refused or not.
      const named = parsed.params.find(([k]) => k === 'username' || k === 'user_id' || k === 'user')?.[1];
      if (named !== undefined && e instanceof CoreError) {
        await core.refused(a.ctx, o.event, named, e.code, e.detail, { ipaddr: null, hostname: null });
      }
    }
    if (closedEarly) {
      await recordDelivery(core.deps, decision.key, stored, false);
      return reply;
    }
    return sendAnswer(reply, stored);
  };

  return { authenticated, authed, guarded };
}
