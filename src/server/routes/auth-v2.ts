// Duo Auth API v2 (duo_api.md §2): ping, check, logo, preauth, auth, auth_status.
import { isIP } from 'node:net';
import { hasControlChars } from '../../protocol/text-checks.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthRequest, FactorParam } from '../../core/auth.js';
import type { UserRef } from '../../core/context.js';
import { CoreError } from '../../core/errors.js';
import { guardSignedPost, recordDelivery, type StoredResponse } from '../../core/request-guard.js';
import type { Core } from '../../core/service.js';
import { authenticate, type AuthenticatedRequest } from '../authenticate.js';
import { toWireError, wireError } from '../error-map.js';
import { Params, parseRequest, type ParsedRequest } from '../request-params.js';
import type { ServerLogger } from '../logger.js';

const FACTORS: readonly FactorParam[] = ['auto', 'push', 'passcode', 'phone', 'sms', 'prompt'];
/** duo_unix buffers at most 255 characters; pushinfo may be up to 20,000 bytes (Duo docs). */
const MAX_NAME = 255;
const MAX_PUSHINFO = 20_000;

export function sendOk(reply: FastifyReply, response: unknown): FastifyReply {
  return reply.code(200).type('application/json').send({ stat: 'OK', response });
}

export function sendStored(reply: FastifyReply, r: { http: number; body: unknown; retryAfter?: number }): FastifyReply {
  if (r.retryAfter !== undefined) reply.header('Retry-After', String(r.retryAfter));
  return reply.code(r.http).type('application/json').send(r.body);
}

function userRef(p: Params): UserRef {
  const username = p.optional('username', MAX_NAME);
  const userId = p.optional('user_id', MAX_NAME);
  // No user can be named with control characters (core/names.ts refuses them), so such a name is
  // malformed input, not an unknown user to hand an enrollment link to.
  for (const v of [username, userId]) if (v !== null && hasControlChars(v)) throw new CoreError('bad_request', 'user names cannot contain control characters');
  if ((username === null) === (userId === null)) throw new CoreError('bad_request', 'exactly one of username and user_id is required');
  return username !== null ? { username } : { userId: userId! };
}

/** Duo documents ipaddr as an address; anything else is refused rather than logged as one. */
function ipaddr(p: Params): string | null {
  const v = p.optional('ipaddr', 64);
  if (v !== null && isIP(v) === 0) throw new CoreError('bad_request', 'ipaddr must be an IPv4 or IPv6 address');
  return v;
}

function abortOnClose(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => ac.abort());
  return ac.signal;
}

