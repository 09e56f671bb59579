// The Tandem Authenticator's request list and decisions (docs/push.md §2–§3), device-signed:
//   GET  /app/api/requests?wait=S&known=F → {requests, fingerprint}, held while nothing changed
//   POST /app/api/decide {txid, decision, number, signature, assertion?} → 200 {result} | 409 {error:"refused"}
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { parseAssertion, relyingParty } from '../../core/passkeys.js';
import { decide, listRequests, waitRequests } from '../../core/push.js';
import type { Core } from '../../core/service.js';
import { DECISIONS, type Decision } from '../../protocol/approval.js';
import { badRequest, deviceAuthed, hasExactKeys, isPlainObject, parseJsonBody, registerAppApi, sendAppError } from '../device-request.js';
import { requestHost } from './app-passkeys.js';
import { abortOnClose } from './auth-v2.js';

const TXID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What the app echoes back of a fingerprint it was given (base64url of a SHA-256). */
const FINGERPRINT = /^[A-Za-z0-9_-]{1,128}$/;
/** What the user typed: checked against the push's code (a wrong one denies), so only bounded here. */
const MAX_NUMBER = 16;
const WAIT = /^(0|[1-9][0-9]{0,4})$/;

/** The query of GET /app/api/requests: only `wait` and `known`, each at most once. */
function requestsQuery(request: FastifyRequest, maxWait: number): { wait: number; known: string | null } {
  const url = request.raw.url ?? '/';
  const q = url.indexOf('?');
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const seen = new Set<string>();
  for (const k of params.keys()) {
    if ((k !== 'wait' && k !== 'known') || seen.has(k)) throw badRequest();
    seen.add(k);
  }
  const waitText = params.get('wait');
  const known = params.get('known');
  if (waitText !== null && !WAIT.test(waitText)) throw badRequest();
  if (known !== null && !FINGERPRINT.test(known)) throw badRequest();
  // A longer wait than the server holds is not an error: the server answers at its own limit.
  return { wait: Math.min(waitText === null ? 0 : Number(waitText), maxWait), known };
}

function decideBody(request: FastifyRequest): { txid: string; decision: Decision; number: string; signature: string; assertion?: AuthenticationResponseJSON } {
  const o = parseJsonBody(request);
  if (!isPlainObject(o) || !hasExactKeys(o, ['txid', 'decision', 'signature'], ['number', 'assertion'])) throw badRequest();
  const { txid, decision, signature } = o;
  const number = o['number'] ?? '';
  if (typeof txid !== 'string' || !TXID.test(txid)) throw badRequest();
  if (typeof decision !== 'string' || !(DECISIONS as readonly string[]).includes(decision)) throw badRequest();
  if (typeof number !== 'string' || number.length > MAX_NUMBER) throw badRequest();
  if (typeof signature !== 'string' || signature.length === 0 || signature.length > 256) throw badRequest();
  if (o['assertion'] === undefined || o['assertion'] === null) return { txid, decision: decision as Decision, number, signature };
  // A WebAuthn assertion (docs/push.md §8): well-formed or the whole request is malformed.
  const assertion = parseAssertion(o['assertion']);
  if (!assertion) throw badRequest();
  return { txid, decision: decision as Decision, number, signature, assertion };
}

export function registerAppRequests(app: FastifyInstance, core: Core): void {
  registerAppApi(app, core, (scope) => {
    scope.get(
      '/app/api/requests',
      deviceAuthed(core, async (request, reply, device) => {
        const { wait, known } = requestsQuery(request, core.deps.settings.appLongPollSeconds);
        return wait > 0 ? waitRequests(core.deps, device, known, wait * 1000, abortOnClose(reply)) : listRequests(core.deps, device);
      }),
    );

    scope.post(
      '/app/api/decide',
      deviceAuthed(core, async (request, reply, device) => {
        const r = await decide(core.deps, device, decideBody(request), relyingParty(core.deps, requestHost(request)));
        return r.ok ? { result: r.result } : sendAppError(reply, 409, 'refused');
      }),
    );
  });
}
