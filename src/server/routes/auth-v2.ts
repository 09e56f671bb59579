// Duo Auth API v2 (duo_api.md §2): ping, check, logo, preauth, auth, auth_status.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FactorParam } from '../../core/auth.js';
import type { UserRef } from '../../core/context.js';
import { CoreError } from '../../core/errors.js';
import type { Core } from '../../core/service.js';
import { wireError } from '../error-map.js';
import type { ServerLogger } from '../logger.js';
import { MAX_NAME, MAX_PUSHINFO, loginContext, userName, verifiedPushParams } from '../login-params.js';
import { sendAnswer, sendOk } from '../reply.js';
import type { Params } from '../request-params.js';
import { responseKeys, signedRequests } from '../signed-requests.js';
import { authenticate } from '../authenticate.js';
import { parseRequest } from '../request-params.js';

const FACTORS: readonly FactorParam[] = ['auto', 'push', 'passcode', 'phone', 'sms', 'prompt'];

function userRef(p: Params): UserRef {
  const username = userName(p, 'username');
  const userId = userName(p, 'user_id');
  if ((username === null) === (userId === null)) throw new CoreError('bad_request', 'exactly one of username and user_id is required');
  return username !== null ? { username } : { userId: userId! };
}

export function abortOnClose(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => ac.abort());
  return ac.signal;
}

export function registerAuthV2(app: FastifyInstance, core: Core, log: ServerLogger): void {
  const { authed, guarded } = signedRequests(core, log);
  const now = (): number => Math.floor(core.deps.clock.now() / 1000);

  // Ping never fails on credentials (duo_unix ≥ 2.1 pings with a skewed clock to learn the
  // offset). A correctly signed ping, whatever its date, is answered signed for our own clients.
  app.get('/auth/v2/ping', async (request, reply) => {
    if (request.headers['authorization'] !== undefined) {
      try {
        const parsed = parseRequest(request.raw.url ?? '/', request.headers['content-type'], request.body as Buffer | undefined);
        const a = await authenticate(core, { method: request.method, headers: request.headers, peer: request.ip, parsed }, { checkDate: false });
        responseKeys.set(request, a.skey);
      } catch {
        // An unverifiable ping is still answered, unsigned.
      }
    }
    return sendOk(reply, { time: now() });
  });

  app.get('/auth/v2/check', async (request, reply) => {
    await authed(request);
    return sendOk(reply, { time: now() });
  });

  app.get('/auth/v2/logo', async (request, reply) => {
    await authed(request);
    return sendAnswer(reply, wireError('not_found', 'no logo is configured'));
  });

  app.post('/auth/v2/preauth', (request, reply) =>
    guarded(request, reply, { event: 'preauth' }, async (a, p) => {
      const body = await core.preauth(a.ctx, { user: userRef(p), ...loginContext(p), textPrompt: p.flag('text_prompt'), clientSupportsVerifiedPush: verifiedPushParams(p).clientSupportsVerifiedPush });
      return { body, txid: null };
    }),
  );

  app.post('/auth/v2/auth', (request, reply) =>
    guarded(request, reply, { event: 'auth' }, async (a, p) => {
      // A sync auth keeps waiting even if the client goes away, so that a retransmission of it
      // can be given the final answer.
      const body = await core.auth(a.ctx, {
        user: userRef(p),
        factor: p.oneOf('factor', FACTORS),
        passcode: p.optional('passcode', 255),
        prompt: p.optional('prompt', 255),
        device: p.optional('device', MAX_NAME),
        async: p.flag('async'),
        ...loginContext(p),
        pushinfo: p.optional('pushinfo', MAX_PUSHINFO),
        type: p.optional('type', MAX_NAME),
        displayUsername: p.optional('display_username', MAX_NAME),
        ...verifiedPushParams(p),
      });
      return { body, txid: 'txid' in body ? body.txid : null };
    }),
  );

  app.get('/auth/v2/auth_status', async (request, reply) => {
    const { a, p } = await authed(request);
    const txid = p.required('txid', 64);
    return sendOk(reply, await core.authStatus(a.ctx, txid, abortOnClose(reply)));
  });
}
