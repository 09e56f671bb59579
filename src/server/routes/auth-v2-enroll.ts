// Duo Auth API v2 enrollment (duo_api.md §2.2, docs/push.md §1): /enroll makes a new user and an
// activation for the Tandem Authenticator; /enroll_status answers the bare string success,
// waiting or invalid. Signed and replay-guarded like every other POST.
import type { FastifyInstance } from 'fastify';
import { MAX_ACTIVATION_SECONDS, enrollNewUser, enrollStatus } from '../../core/devices.js';
import { CoreError } from '../../core/errors.js';
import { portalBase } from '../../core/preauth.js';
import type { Core } from '../../core/service.js';
import type { ServerLogger } from '../logger.js';
import { MAX_NAME, userName } from '../login-params.js';
import type { Params } from '../request-params.js';
import { signedRequests } from '../signed-requests.js';

const DEFAULT_VALID_SECS = 86_400;

function validSecs(p: Params): number {
  const raw = p.optional('valid_secs', 16);
  if (raw === null) return DEFAULT_VALID_SECS;
  const n = /^[0-9]{1,8}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_ACTIVATION_SECONDS) throw new CoreError('bad_request', `valid_secs must be an integer from 1 to ${MAX_ACTIVATION_SECONDS}`);
  return n;
}

export function registerAuthV2Enroll(app: FastifyInstance, core: Core, log: ServerLogger): void {
  const { guarded } = signedRequests(core, log);

  app.post('/auth/v2/enroll', (request, reply) =>
    guarded(request, reply, { event: 'auth' }, async (a, p) => {
      const secs = validSecs(p);
      const r = await enrollNewUser(core.deps, { username: userName(p, 'username'), validSecs: secs, ikey: a.ikey });
      const base = portalBase(core.deps);
      return {
        body: {
          activation_barcode: `${base}/app/qr?code=${r.code}`,
          activation_code: r.code,
          activation_url: `${base}/app/#activate=${r.code}`,
          expiration: Math.floor(r.expiresAt / 1000),
          user_id: r.userId,
          username: r.username,
        },
        txid: null,
      };
    }),
  );

  app.post('/auth/v2/enroll_status', (request, reply) =>
    guarded(request, reply, { event: 'auth' }, async (_a, p) => {
      const userId = p.required('user_id', MAX_NAME);
      const code = p.required('activation_code', 256);
      return { body: await enrollStatus(core.deps, userId, code), txid: null };
    }),
  );
}