export function registerAuthV2(app: FastifyInstance, core: Core, log: ServerLogger): void {
  /** Authenticates (signature, date); unauthenticated refusals go to the rate-limited server log. */
  const authenticated = async (request: FastifyRequest): Promise<{ a: AuthenticatedRequest; parsed: ParsedRequest }> => {
    const parsed = parseRequest(request.raw.url ?? '/', request.headers['content-type'], request.body as Buffer | undefined);
    try {
      return { a: await authenticate(core, { method: request.method, headers: request.headers, peer: request.ip, parsed }), parsed };
    } catch (e) {
      if (e instanceof CoreError) log.garbage('request refused', { path: parsed.path, peer: request.ip, reason: e.code });
      throw e;
    }
  };

  const authed = async (request: FastifyRequest): Promise<{ a: AuthenticatedRequest; p: Params }> => {
    const { a, parsed } = await authenticated(request);
    await core.admit(a.ctx);
    return { a, p: new Params(parsed.params) };
  };

  /**
   * A signed POST: processed once; a retransmission of an undelivered answer gets that answer;
   * anything else seen before is a replay (see core/request-guard.ts).
   */
  const guarded = async (request: FastifyRequest, reply: FastifyReply, event: 'preauth' | 'auth', handle: (a: AuthenticatedRequest, p: Params) => Promise<{ body: unknown; txid: string | null }>): Promise<FastifyReply> => {
    const { a, parsed } = await authenticated(request);
    const decision = await guardSignedPost(core.deps, { ikey: a.ikey, signature: a.signature, integrationId: a.ctx.integration.id, peer: a.ctx.peer });
    if (decision.kind === 'retransmit') {
      log.info('retransmitted request answered with the original response', { ikey: a.ikey, peer: a.ctx.peer });
      return sendStored(reply, decision.response);
    }
    let stored: StoredResponse | null = null;
    let closedEarly = false;
    // 'finish': the whole response was handed to the connection. 'close' without it: the
    // connection went away first, so the client never got this answer.
    let finished = false;
    reply.raw.once('finish', () => {
      finished = true;
      if (stored) void recordDelivery(core.deps, decision.key, stored, true).catch((e: unknown) => log.error('recording delivery failed', { error: String(e) }));
    });
    reply.raw.once('close', () => {
      if (finished) return;
      if (stored) void recordDelivery(core.deps, decision.key, stored, false).catch((e: unknown) => log.error('recording delivery failed', { error: String(e) }));
      else closedEarly = true;
    });
    try {
      await core.admit(a.ctx);
      const r = await handle(a, new Params(parsed.params));
      stored = { http: 200, body: { stat: 'OK', response: r.body }, txid: r.txid };
    } catch (e) {
      const w = toWireError(e);
      if (w.body.code === 50000) log.error('internal error', { path: request.url, error: String(e) });
      // An authenticated request that names a user leaves its audit entry, refused or not.
      const named = parsed.params.find(([k]) => k === 'username' || k === 'user_id')?.[1];
      if (named !== undefined && e instanceof CoreError) {
        await core.refused(a.ctx, event, named, e.code, e.detail, { ipaddr: null, hostname: null });
      }
      stored = { http: w.http, body: w.body, txid: null, ...(w.retryAfter !== undefined ? { retryAfter: w.retryAfter } : {}) };
    }
    if (closedEarly) {
      await recordDelivery(core.deps, decision.key, stored, false);
      return reply;
    }
    return sendStored(reply, stored);
  };

  app.get('/auth/v2/ping', async (_req, reply) => sendOk(reply, { time: Math.floor(core.deps.clock.now() / 1000) }));

  app.get('/auth/v2/check', async (request, reply) => {
    await authed(request);
    return sendOk(reply, { time: Math.floor(core.deps.clock.now() / 1000) });
  });

  app.get('/auth/v2/logo', async (request, reply) => {
    await authed(request);
    return sendStored(reply, wireError('not_found', 'no logo is configured'));
  });

  app.post('/auth/v2/preauth', (request, reply) =>
    guarded(request, reply, 'preauth', async (a, p) => {
      const body = await core.preauth(a.ctx, {
        user: userRef(p),
        ipaddr: ipaddr(p),
        hostname: p.optional('hostname', MAX_NAME),
        textPrompt: p.flag('text_prompt'),
      });
      return { body, txid: null };
    }),
  );

  app.post('/auth/v2/auth', (request, reply) =>
    guarded(request, reply, 'auth', async (a, p) => {
      const req: AuthRequest = {
        user: userRef(p),
        factor: p.oneOf('factor', FACTORS),
        passcode: p.optional('passcode', 255),
        prompt: p.optional('prompt', 255),
        device: p.optional('device', MAX_NAME),
        async: p.flag('async'),
        ipaddr: ipaddr(p),
        hostname: p.optional('hostname', MAX_NAME),
        pushinfo: p.optional('pushinfo', MAX_PUSHINFO),
        type: p.optional('type', MAX_NAME),
        displayUsername: p.optional('display_username', MAX_NAME),
      };
      // A sync auth keeps waiting even if the client goes away, so that a retransmission of it
      // can be given the final answer.
      const body = await core.auth(a.ctx, req);
      return { body, txid: 'txid' in body ? body.txid : null };
    }),
  );

  app.get('/auth/v2/auth_status', async (request, reply) => {
    const { a, p } = await authed(request);
    const txid = p.required('txid', 64);
    return sendOk(reply, await core.authStatus(a.ctx, txid, abortOnClose(reply)));
  });
}
